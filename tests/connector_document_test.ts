/**
 * The connector document our CLI writes, compared field by field with the one Kibana writes
 * (tests/fixtures/kibana.ts, spec §2 "New-connector document"), and the default ingest pipeline
 * chosen for the cluster's major (spec §0: `search-default-ingestion` from 9.0). Also the other
 * direction: a connector as Elastic's CLI writes it is served by our service.
 */
import assert from "node:assert/strict";
import {
  AdminRepository,
  CONNECTORS_MAPPINGS,
  connectorsMappings,
  DEFAULT_PIPELINE_NAME_8X,
  DEFAULT_PIPELINE_NAME_9X,
  defaultPipelineName,
  defaultPipelineSettings,
  newConnectorDoc,
  newConnectorPipeline,
} from "../src/protocol/mod.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import { defaultConfigurationSchema } from "../src/source/mod.ts";
import { esJson, esUrl, REPO_ROOT, runCli, uniqueName, waitFor } from "./_helpers.ts";
import {
  createConnectorDoc,
  createElasticCliConnectorDoc,
  type Doc,
  Kibana,
  TEST_ES_MAJOR,
} from "./fixtures/kibana.ts";
import { startService, stopService, writeServiceConfig } from "./fixtures/protocol_setup.ts";
import { TestDataSource } from "./fixtures/sources/test_source.ts";

const SAMPLE = `${REPO_ROOT}sources/dir/sample`;

/**
 * Keys whose values may differ from Kibana's new-connector document, and why. Every other key
 * must hold the same value (timestamps aside).
 */
const DOCUMENTED_DIFFERENCES: Readonly<Record<string, string>> = {
  configuration:
    "the source's schema with the values given (Kibana: {}; the service writes the schema later)",
  features: "the source class's features (Kibana: null for a self-managed connector)",
  status: "configured when the values are complete and valid (Kibana: created)",
};

/** The properties of a configuration field object (spec §2.1) that the service fills. */
const FIELD_PROPERTIES = [
  "default_value",
  "depends_on",
  "display",
  "label",
  "options",
  "order",
  "required",
  "sensitive",
  "tooltip",
  "type",
  "ui_restrictions",
  "validations",
  "value",
];

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A copy with every `created_at`/`updated_at` string replaced by a placeholder (checked ISO). */
function withoutTimestamps(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimestamps);
  if (value === null || typeof value !== "object") return value;
  const out: Doc = {};
  for (const [key, entry] of Object.entries(value)) {
    if ((key === "created_at" || key === "updated_at") && typeof entry === "string") {
      assert.ok(!Number.isNaN(Date.parse(entry)), `${key} is a date: ${entry}`);
      out[key] = "<timestamp>";
    } else out[key] = withoutTimestamps(entry);
  }
  return out;
}

async function clusterMajor(): Promise<number> {
  const nodes = await esJson<{ nodes: Record<string, { version: string }> }>(
    "GET",
    "_nodes/_local?filter_path=nodes.*.version",
  );
  return Number.parseInt(Object.values(nodes.nodes)[0]!.version, 10);
}

async function writeConfig(): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "connector-doc-", suffix: ".yml" });
  await Deno.writeTextFile(
    file,
    `elasticsearch:\n  host: ${esUrl()}\n  max_wait_duration: 30\nconnectors: []\n`,
  );
  return file;
}

Deno.test("defaultPipelineName: ent-search-generic-ingestion before 9, search-default-ingestion from 9 on", () => {
  const cases: [number | undefined, string][] = [
    [7, DEFAULT_PIPELINE_NAME_8X],
    [8, DEFAULT_PIPELINE_NAME_8X],
    [9, DEFAULT_PIPELINE_NAME_9X],
    [10, DEFAULT_PIPELINE_NAME_9X],
    [Number.NaN, DEFAULT_PIPELINE_NAME_9X], // version "unknown"
    [undefined, DEFAULT_PIPELINE_NAME_9X],
  ];
  for (const [major, name] of cases) assert.equal(defaultPipelineName(major), name, `${major}`);
  assert.equal(DEFAULT_PIPELINE_NAME_8X, "ent-search-generic-ingestion");
  assert.equal(DEFAULT_PIPELINE_NAME_9X, "search-default-ingestion");
  assert.deepEqual(defaultPipelineSettings(8), {
    name: "ent-search-generic-ingestion",
    extract_binary_content: true,
    reduce_whitespace: true,
    run_ml_inference: true,
  });
});

Deno.test("newConnectorPipeline: the mapping's defaults, the other major's default name replaced", () => {
  const meta = {
    name: DEFAULT_PIPELINE_NAME_8X,
    extract_binary_content: false,
    reduce_whitespace: true,
    run_ml_inference: false,
  };
  assert.deepEqual(newConnectorPipeline(meta, 9), { ...meta, name: DEFAULT_PIPELINE_NAME_9X });
  assert.deepEqual(newConnectorPipeline(meta, 8), meta);
  assert.deepEqual(
    newConnectorPipeline({ ...meta, name: DEFAULT_PIPELINE_NAME_9X }, 8),
    { ...meta, name: DEFAULT_PIPELINE_NAME_8X },
  );
  const chosen = { ...meta, name: "my-pipeline" };
  assert.deepEqual(newConnectorPipeline(chosen, 9), chosen, "a name chosen in Kibana is kept");
  assert.deepEqual(newConnectorPipeline(undefined, 9), defaultPipelineSettings(9));
  assert.deepEqual(newConnectorPipeline(undefined, 8), defaultPipelineSettings(8));
});

Deno.test("connectorsMappings: _meta names the major's default pipeline", () => {
  assert.equal(connectorsMappings(9)._meta.pipeline.default_name, DEFAULT_PIPELINE_NAME_9X);
  assert.equal(connectorsMappings(8)._meta.pipeline.default_name, DEFAULT_PIPELINE_NAME_8X);
  assert.equal(CONNECTORS_MAPPINGS._meta.pipeline.default_name, DEFAULT_PIPELINE_NAME_9X);
  assert.deepEqual(connectorsMappings(8).properties, connectorsMappings(9).properties);
});

Deno.test("newConnectorDoc has exactly the keys of Kibana's new-connector document", () => {
  const ours = JSON.parse(JSON.stringify(
    newConnectorDoc({
      name: "Docs",
      indexName: "search-docs",
      serviceType: "dir",
      esMajor: TEST_ES_MAJOR,
    }),
  )) as Doc;
  const kibana = createConnectorDoc({ indexName: "search-docs", name: "Docs", serviceType: "dir" });
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(kibana).sort());
  assert.deepEqual(withoutTimestamps(ours), withoutTimestamps(kibana), "and the same values");
});

Deno.test("connector create: the document matches Kibana's field by field (names, types, values)", async () => {
  const config = await writeConfig();
  const id = uniqueName("doc-cli");
  const index = uniqueName("search-doc-cli");
  const result = await runCli([
    "-c",
    config,
    "connector",
    "create",
    "--service-type",
    "dir",
    "--index-name",
    index,
    "--id",
    id,
    "--name",
    "Field by field",
    "--config",
    `directory=${SAMPLE}`,
    "--json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const stored = await esJson<{ _source: Doc }>("GET", `.elastic-connectors/_doc/${id}`);
  const ours = stored._source;
  const kibana = createConnectorDoc({
    indexName: index,
    name: "Field by field",
    serviceType: "dir",
    pipeline: defaultPipelineSettings(await clusterMajor()),
  });

  assert.deepEqual(Object.keys(ours).sort(), Object.keys(kibana).sort(), "the same field names");
  for (const key of Object.keys(kibana)) {
    if (key in DOCUMENTED_DIFFERENCES) continue;
    assert.equal(kindOf(ours[key]), kindOf(kibana[key]), `type of ${key}`);
    assert.deepEqual(withoutTimestamps(ours[key]), withoutTimestamps(kibana[key]), key);
  }

  // The documented differences, in the shapes the spec gives.
  assert.equal(ours.status, "configured");
  assert.deepEqual(Object.keys(ours.features).sort(), [
    "document_level_security",
    "incremental_sync",
    "native_connector_api_keys",
    "sync_rules",
  ]);
  assert.deepEqual(Object.keys(ours.features.sync_rules).sort(), ["advanced", "basic"]);
  for (const feature of ["document_level_security", "incremental_sync"]) {
    assert.equal(typeof ours.features[feature].enabled, "boolean", feature);
  }
  assert.equal(ours.configuration.directory.value, SAMPLE);
  for (const [key, field] of Object.entries(ours.configuration as Record<string, Doc>)) {
    for (const property of FIELD_PROPERTIES) {
      assert.ok(property in field, `configuration.${key} has ${property}`);
    }
  }
  // The filtering timestamps are one creation time.
  const [entry] = ours.filtering;
  const times = [entry.active, entry.draft].flatMap((state: Doc) => [
    state.advanced_snippet.created_at,
    state.advanced_snippet.updated_at,
    state.rules[0].created_at,
    state.rules[0].updated_at,
  ]);
  assert.equal(new Set(times).size, 1, times.join(", "));
});

Deno.test("connector create on 9.x names search-default-ingestion, even under a stale 8.x _meta", async () => {
  const major = await clusterMajor();
  const expected = defaultPipelineName(major);
  if (major >= 9) assert.equal(expected, "search-default-ingestion");

  // Through the CLI, against the shared connectors index (whatever its _meta holds).
  const config = await writeConfig();
  const id = uniqueName("doc-pipe");
  const result = await runCli([
    "-c",
    config,
    "connector",
    "create",
    "--service-type",
    "dir",
    "--index-name",
    uniqueName("search-doc-pipe"),
    "--id",
    id,
    "--config",
    `directory=${SAMPLE}`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const stored = await esJson<{ _source: Doc }>("GET", `.elastic-connectors/_doc/${id}`);
  assert.deepEqual(stored._source.pipeline, defaultPipelineSettings(major));

  // The mapping _meta as read from Elasticsearch: ours, a stale one and one chosen in Kibana.
  const client = createEsClient({ ...defaultConfig().elasticsearch, host: esUrl() });
  const scratch: string[] = [];
  try {
    const withMeta = async (meta: Doc): Promise<AdminRepository> => {
      const index = uniqueName("doc-meta");
      scratch.push(index);
      await esJson("PUT", index, { mappings: { dynamic: "false", _meta: meta } });
      return new AdminRepository(client, { connectorsIndex: index });
    };
    const ours = await withMeta(connectorsMappings(major)._meta);
    assert.equal((await ours.pipelineDefaults())?.name, expected, "the _meta we create");
    assert.deepEqual(await ours.newConnectorPipeline(major), defaultPipelineSettings(major));

    const staleMeta = connectorsMappings(major >= 9 ? 8 : 9)._meta;
    const stale = await withMeta({
      ...staleMeta,
      pipeline: { ...staleMeta.pipeline, default_reduce_whitespace: false },
    });
    assert.notEqual((await stale.pipelineDefaults())?.name, expected);
    assert.deepEqual(await stale.newConnectorPipeline(major), {
      ...defaultPipelineSettings(major),
      reduce_whitespace: false,
    }, "the other major's name is replaced, the flags are kept");

    const chosen = await withMeta({ pipeline: { default_name: "my-ingestion" } });
    assert.equal((await chosen.newConnectorPipeline(major)).name, "my-ingestion");
  } finally {
    for (const index of scratch) await esJson("DELETE", index).catch(() => {});
    await client.close();
  }
});

Deno.test("a connector as Elastic's CLI writes it is served by our service: a full sync completes", async () => {
  const kibana = new Kibana();
  await kibana.ensureIndices();
  const id = uniqueName("doc-elastic-cli");
  const index = uniqueName("search-doc-elastic-cli");
  const configuration: Doc = structuredClone(defaultConfigurationSchema(TestDataSource as never));
  configuration.prefix.value = "doc";
  configuration.doc_count.value = 5;
  await kibana.putConnector(
    id,
    createElasticCliConnectorDoc({
      indexName: index,
      name: id,
      serviceType: "test",
      configuration,
    }),
  );
  const config = await writeServiceConfig({ connectors: [{ id, serviceType: "test" }] });
  await using service = await startService(config);
  const jobId = await kibana.startSync(id);
  const job = await waitFor(async () => {
    const doc = await kibana.getJob(jobId);
    return doc?.status === "completed" || doc?.status === "error" ? doc : undefined;
  }, { message: "job finished", timeoutMs: 60_000 });
  assert.equal(job.status, "completed", job.error);
  assert.equal(job.indexed_document_count, 5);
  assert.equal(await kibana.countDocs(index), 5);
  const connector = await waitFor(async () => {
    const doc = await kibana.getConnector(id);
    return doc?.last_sync_status === "completed" ? doc : undefined;
  }, { message: "connector updated after the job" });
  assert.equal(connector.status, "connected");
  assert.equal(connector.last_indexed_document_count, 5);
  assert.ok(connector.created_at && connector.updated_at, "Elastic's extra fields are kept");
  await stopService(service);
});
