/**
 * The pure parts of the sandbox protocol on the service's side: which methods are calls and
 * which are streams, batching limits, what the worker reports about a loaded class, decoding
 * streamed items, and errors rebuilt with their taxonomy (a refused permission says which
 * `sources:` key would grant it).
 *
 * @module
 */
import { deserializeError, type SerializedError } from "../../errors/mod.ts";
import { permissionHint } from "../permission_hint.ts";
import type { LazyDownload } from "../types.ts";
import type { SourceGrant } from "./grants.ts";

/** Contract methods whose result is an async iterable, streamed in batches. */
export const STREAM_METHODS: readonly string[] = [
  "getDocs",
  "getDocsIncrementally",
  "getAccessControl",
];

/**
 * Items per batch, characters of top-level strings per batch, and the partial-batch delay.
 * Small batches keep memory down (documents in flight are promoted to the old generation on
 * both sides); at 64 a batch costs one message per 64 documents (bench/README.md).
 */
export const SANDBOX_BATCHING: Readonly<{ items: number; chars: number; flushMs: number }> = {
  items: 64,
  chars: 1 << 20,
  flushMs: 15,
};

/** Batches a worker may send ahead of the consumer (back-pressure). */
export const SANDBOX_CREDIT = 2;

/** Longest error message taken from a sandbox (the rest is cut). */
export const MAX_SANDBOX_MESSAGE = 4096;

/** What a worker reports after importing a module (`loaded`). */
export interface LoadedInfo {
  /** Whether the module has the export. */
  found: boolean;
  /** The module's exports. */
  exports: string[];
  /** `class`, `function` (not constructable) or `other`. */
  kind?: "class" | "function" | "other";
  /** `typeof` of the export (`null` for null). */
  type?: string;
  /** The class's name. */
  name?: string;
  /** Contract methods its prototype has. */
  methods?: string[];
  /** Whether it has a static `getDefaultConfiguration()`. */
  hasSchema?: boolean;
  displayName?: string;
  features?: Record<string, unknown>;
  /** What `getDefaultConfiguration()` returned. */
  schema?: unknown;
  /** What `getDefaultConfiguration()` threw. */
  schemaError?: SerializedError;
}

/**
 * A value of the same kind as a non-class export, so that the loader's own structural check
 * words its message exactly as for a module loaded in the service.
 *
 * @example
 * ```ts
 * import { standInFor } from "./protocol.ts";
 * if (standInFor({ found: true, exports: [], kind: "other", type: "string" }) !== "") throw new Error();
 * if (typeof standInFor({ found: true, exports: [], kind: "function", type: "function" }) !== "function") throw new Error();
 * ```
 */
export function standInFor(info: LoadedInfo): unknown {
  if (info.kind === "function") return () => {};
  switch (info.type) {
    case "null":
      return null;
    case "string":
      return "";
    case "number":
      return 0;
    case "boolean":
      return false;
    case "bigint":
      return 0n;
    case "symbol":
      return Symbol();
    case "undefined":
      return undefined;
    default:
      return {};
  }
}

/**
 * Turns a streamed item back into what the source yielded: documents as they are, `[doc, ref]`
 * pairs with a lazy download for a non-zero ref, `[doc, ref, op]` for incremental items.
 *
 * @example
 * ```ts
 * import { decodeItem } from "./protocol.ts";
 * const lazy = (ref: number) => () => Promise.resolve({ ref });
 * const [doc, download] = decodeItem([{ _id: "a" }, 7], "getDocs", lazy) as [unknown, () => Promise<{ ref: number }>];
 * if ((await download()).ref !== 7 || (doc as { _id: string })._id !== "a") throw new Error();
 * const [, none] = decodeItem([{ _id: "b" }, 0], "getDocs", lazy) as [unknown, unknown];
 * if (none !== undefined) throw new Error();
 * ```
 */
export function decodeItem(
  item: unknown,
  method: string,
  lazy: (ref: number) => LazyDownload,
): unknown {
  if (method === "getAccessControl" || !Array.isArray(item)) return item;
  const [doc, ref, op] = item as [unknown, number, unknown];
  const download = typeof ref === "number" && ref > 0 ? lazy(ref) : undefined;
  return method === "getDocsIncrementally" ? [doc, download, op] : [doc, download];
}

const NEVER: Record<string, string> = {
  run: "run programs",
  write: "write files",
  ffi: "load native libraries",
  sys: "read system information",
};

/**
 * The message of a permission the sandbox refused: what was refused, and which key of the
 * service type's `sources:` entry would grant it (or that it cannot be granted); undefined when
 * the message is no permission refusal.
 *
 * @example
 * ```ts
 * import { refusalMessage } from "./protocol.ts";
 * const text = refusalMessage('Requires read access to "/etc/hostname", run again with the --allow-read flag', "probe");
 * if (text !== 'permission to read /etc/hostname refused by the sandbox of source "probe" (not granted: list it under sources.probe.read to allow it)') throw new Error(text);
 * ```
 */
export function refusalMessage(
  message: string,
  serviceType: string,
  grant?: SourceGrant,
): string | undefined {
  const hint = permissionHint(message);
  if (!hint) return undefined;
  const refused = `${hint.problem} by the sandbox of source "${serviceType}"`;
  const never = NEVER[hint.kind];
  if (never) return `${refused} (a sandboxed source may never ${never})`;
  if (hint.kind === "net" && grant?.net === undefined) {
    return `${hint.problem}: the service itself may not reach it (add it to --allow-net, or list the source's hosts under sources.${serviceType}.net)`;
  }
  return `${refused} (not granted: list it under sources.${serviceType}.${hint.kind} to allow it)`;
}

/**
 * Rebuilds an error a sandboxed source threw: the class of its declared kind (so `instanceof
 * FatalError` and `classifyError` answer as for the original), its name, a message cut to
 * {@linkcode MAX_SANDBOX_MESSAGE} characters, and permission refusals reworded by
 * {@linkcode refusalMessage}.
 *
 * @example
 * ```ts
 * import { sandboxError } from "./protocol.ts";
 * import { classifyError, SkippableError } from "../../errors/mod.ts";
 * const error = sandboxError({ kind: "skippable", name: "SkippableError", message: "bad file" }, "probe");
 * if (!(error instanceof SkippableError) || classifyError(error) !== "skippable") throw new Error();
 * ```
 */
export function sandboxError(
  remote: SerializedError,
  serviceType: string,
  grant?: SourceGrant,
): Error {
  const data = { ...remote, message: String(remote.message).slice(0, MAX_SANDBOX_MESSAGE) };
  const refusal = refusalMessage(data.message, serviceType, grant);
  if (refusal) data.message = refusal;
  return deserializeError(data);
}

/**
 * Whether a value looks like a serialized error (messages from a worker are checked: the
 * sandboxed code wrote them).
 *
 * @example
 * ```ts
 * import { isSerializedError } from "./protocol.ts";
 * if (!isSerializedError({ name: "E", message: "m" }) || isSerializedError("x")) throw new Error();
 * ```
 */
export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === "object" && value !== null &&
    typeof (value as SerializedError).name === "string" &&
    typeof (value as SerializedError).message === "string";
}
