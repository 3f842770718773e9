/**
 * Logging: an injected {@linkcode Logger}, secret redaction, and text or ECS sinks.
 *
 * @example
 * ```ts
 * import { createLogger, textSink } from "./mod.ts";
 * const log = createLogger({ level: "INFO", sink: textSink(() => {}, false) });
 * log.info("ready");
 * ```
 *
 * @module
 */
export * from "./logger.ts";
export * from "./sinks.ts";
export * from "./url.ts";
