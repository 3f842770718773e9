/**
 * Log sinks: coloured human lines for a terminal, plain lines otherwise, and ECS JSON lines that
 * Filebeat and Elastic Agent ingest.
 *
 * @module
 */
import type { LogLevel, LogRecord, LogSink } from "./logger.ts";

const COLOURS: Record<LogLevel, string> = {
  DEBUG: "\x1b[90m",
  INFO: "\x1b[36m",
  WARNING: "\x1b[33m",
  ERROR: "\x1b[31m",
  CRITICAL: "\x1b[41m",
};
const RESET = "\x1b[0m";

/** Writes text to a stream synchronously so lines are never interleaved or lost on exit. */
export type LineWriter = (line: string) => void;

/**
 * A writer to standard error, where every log line goes (stdout stays for command output).
 *
 * @example
 * ```ts
 * import { stderrWriter } from "./sinks.ts";
 * stderrWriter("");
 * ```
 */
export const stderrWriter: LineWriter = (() => {
  const encoder = new TextEncoder();
  return (line: string) => {
    if (line) Deno.stderr.writeSync(encoder.encode(line + "\n"));
  };
})();

function formatFields(fields: Record<string, unknown>): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return parts.length ? ` (${parts.join(" ")})` : "";
}

/**
 * Human-readable lines: `[2026-11-27T20:15:00.000Z][INFO] message (key=value)`, coloured when
 * `colour` is set.
 *
 * @example
 * ```ts
 * import { textSink } from "./sinks.ts";
 * const out: string[] = [];
 * textSink((l) => out.push(l), false)({ time: new Date(0), level: "INFO", message: "hi", fields: {} });
 * if (!out[0]!.includes("[INFO] hi")) throw new Error();
 * ```
 */
export function textSink(write: LineWriter, colour: boolean): LogSink {
  return (r: LogRecord) => {
    const level = colour ? `${COLOURS[r.level]}${r.level}${RESET}` : r.level;
    write(`[${r.time.toISOString()}][${level}] ${r.message}${formatFields(r.fields)}`);
  };
}

/**
 * ECS JSON lines (`@timestamp`, `log.level`, `message`, `ecs.version`, `service.type`, and the
 * record's fields under `labels` plus the well-known connector and job ids at the top level).
 *
 * @example
 * ```ts
 * import { ecsSink } from "./sinks.ts";
 * const out: string[] = [];
 * ecsSink((l) => out.push(l))({ time: new Date(0), level: "INFO", message: "hi", fields: { job_id: "j" } });
 * if (JSON.parse(out[0]!).message !== "hi") throw new Error();
 * ```
 */
export function ecsSink(write: LineWriter): LogSink {
  return (r: LogRecord) => {
    const { connector_id, job_id, service_type, error, ...rest } = r.fields;
    const line: Record<string, unknown> = {
      "@timestamp": r.time.toISOString(),
      "log.level": r.level.toLowerCase(),
      message: r.message,
      "ecs.version": "1.6.0",
      "service.type": "connectors-deno",
      "log.logger": "connectors",
    };
    if (connector_id !== undefined) line["labels.connector_id"] = connector_id;
    if (job_id !== undefined) line["labels.sync_job_id"] = job_id;
    if (service_type !== undefined) line["labels.service_type"] = service_type;
    if (connector_id !== undefined) line.connector = { id: connector_id };
    if (job_id !== undefined) line.sync_job = { id: job_id };
    if (service_type !== undefined) line.service_type = service_type;
    if (error !== undefined) line["error.message"] = String(error);
    if (Object.keys(rest).length) line.labels = rest;
    write(JSON.stringify(line));
  };
}
