import assert from "node:assert/strict";
import type { ErrorMonitorConfig } from "../config/mod.ts";
import { ErrorMonitor, TooManyErrorsError } from "./error_monitor.ts";

const base: ErrorMonitorConfig = {
  enabled: true,
  max_total_errors: 1000,
  max_consecutive_errors: 10,
  max_error_rate: 0.15,
  error_window_size: 100,
  error_queue_size: 10,
};

Deno.test("consecutive errors past the limit fail, a success resets the streak", () => {
  const monitor = new ErrorMonitor({ ...base, max_consecutive_errors: 3, max_error_rate: 1 });
  for (let i = 0; i < 3; i++) monitor.trackError(`a${i}`, "x");
  monitor.trackSuccess();
  for (let i = 0; i < 3; i++) monitor.trackError(`b${i}`, "x");
  assert.throws(
    () => monitor.trackError("b3", "mapper_parsing_exception"),
    (e) =>
      e instanceof TooManyErrorsError && /4 errors in a row/.test(e.message) &&
      /First failing documents: a0, a1, a2, b0, b1/.test(e.message) &&
      /Last error: mapper_parsing_exception/.test(e.message),
  );
});

Deno.test("total errors past the limit fail", () => {
  const monitor = new ErrorMonitor({ ...base, max_total_errors: 5, max_error_rate: 1 });
  for (let i = 0; i < 5; i++) {
    monitor.trackError(String(i), "x");
    monitor.trackSuccess();
  }
  assert.throws(() => monitor.trackError("5", "x"), /maximum total error count - saw 6/);
});

Deno.test("the error rate is measured over the last window_size operations", () => {
  const monitor = new ErrorMonitor({ ...base, error_window_size: 10, max_error_rate: 0.2 });
  // a, 8 successes, b: 2 errors in 10 ops = 0.2, allowed (the limit is "more than").
  monitor.trackError("a", "x");
  for (let i = 0; i < 8; i++) monitor.trackSuccess();
  monitor.trackError("b", "x");
  monitor.trackError("c", "x"); // replaces "a": still 2 errors in the window
  assert.throws(() => monitor.trackError("d", "x"), /maximum error ratio of 0.2 for last 10/);
});

Deno.test("a disabled monitor only counts", () => {
  const monitor = new ErrorMonitor({ ...base, enabled: false, max_total_errors: 0 });
  for (let i = 0; i < 50; i++) monitor.trackError(String(i), "x");
  assert.equal(monitor.totalErrors, 50);
  assert.equal(monitor.firstFailedIds.length, 10);
});
