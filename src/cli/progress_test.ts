import assert from "node:assert/strict";
import { createLogger, type LogRecord } from "../log/mod.ts";
import type { SyncJob } from "../protocol/types.ts";
import { formatProgress, ProgressReporter, watchJob } from "./progress.ts";

function recorder() {
  const records: LogRecord[] = [];
  return { records, logger: createLogger({ level: "INFO", sink: (r) => records.push(r) }) };
}

function job(status: string, indexed = 0, startedAt: string | null = null): SyncJob {
  return {
    id: "j1",
    seqNo: 0,
    primaryTerm: 1,
    doc: {
      status,
      indexed_document_count: indexed,
      deleted_document_count: 0,
      started_at: startedAt,
    } as never,
  };
}

Deno.test("without a terminal: one log line per interval, however many documents arrive", () => {
  const { records, logger } = recorder();
  let now = 0;
  const reporter = new ProgressReporter({
    terminal: false,
    logger: logger.child({ connector_id: "c1", job_id: "j1", service_type: "dir" }),
    intervalSeconds: 10,
    label: "Sync job j1",
    manual: true,
    now: () => now,
  });
  for (let i = 1; i <= 5000; i++) {
    reporter.update({ status: "in_progress", indexed: i, deleted: 0, startedAt: 0 });
    now = i; // 5 s of updates, one per millisecond
    reporter.tick();
  }
  assert.equal(records.length, 0, "no line before the interval has passed");
  now = 10_000;
  reporter.tick();
  reporter.tick();
  assert.equal(records.length, 1);
  now = 20_000;
  reporter.tick();
  assert.equal(records.length, 2);
  const line = records[0]!;
  assert.equal(line.message, "Sync job j1: 5,000 indexed, 0 deleted, 500 docs/s, 0:10 elapsed");
  assert.equal(line.fields.connector_id, "c1");
  assert.equal(line.fields.job_id, "j1");
  assert.equal(line.fields.service_type, "dir");
  assert.equal(line.fields.indexed_document_count, 5000);
  reporter.stop();
  now = 40_000;
  reporter.tick();
  assert.equal(records.length, 2, "nothing after stop()");
});

Deno.test("in a terminal: the line is redrawn in place, cut to the width, and cleared", () => {
  const { records, logger } = recorder();
  const written: string[] = [];
  const reporter = new ProgressReporter({
    terminal: true,
    logger,
    intervalSeconds: 10,
    label: "Syncing search-docs",
    manual: true,
    now: () => 2_000,
    columns: () => 40,
    write: (text) => written.push(text),
  });
  reporter.update({ status: "in_progress", indexed: 12, deleted: 2, startedAt: 0 });
  reporter.tick();
  reporter.tick();
  assert.equal(records.length, 0, "no log lines in a terminal");
  assert.equal(written.length, 2);
  for (const text of written) {
    assert.ok(text.startsWith("\r\x1b[2K"), JSON.stringify(text));
    assert.ok(text.length - 5 <= 39, `cut to the terminal width: ${JSON.stringify(text)}`);
    assert.ok(text.endsWith("…"));
  }
  assert.notEqual(written[0]!.slice(5, 6), written[1]!.slice(5, 6), "the spinner turns");
  reporter.stop();
  assert.equal(written.at(-1), "\r\x1b[2K", "stop() clears the line");
  reporter.clear();
  assert.equal(written.length, 3, "clearing twice writes nothing");
});

Deno.test("formatProgress: waiting jobs and jobs that are no longer running", () => {
  assert.match(formatProgress({ status: "pending", indexed: 0, deleted: 0 }, 0), /pending/);
  assert.equal(
    formatProgress({ status: "canceling", indexed: 3, deleted: 1, startedAt: 0 }, 4_000),
    "3 indexed, 1 deleted, 1.0 docs/s, 0:04 elapsed (canceling)",
  );
});

Deno.test("watchJob follows a job to its end and feeds the reporter", async () => {
  const sequence = [
    job("pending"),
    job("in_progress", 5, "2024-01-01T00:00:00Z"),
    job("completed", 9, "2024-01-01T00:00:00Z"),
  ];
  const seen: string[] = [];
  const reporter = new ProgressReporter({
    terminal: false,
    logger: recorder().logger,
    intervalSeconds: 1,
    label: "x",
    manual: true,
  });
  const original = reporter.update.bind(reporter);
  reporter.update = (snapshot) => {
    seen.push(`${snapshot.status}:${snapshot.indexed}`);
    original(snapshot);
  };
  let reads = 0;
  const done = await watchJob({ get: () => Promise.resolve(sequence[reads++]) }, "j1", {
    pollMs: 1,
    reporter,
  });
  assert.equal(done.doc.status, "completed");
  assert.deepEqual(seen, ["pending:0", "in_progress:5", "completed:9"]);
  assert.equal(reporter.snapshot.startedAt, Date.parse("2024-01-01T00:00:00Z"));
});

Deno.test("watchJob: a vanished job is an error, an abort stops the wait", async () => {
  await assert.rejects(
    watchJob({ get: () => Promise.resolve(undefined) }, "gone", { pollMs: 1 }),
    /Sync job gone disappeared/,
  );
  const controller = new AbortController();
  const waiting = watchJob({ get: () => Promise.resolve(job("pending")) }, "j1", {
    pollMs: 5,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error("enough")), 20);
  await assert.rejects(waiting, /enough/);
  let failures = 0;
  const flaky = await watchJob(
    {
      get: () => ++failures < 3 ? Promise.reject(new Error("blip")) : Promise.resolve(job("error")),
    },
    "j1",
    { pollMs: 1 },
  );
  assert.equal(flaky.doc.status, "error", "passing read failures are retried");
});
