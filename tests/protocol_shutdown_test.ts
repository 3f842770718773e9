/**
 * Shutdown and crash of a service process mid-sync: SIGTERM suspends the job for the next
 * process to resume; after SIGKILL the cleanup service of the next process marks the dead job.
 */
import assert from "node:assert/strict";
import { uniqueName, waitFor } from "./_helpers.ts";
import { Kibana } from "./fixtures/kibana.ts";
import {
  createTestConnector,
  startedJobs,
  startService,
  stopService,
  writeServiceConfig,
} from "./fixtures/protocol_setup.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

Deno.test("SIGTERM mid-sync suspends the job; a fresh process resumes it to completed", async () => {
  const c = { id: uniqueName("term"), index: uniqueName("search-term") };
  // 120 documents, 50 ms each: about 6 s of sync.
  await createTestConnector(kibana, c.id, c.index, { doc_count: 120, delay_ms: 50 });
  const config = await writeServiceConfig({ connectors: [{ id: c.id }] });
  const jobId = await kibana.startSync(c.id);
  {
    await using service = await startService(config);
    await waitFor(async () => (await kibana.getJob(jobId))?.status === "in_progress", {
      message: "job in progress",
    });
    await new Promise((r) => setTimeout(r, 1000));
    const signalled = Date.now();
    service.kill("SIGTERM");
    const result = await service.output();
    const took = Date.now() - signalled;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(took < 12_000, `exited ${took} ms after SIGTERM`);
  }
  const suspended = (await kibana.getJob(jobId))!;
  assert.equal(suspended.status, "suspended");
  assert.equal(suspended.completed_at, null);
  const connector = (await kibana.getConnector(c.id))!;
  assert.equal(connector.last_sync_status, "suspended", "the lane is released");
  assert.equal(connector.status, "connected");

  await using fresh = await startService(config);
  const done = await waitFor(async () => {
    const job = await kibana.getJob(jobId);
    return job?.status === "completed" ? job : undefined;
  }, { message: "resumed job completed", timeoutMs: 60_000 });
  assert.equal(done.indexed_document_count, 120, "restarted from scratch");
  assert.equal(await kibana.countDocs(c.index), 120);
  const out = await stopService(fresh);
  assert.equal(startedJobs(out.stderr).get(jobId), 1);
});

Deno.test("SIGKILL mid-sync: cleanup marks the job error after the idle timeout and the next job succeeds", async () => {
  const c = { id: uniqueName("kill"), index: uniqueName("search-kill") };
  await createTestConnector(kibana, c.id, c.index, { doc_count: 200, delay_ms: 50 });
  const config = await writeServiceConfig({
    connectors: [{ id: c.id }],
    service: { idle_job_timeout: 3, job_cleanup_interval: 1 },
  });
  const killed = await kibana.startSync(c.id);
  {
    await using service = await startService(config);
    await waitFor(async () => (await kibana.getJob(killed))?.status === "in_progress", {
      message: "job in progress",
    });
    await new Promise((r) => setTimeout(r, 1000));
    service.kill("SIGKILL");
    const result = await service.output();
    assert.equal(result.signal, "SIGKILL");
  }
  assert.equal(
    (await kibana.getJob(killed))?.status,
    "in_progress",
    "left running by the dead process",
  );
  assert.equal((await kibana.getConnector(c.id))?.last_sync_status, "in_progress");
  await kibana.configureConnector(c.id, { doc_count: 10, delay_ms: 0 });
  const next = await kibana.startSync(c.id);

  await using fresh = await startService(config);
  const dead = await waitFor(async () => {
    const job = await kibana.getJob(killed);
    return job?.status === "error" ? job : undefined;
  }, { message: "dead job marked error", timeoutMs: 30_000 });
  assert.match(dead.error, /has not seen any update for some time/);
  assert.match(dead.error, /stopped reporting/);
  assert.ok(dead.completed_at);
  const done = await waitFor(async () => {
    const job = await kibana.getJob(next);
    return job?.status === "completed" ? job : undefined;
  }, { message: "next job completed", timeoutMs: 30_000 });
  assert.equal(done.indexed_document_count, 10);
  const connector = await waitFor(async () => {
    const doc = await kibana.getConnector(c.id);
    return doc?.last_sync_status === "completed" ? doc : undefined;
  }, { message: "connector updated" });
  assert.equal(connector.last_indexed_document_count, 10);
  await stopService(fresh);
});
