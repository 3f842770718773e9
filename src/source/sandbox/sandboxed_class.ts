/**
 * The class the framework sees for a sandboxed source: its statics (`getDefaultConfiguration()`,
 * `features`, `displayName`, `name`) read once from a throw-away worker at load time, and
 * instances that each run the real source in a worker of their own, with only its grant.
 *
 * @module
 */
import { FatalError } from "../../errors/mod.ts";
import type { Logger, LogLevel } from "../../log/mod.ts";
import type { DataSourceClass, SourceConfiguration, SourceContext } from "../types.ts";
import { SandboxConnection, type SpawnSandbox, spawnSandboxWorker } from "./connection.ts";
import type { SandboxPermissions, SourceGrant } from "./grants.ts";
import { type LoadedInfo, SANDBOX_BATCHING, STREAM_METHODS } from "./protocol.ts";

/** Milliseconds a sandboxed source's `close()` may take before its worker is stopped anyway. */
export const SANDBOX_CLOSE_TIMEOUT_MS = 10_000;

/** Options of {@linkcode inspectSandboxedModule} and {@linkcode sandboxedClass}. */
export interface SandboxedClassOptions {
  serviceType: string;
  exportName: string;
  /** What the worker imports: the module's specifier, or a `data:` URL of its verified text. */
  importUrl: string;
  grant?: SourceGrant;
  /** The worker's Deno permissions (`workerPermissions()`). */
  permissions: SandboxPermissions;
  /** Log lines of a source without a context logger (and of the load). */
  logger: Logger;
  /** Starts a worker (default: a real one). */
  spawn?: SpawnSandbox;
}

const LEVELS: LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR"];

function connection(options: SandboxedClassOptions, logger: Logger): SandboxConnection {
  const spawn = options.spawn ?? spawnSandboxWorker;
  return new SandboxConnection(spawn(options.permissions), {
    serviceType: options.serviceType,
    logger,
    ...(options.grant ? { grant: options.grant } : {}),
  });
}

function isLoadedInfo(value: unknown): value is LoadedInfo {
  const info = value as LoadedInfo;
  return typeof value === "object" && value !== null && typeof info.found === "boolean" &&
    Array.isArray(info.exports);
}

/**
 * Imports the module in a worker that is stopped right after, and returns what it says about
 * the export (its top-level code runs in that worker, with the source's permissions only).
 * Rejects with the worker's import error (a rebuilt `Error`) or a {@linkcode FatalError}.
 *
 * @example
 * ```ts
 * import { inspectSandboxedModule } from "./sandboxed_class.ts";
 * import { workerPermissions } from "./grants.ts";
 * import type { SandboxPort } from "./connection.ts";
 * import { nullLogger } from "../../log/mod.ts";
 * // A stand-in worker (a real one: spawnSandboxWorker(), the default).
 * const spawn = () => {
 *   const port: SandboxPort = {
 *     onmessage: null, onerror: null, terminate() {},
 *     postMessage(message) {
 *       const { id } = message as { id: number };
 *       const value = { found: false, exports: ["Other"] };
 *       queueMicrotask(() => port.onmessage?.({ data: { t: "done", id, value } } as MessageEvent));
 *     },
 *   };
 *   return port;
 * };
 * const info = await inspectSandboxedModule({
 *   serviceType: "demo", exportName: "Mine", importUrl: "npm:demo@1.0.0",
 *   permissions: workerPermissions("npm:demo@1.0.0"), logger: nullLogger, spawn,
 * });
 * if (info.found || info.exports[0] !== "Other") throw new Error();
 * ```
 */
export async function inspectSandboxedModule(options: SandboxedClassOptions): Promise<LoadedInfo> {
  const worker = connection(options, options.logger);
  try {
    const info = await worker.request({
      t: "load",
      url: options.importUrl,
      exportName: options.exportName,
    });
    if (!isLoadedInfo(info)) throw new FatalError("the sandbox answered nonsense to load");
    return info;
  } finally {
    worker.terminate();
  }
}

interface Instance {
  connection: SandboxConnection;
  cleanup: () => void;
}

const INSTANCES = new WeakMap<object, Instance>();

function instanceOf(self: object): Instance {
  const instance = INSTANCES.get(self);
  if (!instance) throw new TypeError("not an instance of a sandboxed source");
  return instance;
}

function connect(
  options: SandboxedClassOptions,
  configuration: SourceConfiguration,
  context: SourceContext | undefined,
): Instance {
  const logger = context?.logger ?? options.logger;
  const worker = connection(options, logger);
  // An import or constructor failure surfaces at the first call, as the framework expects.
  worker.request({ t: "load", url: options.importUrl, exportName: options.exportName }).catch(
    () => {},
  );
  const sent = worker.send({
    t: "new",
    configuration,
    context: {
      maxFileSize: context?.maxFileSize ?? 0,
      ...(context && "syncCursor" in context ? { syncCursor: context.syncCursor } : {}),
    },
    levels: LEVELS.filter((level) => logger.enabled(level)),
    batching: SANDBOX_BATCHING,
  });
  if (!sent) {
    worker.terminate();
    throw new FatalError(`Cannot send source "${options.serviceType}" its configuration`);
  }
  const signal = context?.signal;
  const onAbort = () => worker.send({ t: "abort", reason: String(signal?.reason ?? "aborted") });
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return { connection: worker, cleanup: () => signal?.removeEventListener("abort", onAbort) };
}

/**
 * The proxy class of a sandboxed source: statics from `info` (the schema is copied at each
 * call, so callers may change it), instance methods for the contract methods the real class
 * has: calls for `ping()`, `changed()`, `validateConfig()`, `validateAdvancedRules()`; streams for
 * `getDocs()`, `getDocsIncrementally()`, `getAccessControl()`; `syncCursor()` answers the last
 * cursor the worker reported. `close()` is always there: it calls the source's own (if any,
 * within {@linkcode SANDBOX_CLOSE_TIMEOUT_MS}) and stops the worker.
 *
 * @example
 * ```ts
 * import { sandboxedClass } from "./sandboxed_class.ts";
 * import { workerPermissions } from "./grants.ts";
 * import type { SandboxPort } from "./connection.ts";
 * import { nullLogger } from "../../log/mod.ts";
 * const calls: string[] = [];
 * // A stand-in worker that records the calls (a real one: spawnSandboxWorker(), the default).
 * const spawn = () => {
 *   const port: SandboxPort = {
 *     onmessage: null, onerror: null, terminate: () => calls.push("terminated"),
 *     postMessage(message) {
 *       const { t, id, method } = message as { t: string; id?: number; method?: string };
 *       if (t === "call") calls.push(method!);
 *       if (id !== undefined) {
 *         queueMicrotask(() => port.onmessage?.({ data: { t: "done", id } } as MessageEvent));
 *       }
 *     },
 *   };
 *   return port;
 * };
 * const info = {
 *   found: true, exports: ["Demo"], kind: "class" as const, name: "Demo", hasSchema: true,
 *   methods: ["ping", "getDocs"], schema: { size: { value: 1 } }, features: { incrementalSync: true },
 * };
 * const Demo = sandboxedClass(info, {
 *   serviceType: "demo", exportName: "Demo", importUrl: "npm:demo@1.0.0",
 *   permissions: workerPermissions("npm:demo@1.0.0"), logger: nullLogger, spawn,
 * });
 * if (Demo.name !== "Demo" || Demo.getDefaultConfiguration().size?.value !== 1) throw new Error();
 * const source = new Demo({});
 * await source.ping();
 * await source.close!();
 * if (calls.join() !== "ping,terminated") throw new Error(calls.join());
 * ```
 */
export function sandboxedClass(info: LoadedInfo, options: SandboxedClassOptions): DataSourceClass {
  const methods = info.methods ?? [];
  const Sandboxed = class {
    constructor(configuration: SourceConfiguration, context?: SourceContext) {
      INSTANCES.set(this, connect(options, configuration, context));
    }
  };
  const proto = Sandboxed.prototype as unknown as Record<string, unknown>;
  for (const method of methods) {
    if (method === "close") continue;
    if (STREAM_METHODS.includes(method)) {
      proto[method] = function (this: object, ...args: unknown[]) {
        return instanceOf(this).connection.iterate(method, args);
      };
    } else if (method === "syncCursor") {
      proto[method] = function (this: object) {
        return instanceOf(this).connection.cursor;
      };
    } else {
      proto[method] = function (this: object, ...args: unknown[]) {
        return instanceOf(this).connection.call(method, args);
      };
    }
  }
  const hasClose = methods.includes("close");
  proto.close = async function (this: object) {
    const { connection, cleanup } = instanceOf(this);
    if (connection.closed) return;
    cleanup();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (hasClose) {
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new FatalError(`close() took over ${SANDBOX_CLOSE_TIMEOUT_MS} ms`)),
            SANDBOX_CLOSE_TIMEOUT_MS,
          );
        });
        await Promise.race([connection.call("close", []), late]);
      }
    } finally {
      clearTimeout(timer);
      connection.terminate();
    }
  };
  const statics = Sandboxed as unknown as Record<string, unknown>;
  Object.defineProperty(Sandboxed, "name", { value: info.name || options.exportName });
  if (info.hasSchema) statics.getDefaultConfiguration = () => structuredClone(info.schema);
  if (info.displayName !== undefined) statics.displayName = info.displayName;
  if (info.features !== undefined) statics.features = Object.freeze({ ...info.features });
  return Sandboxed as unknown as DataSourceClass;
}
