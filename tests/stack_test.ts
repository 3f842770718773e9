/**
 * The test stack itself: Elasticsearch answers on ES_URL, with the pinned version when the
 * stack manages it.
 */
import assert from "node:assert/strict";
import { ES_VERSION } from "../scripts/stack.ts";
import { esJson, stackManaged } from "./_helpers.ts";

Deno.test("elasticsearch: the cluster is yellow or green", async () => {
  const health = await esJson<{ status: string; number_of_nodes: number }>(
    "GET",
    "/_cluster/health?wait_for_status=yellow&timeout=30s",
  );
  assert.ok(["yellow", "green"].includes(health.status), `status ${health.status}`);
  assert.ok(health.number_of_nodes >= 1);
});

Deno.test("elasticsearch: _nodes reports the pinned version", async () => {
  const nodes = await esJson<{ nodes: Record<string, { version: string }> }>(
    "GET",
    "/_nodes/_local",
  );
  const versions = Object.values(nodes.nodes).map((n) => n.version);
  assert.equal(versions.length, 1);
  if (stackManaged("es")) assert.deepEqual(versions, [ES_VERSION]);
  else assert.match(versions[0] ?? "", /^\d+\.\d+\.\d+/);
});

Deno.test("elasticsearch: an index can be created, written, searched and deleted", async () => {
  const index = `stack-test-${Date.now().toString(36)}`;
  await esJson("PUT", `/${index}`, { settings: { number_of_replicas: 0 } });
  try {
    await esJson("PUT", `/${index}/_doc/1?refresh=true`, { title: "hello" });
    const found = await esJson<{ hits: { total: { value: number } } }>(
      "POST",
      `/${index}/_search`,
      { query: { match: { title: "hello" } } },
    );
    assert.equal(found.hits.total.value, 1);
  } finally {
    await esJson("DELETE", `/${index}`);
  }
});
