/**
 * Functions the worker pool tests run in workers.
 *
 * @module
 */

/** Adds two numbers. */
export function add(a: number, b: number): number {
  return a + b;
}

/** Throws a RangeError from a nested function (its name must show in the stack). */
export function failDeep(message: string): never {
  function innermostThrower(): never {
    throw new RangeError(message);
  }
  return innermostThrower();
}

/** Rejects asynchronously with a custom error class. */
export async function failAsync(): Promise<never> {
  await Promise.resolve();
  class QuotaError extends Error {
    override name = "QuotaError";
  }
  throw new QuotaError("out of quota");
}

/** CPU work for `ms` milliseconds: FNV-1a rounds over a buffer. Returns the hash. */
export function burn(ms: number): number {
  const data = new Uint8Array(65536).map((_, i) => i * 31);
  const end = performance.now() + ms;
  let hash = 0x811c9dc5;
  while (performance.now() < end) {
    for (let i = 0; i < data.length; i++) {
      hash ^= data[i]!;
      hash = Math.imul(hash, 0x01000193);
    }
  }
  return hash >>> 0;
}

/**
 * CPU work for `ms` milliseconds while counting concurrent runs in shared memory:
 * `counters[0]` = running now, `counters[1]` = highest seen.
 */
export function tracked(shared: SharedArrayBuffer, ms: number): number {
  const counters = new Int32Array(shared);
  const now = Atomics.add(counters, 0, 1) + 1;
  let max = Atomics.load(counters, 1);
  while (now > max) {
    const seen = Atomics.compareExchange(counters, 1, max, now);
    if (seen === max) break;
    max = seen;
  }
  try {
    return burn(ms);
  } finally {
    Atomics.sub(counters, 0, 1);
  }
}

/** Inverts bytes in place and returns them (the buffer is transferred back). */
export function invert(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) bytes[i] = 255 - bytes[i]!;
  return bytes;
}

/** Returns a fresh buffer with an explicit transfer list. */
export function explicitTransfer(size: number): { result: ArrayBuffer; transfer: Transferable[] } {
  const buffer = new Uint8Array(size).fill(7).buffer;
  return { result: buffer, transfer: [buffer] };
}

/** Returns something that cannot be cloned. */
export function unclonable(): unknown {
  return { fn: () => 1 };
}

/** Throws outside the task's promise chain: the worker dies. */
export function crash(): Promise<never> {
  setTimeout(() => {
    throw new Error("uncaught in a timer");
  }, 0);
  return new Promise(() => {});
}
