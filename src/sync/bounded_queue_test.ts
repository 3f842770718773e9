import assert from "node:assert/strict";
import {
  BoundedQueue,
  ElasticsearchOverloadedError,
  QUEUE_END,
  QUEUE_TIMEOUT,
} from "./bounded_queue.ts";

Deno.test("the queue blocks producers on its item limit", async () => {
  const queue = new BoundedQueue<number>({ maxItems: 2, maxBytes: 1000 });
  assert.equal(queue.tryPut(1, 1), true);
  assert.equal(queue.tryPut(2, 1), true);
  assert.equal(queue.tryPut(3, 1), false);
  let added = false;
  const put = queue.put(3, 1).then(() => (added = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(added, false);
  assert.equal(queue.takeNow(), 1);
  await put;
  assert.equal(queue.length, 2);
});

Deno.test("the queue blocks producers on its byte limit but accepts one big item when empty", async () => {
  const queue = new BoundedQueue<string>({ maxItems: 100, maxBytes: 10 });
  assert.equal(queue.tryPut("a", 6), true);
  assert.equal(queue.tryPut("b", 5), false);
  assert.equal(queue.bytes, 6);
  const put = queue.put("b", 5);
  assert.equal(await queue.take(), "a");
  await put;
  assert.equal(queue.bytes, 5);
  assert.equal(queue.takeNow(), "b");
  assert.equal(queue.tryPut("huge", 50), true); // empty queue: accepted
  assert.equal(queue.bytes, 50);
});

Deno.test("take waits for an item, times out, and reports the end after close", async () => {
  const queue = new BoundedQueue<number>({ maxItems: 10, maxBytes: 10 });
  assert.equal(await queue.take(5), QUEUE_TIMEOUT);
  const waiting = queue.take();
  await queue.put(7, 1);
  assert.equal(await waiting, 7);
  await queue.put(8, 1);
  queue.close();
  assert.equal(await queue.take(), 8);
  assert.equal(await queue.take(), QUEUE_END);
  assert.throws(() => queue.tryPut(9, 1), /closed/);
  const pending = new BoundedQueue<number>({ maxItems: 1, maxBytes: 1 });
  const end = pending.take();
  pending.close();
  assert.equal(await end, QUEUE_END);
});

Deno.test("a producer waiting too long fails as Elasticsearch overloaded", async () => {
  const queue = new BoundedQueue<number>({ maxItems: 1, maxBytes: 10, putTimeoutMs: 10 });
  queue.tryPut(1, 1);
  await assert.rejects(queue.put(2, 1), ElasticsearchOverloadedError);
  assert.equal(queue.length, 1);
});

Deno.test("fail and abort wake producers and the consumer with the error", async () => {
  const controller = new AbortController();
  const queue = new BoundedQueue<number>({ maxItems: 1, maxBytes: 10, signal: controller.signal });
  queue.tryPut(1, 1);
  const producer = queue.put(2, 1);
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(producer, (e) => e === reason);
  assert.throws(() => queue.takeNow(), (e) => e === reason);
  const other = new BoundedQueue<number>({ maxItems: 1, maxBytes: 1 });
  const consumer = other.take();
  other.fail(new Error("broken"));
  await assert.rejects(consumer, /broken/);
});

Deno.test("the queue keeps FIFO order across many items", async () => {
  const queue = new BoundedQueue<number>({ maxItems: 7, maxBytes: 1e9 });
  const producer = (async () => {
    for (let i = 0; i < 5000; i++) await queue.put(i, 1);
    queue.close();
  })();
  const seen: number[] = [];
  for (;;) {
    const item = await queue.take();
    if (item === QUEUE_END) break;
    if (item !== QUEUE_TIMEOUT) seen.push(item);
  }
  await producer;
  assert.equal(seen.length, 5000);
  assert.ok(seen.every((v, i) => v === i));
});
