/**
 * Access-control syncs (spec §5.4, §5.6) end to end against the real cluster: Kibana's job and
 * connector documents, the execution service (license check, lanes) and the job runner with the
 * real sync engine, writing into `.search-acl-filter-<index>`.
 *
 * The test node starts with a basic license. The first test checks that an access-control job
 * then stays pending; the others start a trial (irreversible on that node, and harmless to the
 * other tests), or are ignored when neither a trial nor a platinum license can be had.
 */
import assert from "node:assert/strict";
import type { Client } from "@elastic/elasticsearch";
import { esUrl, uniqueName, waitFor } from "./_helpers.ts";
import { recordingLogger, runSync, sourceOf } from "./_sync_harness.ts";
import { createConnectorDoc, type Doc, Kibana } from "./fixtures/kibana.ts";
import { TestDataSource, TestDlsDataSource } from "./fixtures/sources/test_source.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import type { Logger } from "../src/log/mod.ts";
import { nullLogger } from "../src/log/mod.ts";
import {
  ACCESS_CONTROL_INDEX_PREFIX,
  ConnectorRepository,
  SyncJobRepository,
  TERMINAL_JOB_STATUSES,
} from "../src/protocol/mod.ts";
import { ExecutionService, JobRunner, PLATINUM_LICENSES } from "../src/service/mod.ts";
import type { DataSourceClass } from "../src/source/mod.ts";
import { defaultConfigurationSchema, featuresOf } from "../src/source/mod.ts";
import { SYNC_JOB_STAMP_FIELD } from "../src/sync/mod.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

const SOURCES: Record<string, unknown> = { test: TestDataSource, test_dls: TestDlsDataSource };

interface LicenseInfo {
  license: { type: string; status: string };
}
const initial = await kibana.json<LicenseInfo>("GET", "/_license");
const trialStatus = await kibana.json<{ eligible_to_start_trial: boolean }>(
  "GET",
  "/_license/trial_status",
);
const hasPlatinum = (info: LicenseInfo) =>
  PLATINUM_LICENSES.includes(info.license.type) && info.license.status !== "expired";
/** Whether the tests that need a platinum-or-better license can run on this node. */
const platinumReachable = hasPlatinum(initial) || trialStatus.eligible_to_start_trial;
const PLATINUM_IGNORED = platinumReachable
  ? ""
  : ` [ignored: the node runs a ${initial.license.type} license and cannot start a trial (one was used before)]`;
const BASIC_IGNORED = initial.license.type === "basic"
  ? ""
  : ` [ignored: the node already runs a ${initial.license.type} license, which cannot be turned back into basic]`;

let platinum: Promise<void> | undefined;
/** Starts a trial unless the node already has a platinum-or-better license. */
function ensurePlatinum(client: Client): Promise<void> {
  platinum ??= (async () => {
    if (!hasPlatinum(await kibana.json<LicenseInfo>("GET", "/_license"))) {
      // "Trial was already activated" is fine as long as the license below says so.
      await client.license.postStartTrial({ acknowledge: true }).catch(() => {});
    }
    const now = await kibana.json<LicenseInfo>("GET", "/_license");
    assert.ok(hasPlatinum(now), `no platinum-or-better license: ${JSON.stringify(now.license)}`);
  })();
  return platinum;
}

/** A connected connector of `serviceType` as Kibana leaves it, with configuration `values`. */
function connectorDoc(
  indexName: string,
  serviceType: keyof typeof SOURCES,
  values: Record<string, unknown>,
  extra: Doc = {},
): Doc {
  const cls = SOURCES[serviceType] as DataSourceClass;
  const configuration: Doc = structuredClone(defaultConfigurationSchema(cls));
  for (const [key, value] of Object.entries({ prefix: "doc", ...values })) {
    configuration[key] = { ...configuration[key], value };
  }
  return {
    ...createConnectorDoc({
      indexName,
      name: indexName,
      serviceType,
      configuration,
      features: featuresOf(cls),
    }),
    status: "connected",
    ...extra,
  };
}

/** The execution service over one client, serving `connectorId` with the test sources. */
function executionService(client: Client, connectorId: string, logger: Logger = nullLogger) {
  const config = defaultConfig();
  config.elasticsearch.host = esUrl();
  config.connectors = [{ connector_id: connectorId }];
  const connectors = new ConnectorRepository(client);
  const jobs = new SyncJobRepository(client);
  return new ExecutionService({
    config,
    logger,
    connectors,
    jobs,
    createRunner: (job) =>
      new JobRunner(job, {
        config,
        logger,
        hostname: "acl-test",
        registry: { load: (type) => Promise.resolve(SOURCES[type] as DataSourceClass) },
        connectors,
        jobs,
        durableConnectors: connectors,
        durableJobs: jobs,
        contentClient: client,
      }),
  });
}

/** Creates a job as Kibana does, runs one execution round and waits for the job's runner. */
async function runJob(
  client: Client,
  connectorId: string,
  jobType: "full" | "access_control",
): Promise<{ job: Doc; connector: Doc }> {
  const jobId = await kibana.startSync(connectorId, { jobType });
  const executor = executionService(client, connectorId);
  await executor.round();
  await waitFor(async () => {
    const job = await kibana.getJob(jobId);
    return TERMINAL_JOB_STATUSES.includes(job?.status) && executor.runningJobIds().size === 0;
  }, { timeoutMs: 60_000, message: `job ${jobId} ends` });
  return {
    job: (await kibana.getJob(jobId))!,
    connector: (await kibana.getConnector(connectorId))!,
  };
}

/** `_id` → `_source` of every document of a (hidden) index. */
async function documents(client: Client, index: string): Promise<Map<string, Doc>> {
  await client.indices.refresh({ index });
  const page = await client.search({ index, size: 1000, query: { match_all: {} } });
  return new Map(page.hits.hits.map((hit) => [hit._id!, hit._source as Doc]));
}

async function dropIndices(client: Client, ...indices: string[]): Promise<void> {
  await client.indices.delete({ index: indices.join(","), ignore_unavailable: true });
}

Deno.test(
  `below platinum, an access-control job stays pending and is reported once${BASIC_IGNORED}`,
  {
    ignore: BASIC_IGNORED !== "",
  },
  async () => {
    const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
    const connectorId = uniqueName("acl-basic");
    const index = uniqueName("search-acl-basic");
    try {
      await kibana.putConnector(
        connectorId,
        connectorDoc(index, "test_dls", { users: "alice:admins" }),
      );
      const jobId = await kibana.startSync(connectorId, { jobType: "access_control" });
      const { logger, records } = recordingLogger();
      const executor = executionService(client, connectorId, logger);
      await executor.round();
      await executor.round();
      assert.equal(executor.runningJobIds().size, 0);
      assert.equal((await kibana.getJob(jobId))?.status, "pending");
      const connector = await kibana.getConnector(connectorId);
      assert.equal(connector?.last_access_control_sync_status, null);
      const reports = records.filter((r) => r.level === "ERROR" && r.message.includes(jobId));
      assert.equal(reports.length, 1, JSON.stringify(records.map((r) => r.message)));
      assert.match(
        reports[0]!.message,
        /stays pending: Minimum required Elasticsearch license: 'platinum'\. Actual license: 'basic'\./,
      );
      assert.equal(
        await client.indices.exists({ index: `${ACCESS_CONTROL_INDEX_PREFIX}${index}` }),
        false,
      );
    } finally {
      await client.close();
    }
  },
);

Deno.test(
  `an access-control sync writes one document per user into the hidden ACL index${PLATINUM_IGNORED}`,
  {
    ignore: PLATINUM_IGNORED !== "",
  },
  async () => {
    const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
    const connectorId = uniqueName("acl");
    const index = uniqueName("search-acl");
    const aclIndex = `${ACCESS_CONTROL_INDEX_PREFIX}${index}`;
    try {
      await ensurePlatinum(client);
      await kibana.putConnector(
        connectorId,
        connectorDoc(index, "test_dls", { users: "alice:admins, bob:staff, carol:staff" }, {
          sync_cursor: { marker: 1 },
          last_sync_status: "completed",
          last_sync_error: null,
        }),
      );

      const first = await runJob(client, connectorId, "access_control");
      assert.equal(first.job.status, "completed", first.job.error);
      assert.equal(first.job.error, null);
      assert.equal(first.job.connector.index_name, aclIndex);
      assert.equal(first.job.indexed_document_count, 3);
      assert.equal(first.job.deleted_document_count, 0);
      assert.equal(first.job.total_document_count, 3);
      // The access-control lane only: the content lane and its cursor stay as they were.
      assert.equal(first.connector.last_access_control_sync_status, "completed");
      assert.equal(first.connector.last_access_control_sync_error, null);
      assert.equal(first.connector.last_sync_status, "completed");
      assert.equal(first.connector.last_sync_error, null);
      assert.deepEqual(first.connector.sync_cursor, { marker: 1 });
      assert.equal(first.connector.status, "connected");
      assert.equal(await client.indices.exists({ index }), false, "no content index is written");

      const settings = await client.indices.getSettings({ index: aclIndex });
      const indexSettings = settings[aclIndex]?.settings?.index;
      assert.equal(String(indexSettings?.hidden), "true");
      assert.equal(String(indexSettings?.number_of_shards), "1");
      const mapping = (await client.indices.getMapping({ index: aclIndex }))[aclIndex]?.mappings;
      assert.equal(String(mapping?.dynamic), "false");
      assert.equal(mapping?.properties?.created_at?.type, "date");
      assert.equal(mapping?.properties?.[SYNC_JOB_STAMP_FIELD]?.type, "keyword");

      const users = await documents(client, aclIndex);
      assert.deepEqual([...users.keys()].sort(), ["alice", "bob", "carol"]);
      const alice = users.get("alice")!;
      assert.equal(alice.id, "alice");
      assert.deepEqual(alice.identity, { email: "alice@example.com", username: "alice" });
      assert.equal(alice.created_at, "2024-01-01T00:00:00.000Z");
      assert.deepEqual(alice.query.template.params.access_control, [
        "email:alice@example.com",
        "group:admins",
      ]);
      assert.match(alice.query.template.source, /_allow_access_control\.keyword/);
      assert.equal(typeof alice._timestamp, "string");
      assert.equal("_extract_binary_content" in alice, false, "no pipeline control fields");

      // Bob leaves, Carol changes group, Dave arrives: the index converges on the new list.
      await kibana.configureConnector(connectorId, { users: "alice:admins,carol:admins,dave:ops" });
      const second = await runJob(client, connectorId, "access_control");
      assert.equal(second.job.status, "completed", second.job.error);
      assert.equal(second.job.indexed_document_count, 3);
      assert.equal(second.job.deleted_document_count, 1);
      assert.equal(second.job.total_document_count, 3);
      assert.equal(second.connector.last_access_control_sync_status, "completed");
      assert.deepEqual(second.connector.sync_cursor, { marker: 1 });
      const after = await documents(client, aclIndex);
      assert.deepEqual([...after.keys()].sort(), ["alice", "carol", "dave"]);
      assert.deepEqual(after.get("carol")!.query.template.params.access_control, [
        "email:carol@example.com",
        "group:admins",
      ]);
    } finally {
      await dropIndices(client, aclIndex, index);
      await client.close();
    }
  },
);

Deno.test(`a source without getAccessControl() fails the access-control job${PLATINUM_IGNORED}`, {
  ignore: PLATINUM_IGNORED !== "",
}, async () => {
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const connectorId = uniqueName("acl-nosource");
  const index = uniqueName("search-acl-nosource");
  try {
    await ensurePlatinum(client);
    await kibana.putConnector(
      connectorId,
      connectorDoc(index, "test", {}, {
        features: {
          ...featuresOf(TestDataSource as DataSourceClass),
          document_level_security: { enabled: true },
        },
      }),
    );
    const { job, connector } = await runJob(client, connectorId, "access_control");
    const message =
      `FatalError: Cannot run access-control sync of connector ${connectorId}: service type test has no getAccessControl()`;
    assert.equal(job.status, "error");
    assert.equal(job.error, message);
    assert.equal(connector.last_access_control_sync_status, "error");
    assert.equal(connector.last_access_control_sync_error, message);
    assert.equal(connector.last_sync_status, null, "the content lane is untouched");
    assert.equal(connector.status, "error");
    assert.equal(
      await client.indices.exists({ index: `${ACCESS_CONTROL_INDEX_PREFIX}${index}` }),
      false,
    );
  } finally {
    await client.close();
  }
});

Deno.test("an access-control job of a connector without document-level security fails", async () => {
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const connectorId = uniqueName("acl-nodls");
  const index = uniqueName("search-acl-nodls");
  try {
    await kibana.putConnector(
      connectorId,
      connectorDoc(index, "test_dls", { users: "alice" }, {
        features: { ...featuresOf(TestDlsDataSource), document_level_security: { enabled: false } },
      }),
    );
    const { job, connector } = await runJob(client, connectorId, "access_control");
    assert.equal(job.status, "error");
    assert.equal(
      job.error,
      `FatalError: Cannot run access-control sync of connector ${connectorId}: document-level security is not enabled`,
    );
    assert.equal(connector.last_access_control_sync_status, "error");
    assert.equal(
      await client.indices.exists({ index: `${ACCESS_CONTROL_INDEX_PREFIX}${index}` }),
      false,
    );
  } finally {
    await client.close();
  }
});

Deno.test(`use_document_level_security: false fails the access-control job${PLATINUM_IGNORED}`, {
  ignore: PLATINUM_IGNORED !== "",
}, async () => {
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const connectorId = uniqueName("acl-off");
  const index = uniqueName("search-acl-off");
  try {
    await ensurePlatinum(client);
    await kibana.putConnector(
      connectorId,
      connectorDoc(index, "test_dls", { users: "alice", use_document_level_security: false }),
    );
    const { job } = await runJob(client, connectorId, "access_control");
    assert.equal(job.status, "error");
    assert.equal(
      job.error,
      `FatalError: Cannot run access-control sync of connector ${connectorId}: its configuration field use_document_level_security is not enabled`,
    );
  } finally {
    await client.close();
  }
});

Deno.test("a content sync keeps _allow_access_control, which the stored DLS query filters on", async () => {
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const connectorId = uniqueName("acl-content");
  const index = uniqueName("search-acl-content");
  try {
    await kibana.putConnector(
      connectorId,
      connectorDoc(index, "test_dls", {
        doc_count: 6,
        doc_acl: "group:admins, email:alice@example.com",
        users: "alice:admins,bob:staff",
      }),
    );
    const { job } = await runJob(client, connectorId, "full");
    assert.equal(job.status, "completed", job.error);
    assert.equal(job.indexed_document_count, 6);
    const docs = await documents(client, index);
    assert.deepEqual(docs.get("doc-0")?._allow_access_control, [
      "group:admins",
      "email:alice@example.com",
    ]);
    assert.equal("_allow_access_control" in docs.get("doc-1")!, false);

    // The query an ACL document carries, rendered as a search template would render it.
    const source = TestDlsDataSource.prototype.getAccessControl.call(
      new TestDlsDataSource({ users: { value: ["alice:admins", "bob:staff"] } }),
    );
    const visible = new Map<string, string[]>();
    for await (const user of source) {
      const template = (user.query as { template: { source: string; params: Doc } }).template;
      const query = JSON.parse(
        template.source.replace(
          "{{#toJson}}access_control{{/toJson}}",
          JSON.stringify(template.params.access_control),
        ),
      );
      const hits = await client.search({ index, size: 100, query });
      visible.set(user._id, hits.hits.hits.map((hit) => hit._id!).sort());
    }
    assert.deepEqual(visible.get("alice"), ["doc-0", "doc-1", "doc-2", "doc-3", "doc-4", "doc-5"]);
    assert.deepEqual(visible.get("bob"), ["doc-1", "doc-3", "doc-5"]);
  } finally {
    await dropIndices(client, index);
    await client.close();
  }
});

Deno.test("an ACL index created by Elastic's template is adopted: the stamp is mapped, old users go", async () => {
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const aclIndex = `${ACCESS_CONTROL_INDEX_PREFIX}${uniqueName("search-acl-adopt")}`;
  try {
    // As Elasticsearch's `search-acl-filter` template creates it, with a user from an earlier sync.
    await client.indices.create({
      index: aclIndex,
      settings: { index: { hidden: true, number_of_shards: 1, number_of_replicas: 1 } },
      mappings: { dynamic: false, properties: { created_at: { type: "date" } } },
    });
    await client.index({ index: aclIndex, id: "old", document: { id: "old" }, refresh: true });
    const users = [{ _id: "u1", identity: { email: "u1@example.com" } }, { _id: "u2" }];
    const result = await runSync({
      client,
      index: aclIndex,
      jobType: "access_control",
      source: sourceOf(async function* () {}, {
        async *getAccessControl() {
          yield* users.map((user) => ({ ...user }));
        },
      }),
    });
    assert.equal(result.stats.indexed_document_count, 2);
    assert.equal(result.stats.deleted_document_count, 1);
    assert.equal(result.totalDocumentCount, 2);
    assert.equal(result.syncCursor, undefined);
    assert.deepEqual([...(await documents(client, aclIndex)).keys()].sort(), ["u1", "u2"]);
    const mapping = (await client.indices.getMapping({ index: aclIndex }))[aclIndex]?.mappings;
    assert.equal(mapping?.properties?.[SYNC_JOB_STAMP_FIELD]?.type, "keyword");
  } finally {
    await dropIndices(client, aclIndex);
    await client.close();
  }
});

Deno.test("an access-control job whose index is not an ACL index is refused before any write", async () => {
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const index = uniqueName("search-acl-wrong");
  try {
    await assert.rejects(
      runSync({
        client,
        index,
        jobType: "access_control",
        source: sourceOf(async function* () {}, { async *getAccessControl() {} }),
      }),
      new RegExp(`its index ${index} does not start with \\.search-acl-filter-`),
    );
    assert.equal(await client.indices.exists({ index }), false);
  } finally {
    await client.close();
  }
});
