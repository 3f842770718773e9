import assert from "node:assert/strict";
import { createLogger, redact, redactValue, registerSecret } from "./logger.ts";
import type { LogRecord } from "./logger.ts";
import { ecsSink, textSink } from "./sinks.ts";

Deno.test("logger filters by level and merges child fields", () => {
  const records: LogRecord[] = [];
  const log = createLogger({ level: "INFO", sink: (r) => records.push(r) });
  log.debug("hidden");
  log.child({ connector_id: "c1" }).warning("careful", { job_id: "j1" });
  assert.equal(records.length, 1);
  assert.equal(records[0]!.level, "WARNING");
  assert.deepEqual(records[0]!.fields, { connector_id: "c1", job_id: "j1" });
});

Deno.test("registered secrets and secret-looking keys never reach a sink", () => {
  registerSecret("Very-Secret-9");
  const lines: string[] = [];
  const log = createLogger({ level: "DEBUG", sink: textSink((l) => lines.push(l), false) });
  log.error("auth failed with Very-Secret-9", { password: "other", config: { api_key: "k" } });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes("Very-Secret-9"));
  assert.ok(!lines[0]!.includes("other"));
  assert.match(lines[0]!, /password=\*\*\*\*\*/);
  assert.equal(redact("x Very-Secret-9 y"), "x ***** y");
  assert.deepEqual(redactValue({ token: "", n: 1 }), { token: "", n: 1 });
});

Deno.test("ECS lines are JSON with connector, job and service type", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "INFO", sink: ecsSink((l) => lines.push(l)) });
  log.info("sync done", { connector_id: "c", job_id: "j", service_type: "dir", docs: 3 });
  const line = JSON.parse(lines[0]!);
  assert.equal(line.message, "sync done");
  assert.equal(line["log.level"], "info");
  assert.ok(line["@timestamp"]);
  assert.deepEqual(line.connector, { id: "c" });
  assert.deepEqual(line.sync_job, { id: "j" });
  assert.equal(line.service_type, "dir");
  assert.deepEqual(line.labels, { docs: 3 });
});
