import assert from "node:assert/strict";
import { settleWithin } from "./settle_within.ts";

Deno.test("settleWithin settles like the work while the signal is live", async () => {
  const signal = new AbortController().signal;
  assert.equal(await settleWithin(Promise.resolve(1), signal, 10, () => {}), 1);
  await assert.rejects(
    settleWithin(Promise.reject(new Error("boom")), signal, 10, () => {}),
    /boom/,
  );
});

Deno.test("settleWithin gives stuck work a grace period after the abort, then rejects", async () => {
  const controller = new AbortController();
  let late = 0;
  const pending = settleWithin(new Promise<never>(() => {}), controller.signal, 5, () => late++);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  assert.equal(late, 1);
});

Deno.test("settleWithin lets work that finishes within the grace period win", async () => {
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  let late = 0;
  const work = new Promise<string>((resolve) => setTimeout(() => resolve("done"), 1));
  assert.equal(await settleWithin(work, controller.signal, 1_000, () => late++), "done");
  assert.equal(late, 0);
});
