/**
 * Small service fixes (issue 10, item 8) against the real cluster: a second SIGTERM still
 * records running jobs as `suspended` and releases their lanes before the process exits; two
 * processes checking in one connector never log a check-in error; a steady check-in writes
 * nothing to the connector.
 */
import assert from "node:assert/strict";
import { esUrl, REPO_ROOT, startCli, uniqueName, waitFor } from "./_helpers.ts";
import { type Doc, Kibana } from "./fixtures/kibana.ts";
import {
  createTestConnector,
  startService,
  stopService,
  writeServiceConfig,
} from "./fixtures/protocol_setup.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

const STUBBORN_FQN = `${REPO_ROOT}tests/_stubborn_source.ts:StubbornDataSource`;

/** A proxy in front of the cluster that records the method and decoded path of each request. */
function startRecordingProxy() {
  const seen: { method: string; path: string }[] = [];
  const target = new URL(esUrl());
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    seen.push({ method: req.method, path: decodeURIComponent(url.pathname) });
    url.host = target.host;
    url.protocol = target.protocol;
    return await fetch(url, { method: req.method, headers: req.headers, body: req.body });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

/** The connector document with its `_seq_no`. */
async function connectorVersion(id: string): Promise<{ seqNo: number; doc: Doc }> {
  const response = await kibana.json("GET", `/.elastic-connectors/_doc/${encodeURIComponent(id)}`);
  return { seqNo: response._seq_no, doc: response._source };
}

Deno.test("a second SIGTERM marks the running job suspended and releases the lane within seconds", async () => {
  const c = { id: uniqueName("hurry"), index: uniqueName("search-hurry") };
  await createTestConnector(kibana, c.id, c.index, { doc_count: 3 }, { service_type: "stubborn" });
  const config = await writeServiceConfig({
    connectors: [{ id: c.id }],
    sources: { stubborn: STUBBORN_FQN },
  });
  const jobId = await kibana.startSync(c.id);
  await using service = await startService(config);
  await waitFor(async () => (await kibana.getJob(jobId))?.status === "in_progress", {
    message: "job in progress",
  });
  // Claimed is not enough: under load the checks before the sync may still be running.
  await service.waitForOutput(/Executing full sync into/, { timeoutMs: 30_000 });
  // The source now hangs without listening to the abort: the graceful path needs 5 s or more.
  await new Promise((r) => setTimeout(r, 500));
  service.kill("SIGTERM");
  await service.waitForOutput(/shutting down/, { timeoutMs: 10_000 });
  const second = Date.now();
  service.kill("SIGTERM");
  const result = await service.output();
  const took = Date.now() - second;
  assert.equal(result.code, 1, result.stderr);
  assert.ok(took < 4_500, `exited ${took} ms after the second SIGTERM`);
  assert.match(result.stderr, /Received SIGTERM again: marking running jobs suspended/);
  assert.match(result.stderr, /marked suspended and its connector's lane released/);

  const job = (await kibana.getJob(jobId))!;
  assert.equal(job.status, "suspended");
  assert.equal(job.completed_at, null);
  const connector = (await kibana.getConnector(c.id))!;
  assert.equal(connector.last_sync_status, "suspended", "the lane is not left in_progress");
  assert.equal(connector.status, "connected");
});

Deno.test("one SIGTERM and a sync that never stops: the job is still marked suspended after the grace", async () => {
  const c = { id: uniqueName("grace"), index: uniqueName("search-grace") };
  await createTestConnector(kibana, c.id, c.index, { doc_count: 3 }, { service_type: "stubborn" });
  const config = await writeServiceConfig({
    connectors: [{ id: c.id }],
    sources: { stubborn: STUBBORN_FQN },
  });
  const jobId = await kibana.startSync(c.id);
  await using service = await startService(config);
  await waitFor(async () => (await kibana.getJob(jobId))?.status === "in_progress", {
    message: "job in progress",
  });
  // Claimed is not enough: under load the checks before the sync may still be running.
  await service.waitForOutput(/Executing full sync into/, { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  const signalled = Date.now();
  service.kill("SIGTERM");
  const result = await service.output();
  const took = Date.now() - signalled;
  assert.equal(result.code, 0, result.stderr);
  // SHUTDOWN_GRACE_MS (10 s), then at most FORCED_SHUTDOWN_MS (2 s) to record the end.
  assert.ok(took >= 9_500 && took < 14_000, `exited ${took} ms after SIGTERM\n${result.stderr}`);
  assert.match(result.stderr, /did not finish within 10s; recording their end without them/);
  assert.equal((await kibana.getJob(jobId))?.status, "suspended");
  assert.equal((await kibana.getConnector(c.id))?.last_sync_status, "suspended");
});

Deno.test("two processes checking in one connector: conflicts stay quiet", async () => {
  const c = { id: uniqueName("twin"), index: uniqueName("search-twin") };
  await createTestConnector(kibana, c.id, c.index, {});
  const config = await writeServiceConfig({
    connectors: [{ id: c.id }],
    service: { idling: 0.3 },
  });
  const a = startCli(["--action", "poll", "-c", config, "--debug"]);
  const b = startCli(["--action", "poll", "-c", config, "--debug"]);
  await using _a = a;
  await using _b = b;
  for (const handle of [a, b]) {
    await handle.waitForOutput(/Serving 1 connector/, { timeoutMs: 60_000 });
  }
  await waitFor(async () => (await kibana.getConnector(c.id))?.status === "connected", {
    message: "connector connected",
  });
  // A few rounds of both.
  await new Promise((r) => setTimeout(r, 3_000));
  const outA = await stopService(a);
  const outB = await stopService(b);
  for (const out of [outA, outB]) {
    const errors = out.stderr.split("\n").filter((line) => /\[ERROR\]/.test(line));
    assert.deepEqual(errors, [], "no error lines");
    assert.doesNotMatch(out.stderr, /Check-in of connector .* failed/);
  }
});

Deno.test("a steady check-in writes nothing to the connector", async () => {
  const proxy = startRecordingProxy();
  try {
    const c = { id: uniqueName("steady"), index: uniqueName("search-steady") };
    await createTestConnector(kibana, c.id, c.index, {});
    const config = await writeServiceConfig({
      connectors: [{ id: c.id }],
      esHost: proxy.url,
      service: { idling: 0.3, heartbeat: 3600 },
    });
    await using service = await startService(config);
    const first = await waitFor(async () => {
      const current = await connectorVersion(c.id);
      return current.doc.status === "connected" && current.doc.features ? current : undefined;
    }, { message: "first check-in done" });
    // Let the round that connected it finish before counting.
    await new Promise((r) => setTimeout(r, 1_000));
    const settled = await connectorVersion(c.id);
    const writes = () =>
      proxy.seen.filter((r) =>
        r.method !== "GET" && r.path.startsWith("/.elastic-connectors/") && r.path.endsWith(c.id)
      ).length;
    const before = writes();
    const rounds = proxy.seen.length;
    await new Promise((r) => setTimeout(r, 3_000));
    assert.ok(proxy.seen.length > rounds + 5, "the service kept polling");
    assert.equal(writes() - before, 0, "no writes after the first check-in");
    const after = await connectorVersion(c.id);
    assert.equal(after.seqNo, settled.seqNo, "_seq_no unchanged");
    assert.ok(settled.seqNo >= first.seqNo);
    assert.equal(after.doc.last_seen, settled.doc.last_seen, "no heartbeat before it is due");
    await stopService(service);
  } finally {
    await proxy.close();
  }
});
