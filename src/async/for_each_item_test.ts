import assert from "node:assert/strict";
import { forEachItem } from "./for_each_item.ts";

Deno.test("forEachItem feeds sync and async iterables in order, awaiting returned promises", async () => {
  const signal = new AbortController().signal;
  const seen: number[] = [];
  await forEachItem([1, 2], signal, (n) => {
    seen.push(n);
    return undefined;
  });
  async function* gen() {
    yield 3;
    yield 4;
  }
  await forEachItem(gen(), signal, async (n) => {
    await Promise.resolve();
    seen.push(n);
  });
  assert.deepEqual(seen, [1, 2, 3, 4]);
});

Deno.test("forEachItem gives up when the signal aborts during a stuck next()", async () => {
  const controller = new AbortController();
  const stuck: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<number>>(() => {}) }),
  };
  const pending = forEachItem(stuck, controller.signal, () => undefined);
  setTimeout(() => controller.abort(new Error("stop")), 1);
  await assert.rejects(pending, /stop/);
});

Deno.test("forEachItem closes an unfinished iterator when onItem throws", async () => {
  let closed = false;
  function* gen() {
    try {
      yield 1;
      yield 2;
    } finally {
      closed = true;
    }
  }
  await assert.rejects(
    forEachItem(gen(), new AbortController().signal, () => {
      throw new Error("bad item");
    }),
    /bad item/,
  );
  assert.equal(closed, true);
});
