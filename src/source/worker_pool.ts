/**
 * {@linkcode WorkerPool}: CPU-bound work off the event loop, so that heartbeats, cancellation
 * checks and bulk requests keep their timing while a source hashes, parses or encodes.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { nullLogger } from "../log/mod.ts";
import { describePermissionError } from "./permission_hint.ts";

/** Workers of a pool: one per CPU core (2 when the runtime does not tell). */
export const DEFAULT_WORKER_POOL_SIZE: number = Math.max(
  1,
  (globalThis.navigator?.hardwareConcurrency as number | undefined) ?? 2,
);
/** Milliseconds after which an idle worker is terminated (it would keep the process alive). */
export const DEFAULT_WORKER_IDLE_TIMEOUT_MS = 10_000;

/** Options of {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Tasks run at once, one worker each; default {@linkcode DEFAULT_WORKER_POOL_SIZE}. */
  size?: number;
  /** Idle workers are terminated after this many milliseconds; 0 keeps them until `close()`. */
  idleTimeoutMs?: number;
  /** Debug lines about workers. */
  logger?: Logger;
}

/** Options of {@linkcode WorkerPool.run}. */
export interface RunOptions {
  /** Buffers moved (not copied) to the worker; they are detached in the caller afterwards. */
  transfer?: Transferable[];
  /** Aborting rejects the run; a running worker is terminated (its CPU loop stops at once). */
  signal?: AbortSignal;
}

interface Task {
  id: number;
  moduleUrl: string;
  fnName: string;
  args: unknown[];
  transfer: Transferable[];
  signal: AbortSignal | undefined;
  callerStack: string;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

interface RemoteError {
  name: string;
  message: string;
  stack: string;
}

/**
 * Rebuilds an error thrown in a worker: same name and message; the stack holds the worker's
 * frames, then the caller's.
 */
function remoteError(remote: RemoteError, task: Task): Error {
  const error = new Error(remote.message);
  error.name = remote.name;
  const remoteStack = remote.stack.includes(remote.message)
    ? remote.stack
    : `${remote.name}: ${remote.message}\n${remote.stack}`;
  error.stack =
    `${remoteStack}\n    at <worker> ${task.fnName} (${task.moduleUrl})\n${task.callerStack}`;
  return error;
}

/**
 * A bounded pool of module Workers. `run(moduleUrl, fnName, args)` imports the module in a
 * worker (once per worker), calls the named export with `args` (structured-cloned, or moved
 * with `transfer`) and resolves with its result. Buffers found at the top level of the result
 * (an `ArrayBuffer`, a typed array, or such values in a returned array or plain object) are
 * transferred back, so do not return a buffer the module keeps; a function may also return
 * `{ result, transfer }` to choose. At most `size` tasks run at once; others wait in FIFO
 * order. Errors keep their name, message and the worker's stack. Workers inherit the
 * process's permissions. Call `close()` when done: live workers keep a process running.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool({ size: 2 });
 * try {
 *   const encoded = await pool.run<string>(new URL("./encoding.ts", import.meta.url), "encodeBase64", [
 *     new TextEncoder().encode("hello"),
 *   ]);
 *   if (encoded !== "aGVsbG8=") throw new Error();
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class WorkerPool {
  /** Tasks run at once. */
  readonly size: number;
  readonly #idleTimeoutMs: number;
  readonly #logger: Logger;
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? DEFAULT_WORKER_POOL_SIZE;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`WorkerPool size must be a positive integer, got ${size}`);
    }
    this.size = size;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_WORKER_IDLE_TIMEOUT_MS;
    this.#logger = options.logger ?? nullLogger;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#slots.filter((slot) => slot.task).length;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `fnName` of the module at `moduleUrl` in a worker and resolves with its result. */
  run<T = unknown>(
    moduleUrl: string | URL,
    fnName: string,
    args: unknown[] = [],
    options: RunOptions = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("WorkerPool is closed"));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const url = moduleUrl instanceof URL
      ? moduleUrl.href
      : new URL(moduleUrl, import.meta.url).href;
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        id: this.#nextId++,
        moduleUrl: url,
        fnName,
        args,
        transfer: options.transfer ?? [],
        signal: options.signal,
        // Kept so that a worker error shows where the main thread asked for the work.
        callerStack: (new Error().stack ?? "").split("\n").slice(2).join("\n"),
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (task.signal) {
        task.onAbort = () => this.#abort(task);
        task.signal.addEventListener("abort", task.onAbort, { once: true });
      }
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /**
   * Terminates every worker; running and queued tasks reject with an error saying the pool
   * was closed. Later `run()` calls reject.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = () => new Error("WorkerPool closed before the task finished");
    for (const task of this.#queue.splice(0)) this.#settle(task, undefined, error());
    for (const slot of this.#slots.splice(0)) {
      clearTimeout(slot.idleTimer);
      slot.worker.terminate();
      if (slot.task) this.#settle(slot.task, undefined, error());
    }
  }

  /** Same as {@linkcode close}, for `using pool = new WorkerPool()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => !s.task);
      if (!slot) {
        if (this.#slots.length >= this.size) return;
        slot = this.#spawn();
      }
      const task = this.#queue.shift()!;
      clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      slot.task = task;
      try {
        slot.worker.postMessage(
          { id: task.id, moduleUrl: task.moduleUrl, fnName: task.fnName, args: task.args },
          { transfer: task.transfer },
        );
      } catch (error) {
        // Arguments that cannot be cloned: the worker never saw the task.
        slot.task = undefined;
        this.#settle(task, undefined, error);
      }
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./_worker_main.ts", import.meta.url), { type: "module" });
    const slot: Slot = { worker, task: undefined, idleTimer: undefined };
    worker.onmessage = (event: MessageEvent) => {
      const task = slot.task;
      const data = event.data as {
        id: number;
        ok: boolean;
        result?: unknown;
        error?: RemoteError;
        crashed?: boolean;
        message?: string;
      };
      if (data.crashed) {
        this.#replace(slot, new Error(`Worker crashed: ${data.message}`));
        return;
      }
      if (!task || task.id !== data.id) return;
      slot.task = undefined;
      if (data.ok) this.#settle(task, data.result);
      else this.#settle(task, undefined, remoteError(data.error!, task));
      this.#idle(slot);
      this.#dispatch();
    };
    worker.onerror = (event: ErrorEvent) => {
      // An error outside the task's promise chain kills the worker: fail its task, replace it.
      event.preventDefault();
      const error = new Error(`Worker crashed: ${describePermissionError(event.message)}`);
      this.#replace(slot, error);
    };
    worker.onmessageerror = () => {
      const task = slot.task;
      if (!task) return;
      slot.task = undefined;
      this.#settle(task, undefined, new Error(`Cannot read the result of ${task.fnName}()`));
      this.#idle(slot);
      this.#dispatch();
    };
    this.#slots.push(slot);
    this.#logger.debug(`Started worker ${this.#slots.length} of ${this.size}`);
    return slot;
  }

  #idle(slot: Slot): void {
    if (this.#idleTimeoutMs <= 0 || this.#closed) return;
    clearTimeout(slot.idleTimer);
    const timer = setTimeout(() => {
      if (slot.task || !this.#slots.includes(slot)) return;
      slot.worker.terminate();
      this.#slots.splice(this.#slots.indexOf(slot), 1);
    }, this.#idleTimeoutMs);
    // The idle timer alone must not keep the process alive.
    Deno.unrefTimer(timer);
    slot.idleTimer = timer;
  }

  #replace(slot: Slot, error: unknown): void {
    clearTimeout(slot.idleTimer);
    slot.worker.terminate();
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    const task = slot.task;
    slot.task = undefined;
    if (task) this.#settle(task, undefined, error);
    if (!this.#closed) this.#dispatch();
  }

  #abort(task: Task): void {
    const queued = this.#queue.indexOf(task);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(task, undefined, task.signal!.reason);
      return;
    }
    const slot = this.#slots.find((s) => s.task === task);
    // Terminating is the only way to stop a CPU loop; the next task gets a fresh worker.
    if (slot) this.#replace(slot, task.signal!.reason);
  }

  #settle(task: Task, value: unknown, error?: unknown): void {
    if (task.onAbort) task.signal?.removeEventListener("abort", task.onAbort);
    if (error !== undefined) task.reject(error);
    else task.resolve(value);
  }
}
