/**
 * Several service processes sharing one cluster: jobs run exactly once, never two of one
 * connector at a time, and a cron slot becomes exactly one scheduled job.
 */
import assert from "node:assert/strict";
import { uniqueName, waitFor } from "./_helpers.ts";
import { type Doc, Kibana } from "./fixtures/kibana.ts";
import {
  createTestConnector,
  startedJobs,
  startService,
  stopService,
  writeServiceConfig,
} from "./fixtures/protocol_setup.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

Deno.test("two processes, 20 pending jobs over 5 connectors: each runs once, one per connector at a time", async () => {
  const connectors = Array.from(
    { length: 5 },
    () => ({ id: uniqueName("conc"), index: uniqueName("search-conc") }),
  );
  for (const c of connectors) {
    await createTestConnector(kibana, c.id, c.index, { doc_count: 8, delay_ms: 40 });
  }
  const jobIds: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of connectors) jobIds.push(await kibana.startSync(c.id));
  }
  const config = await writeServiceConfig({
    connectors: connectors.map((c) => ({ id: c.id })),
    service: { max_concurrent_content_syncs: 3 },
  });
  await using a = await startService(config);
  await using b = await startService(config);

  await waitFor(async () => {
    const jobs = await Promise.all(jobIds.map((id) => kibana.getJob(id)));
    return jobs.every((job) => job && ["completed", "error", "canceled"].includes(job.status));
  }, { message: "all 20 jobs finished", timeoutMs: 150_000, intervalMs: 1000 });

  const outA = await stopService(a);
  const outB = await stopService(b);
  const starts = new Map<string, number>();
  for (const [id, n] of [...startedJobs(outA.stderr), ...startedJobs(outB.stderr)]) {
    starts.set(id, (starts.get(id) ?? 0) + n);
  }
  for (const id of jobIds) {
    assert.equal(starts.get(id), 1, `job ${id} started ${starts.get(id) ?? 0} times`);
  }

  for (const c of connectors) {
    const jobs = await kibana.listJobs(c.id);
    assert.equal(jobs.length, 4);
    for (const job of jobs) {
      assert.equal(job.status, "completed", `${job._id}: ${job.status} ${job.error}`);
      assert.equal(job.indexed_document_count, 8);
    }
    // Never two jobs of one connector at a time: their run intervals do not overlap.
    const intervals = jobs
      .map((job: Doc) => [Date.parse(job.started_at), Date.parse(job.completed_at)] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < intervals.length; i++) {
      assert.ok(
        intervals[i]![0] >= intervals[i - 1]![1],
        `connector ${c.id}: a job started before the previous one ended`,
      );
    }
    const doc = (await kibana.getConnector(c.id))!;
    assert.equal(doc.last_sync_status, "completed");
  }
});

Deno.test("cron * * * * * ? with two processes: exactly one scheduled job per slot", async () => {
  const c = { id: uniqueName("cron"), index: uniqueName("search-cron") };
  await createTestConnector(kibana, c.id, c.index, { doc_count: 3 }, {
    scheduling: {
      full: { enabled: true, interval: "* * * * * ?" },
      incremental: { enabled: false, interval: "0 0 0 * * ?" },
      access_control: { enabled: false, interval: "0 0 0 * * ?" },
    },
  });
  const config = await writeServiceConfig({ connectors: [{ id: c.id }] });
  await using a = await startService(config);
  await using b = await startService(config);

  const scheduled = async () =>
    (await kibana.listJobs(c.id)).filter((job) => job.trigger_method === "scheduled");
  // The first slot is the next minute boundary.
  const first = await waitFor(async () => {
    const jobs = await scheduled();
    return jobs.length > 0 ? jobs : undefined;
  }, { message: "a scheduled job", timeoutMs: 75_000, intervalMs: 500 });
  // Give both processes several more rounds on that slot.
  await new Promise((r) => setTimeout(r, 5000));
  const jobs = await scheduled();
  const perSlot = new Map<string, number>();
  for (const job of jobs) {
    const slot = job.created_at.slice(0, 16); // Jobs are created within seconds after their minute.
    perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
  }
  for (const [slot, n] of perSlot) assert.equal(n, 1, `slot ${slot} has ${n} scheduled jobs`);
  assert.ok(jobs.length >= first.length);
  const connector = (await kibana.getConnector(c.id))!;
  assert.match(connector.last_sync_scheduled_at, /:00(\.000)?Z$/, "the slot is a whole minute");
  assert.equal(jobs[0]!.job_type, "full");
  assert.equal(jobs[0]!.connector.index_name, c.index);
  // Scheduled jobs run like on-demand ones.
  await waitFor(async () => (await kibana.getJob(jobs[0]!._id))?.status === "completed", {
    message: "scheduled job completed",
  });
  await stopService(a);
  await stopService(b);
});
