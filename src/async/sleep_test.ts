import assert from "node:assert/strict";
import { sleep } from "./sleep.ts";

Deno.test("sleep rejects when the signal aborts", async () => {
  const controller = new AbortController();
  const pending = sleep(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
});
