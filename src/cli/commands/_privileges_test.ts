import assert from "node:assert/strict";
import { privilegeReport, privilegeSentences } from "./_privileges.ts";

const WHO = "API key id k1 (elasticsearch.api_key)";

Deno.test("privilegeReport: read and write on the system indices decide can_write", () => {
  const full = privilegeReport({
    cluster: { monitor: true, manage_connector: true },
    index: {
      ".elastic-connectors": { all: true, read: true, write: true },
      ".elastic-connectors-sync-jobs": { all: true, read: true, write: true },
      "search-docs": { all: true },
    },
  }, WHO);
  assert.deepEqual(full, { checked: true, credentials: WHO, missing: [], can_write: true });
  assert.deepEqual(privilegeSentences(full), {});

  const readOnly = privilegeReport({
    cluster: { monitor: true, manage_connector: false },
    index: {
      ".elastic-connectors": { all: false, read: true, write: false },
      ".elastic-connectors-sync-jobs": { all: false, read: true, write: false },
    },
  }, WHO);
  assert.equal(readOnly.can_write, false);
  assert.deepEqual(readOnly.missing, [
    "cluster privilege manage_connector",
    "index privilege write on .elastic-connectors",
    "index privilege write on .elastic-connectors-sync-jobs",
  ]);
  assert.match(
    privilegeSentences(readOnly).problem ?? "",
    /cannot write its system indices as API key id k1/,
  );
});

Deno.test("privilegeReport: a role with read and write but not all writes, with a note", () => {
  const report = privilegeReport({
    cluster: { monitor: true, manage_connector: true },
    index: { ".elastic-connectors": { all: false, read: true, write: true } },
  }, WHO);
  assert.equal(report.can_write, true);
  assert.deepEqual(report.missing, ["index privilege all on .elastic-connectors"]);
  const { problem, note } = privilegeSentences(report);
  assert.equal(problem, undefined);
  assert.match(note ?? "", /lacks privileges Elastic documents/);
  assert.deepEqual(
    privilegeSentences({ checked: false, credentials: WHO, missing: [], can_write: true }),
    {},
  );
});

Deno.test("checkPrivileges: a cluster without security is not checked", async () => {
  const { createEsClient } = await import("../../es/mod.ts");
  const { defaultConfig } = await import("../../config/mod.ts");
  const { checkPrivileges } = await import("./_privileges.ts");
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    Response.json({
      error: "no handler found for uri [/_security/user/_has_privileges] and method [POST]",
    }, { status: 400, headers: { "x-elastic-product": "Elasticsearch" } }));
  const client = createEsClient({
    ...defaultConfig().elasticsearch,
    host: `http://127.0.0.1:${server.addr.port}`,
  }, { maxRetries: 0 });
  try {
    const report = await checkPrivileges(client, ["search-docs"]);
    assert.equal(report.checked, false);
    assert.equal(report.can_write, true);
    assert.deepEqual(privilegeSentences(report), {});
  } finally {
    await client.close();
    await server.shutdown();
  }
});
