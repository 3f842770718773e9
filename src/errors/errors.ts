/**
 * The error taxonomy that decides what happens after a failure: a {@linkcode FatalError} aborts
 * (the job, or the process at startup), a {@linkcode RetriableError} is retried with backoff, a
 * {@linkcode SkippableError} skips the item and is counted. Code classifies with
 * {@linkcode classifyError} instead of catching ad hoc.
 *
 * @module
 */

/** What to do with a failure. */
export type ErrorKind = "fatal" | "retriable" | "skippable";

/**
 * Whether a value is an {@linkcode ErrorKind}.
 *
 * @example
 * ```ts
 * import { isErrorKind } from "./errors.ts";
 * if (!isErrorKind("skippable") || isErrorKind("oops")) throw new Error();
 * ```
 */
export function isErrorKind(value: unknown): value is ErrorKind {
  return value === "fatal" || value === "retriable" || value === "skippable";
}

/**
 * Base class of the project's own errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectorsError } from "./errors.ts";
 * const error = new ConnectorsError("Elasticsearch answered 503", "retriable");
 * assert.equal(error.kind, "retriable");
 * assert.equal(error.name, "ConnectorsError");
 * ```
 */
export class ConnectorsError extends Error {
  /** How callers should react. */
  readonly kind: ErrorKind;
  constructor(message: string, kind: ErrorKind, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
  }
}

/**
 * Retrying cannot help: bad configuration, a missing source class, a refused permission.
 *
 * @example
 * ```ts
 * import { FatalError, classifyError } from "./errors.ts";
 * if (classifyError(new FatalError("bad")) !== "fatal") throw new Error();
 * ```
 */
export class FatalError extends ConnectorsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "fatal", options);
  }
}

/**
 * A passing fault: the cluster is unreachable or overloaded. Retry with backoff.
 *
 * @example
 * ```ts
 * import { RetriableError } from "./errors.ts";
 * new RetriableError("Elasticsearch answered 429");
 * ```
 */
export class RetriableError extends ConnectorsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "retriable", options);
  }
}

/**
 * One item cannot be processed (an unreadable file, a document the cluster rejects); skip and
 * count it, the job goes on.
 *
 * @example
 * ```ts
 * import { SkippableError } from "./errors.ts";
 * new SkippableError("Cannot read file a.bin: permission denied");
 * ```
 */
export class SkippableError extends ConnectorsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "skippable", options);
  }
}

/**
 * A bad configuration file or value; the CLI exits with code 1 and prints the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyError, ConfigError } from "./errors.ts";
 * const error = new ConfigError("config.yml: elasticsearch.host must be a URL");
 * assert.equal(error.name, "ConfigError");
 * assert.equal(classifyError(error), "fatal");
 * ```
 */
export class ConfigError extends FatalError {}

/**
 * A bad command line; the CLI exits with code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FatalError, UsageError } from "./errors.ts";
 * const error = new UsageError("Unknown option --forse");
 * assert.ok(error instanceof FatalError);
 * assert.equal(error.kind, "fatal");
 * ```
 */
export class UsageError extends FatalError {}

const RETRIABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRIABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * Decides the kind of any thrown value: the project's errors carry it, and so does any error
 * with a `kind` property of `"fatal"`, `"retriable"` or `"skippable"` (a source built against
 * another copy of the SDK, an error rebuilt from a sandbox); Elasticsearch client errors and
 * Deno's `ConnectionRefused`/`TimedOut` (matched by name too) are retriable on connection
 * failures, timeouts, 429 and 5xx; everything else is fatal.
 *
 * @example
 * ```ts
 * import { classifyError } from "./errors.ts";
 * if (classifyError(new Error("boom")) !== "fatal") throw new Error();
 * const foreign = Object.assign(new Error("later"), { kind: "retriable" });
 * if (classifyError(foreign) !== "retriable") throw new Error();
 * ```
 */
export function classifyError(error: unknown): ErrorKind {
  if (error instanceof ConnectorsError) return error.kind;
  // A source built against another copy of the SDK (or run in a sandbox) has other classes.
  const kind = typeof error === "object" && error !== null
    ? (error as { kind?: unknown }).kind
    : undefined;
  if (isErrorKind(kind)) return kind;
  if (!(error instanceof Error)) return "fatal";
  const name = error.name;
  if (
    name === "ConnectionError" || name === "TimeoutError" || name === "NoLivingConnectionsError" ||
    name === "ConnectionRefused" || name === "TimedOut"
  ) {
    return "retriable";
  }
  const status = statusOf(error);
  if (status !== undefined && RETRIABLE_STATUS.has(status)) return "retriable";
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && RETRIABLE_CODES.has(code)) return "retriable";
  if (error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.TimedOut) {
    return "retriable";
  }
  return "fatal";
}

/**
 * The HTTP status carried by an Elasticsearch client error, if any.
 *
 * @example
 * ```ts
 * import { statusOf } from "./errors.ts";
 * if (statusOf(new Error("x")) !== undefined) throw new Error();
 * ```
 */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const meta = (error as { meta?: { statusCode?: unknown } }).meta;
  const status = meta?.statusCode ?? (error as { statusCode?: unknown }).statusCode;
  // Connection errors carry status 0: no HTTP answer at all.
  return typeof status === "number" && status > 0 ? status : undefined;
}

/**
 * A one-line message for any thrown value, as stored on jobs: `"<Class>: <text>"`.
 *
 * @example
 * ```ts
 * import { errorMessage } from "./errors.ts";
 * if (errorMessage(new TypeError("x")) !== "TypeError: x") throw new Error();
 * ```
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const reason = (error as { meta?: { body?: { error?: { reason?: unknown } } } }).meta?.body
      ?.error?.reason;
    const text = typeof reason === "string" && !error.message.includes(reason)
      ? `${error.message}: ${reason}`
      : error.message;
    return `${error.name}: ${text}`;
  }
  return String(error);
}

/**
 * An error as plain data, for crossing a thread or process boundary (a sandboxed source's
 * worker): `kind` only when the error declared one (the taxonomy's classes, or a `kind`
 * property), plus what {@linkcode classifyError} and {@linkcode statusOf} look at.
 */
export interface SerializedError {
  kind?: ErrorKind;
  name: string;
  message: string;
  stack?: string;
  code?: string;
  statusCode?: number;
}

/**
 * The plain-data form of any thrown value (see {@linkcode SerializedError}).
 *
 * @example
 * ```ts
 * import { serializeError, SkippableError } from "./errors.ts";
 * const data = serializeError(new SkippableError("bad file"));
 * if (data.kind !== "skippable" || data.name !== "SkippableError") throw new Error();
 * if (serializeError("text").message !== "text") throw new Error();
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  if (typeof error !== "object" || error === null) return { name: "Error", message: String(error) };
  const e = error as Record<string, unknown> & { meta?: { statusCode?: unknown } };
  const out: SerializedError = {
    name: typeof e.name === "string" ? e.name : "Error",
    message: typeof e.message === "string" ? e.message : String(error),
  };
  if (typeof e.stack === "string") out.stack = e.stack;
  if (isErrorKind(e.kind)) out.kind = e.kind;
  if (typeof e.code === "string") out.code = e.code;
  const status = statusOf(error);
  if (status !== undefined) out.statusCode = status;
  return out;
}

/**
 * Rebuilds an error from its plain-data form: a {@linkcode FatalError},
 * {@linkcode RetriableError} or {@linkcode SkippableError} when it declared a kind (so that
 * `instanceof` checks and {@linkcode classifyError} answer as for the original), else an `Error`;
 * the name, message, stack, `code` and `statusCode` are kept.
 *
 * @example
 * ```ts
 * import { classifyError, deserializeError, SkippableError } from "./errors.ts";
 * const error = deserializeError({ kind: "skippable", name: "BadFile", message: "x" });
 * if (!(error instanceof SkippableError) || error.name !== "BadFile") throw new Error();
 * const refused = deserializeError({ name: "ConnectionRefused", message: "down" });
 * if (classifyError(refused) !== "retriable") throw new Error();
 * ```
 */
export function deserializeError(data: SerializedError): Error {
  const Class = data.kind === "fatal"
    ? FatalError
    : data.kind === "retriable"
    ? RetriableError
    : data.kind === "skippable"
    ? SkippableError
    : undefined;
  const error: Error = Class ? new Class(data.message) : new Error(data.message);
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  const extra = error as Error & { code?: string; statusCode?: number };
  if (data.code !== undefined) extra.code = data.code;
  if (data.statusCode !== undefined) extra.statusCode = data.statusCode;
  return error;
}
