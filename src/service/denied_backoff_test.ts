import assert from "node:assert/strict";
import { DEFAULT_DENIED_MAX_BACKOFF_SECONDS, DeniedBackoff } from "./denied_backoff.ts";

function denied(reason: string) {
  return { meta: { statusCode: 403, body: { error: { reason } } } };
}

function setUp(now: { t: number }) {
  const lines: { level: string; message: string }[] = [];
  const logger = {
    error: (message: string) => lines.push({ level: "ERROR", message }),
    debug: (message: string) => lines.push({ level: "DEBUG", message }),
    info: (message: string) => lines.push({ level: "INFO", message }),
  };
  const backoff = new DeniedBackoff(logger, {
    loop: "execution",
    initial: 1,
    credentials: "user reader (elasticsearch.username)",
    now: () => now.t,
    random: () => 1,
  });
  return { lines, backoff };
}

Deno.test("DeniedBackoff doubles the waits up to the cap and logs the same denial once", () => {
  const now = { t: 0 };
  const { lines, backoff } = setUp(now);
  const waits: number[] = [];
  for (let i = 0; i < 12; i++) {
    waits.push(backoff.denied(denied("action [indices:data/write/update] is unauthorized")));
  }
  assert.deepEqual(waits.slice(0, 5), [1000, 2000, 4000, 8000, 16000]);
  assert.equal(Math.max(...waits), DEFAULT_DENIED_MAX_BACKOFF_SECONDS * 1000);
  const errors = lines.filter((l) => l.level === "ERROR");
  assert.equal(errors.length, 1);
  assert.match(
    errors[0]!.message,
    /^The execution loop cannot go on: Elasticsearch denied user reader \(elasticsearch\.username\) \(HTTP 403\): action \[indices:data\/write\/update\] is unauthorized; nothing is written until the privileges are granted/,
  );
  assert.equal(lines.filter((l) => l.level === "DEBUG").length, 11);
});

Deno.test("DeniedBackoff logs again on a new reason and after the reminder; success ends it", () => {
  const now = { t: 0 };
  const { lines, backoff } = setUp(now);
  backoff.denied(denied("a"));
  backoff.denied(denied("b"));
  now.t += 601_000;
  backoff.denied(denied("b"));
  assert.equal(lines.filter((l) => l.level === "ERROR").length, 3);
  assert.ok(backoff.denying);
  backoff.allowed();
  assert.ok(!backoff.denying);
  assert.match(lines.at(-1)!.message, /^The execution loop is allowed again after 601s/);
  backoff.allowed();
  assert.equal(lines.filter((l) => l.level === "INFO").length, 1);
  assert.equal(backoff.denied(denied("b")), 1000, "a new denial starts from the first wait");
});
