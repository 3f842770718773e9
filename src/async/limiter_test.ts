import assert from "node:assert/strict";
import { createLimiter } from "./limiter.ts";

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

Deno.test("a limiter never runs more than n tasks and runs them all", async () => {
  const limiter = createLimiter(3);
  let running = 0;
  let peak = 0;
  let done = 0;
  for (let i = 0; i < 20; i++) {
    await limiter.spawn(async () => {
      peak = Math.max(peak, ++running);
      await tick(i % 3);
      running--;
      done++;
    });
    assert.ok(limiter.active <= 3);
  }
  await limiter.drain();
  assert.equal(peak, 3);
  assert.equal(done, 20);
  assert.equal(limiter.active, 0);
});

Deno.test("run returns the task's result and propagates its failure to the caller only", async () => {
  const limiter = createLimiter(1);
  assert.equal(await limiter.run(() => Promise.resolve("x")), "x");
  await assert.rejects(limiter.run(() => Promise.reject(new Error("boom"))), /boom/);
  await limiter.drain(); // run() failures are the caller's, not background failures
  assert.equal(await limiter.run(() => Promise.resolve(1)), 1);
});

Deno.test("a background failure is rethrown by the next spawn and by drain", async () => {
  const limiter = createLimiter(2);
  await limiter.spawn(() => Promise.reject(new Error("first")));
  await tick(5);
  await assert.rejects(limiter.spawn(() => Promise.resolve()), /first/);
  await assert.rejects(limiter.drain(), /first/);
  assert.ok(limiter.failure instanceof Error);
});

Deno.test("a synchronous throw inside a task counts as its failure", async () => {
  const limiter = createLimiter(1);
  await limiter.spawn(
    (() => {
      throw new Error("sync");
    }) as unknown as () => Promise<void>,
  );
  await assert.rejects(limiter.drain(), /sync/);
});

Deno.test("aborting the signal rejects slot waits with its reason", async () => {
  const controller = new AbortController();
  const limiter = createLimiter(1, controller.signal);
  let release!: () => void;
  await limiter.spawn(() => new Promise<void>((r) => (release = r)));
  const waiting = limiter.spawn(() => Promise.resolve());
  const reason = new Error("canceled");
  controller.abort(reason);
  await assert.rejects(waiting, (e) => e === reason);
  await assert.rejects(limiter.spawn(() => Promise.resolve()), (e) => e === reason);
  release();
  await limiter.drain();
});

Deno.test("a limiter refuses a concurrency below 1", () => {
  assert.throws(() => createLimiter(0), RangeError);
});

Deno.test("a spawn refused after a failure gives its slot back (drain does not hang)", async () => {
  const limiter = createLimiter(1);
  let fail!: () => void;
  await limiter.spawn(() =>
    new Promise<void>((_, reject) => (fail = () => reject(new Error("x"))))
  );
  const refused = limiter.spawn(() => Promise.resolve()); // waits for the slot
  fail();
  await assert.rejects(refused, /x/);
  assert.equal(limiter.active, 0);
  await assert.rejects(limiter.drain(), /x/);
});
