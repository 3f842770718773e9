/**
 * Entry point of the workers of `WorkerPool`: imports the requested module (once), calls the
 * named export and posts back its result (buffers transferred) or its error (message + stack).
 *
 * @module
 */

interface Task {
  id: number;
  moduleUrl: string;
  fnName: string;
  args: unknown[];
}

interface WorkerScope {
  onmessage: ((event: MessageEvent<Task>) => void) | null;
  addEventListener(type: "error", listener: (event: ErrorEvent) => void): void;
  addEventListener(
    type: "unhandledrejection",
    listener: (event: PromiseRejectionEvent) => void,
  ): void;
  postMessage(message: unknown, options?: { transfer?: Transferable[] }): void;
}

const scope = globalThis as unknown as WorkerScope;
const modules = new Map<string, Promise<Record<string, unknown>>>();

function isTransferable(value: unknown): value is Transferable {
  return value instanceof ArrayBuffer || value instanceof MessagePort;
}

function bufferOf(value: unknown): ArrayBuffer | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) return value.buffer;
  return undefined;
}

/** `{result, transfer}` from the function, or the buffers found at the top of its result. */
function unwrap(value: unknown): { result: unknown; transfer: Transferable[] } {
  if (
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 2 && "result" in value && "transfer" in value &&
    Array.isArray(value.transfer) && value.transfer.every(isTransferable)
  ) {
    return { result: value.result, transfer: value.transfer as Transferable[] };
  }
  const candidates = Array.isArray(value) ? value : typeof value === "object" && value !== null &&
      Object.getPrototypeOf(value) === Object.prototype
    ? Object.values(value)
    : [value];
  const transfer = new Set<ArrayBuffer>();
  for (const candidate of candidates) {
    const buffer = bufferOf(candidate);
    if (buffer && buffer.byteLength > 0) transfer.add(buffer);
  }
  return { result: value, transfer: [...transfer] };
}

function load(moduleUrl: string): Promise<Record<string, unknown>> {
  let module = modules.get(moduleUrl);
  if (!module) {
    module = import(moduleUrl) as Promise<Record<string, unknown>>;
    modules.set(moduleUrl, module);
    module.catch(() => modules.delete(moduleUrl));
  }
  return module;
}

scope.onmessage = async (event) => {
  const { id, moduleUrl, fnName, args } = event.data;
  try {
    const module = await load(moduleUrl);
    const fn = module[fnName];
    if (typeof fn !== "function") {
      throw new TypeError(`Module ${moduleUrl} has no exported function "${fnName}"`);
    }
    const { result, transfer } = unwrap(await fn(...args));
    scope.postMessage({ id, ok: true, result }, { transfer });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    scope.postMessage({
      id,
      ok: false,
      error: { name: e.name, message: e.message, stack: e.stack ?? "" },
    });
  }
};

// An error outside a task's promise chain: report it (the pool replaces this worker) instead of
// letting the runtime print it and kill the worker.
scope.addEventListener("error", (event) => {
  event.preventDefault();
  scope.postMessage({ crashed: true, message: event.message });
});
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  const reason = event.reason instanceof Error ? event.reason.message : String(event.reason);
  scope.postMessage({ crashed: true, message: `unhandled rejection: ${reason}` });
});
