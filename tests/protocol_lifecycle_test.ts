/**
 * Connector and job lifecycle against a real cluster, Kibana's part played by writing the
 * system indices directly (tests/fixtures/kibana.ts) and the service run as a subprocess.
 */
import assert from "node:assert/strict";
import { runCli, uniqueName, waitFor } from "./_helpers.ts";
import { createConnectorDoc, createSyncJobDoc, JOBS, Kibana } from "./fixtures/kibana.ts";
import {
  configuredConnectorDoc,
  createTestConnector,
  startService,
  stopService,
  writeServiceConfig,
} from "./fixtures/protocol_setup.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

function connectorIds(n: number): { id: string; index: string }[] {
  return Array.from(
    { length: n },
    () => ({ id: uniqueName("conn"), index: uniqueName("search-proto") }),
  );
}

/** The connector once the service recorded the end of `job` on it. */
function connectorAfter(connectorId: string, job: { completed_at?: string; last_seen?: string }) {
  const ended = Date.parse(job.completed_at ?? job.last_seen ?? "");
  return waitFor(async () => {
    const doc = await kibana.getConnector(connectorId);
    return doc && Date.parse(doc.last_synced ?? "") >= ended ? doc : undefined;
  }, { message: "connector updated after the job" });
}

Deno.test("check-in: created → needs_configuration with the schema, configured → connected, bad values → error naming the field", async () => {
  const [c] = connectorIds(1);
  await kibana.putConnector(
    c!.id,
    createConnectorDoc({ indexName: c!.index, name: "Lifecycle", serviceType: "test" }),
  );
  const config = await writeServiceConfig({ connectors: [{ id: c!.id, serviceType: "test" }] });
  await using service = await startService(config);

  const prepared = await waitFor(async () => {
    const doc = await kibana.getConnector(c!.id);
    return doc?.status === "needs_configuration" && doc.last_seen ? doc : undefined;
  }, { message: "status needs_configuration" });
  // The default schema, as rich configurable fields.
  assert.deepEqual(Object.keys(prepared.configuration).sort(), [
    "body_size",
    "delay_ms",
    "doc_count",
    "fail_after",
    "prefix",
    "secret",
  ]);
  const prefix = prepared.configuration.prefix;
  assert.equal(prefix.label, "Prefix");
  assert.equal(prefix.required, true);
  assert.equal(prefix.sensitive, false);
  assert.equal(prefix.type, "str");
  assert.deepEqual(prefix.validations, [{ type: "regex", constraint: "[a-z][a-z0-9-]*" }]);
  assert.deepEqual(prefix.depends_on, []);
  assert.equal(prefix.default_value, null);
  assert.equal(prepared.configuration.doc_count.value, 10);
  assert.equal(prepared.configuration.doc_count.type, "int");
  assert.equal(prepared.configuration.secret.sensitive, true);
  assert.equal(prepared.configuration.secret.required, false);
  assert.equal(prepared.features.sync_rules.basic.enabled, true);
  assert.equal(prepared.features.incremental_sync.enabled, false);
  assert.ok(prepared.last_seen, "the service checked in");

  // A job of a connector that is not configured does not wait unseen: it fails naming the field.
  const early = await kibana.startSync(c!.id);
  const failed = await waitFor(async () => {
    const job = await kibana.getJob(early);
    return job?.status === "error" ? job : undefined;
  }, { message: "the early job to fail" });
  assert.match(failed.error, /needs configuration.*'Prefix' \(prefix\) cannot be empty/);
  assert.equal((await kibana.getConnector(c!.id))?.status, "needs_configuration", "left as it was");

  await kibana.configureConnector(c!.id, { prefix: "good", secret: "s3cret-value-123" });
  // A check-in may already have run since Kibana's write and validated it.
  assert.match(String((await kibana.getConnector(c!.id))?.status), /^(configured|connected)$/);
  const connected = await waitFor(async () => {
    const doc = await kibana.getConnector(c!.id);
    return doc?.status === "connected" ? doc : undefined;
  }, { message: "status connected" });
  assert.equal(connected.error, null);

  await kibana.configureConnector(c!.id, { prefix: "Not Valid!" });
  const invalid = await waitFor(async () => {
    const doc = await kibana.getConnector(c!.id);
    return doc?.status === "error" ? doc : undefined;
  }, { message: "status error" });
  assert.match(invalid.error, /\(prefix\)/, invalid.error);
  assert.match(invalid.error, /Prefix/);
  assert.ok(!invalid.error.includes("s3cret-value-123"));

  await kibana.configureConnector(c!.id, { prefix: "unreachable" });
  const unreachable = await waitFor(async () => {
    const doc = await kibana.getConnector(c!.id);
    return doc?.status === "error" && /unreachable/.test(doc.error) ? doc : undefined;
  }, { message: "ping error" });
  assert.match(unreachable.error, /Cannot reach the test backend/);

  await kibana.configureConnector(c!.id, { prefix: "good" });
  await waitFor(async () => (await kibana.getConnector(c!.id))?.status === "connected", {
    message: "connected again",
  });
  service.kill("SIGTERM");
  const result = await service.output();
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes("s3cret-value-123"), "secrets never reach the log");
});

Deno.test("on-demand jobs run to completed with true counts on the job and the connector", async () => {
  const [c] = connectorIds(1);
  // 20 documents of ~100 KiB: about 2 MiB indexed.
  await createTestConnector(kibana, c!.id, c!.index, { doc_count: 20, body_size: 104_857 });
  const config = await writeServiceConfig({ connectors: [{ id: c!.id }] });
  await using service = await startService(config);

  const first = await kibana.startSync(c!.id);
  const job = await waitFor(async () => {
    const doc = await kibana.getJob(first);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "first job completed", timeoutMs: 60_000 });
  assert.equal(job.indexed_document_count, 20);
  assert.equal(job.deleted_document_count, 0);
  assert.equal(job.indexed_document_volume, 2);
  assert.equal(job.total_document_count, 20);
  assert.equal(job.error, null);
  assert.equal(job.trigger_method, "on_demand");
  assert.ok(job.worker_hostname, "worker_hostname is set");
  assert.ok(job.started_at && job.completed_at && job.last_seen);
  assert.ok(Date.parse(job.completed_at) >= Date.parse(job.started_at));
  assert.equal(await kibana.countDocs(c!.index), 20);

  const connector = await connectorAfter(c!.id, job);
  assert.equal(connector.last_sync_status, "completed");
  assert.equal(connector.last_sync_error, null);
  assert.equal(connector.last_indexed_document_count, 20);
  assert.equal(connector.last_deleted_document_count, 0);
  assert.equal(connector.status, "connected");
  assert.ok(connector.last_synced);

  // A smaller source: the next full sync deletes what is gone.
  await kibana.configureConnector(c!.id, { doc_count: 15, body_size: 0 });
  const second = await kibana.startSync(c!.id);
  const job2 = await waitFor(async () => {
    const doc = await kibana.getJob(second);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "second job completed", timeoutMs: 60_000 });
  assert.equal(job2.indexed_document_count, 15);
  assert.equal(job2.deleted_document_count, 5);
  assert.equal(job2.total_document_count, 15);
  assert.equal(job2.indexed_document_volume, 0);
  const after = await connectorAfter(c!.id, job2);
  assert.equal(after.last_indexed_document_count, 15);
  assert.equal(after.last_deleted_document_count, 5);
  assert.equal(await kibana.countDocs(c!.index), 15);
  await stopService(service);
});

Deno.test("cancel mid-sync ends the job canceled within seconds", async () => {
  const [c] = connectorIds(1);
  await createTestConnector(kibana, c!.id, c!.index, { doc_count: 400, delay_ms: 50 });
  const config = await writeServiceConfig({ connectors: [{ id: c!.id }] });
  await using service = await startService(config);

  const jobId = await kibana.startSync(c!.id);
  await waitFor(async () => (await kibana.getJob(jobId))?.status === "in_progress", {
    message: "job in progress",
  });
  await new Promise((r) => setTimeout(r, 1500));
  const requested = Date.now();
  await kibana.cancelJob(jobId);
  const job = await waitFor(async () => {
    const doc = await kibana.getJob(jobId);
    return doc?.status === "canceled" ? doc : undefined;
  }, { message: "job canceled", timeoutMs: 15_000 });
  assert.ok(Date.now() - requested < 15_000);
  assert.ok(job.canceled_at && job.completed_at && job.cancelation_requested_at);
  assert.equal(job.error, null);
  assert.ok(job.indexed_document_count < 400, `stopped early (${job.indexed_document_count})`);
  const connector = await connectorAfter(c!.id, job);
  assert.equal(connector.last_sync_status, "canceled");
  assert.equal(connector.status, "connected");
  await stopService(service);
});

Deno.test("a source that throws mid-sync ends the job in error, and the next job runs", async () => {
  const [c] = connectorIds(1);
  await createTestConnector(kibana, c!.id, c!.index, { doc_count: 30, fail_after: 12 });
  const config = await writeServiceConfig({ connectors: [{ id: c!.id }] });
  await using service = await startService(config);

  const failing = await kibana.startSync(c!.id);
  const job = await waitFor(async () => {
    const doc = await kibana.getJob(failing);
    return doc?.status === "error" ? doc : undefined;
  }, { message: "job error", timeoutMs: 30_000 });
  assert.match(job.error, /failed after 12 documents/);
  assert.ok(job.completed_at);
  const connector = await connectorAfter(c!.id, job);
  assert.equal(connector.last_sync_status, "error");
  assert.match(connector.last_sync_error, /failed after 12 documents/);

  await kibana.configureConnector(c!.id, { fail_after: -1 });
  const next = await kibana.startSync(c!.id);
  const done = await waitFor(async () => {
    const doc = await kibana.getJob(next);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "next job completed", timeoutMs: 30_000 });
  assert.equal(done.indexed_document_count, 30);
  await stopService(service);
});

Deno.test("one broken connector is marked error and the others are served", async () => {
  const [good, unknownType, badCron, noDoc] = connectorIds(4);
  await createTestConnector(kibana, good!.id, good!.index, { doc_count: 5 });
  await kibana.putConnector(
    unknownType!.id,
    createConnectorDoc({ indexName: unknownType!.index, serviceType: "nosuchtype" }),
  );
  await createTestConnector(kibana, badCron!.id, badCron!.index, {}, {
    scheduling: {
      full: { enabled: true, interval: "0 0 25 * * ?" },
      incremental: { enabled: false, interval: "0 0 0 * * ?" },
      access_control: { enabled: false, interval: "0 0 0 * * ?" },
    },
  });
  const config = await writeServiceConfig({
    connectors: [{ id: unknownType!.id }, { id: badCron!.id }, { id: noDoc!.id }, { id: good!.id }],
  });
  await using service = await startService(config);

  const broken = await waitFor(async () => {
    const doc = await kibana.getConnector(unknownType!.id);
    return doc?.status === "error" ? doc : undefined;
  }, { message: "unknown service type marked error" });
  assert.match(broken.error, /nosuchtype/);
  assert.match(broken.error, /unknown service type/);
  const cron = await waitFor(async () => {
    const doc = await kibana.getConnector(badCron!.id);
    return doc?.status === "error" ? doc : undefined;
  }, { message: "invalid cron marked error" });
  assert.match(cron.error, /Invalid full sync schedule/);
  assert.match(cron.error, /hours value 25/);

  const jobId = await kibana.startSync(good!.id);
  const job = await waitFor(async () => {
    const doc = await kibana.getJob(jobId);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "good connector's job completed", timeoutMs: 30_000 });
  assert.equal(job.indexed_document_count, 5);
  assert.match(service.stderr(), new RegExp(`${noDoc!.id}.*was not found`));
});

Deno.test("list shows each owned connector with status, last sync and next run", async () => {
  const [c, missing] = connectorIds(2);
  await createTestConnector(kibana, c!.id, c!.index, {}, {
    status: "connected",
    last_sync_status: "completed",
    last_synced: "2024-05-01T10:00:00.000Z",
    scheduling: {
      full: { enabled: true, interval: "0 30 2 * * ?" },
      incremental: { enabled: false, interval: "0 0 0 * * ?" },
      access_control: { enabled: false, interval: "0 0 0 * * ?" },
    },
  });
  const config = await writeServiceConfig({ connectors: [{ id: c!.id }, { id: missing!.id }] });
  const { code, stdout, stderr } = await runCli(["--action", "list", "-c", config]);
  assert.equal(code, 0, stderr);
  const line = stdout.split("\n").find((l) => l.includes(c!.id));
  assert.ok(line, stdout);
  assert.match(line, new RegExp(c!.index));
  assert.match(line, /\btest\b/);
  assert.match(line, /\bconnected\b/);
  assert.match(line, /completed/);
  assert.match(line, /2024-05-01T10:00:00Z/);
  assert.match(line, /T02:30:00Z \(full\)/);
  assert.match(stdout, new RegExp(`${missing!.id}.*not found`));
});

Deno.test("legacy sync_now creates an on-demand job and is reset; orphaned running jobs end in error", async () => {
  const [c, gone] = connectorIds(2);
  await createTestConnector(kibana, c!.id, c!.index, { doc_count: 4 }, { sync_now: true });
  // A running job whose connector does not exist (deleted while a dead process ran it).
  const orphan = createSyncJobDoc(
    gone!.id,
    createConnectorDoc({ indexName: gone!.index, serviceType: "test" }),
  );
  const now = new Date().toISOString();
  const { _id: orphanId } = await kibana.json<{ _id: string }>(
    "POST",
    `/${JOBS}/_doc?refresh=true`,
    {
      ...orphan,
      status: "in_progress",
      started_at: now,
      last_seen: now,
      worker_hostname: "elsewhere",
    },
  );
  const config = await writeServiceConfig({ connectors: [{ id: c!.id }] });
  await using service = await startService(config);

  const jobs = await waitFor(async () => {
    const list = await kibana.listJobs(c!.id);
    return list.length > 0 && list[0]!.status === "completed" ? list : undefined;
  }, { message: "sync_now job completed", timeoutMs: 30_000 });
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0]!.trigger_method, "on_demand");
  assert.equal(jobs[0]!.indexed_document_count, 4);
  assert.equal((await kibana.getConnector(c!.id))?.sync_now, false);

  const marked = await waitFor(async () => {
    const job = await kibana.getJob(orphanId);
    return job?.status === "error" ? job : undefined;
  }, { message: "orphaned job marked error" });
  assert.match(marked.error, new RegExp(`connector ${gone!.id} no longer exists`));
  await stopService(service);
});

Deno.test("edited sync rules drafts are validated; a valid draft becomes the active filtering", async () => {
  const [valid, invalid] = connectorIds(2);
  const now = new Date().toISOString();
  const rule = (id: string, value: string, order: number) => ({
    id,
    policy: "exclude",
    field: "title",
    rule: id === "bad" ? "regex" : "equals",
    value,
    order,
    created_at: now,
    updated_at: now,
  });
  const draftWith = (rules: unknown[]) => ({
    advanced_snippet: { created_at: now, updated_at: now, value: {} },
    rules,
    validation: { errors: [], state: "edited" },
  });
  for (
    const [c, rules] of [[valid, [rule("r1", "Document 1", 1)]], [invalid, [
      rule("bad", ".*", 1),
    ]]] as const
  ) {
    const doc = configuredConnectorDoc(c!.index, { prefix: "doc", doc_count: 3 });
    doc.features = { sync_rules: { basic: { enabled: true }, advanced: { enabled: false } } };
    doc.filtering[0].draft = draftWith([...rules, doc.filtering[0].active.rules[0]]);
    await kibana.putConnector(c!.id, doc);
  }
  const config = await writeServiceConfig({ connectors: [{ id: valid!.id }, { id: invalid!.id }] });
  await using service = await startService(config);

  const good = await waitFor(async () => {
    const doc = await kibana.getConnector(valid!.id);
    return doc?.filtering[0].draft.validation.state === "valid" ? doc : undefined;
  }, { message: "valid draft" });
  assert.deepEqual(good.filtering[0].active.rules.map((r: { id: string }) => r.id), [
    "r1",
    "DEFAULT",
  ]);
  assert.equal(good.filtering[0].active.validation.state, "valid");
  const bad = await waitFor(async () => {
    const doc = await kibana.getConnector(invalid!.id);
    return doc?.filtering[0].draft.validation.state === "invalid" ? doc : undefined;
  }, { message: "invalid draft" });
  assert.deepEqual(bad.filtering[0].draft.validation.errors[0].ids, ["bad"]);
  assert.deepEqual(bad.filtering[0].active.rules.map((r: { id: string }) => r.id), ["DEFAULT"]);

  // The active rules apply to the next job: "Document 1" is excluded.
  const jobId = await kibana.startSync(valid!.id);
  const job = await waitFor(async () => {
    const doc = await kibana.getJob(jobId);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "job with rules completed", timeoutMs: 30_000 });
  assert.equal(job.indexed_document_count, 2);
  await stopService(service);
});
