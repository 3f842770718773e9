/**
 * Sandboxed sources: a source loaded from a URL, `npm:` or `jsr:` runs in a Worker of its own
 * with only the permissions its `sources:` entry grants (Deno enforces them); calls, batched
 * document streams, lazy downloads, log lines and errors (with their `kind`) cross over
 * messages.
 *
 * @example
 * ```ts
 * import { isSandboxedSpecifier, workerPermissions } from "./mod.ts";
 * if (!isSandboxedSpecifier("npm:@acme/source@1.0.0")) throw new Error();
 * if (workerPermissions("npm:@acme/source@1.0.0").run !== false) throw new Error();
 * ```
 *
 * @module
 */
export * from "./grants.ts";
export * from "./protocol.ts";
export * from "./support.ts";
export * from "./module_fetch.ts";
export * from "./connection.ts";
export * from "./sandboxed_class.ts";
export * from "./load.ts";
export { sandboxRuntime } from "./_runtime.ts";
export type { SandboxScope } from "./_runtime.ts";
