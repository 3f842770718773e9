/**
 * `deno task demo` (scripts/demo.ts) end to end against the real Elasticsearch: a `dir` connector
 * over the sample folder, a sync run by the in-process service, the document count and the top
 * hits; a second run reuses the connector and the index. Unique ids keep it apart from a
 * developer's own demo.
 */
import assert from "node:assert/strict";
import { esJson, esUrl, REPO_ROOT, runDeno, uniqueName } from "./_helpers.ts";

const SAMPLE = `${REPO_ROOT}sources/dir/sample`;

async function sampleFileCount(dir = SAMPLE): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) n += await sampleFileCount(`${dir}/${entry.name}`);
    else if (entry.isFile) n++;
  }
  return n;
}

async function count(index: string, query: unknown): Promise<number> {
  await esJson("POST", `${index}/_refresh`);
  return (await esJson<{ count: number }>("POST", `${index}/_count`, { query })).count;
}

function demo(args: string[]) {
  // CONNECTORS_ES_HOST names the test cluster, so the demo does not start a stack of its own.
  return runDeno(["run", "-A", `${REPO_ROOT}scripts/demo.ts`, ...args], {
    env: { CONNECTORS_ES_HOST: esUrl(), NO_COLOR: "1" },
    timeoutMs: 300_000,
  });
}

Deno.test({
  name: "deno task demo: a searchable index from the sample folder; a second run reuses it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const id = uniqueName("demo");
    const index = uniqueName("search-demo");
    const files = await sampleFileCount();
    const first = await demo(["--connector-id", id, "--index-name", index]);
    assert.equal(first.code, 0, `${first.stdout}\n--- stderr\n${first.stderr}`);
    assert.match(
      first.stdout,
      new RegExp(`^Connector:\\s+${id} \\(dir over ${SAMPLE}; created\\)`, "m"),
    );
    assert.match(first.stdout, new RegExp(`^Index:\\s+${index}$`, "m"));
    assert.match(first.stdout, new RegExp(`^Documents:\\s+${files}$`, "m"));
    assert.match(first.stdout, /^Sync job:\s+\S+ completed/m);
    assert.match(first.stdout, /^Top hits for "sync":\n {2}1\. \S+ {2}\(score [\d.]+\)/m);
    assert.equal(await count(index, { match_all: {} }), files);

    const connector = await esJson<{ _source: Record<string, unknown> }>(
      "GET",
      `.elastic-connectors/_doc/${id}`,
    );
    assert.equal(connector._source.service_type, "dir");
    assert.equal(connector._source.index_name, index);
    assert.equal(connector._source.last_sync_status, "completed");
    assert.equal(connector._source.status, "connected");
    assert.equal(
      (connector._source.configuration as Record<string, { value: unknown }>).directory?.value,
      SAMPLE,
    );

    const second = await demo(["--connector-id", id, "--index-name", index, "--json"]);
    assert.equal(second.code, 0, `${second.stdout}\n--- stderr\n${second.stderr}`);
    const report = JSON.parse(second.stdout) as Record<string, unknown>;
    assert.equal(report.connector_id, id);
    assert.equal(report.connector_created, false);
    assert.equal(report.index, index);
    assert.equal(report.job_status, "completed");
    assert.equal(report.document_count, files);
    const hits = report.hits as { id: string; score: number }[];
    assert.ok(hits.length > 0 && hits.length <= 3, JSON.stringify(hits));
    assert.ok(hits.every((hit) => typeof hit.id === "string" && hit.score > 0));
    assert.equal(
      await count(".elastic-connectors", { term: { index_name: index } }),
      1,
      "the second run reused the connector",
    );
    assert.equal(
      await count(".elastic-connectors-sync-jobs", { term: { "connector.id": id } }),
      2,
      "one sync per run",
    );
  },
});

Deno.test("demo with bad input exits 2 and writes nothing", async () => {
  const id = uniqueName("demo-bad");
  const result = await demo(["--connector-id", id, "--index-name", "Not Valid"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /demo: invalid index name 'Not Valid'/);
  const missing = await fetch(`${esUrl()}/.elastic-connectors/_doc/${id}`);
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
  const unknown = await demo(["--connector-id", id, "--speed", "fast"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /demo: unknown option --speed/);
});
