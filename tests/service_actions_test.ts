/**
 * `elastic-ingest --action ...` with Elastic's 8.12+ service names against a real cluster: a
 * process runs only the services it is asked for, and `--action config` prints a source's
 * default configuration schema without Elasticsearch.
 */
import assert from "node:assert/strict";
import { runCli, startCli, uniqueName, waitFor } from "./_helpers.ts";
import { createConnectorDoc, Kibana } from "./fixtures/kibana.ts";
import {
  createTestConnector,
  stopService,
  TEST_SOURCE_FQN,
  writeServiceConfig,
} from "./fixtures/protocol_setup.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

/** Starts the service with `--action` values and waits until it serves its connectors. */
async function startActions(configFile: string, actions: string[]) {
  const handle = startCli([...actions.flatMap((a) => ["--action", a]), "-c", configFile]);
  await handle.waitForOutput(/Serving \d+ connector/, { timeoutMs: 90_000 });
  return handle;
}

/** Lets a 1 s-idling service run a few rounds. */
const afewRounds = () => new Promise((resolve) => setTimeout(resolve, 3500));

Deno.test("--action schedule checks connectors in but leaves pending jobs pending", async () => {
  const fresh = { id: uniqueName("conn"), index: uniqueName("search-act") };
  const ready = { id: uniqueName("conn"), index: uniqueName("search-act") };
  await kibana.putConnector(
    fresh.id,
    createConnectorDoc({ indexName: fresh.index, name: "Fresh", serviceType: "test" }),
  );
  await createTestConnector(kibana, ready.id, ready.index, { doc_count: 3 });
  const config = await writeServiceConfig({
    connectors: [{ id: fresh.id, serviceType: "test" }, { id: ready.id }],
  });
  await using service = await startActions(config, ["schedule"]);
  const job = await kibana.startSync(ready.id);

  await waitFor(async () => {
    const doc = await kibana.getConnector(fresh.id);
    return doc?.status === "needs_configuration" && doc.last_seen;
  }, { message: "the created connector got its schema" });
  await waitFor(async () => (await kibana.getConnector(ready.id))?.status === "connected", {
    message: "the configured connector was checked in",
  });
  await afewRounds();
  const pending = await kibana.getJob(job);
  assert.equal(pending?.status, "pending");
  assert.equal(pending?.worker_hostname, null);
  assert.equal((await kibana.getConnector(ready.id))?.last_sync_status ?? null, null);

  const { stderr } = await stopService(service);
  assert.match(stderr, /Running services: schedule\b(?!,)/);
  await kibana.cancelJob(job);
});

Deno.test("--action sync_content runs content jobs only and does not check connectors in", async () => {
  const c = { id: uniqueName("conn"), index: uniqueName("search-act") };
  const fresh = { id: uniqueName("conn"), index: uniqueName("search-act") };
  await createTestConnector(kibana, c.id, c.index, { doc_count: 4 });
  await kibana.putConnector(
    fresh.id,
    createConnectorDoc({ indexName: fresh.index, name: "Fresh", serviceType: "test" }),
  );
  const config = await writeServiceConfig({ connectors: [{ id: c.id }, { id: fresh.id }] });
  const acl = await kibana.startSync(c.id, { jobType: "access_control" });
  await using service = await startActions(config, ["sync_content"]);

  const content = await kibana.startSync(c.id);
  const done = await waitFor(async () => {
    const doc = await kibana.getJob(content);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "the content job completed", timeoutMs: 60_000 });
  assert.equal(done.indexed_document_count, 4);
  assert.equal(await kibana.countDocs(c.index), 4);
  await afewRounds();
  // No check-in: neither connector got a heartbeat, the created one got no schema.
  const untouched = await kibana.getConnector(fresh.id);
  assert.equal(untouched?.status, "created");
  assert.equal(untouched?.last_seen ?? null, null);
  assert.deepEqual(untouched?.configuration, {});
  assert.equal((await kibana.getConnector(c.id))?.last_seen ?? null, null);
  // The access-control lane is another process's.
  assert.equal((await kibana.getJob(acl))?.status, "pending");

  const { stderr } = await stopService(service);
  assert.match(stderr, /Running services: sync_content\b(?!,)/);
  await kibana.cancelJob(acl);
});

Deno.test("--action config --service-type dir prints the dir schema as JSON, no Elasticsearch needed", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "cfg-action-" });
  const { code, stdout, stderr } = await runCli(["--action", "config", "--service-type", "dir"], {
    cwd,
    env: { ES_URL: "http://127.0.0.1:1" },
  });
  assert.equal(code, 0, stderr);
  const schema = JSON.parse(stdout);
  assert.ok("directory" in schema && "pattern" in schema, Object.keys(schema).join());
  assert.equal(schema.directory.type, "str");
  assert.equal(typeof schema.pattern.label, "string");
  assert.ok("display" in schema.directory && "required" in schema.directory);

  const unknown = await runCli(["--action", "config", "--service-type", "nope"], { cwd });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /Unknown service type "nope".*dir, mongodb, s3/);
  const missing = await runCli(["--action", "config"], { cwd });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--service-type is required with --action config/);
  const combined = await runCli(["--action", "list", "--action", "schedule"], { cwd });
  assert.equal(combined.code, 2);
  assert.match(combined.stderr, /argument --action: 'list' cannot be combined/);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("worker mode: service.service_types owns every connector of those types, no connectors list", async () => {
  // A service type of this test only, so that no other test's connector is taken over.
  const type = `wtest${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const fresh = { id: uniqueName("conn"), index: uniqueName("search-worker") };
  const ready = { id: uniqueName("conn"), index: uniqueName("search-worker") };
  const other = { id: uniqueName("conn"), index: uniqueName("search-worker") };
  const deleted = { id: uniqueName("conn"), index: uniqueName("search-worker") };
  const native = { id: uniqueName("conn"), index: uniqueName("search-worker") };
  await kibana.putConnector(
    fresh.id,
    createConnectorDoc({ indexName: fresh.index, name: "Fresh", serviceType: type }),
  );
  await createTestConnector(kibana, ready.id, ready.index, { doc_count: 5 }, {
    service_type: type,
  });
  // Another service type, a soft-deleted and a native connector of the type: not owned.
  await createTestConnector(kibana, other.id, other.index, { doc_count: 1 });
  await createTestConnector(kibana, deleted.id, deleted.index, { doc_count: 1 }, {
    service_type: type,
    deleted: true,
  });
  await createTestConnector(kibana, native.id, native.index, { doc_count: 1 }, {
    service_type: type,
    is_native: true,
  });
  const base = await writeServiceConfig({
    serviceTypes: [type],
    sources: { [type]: TEST_SOURCE_FQN },
  });
  const text = await Deno.readTextFile(base);
  assert.ok(!/^connectors:/m.test(text), text);

  const jobs = await Promise.all(
    [ready.id, other.id, deleted.id, native.id].map((id) => kibana.startSync(id)),
  );
  await using service = await startActions(base, ["poll"]);

  await waitFor(async () => {
    const doc = await kibana.getConnector(fresh.id);
    return doc?.status === "needs_configuration" && doc.last_seen;
  }, { message: "the created connector of the type was checked in" });
  const done = await waitFor(async () => {
    const doc = await kibana.getJob(jobs[0]!);
    return doc?.status === "completed" ? doc : undefined;
  }, { message: "the job of the owned connector completed", timeoutMs: 60_000 });
  assert.equal(done.indexed_document_count, 5);
  assert.equal(await kibana.countDocs(ready.index), 5);
  await waitFor(async () => (await kibana.getConnector(ready.id))?.last_seen, {
    message: "the configured connector was checked in",
  });
  await afewRounds();
  for (const [i, c] of [[1, other], [2, deleted], [3, native]] as const) {
    assert.equal((await kibana.getJob(jobs[i]!))?.status, "pending", `job of ${c.id}`);
    assert.equal((await kibana.getConnector(c.id))?.last_seen ?? null, null, c.id);
  }

  // `--action list` shows the same connectors the service owns.
  const list = await runCli(["--action", "list", "-c", base]);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(list.stdout.includes(fresh.id) && list.stdout.includes(ready.id), list.stdout);
  for (const c of [other, deleted, native]) assert.ok(!list.stdout.includes(c.id), c.id);

  const { stderr } = await stopService(service);
  assert.match(
    stderr,
    new RegExp(`Serving 0 connector\\(s\\) and every connector of service type ${type}`),
  );
  for (const job of jobs.slice(1)) await kibana.cancelJob(job);
});
