/**
 * The service's end of one sandbox worker: requests (load, calls, lazy downloads) matched to
 * their answers by id, streams received in batches with credit-based back-pressure, log lines
 * forwarded to the source's logger, and errors rebuilt with their taxonomy.
 *
 * @module
 */
import { FatalError } from "../../errors/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { LazyDownload } from "../types.ts";
import type { SandboxPermissions, SourceGrant } from "./grants.ts";
import { sandboxRuntime } from "./_runtime.ts";
import { decodeItem, isSerializedError, SANDBOX_CREDIT, sandboxError } from "./protocol.ts";

/** What the connection needs of a worker (a `Worker`, or an in-process fake in tests). */
export interface SandboxPort {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** Starts a sandbox worker with the given permissions. */
export type SpawnSandbox = (permissions: SandboxPermissions) => SandboxPort;

let runtimeUrl: string | undefined;

/**
 * Starts a module Worker running {@linkcode sandboxRuntime} with exactly `permissions` (Deno's
 * `deno.permissions` worker option, which needs `--unstable-worker-options`). The worker's code
 * comes from a `blob:` URL, so no file is read and bundles and executables work alike.
 *
 * Not runnable as a doc test: `deno test` runs without `--unstable-worker-options`.
 *
 * @example
 * ```ts ignore
 * import { spawnSandboxWorker } from "./connection.ts";
 * import { workerPermissions } from "./grants.ts";
 * const port = spawnSandboxWorker(workerPermissions("https://sources.example/mod.ts"));
 * port.terminate();
 * ```
 */
export const spawnSandboxWorker: SpawnSandbox = (permissions) => {
  runtimeUrl ??= URL.createObjectURL(
    new Blob([`(${sandboxRuntime.toString()})(globalThis);`], { type: "text/javascript" }),
  );
  const options = { type: "module", name: "sandboxed source", deno: { permissions } };
  return new Worker(runtimeUrl, options as WorkerOptions);
};

interface Sink {
  batches: unknown[][];
  done: boolean;
  error: Error | undefined;
  wake: (() => void) | null;
}

const LOG_METHODS: Record<string, "debug" | "info" | "warning" | "error"> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warning",
  ERROR: "error",
  CRITICAL: "error",
};

/** Options of {@linkcode SandboxConnection}. */
export interface SandboxConnectionOptions {
  /** The service type, named in errors. */
  serviceType: string;
  /** Its grant (refusal messages name the key that would grant more). */
  grant?: SourceGrant;
  /** Where the source's log lines go. */
  logger: Logger;
}

/**
 * One sandbox worker seen from the service. Every message from the worker is checked before
 * use (the sandboxed code could write anything); a crashed or terminated worker fails whatever
 * was waiting with a {@linkcode FatalError}.
 *
 * @example
 * ```ts
 * import { SandboxConnection, type SandboxPort } from "./connection.ts";
 * import { nullLogger } from "../../log/mod.ts";
 * // A stand-in worker that answers every request with 42 (a real one: spawnSandboxWorker()).
 * const port: SandboxPort = {
 *   onmessage: null,
 *   onerror: null,
 *   terminate() {},
 *   postMessage(message) {
 *     const { id } = message as { id: number };
 *     queueMicrotask(() => port.onmessage?.({ data: { t: "done", id, value: 42 } } as MessageEvent));
 *   },
 * };
 * const connection = new SandboxConnection(port, { serviceType: "demo", logger: nullLogger });
 * if (await connection.call("ping", []) !== 42) throw new Error();
 * connection.terminate();
 * await connection.call("ping", []).then(() => { throw new Error("answered"); }, () => {});
 * ```
 */
export class SandboxConnection {
  /** The source's last `syncCursor()`, sent along with every answer. */
  cursor: unknown = undefined;
  readonly #port: SandboxPort;
  readonly #options: SandboxConnectionOptions;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly #streams = new Map<number, Sink>();
  readonly #released: number[] = [];
  readonly #finalizer = new FinalizationRegistry<number>((ref) => this.#release(ref));
  #nextId = 1;
  #dead: Error | undefined;

  constructor(port: SandboxPort, options: SandboxConnectionOptions) {
    this.#port = port;
    this.#options = options;
    port.onmessage = (event) => this.#receive(event.data);
    port.onerror = (event) => {
      // Unprevented, a worker's error would reach the service's global scope.
      event.preventDefault();
      this.terminate(`the sandbox of source "${options.serviceType}" crashed: ${event.message}`);
    };
  }

  /** Whether the worker was terminated or crashed. */
  get closed(): boolean {
    return this.#dead !== undefined;
  }

  /** Sends a message that expects an answer; resolves with its value. */
  request(message: Record<string, unknown>): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (!this.#post({ ...message, id })) {
        this.#pending.delete(id);
        reject(
          new FatalError(`Cannot send ${String(message.method ?? message.t)}() its arguments`),
        );
      }
    });
  }

  /** Sends a message that expects no answer; false when it could not be sent. */
  send(message: Record<string, unknown>): boolean {
    return this.#dead === undefined && this.#post(message);
  }

  /** Calls a method of the sandboxed instance. */
  call(method: string, args: unknown[]): Promise<unknown> {
    return this.request({ t: "call", method, args });
  }

  /** Streams a method's async iterable, a batch at a time, at most `SANDBOX_CREDIT` ahead. */
  async *iterate(method: string, args: unknown[]): AsyncGenerator<unknown> {
    if (this.#dead) throw this.#dead;
    const id = this.#nextId++;
    const sink: Sink = { batches: [], done: false, error: undefined, wake: null };
    this.#streams.set(id, sink);
    if (!this.#post({ t: "iter", id, method, args, credit: SANDBOX_CREDIT })) {
      this.#streams.delete(id);
      throw new FatalError(`Cannot send ${method}() its arguments`);
    }
    try {
      for (;;) {
        const items = sink.batches.shift();
        if (items) {
          this.#post({ t: "credit", id });
          for (const item of items) yield decodeItem(item, method, (ref) => this.#lazy(ref));
          continue;
        }
        if (sink.error) throw sink.error;
        if (sink.done) return;
        await new Promise<void>((resolve) => (sink.wake = resolve));
      }
    } finally {
      this.#streams.delete(id);
      // The consumer stopped early: the worker stops iterating (and calls the source's return()).
      if (!sink.done && !sink.error) this.send({ t: "stop", id });
    }
  }

  /** Terminates the worker; whatever waits fails with `reason`. */
  terminate(reason = `the sandbox of source "${this.#options.serviceType}" was closed`): void {
    if (this.#dead) return;
    this.#dead = new FatalError(reason);
    this.#port.terminate();
    for (const { reject } of this.#pending.values()) reject(this.#dead);
    this.#pending.clear();
    for (const sink of this.#streams.values()) {
      sink.error = this.#dead;
      sink.wake?.();
    }
  }

  #lazy(ref: number): LazyDownload {
    const download: LazyDownload = (doit, timestamp) =>
      this.request({ t: "lazy", ref, args: [doit, timestamp] }) as ReturnType<LazyDownload>;
    // A download nobody calls (extraction off, document dropped) is released once collected.
    this.#finalizer.register(download, ref);
    return download;
  }

  #release(ref: number): void {
    this.#released.push(ref);
    if (this.#released.length >= 512) this.send({ t: "release", refs: this.#released.splice(0) });
  }

  #post(message: Record<string, unknown>): boolean {
    try {
      this.#port.postMessage(message);
      return true;
    } catch {
      return false;
    }
  }

  #receive(data: unknown): void {
    if (typeof data !== "object" || data === null) return;
    const message = data as Record<string, unknown>;
    const id = typeof message.id === "number" ? message.id : -1;
    switch (message.t) {
      case "log":
        return this.#log(message);
      case "batch": {
        const sink = this.#streams.get(id);
        if (!sink || !Array.isArray(message.items)) return;
        sink.batches.push(message.items);
        break;
      }
      case "done":
      case "fail": {
        if ("cursor" in message) this.cursor = message.cursor;
        const error = message.t === "fail"
          ? sandboxError(
            isSerializedError(message.error)
              ? message.error
              : { name: "Error", message: "the sandbox reported an unreadable error" },
            this.#options.serviceType,
            this.#options.grant,
          )
          : undefined;
        const pending = this.#pending.get(id);
        if (pending) {
          this.#pending.delete(id);
          if (error) pending.reject(error);
          else pending.resolve(message.value);
          return;
        }
        const sink = this.#streams.get(id);
        if (!sink) return;
        if (error) sink.error = error;
        else sink.done = true;
        break;
      }
      default:
        return;
    }
    const sink = this.#streams.get(id);
    const wake = sink?.wake;
    if (sink && wake) {
      sink.wake = null;
      wake();
    }
  }

  #log(message: Record<string, unknown>): void {
    const method = LOG_METHODS[String(message.level)];
    if (!method) return;
    const text = String(message.message).slice(0, 8192);
    const fields = typeof message.fields === "object" && message.fields !== null &&
        !Array.isArray(message.fields)
      ? message.fields as Record<string, unknown>
      : undefined;
    if (fields && Object.keys(fields).length > 0) this.#options.logger[method](text, fields);
    else this.#options.logger[method](text);
  }
}
