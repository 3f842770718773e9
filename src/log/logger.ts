/**
 * The injected logger. Modules receive a {@linkcode Logger}; only the CLI decides where lines go.
 *
 * Every line passes through {@linkcode redact} so that secrets registered with
 * {@linkcode registerSecret} (as written, URL-encoded and base64-encoded) and the user-info of
 * URLs (`https://user:pass@host`) never reach a log sink, whatever a module writes.
 *
 * @module
 */
import { maskUserinfo, urlPasswords } from "./url.ts";

/** Log levels in increasing severity, named as Elastic's framework names them. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Structured context attached to a log line (connector id, job id, service type, ...). */
export type LogFields = Record<string, unknown>;

/** One log record as handed to a {@linkcode LogSink}. */
export interface LogRecord {
  /** When the line was written. */
  time: Date;
  /** Severity. */
  level: LogLevel;
  /** Human-readable message, already redacted. */
  message: string;
  /** Context fields, already redacted. */
  fields: LogFields;
}

/** Where records go: a terminal, ECS JSON lines, or an array in tests. */
export type LogSink = (record: LogRecord) => void;

/**
 * The logger every module receives.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const lines: string[] = [];
 * const log = createLogger({ level: "INFO", sink: (r) => lines.push(r.message) });
 * log.info("hello", { connector_id: "c1" });
 * log.debug("hidden");
 * if (lines.length !== 1) throw new Error("expected one line");
 * ```
 */
export interface Logger {
  /** Detailed tracing, off unless `--debug`. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation. */
  info(message: string, fields?: LogFields): void;
  /** Something is off but work goes on. */
  warning(message: string, fields?: LogFields): void;
  /** An operation failed. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: LogFields): Logger;
  /** True when `level` would be written. */
  enabled(level: LogLevel): boolean;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. */
  level: LogLevel;
  /** Where records go. */
  sink: LogSink;
  /** Fields added to every line. */
  fields?: LogFields;
}

const secrets = new Set<string>();
let longestFirst: string[] | undefined;
const SECRET_KEY = /pass(word)?|secret|api_?key|token|credential|authorization/i;
const REDACTED = "*****";

/** Shortest secret registered: shorter values would mask too many unrelated characters. */
export const MIN_SECRET_LENGTH = 4;

/** `value`, its URL-encoded and its base64 forms (those that differ). */
function secretForms(value: string): string[] {
  const forms = new Set([value, encodeURIComponent(value)]);
  try {
    forms.add(btoa(value));
  } catch {
    // not Latin-1: btoa cannot encode it, nor can a Basic or ApiKey header carry it as is
    forms.add(btoa(String.fromCharCode(...new TextEncoder().encode(value))));
  }
  return [...forms];
}

/**
 * Registers a secret value so that it is masked in every log line and error text that goes
 * through {@linkcode redact}: as written, URL-encoded and base64-encoded. Values shorter than
 * {@linkcode MIN_SECRET_LENGTH} characters are ignored (too many false hits).
 *
 * @example
 * ```ts
 * import { redact, registerSecret } from "./logger.ts";
 * registerSecret("hunter22");
 * if (redact("password is hunter22") !== "password is *****") throw new Error();
 * if (redact(`header ${btoa("hunter22")}`) !== "header *****") throw new Error();
 * ```
 */
export function registerSecret(value: unknown): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  for (const form of secretForms(value)) {
    if (!secrets.has(form)) {
      secrets.add(form);
      longestFirst = undefined;
    }
  }
}

/**
 * Registers the password of a URL's user-info (`https://user:pass@host`), as written and
 * decoded, with {@linkcode registerSecret}.
 *
 * @example
 * ```ts
 * import { redact, registerUrlSecrets } from "./logger.ts";
 * registerUrlSecrets("https://bob:pa%24%24word@es:9200");
 * if (redact("bad pa$$word") !== "bad *****") throw new Error();
 * ```
 */
export function registerUrlSecrets(url: unknown): void {
  if (typeof url !== "string") return;
  for (const password of urlPasswords(url)) registerSecret(password);
}

/**
 * Masks registered secrets, and the user-info of URLs (`https://***@host`), in a string.
 *
 * @example
 * ```ts
 * import { redact } from "./logger.ts";
 * if (redact("at https://u:pw@h:9200") !== "at https://***@h:9200") throw new Error();
 * ```
 */
export function redact(text: string): string {
  let out = maskUserinfo(text);
  // Longest first: a secret that contains another is masked whole.
  longestFirst ??= [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * Masks registered secrets, and values under secret-looking keys, in any JSON-like value.
 *
 * @example
 * ```ts
 * import { redactValue } from "./logger.ts";
 * const out = redactValue({ password: "x", user: "u" }) as Record<string, unknown>;
 * if (out.password !== "*****") throw new Error();
 * ```
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return redact(value.message);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && v !== null && v !== undefined && v !== ""
      ? REDACTED
      : redactValue(v, depth + 1);
  }
  return out;
}

/**
 * Creates a {@linkcode Logger}.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "DEBUG", sink: () => {} });
 * log.child({ job_id: "j1" }).info("started");
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const min = LOG_LEVELS.indexOf(options.level);
  const base = options.fields ?? {};
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    options.sink({
      time: new Date(),
      level,
      message: redact(message),
      fields: redactValue({ ...base, ...fields }) as LogFields,
    });
  };
  return {
    debug: (m, f) => write("DEBUG", m, f),
    info: (m, f) => write("INFO", m, f),
    warning: (m, f) => write("WARNING", m, f),
    error: (m, f) => write("ERROR", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    enabled: (level) => LOG_LEVELS.indexOf(level) >= min,
  };
}

/**
 * A logger that drops everything; handy default for library callers and tests.
 *
 * @example
 * ```ts
 * import { nullLogger } from "./logger.ts";
 * nullLogger.info("dropped");
 * ```
 */
export const nullLogger: Logger = createLogger({ level: "CRITICAL", sink: () => {} });

/**
 * Parses a level name case-insensitively (`warn` is accepted for `WARNING`).
 *
 * @example
 * ```ts
 * import { parseLogLevel } from "./logger.ts";
 * if (parseLogLevel("debug") !== "DEBUG") throw new Error();
 * ```
 */
export function parseLogLevel(value: string): LogLevel | undefined {
  const upper = value.toUpperCase();
  if (upper === "WARN") return "WARNING";
  return (LOG_LEVELS as readonly string[]).includes(upper) ? upper as LogLevel : undefined;
}
