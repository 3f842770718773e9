/**
 * The code that runs inside a sandbox worker. {@linkcode sandboxRuntime} is self-contained (it
 * references nothing outside its own body), because the worker runs its source text
 * (`Function.prototype.toString`) from a `blob:` URL: the same in `deno run`, a bundle and a
 * compiled executable, and with no file to read.
 *
 * Protocol (main → worker): `load`, `new`, `call`, `iter`, `credit`, `stop`, `lazy`, `release`,
 * `abort`; (worker → main): `loaded`, `done`, `fail`, `batch`, `log`. See `protocol.ts`.
 *
 * @module
 */

/** What the runtime needs of the worker's global scope (a fake one in tests). */
export interface SandboxScope {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  addEventListener(
    type: "error" | "unhandledrejection",
    listener: (event: Event & { message?: string; reason?: unknown }) => void,
  ): void;
}

/**
 * Serves one data source class inside a worker: imports its module on `load`, constructs it on
 * `new`, runs calls and streams iterators in batches with credit-based back-pressure, and
 * posts errors as plain data (name, message, declared `kind`, `code`, `statusCode`).
 *
 * @example
 * ```ts
 * import { sandboxRuntime } from "./_runtime.ts";
 * // The worker's entry is this function's text, called with the worker's global scope:
 * const entry = `(${sandboxRuntime.toString()})(globalThis);`;
 * if (!entry.includes("onmessage")) throw new Error();
 * ```
 */
export function sandboxRuntime(scope: SandboxScope): void {
  type Msg = Record<string, unknown> & { t: string; id?: number };
  type Instance = Record<string, unknown>;
  // The contract methods the service may call; the log methods and their levels.
  const CONTRACT = ("ping getDocs changed getDocsIncrementally getAccessControl syncCursor " +
    "validateConfig validateAdvancedRules close").split(" ");
  const LEVELS: Record<string, string> = Object.fromEntries(
    ["debug", "info", "warning", "error"].map((method) => [method, method.toUpperCase()]),
  );
  let cls: (new (...args: unknown[]) => Instance) | undefined;
  let instance: Instance | undefined;
  let constructorError: unknown;
  let loadError: unknown;
  // Construction waits for the import, and calls wait for construction.
  let ready: Promise<unknown> = Promise.resolve();
  const stoppedEarly = new Set<number>();
  let levels: string[] = [];
  let batching = { items: 64, chars: 1 << 20, flushMs: 15 };
  const controller = new AbortController();
  const lazies = new Map<number, (...args: unknown[]) => unknown>();
  let nextRef = 1;
  const streams = new Map<
    number,
    { credit: number; stopped: boolean; wake: (() => void) | null; onCredit: () => void }
  >();

  function serialize(error: unknown): Record<string, unknown> {
    try {
      if (typeof error !== "object" || error === null) {
        return { name: "Error", message: String(error) };
      }
      const e = error as Record<string, unknown> & { meta?: { statusCode?: unknown } };
      const out: Record<string, unknown> = {
        name: typeof e.name === "string" ? e.name : "Error",
        message: typeof e.message === "string" ? e.message : String(error),
      };
      if (typeof e.stack === "string") out.stack = e.stack;
      if (e.kind === "fatal" || e.kind === "retriable" || e.kind === "skippable") out.kind = e.kind;
      if (typeof e.code === "string") out.code = e.code;
      const status = e.meta?.statusCode ?? e.statusCode;
      if (typeof status === "number" && status > 0) out.statusCode = status;
      return out;
    } catch {
      return { name: "Error", message: "an error that cannot be read" };
    }
  }

  /** Posts a message; false when it could not be cloned (a failure was posted instead). */
  function post(message: Msg): boolean {
    try {
      scope.postMessage(message);
      return true;
    } catch (error) {
      // A value that cannot be cloned: report that instead of the value.
      if (message.t === "done" || message.t === "batch") {
        const what = message.t === "batch" ? "a document" : "the result";
        scope.postMessage({
          t: "fail",
          id: message.id,
          error: {
            name: "DataCloneError",
            message: `${what} cannot leave the sandbox: ${(error as Error).message}`,
          },
        });
      } else if (message.t === "log") {
        scope.postMessage({ t: "log", level: message.level, message: String(message.message) });
      } else {
        throw error;
      }
      return false;
    }
  }

  function cursor(): { cursor?: unknown } {
    const fn = instance?.syncCursor;
    if (typeof fn !== "function") return {};
    try {
      return { cursor: structuredClone(fn.call(instance)) };
    } catch {
      return {};
    }
  }

  function logger(fields: Record<string, unknown>): Record<string, unknown> {
    const at = (method: string) => (message: unknown, extra?: Record<string, unknown>) => {
      const level = LEVELS[method]!;
      if (!levels.includes(level)) return;
      post({ t: "log", level, message: String(message), fields: { ...fields, ...(extra ?? {}) } });
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warning: at("warning"),
      error: at("error"),
      child: (more: Record<string, unknown>) => logger({ ...fields, ...more }),
      enabled: (level: string) => levels.includes(level),
    };
  }

  function source(): Instance {
    if (loadError !== undefined) throw loadError;
    if (constructorError !== undefined) throw constructorError;
    if (!instance) throw new Error("the source was not constructed");
    return instance;
  }

  function encode(item: unknown, method: string): unknown {
    if (method === "getAccessControl" || !Array.isArray(item)) return item;
    const [doc, lazy, op] = item as [unknown, unknown, unknown];
    let ref = 0;
    if (typeof lazy === "function") {
      ref = nextRef++;
      lazies.set(ref, lazy as (...args: unknown[]) => unknown);
    }
    return method === "getDocsIncrementally" ? [doc, ref, op] : [doc, ref];
  }

  function size(item: unknown): number {
    const doc = Array.isArray(item) ? item[0] : item;
    let chars = 64;
    if (typeof doc === "object" && doc !== null) {
      for (const key in doc) {
        const value = (doc as Record<string, unknown>)[key];
        if (typeof value === "string") chars += value.length;
      }
    }
    return chars;
  }

  async function run(id: number, work: () => unknown): Promise<void> {
    try {
      const value = await work();
      post({ t: "done", id, value, ...cursor() });
    } catch (error) {
      post({ t: "fail", id, error: serialize(error), ...cursor() });
    }
  }

  async function load(message: Msg): Promise<Record<string, unknown>> {
    const namespace = await import(String(message.url)) as Record<string, unknown>;
    const exportName = String(message.exportName);
    const exports = Object.keys(namespace).filter((key) => key !== "module.exports");
    if (!(exportName in namespace)) return { found: false, exports };
    const value = namespace[exportName];
    const kind = typeof value !== "function"
      ? "other"
      : value.prototype === undefined
      ? "function"
      : "class";
    const info: Record<string, unknown> = {
      found: true,
      exports,
      kind,
      type: value === null ? "null" : typeof value,
    };
    if (kind !== "class") return info;
    const candidate = value as unknown as Record<string, unknown> & {
      prototype: Record<string, unknown>;
      name: string;
    };
    cls = value as unknown as new (...args: unknown[]) => Instance;
    info.name = candidate.name;
    info.methods = CONTRACT.filter((name) => typeof candidate.prototype[name] === "function");
    info.hasSchema = typeof candidate.getDefaultConfiguration === "function";
    if (typeof candidate.displayName === "string") info.displayName = candidate.displayName;
    if (typeof candidate.features === "object" && candidate.features !== null) {
      info.features = structuredClone(candidate.features);
    }
    if (info.hasSchema) {
      try {
        info.schema = structuredClone(
          (candidate.getDefaultConfiguration as () => unknown).call(candidate),
        );
      } catch (error) {
        info.schemaError = serialize(error);
      }
    }
    return info;
  }

  function stream(id: number, method: string, args: unknown[], credit: number): void {
    const state = {
      credit,
      stopped: false,
      wake: null as (() => void) | null,
      onCredit: () => {},
    };
    streams.set(id, state);
    if (stoppedEarly.delete(id)) state.stopped = true;
    let batch: unknown[] = [];
    let chars = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let due = false;
    const send = (): boolean => {
      if (batch.length === 0 || state.credit <= 0 || state.stopped) return false;
      state.credit--;
      const items = batch;
      batch = [];
      chars = 0;
      due = false;
      clearTimeout(timer);
      timer = undefined;
      // A document that cannot be cloned failed the stream: stop iterating the source.
      if (!post({ t: "batch", id, items })) state.stopped = true;
      return true;
    };
    const waitCredit = () => new Promise<void>((resolve) => (state.wake = resolve));
    const flush = async () => {
      while (batch.length > 0 && !state.stopped && !send()) await waitCredit();
    };
    state.onCredit = () => {
      state.credit++;
      const wake = state.wake;
      state.wake = null;
      if (wake) wake();
      else if (due) send();
    };
    (async () => {
      let iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
      try {
        const fn = source()[method];
        if (typeof fn !== "function") throw new TypeError(`the source has no ${method}()`);
        const iterable = fn.apply(instance, args) as AsyncIterable<unknown> & Iterable<unknown>;
        iterator = typeof iterable?.[Symbol.asyncIterator] === "function"
          ? iterable[Symbol.asyncIterator]()
          : typeof iterable?.[Symbol.iterator] === "function"
          ? iterable[Symbol.iterator]()
          : undefined;
        if (!iterator) throw new TypeError(`${method}() did not return an iterable`);
        for (;;) {
          if (state.stopped) break;
          const step = await iterator.next();
          if (step.done || state.stopped) break;
          batch.push(encode(step.value, method));
          chars += size(step.value);
          if (batch.length >= batching.items || chars >= batching.chars) await flush();
          else if (timer === undefined) {
            timer = setTimeout(() => {
              timer = undefined;
              due = true;
              send();
            }, batching.flushMs);
          }
        }
        await flush();
        if (!state.stopped) post({ t: "done", id, ...cursor() });
      } catch (error) {
        // What was yielded before the failure goes out first, as it would without a sandbox.
        await flush();
        if (!state.stopped) post({ t: "fail", id, error: serialize(error), ...cursor() });
      } finally {
        clearTimeout(timer);
        streams.delete(id);
        if (state.stopped) await Promise.resolve(iterator?.return?.()).catch(() => {});
      }
    })();
  }

  scope.onmessage = (event) => {
    const message = event.data as Msg;
    const id = Number(message.id ?? 0);
    switch (message.t) {
      case "load":
        ready = run(id, () =>
          load(message).catch((error) => {
            loadError = error;
            throw error;
          }));
        break;
      case "new":
        levels = (message.levels as string[] | undefined) ?? [];
        if (message.batching) batching = message.batching as typeof batching;
        ready = ready.then(() => {
          try {
            if (loadError !== undefined) return;
            if (!cls) throw new Error("the module has no such source class");
            const context = (message.context ?? {}) as Record<string, unknown>;
            instance = new cls(message.configuration, {
              ...context,
              logger: logger({}),
              signal: controller.signal,
            });
          } catch (error) {
            constructorError = error ?? new Error("the constructor threw");
          }
        });
        break;
      case "call":
        ready.then(() =>
          run(id, () => {
            // Nothing to close when there is no instance (its failure was reported already).
            if (message.method === "close" && !instance) return undefined;
            const target = source();
            const fn = target[String(message.method)];
            if (typeof fn !== "function") {
              throw new TypeError(`the source has no ${message.method}()`);
            }
            return fn.apply(target, (message.args as unknown[]) ?? []);
          })
        );
        break;
      case "iter":
        ready.then(() =>
          stream(
            id,
            String(message.method),
            (message.args as unknown[]) ?? [],
            Number(message.credit),
          )
        );
        break;
      case "credit":
        streams.get(id)?.onCredit();
        break;
      case "stop": {
        const state = streams.get(id);
        if (state) {
          state.stopped = true;
          state.wake?.();
        } else stoppedEarly.add(id);
        break;
      }
      case "lazy": {
        const ref = Number(message.ref);
        const fn = lazies.get(ref);
        lazies.delete(ref);
        run(id, () => {
          if (!fn) throw new Error(`download ${ref} is no longer available`);
          return fn(...((message.args as unknown[]) ?? []));
        });
        break;
      }
      case "release":
        for (const ref of (message.refs as number[]) ?? []) lazies.delete(ref);
        break;
      case "abort": {
        const reason = new Error(String(message.reason ?? "aborted"));
        reason.name = "AbortError";
        controller.abort(reason);
        break;
      }
    }
  };

  // A source's stray failure (a promise nobody awaits) is logged; the sandbox goes on.
  const stray = (text: string) =>
    post({ t: "log", level: "ERROR", message: `Uncaught in the sandbox: ${text}`, fields: {} });
  scope.addEventListener("error", (event) => {
    event.preventDefault();
    stray(String(event.message));
  });
  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const reason = event.reason as { message?: unknown } | undefined;
    stray(String(reason?.message ?? reason));
  });
}
