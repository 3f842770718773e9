import assert from "node:assert/strict";
import { backoffDelay } from "./backoff_delay.ts";

Deno.test("backoffDelay grows exponentially with jitter and a cap", () => {
  const low = { initial: 1, multiplier: 2, random: () => 0 };
  const high = { initial: 1, multiplier: 2, random: () => 0.99999 };
  assert.equal(backoffDelay(0, low), 500);
  assert.equal(backoffDelay(3, low), 4000);
  assert.ok(backoffDelay(3, high) <= 8000 && backoffDelay(3, high) > 7990);
  assert.equal(backoffDelay(30, { ...high, max: 5 }), 5000);
});
