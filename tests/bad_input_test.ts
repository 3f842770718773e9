/**
 * No input can destroy data (issue 10): a table-driven suite of bad input across job documents
 * (connector snapshots), `config.yml` and the command line. Every row expects a clear error and
 * no write; the test prints the tally `bad input: N cases, N clear errors, N writes`.
 *
 * 1. Job documents: each row writes a Kibana-shaped connector whose content index holds two
 *    known documents, indexes a job whose snapshot is broken one way, runs it with
 *    {@linkcode JobRunner} (real repositories, real sources: `dir`, MongoDB on FerretDB, S3 on
 *    moto) and checks: outcome `error`, the job's and the connector's `error` naming the field
 *    or the problem, the content index untouched (ids and a hash of every `_source`) and no
 *    other index created.
 * 2. `config.yml`: `--action poll -c FILE` with a cluster that does not answer; exit 1 with
 *    `file:line:col` and the key path, before anything connects; the file is left as it was.
 * 3. CLI flags: `connector create` and `job start` against the real cluster; exit 1 or 2 with
 *    one clear line; no connector document, no content index and no job is written.
 *
 * Rows that are not bad input (no `job_type` means full; one valid snapshot per source, which
 * proves the bad rows fail for their own reason) are run as controls and counted apart.
 * `BAD_INPUT_VERBOSE=1` also prints every row's error (and the time of each job row).
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DirectoryDataSource } from "../sources/dir/mod.ts";
import { MongoDataSource } from "../sources/mongodb/mod.ts";
import { S3DataSource } from "../sources/s3/mod.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import type { Client } from "../src/es/mod.ts";
import { nullLogger } from "../src/log/mod.ts";
import { ConnectorRepository, SyncJobRepository } from "../src/protocol/mod.ts";
import { JobRunner } from "../src/service/job_runner.ts";
import type { JobRunnerDeps } from "../src/service/job_runner.ts";
import { defaultConfigurationSchema, SourceRegistry } from "../src/source/mod.ts";
import type { DataSourceClass } from "../src/source/mod.ts";
import { esJson, esUrl, mongoUrl, REPO_ROOT, runCli, s3Url, uniqueName } from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";
import {
  CONNECTORS,
  createConnectorDoc,
  createSyncJobDoc,
  type Doc,
  JOBS,
  Kibana,
} from "./fixtures/kibana.ts";

const kibana = new Kibana();
const FIXTURES = `${REPO_ROOT}tests/fixtures/bad_input`;
/** Nothing listens there: a config row that got as far as connecting would show it. */
const DEAD_HOST = "http://127.0.0.1:9";
const MONGO_DB = uniqueName("bad_input").replaceAll(/[-.]/g, "_");
const MONGO_COLLECTION = "items";
const S3_BUCKET = uniqueName("bad-input").slice(0, 60);
const S3_KEY = "AKIABADINPUTTEST0001";
const S3_SECRET = "bad-input-secret-key";

/** One row's verdict. */
interface Verdict {
  group: string;
  name: string;
  clear: boolean;
  wrote: boolean;
  /** What went wrong, for the report. */
  detail?: string;
  /** The error the row ended with (job error or first stderr line). */
  message?: string;
  /** How long the row took. */
  ms?: number;
}

const verdicts: Verdict[] = [];
/** Controls (valid input), not counted as bad input. */
const controls: Verdict[] = [];
/** Rows that could not be played here, with why. */
const skipped: string[] = [];
/** Job errors that also name the connector id (informational). */
let namingConnector = 0;
/** Connectors and content indices this run created, removed at the end. */
const madeByRun = { connectors: [] as string[], indices: [] as string[], paths: [] as string[] };

function record(verdict: Verdict): void {
  verdicts.push(verdict);
}

// ---------------------------------------------------------------------------------------------
// Index content before/after
// ---------------------------------------------------------------------------------------------

/** Index content as ids and a hash of every `_source`, to prove an index untouched. */
async function snapshotIndex(index: string): Promise<{ ids: string[]; hash: string }> {
  await esJson("POST", `/${index}/_refresh`);
  const found = await esJson<{ hits: { hits: { _id: string; _source: unknown }[] } }>(
    "POST",
    `/${index}/_search`,
    { size: 1000 },
  );
  const hits = found.hits.hits.sort((a, b) => a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
  const bytes = new TextEncoder().encode(JSON.stringify(hits.map((h) => [h._id, h._source])));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return {
    ids: hits.map((h) => h._id),
    hash: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

/** Names of the indices matching `pattern` (wildcards allowed; hidden ones included). */
async function indicesMatching(pattern: string): Promise<string[]> {
  const rows = await esJson<{ index: string }[]>(
    "GET",
    `/_cat/indices/${pattern}?format=json&h=index&expand_wildcards=all`,
  );
  return rows.map((r) => r.index).sort();
}

async function exists(path: string): Promise<boolean> {
  const response = await fetch(`${esUrl()}/${path}`, { method: "HEAD" });
  await response.body?.cancel();
  return response.status === 200;
}

/** `_count` of `index` for `query` after a refresh; 0 when the index does not exist. */
async function count(index: string, query: unknown = { match_all: {} }): Promise<number> {
  if (!(await exists(index))) return 0;
  await esJson("POST", `/${index}/_refresh`);
  return (await esJson<{ count: number }>("POST", `/${index}/_count`, { query })).count;
}

/** Two known documents in a new content index (direct `_bulk`, refreshed). */
async function seedIndex(index: string): Promise<void> {
  const lines = [
    { index: { _index: index, _id: "seed-1" } },
    { title: "first seeded document", n: 1 },
    { index: { _index: index, _id: "seed-2" } },
    { title: "second seeded document", n: 2 },
  ].map((line) => JSON.stringify(line)).join("\n") + "\n";
  const result = await esJson<{ errors: boolean }>("POST", "/_bulk?refresh=true", lines);
  assert.equal(result.errors, false, `seeding ${index}`);
}

// ---------------------------------------------------------------------------------------------
// Group 1: job documents and connector snapshots
// ---------------------------------------------------------------------------------------------

type SourceType = "dir" | "mongodb" | "s3";

/** What a row may use to break its job document. */
interface RowContext {
  /** A folder with two text files (the valid `dir` base). */
  folder: string;
  /** A regular file (not a folder). */
  file: string;
}

interface JobRow {
  name: string;
  type: SourceType;
  /** Breaks the job document (its connector snapshot) before it is indexed. */
  job: (doc: Doc, ctx: RowContext) => void;
  /** What the job's (and the connector's) error must say. */
  error: RegExp;
}

const CLASSES: Record<SourceType, DataSourceClass> = {
  dir: DirectoryDataSource as unknown as DataSourceClass,
  mongodb: MongoDataSource as unknown as DataSourceClass,
  s3: S3DataSource as unknown as DataSourceClass,
};

/** Valid configuration values of each source, over the test servers. */
function baseValues(type: SourceType, ctx: RowContext): Record<string, unknown> {
  switch (type) {
    case "dir":
      return { directory: ctx.folder };
    case "mongodb":
      return {
        host: `${mongoUrl().replace(/\/+$/, "")}/?serverSelectionTimeoutMS=2000`,
        database: MONGO_DB,
        collection: MONGO_COLLECTION,
      };
    case "s3":
      return {
        buckets: S3_BUCKET,
        aws_access_key_id: S3_KEY,
        aws_secret_access_key: S3_SECRET,
        endpoint_url: s3Url(),
        force_path_style: true,
        max_attempts: 1,
        connect_timeout: 2,
        read_timeout: 5,
      };
  }
}

/** The snapshot's configuration field `key` (created when missing). */
function field(doc: Doc, key: string): Doc {
  const configuration = doc.connector.configuration as Doc;
  configuration[key] ??= {};
  return configuration[key];
}

/** Sets a value in the job's snapshot. */
function set(key: string, value: unknown): (doc: Doc) => void {
  return (doc) => void (field(doc, key).value = value);
}

/** Sets several values in the job's snapshot. */
function setAll(values: Record<string, unknown>): (doc: Doc) => void {
  return (doc) => {
    for (const [key, value] of Object.entries(values)) field(doc, key).value = value;
  };
}

/** Removes a field from the job's snapshot. */
function drop(key: string): (doc: Doc) => void {
  return (doc) => void delete (doc.connector.configuration as Doc)[key];
}

/** Puts basic rules (before the DEFAULT rule) into the snapshot's active filtering. */
function rules(...extra: Doc[]): (doc: Doc) => void {
  return (doc) => {
    const now = new Date().toISOString();
    const filtering = doc.connector.filtering as Doc;
    filtering.rules = [
      ...extra.map((rule, order) => ({ created_at: now, updated_at: now, order, ...rule })),
      ...filtering.rules.map((rule: Doc) => ({ ...rule, order: extra.length })),
    ];
  };
}

/** Puts an advanced-rules snippet into the snapshot's active filtering. */
function advanced(value: unknown): (doc: Doc) => void {
  return (doc) => void ((doc.connector.filtering as Doc).advanced_snippet.value = value);
}

function rule(overrides: Doc): Doc {
  return { id: "r1", policy: "include", field: "title", rule: "equals", value: "x", ...overrides };
}

const JOB_ROWS: JobRow[] = [
  // The job document and its snapshot.
  {
    name: "snapshot without configuration",
    type: "dir",
    job: (doc) => delete doc.connector.configuration,
    error: /has no configuration/,
  },
  {
    name: "snapshot configuration {}",
    type: "dir",
    job: (doc) => void (doc.connector.configuration = {}),
    error: /has no configuration/,
  },
  {
    name: "snapshot configuration null",
    type: "dir",
    job: (doc) => void (doc.connector.configuration = null),
    error: /has no configuration/,
  },
  {
    name: 'job_type "bogus"',
    type: "dir",
    job: (doc) => void (doc.job_type = "bogus"),
    error: /unknown job type "bogus"/,
  },
  {
    name: "job_type 5",
    type: "dir",
    job: (doc) => void (doc.job_type = 5),
    error: /unknown job type 5/,
  },
  {
    name: "service_type missing",
    type: "dir",
    job: (doc) => delete doc.connector.service_type,
    error: /has no service_type/,
  },
  {
    name: 'service_type "nosuch"',
    type: "dir",
    job: (doc) => void (doc.connector.service_type = "nosuch"),
    error: /nosuch.*unknown service type|unknown service type.*nosuch/,
  },
  {
    name: "index_name missing",
    type: "dir",
    job: (doc) => delete doc.connector.index_name,
    error: /has no index_name/,
  },
  {
    name: 'index_name ""',
    type: "dir",
    job: (doc) => void (doc.connector.index_name = ""),
    error: /has no index_name/,
  },
  // dir: required value, types.
  {
    name: "dir: directory empty",
    type: "dir",
    job: set("directory", ""),
    error: /\(directory\) cannot be empty/,
  },
  {
    name: "dir: directory key missing",
    type: "dir",
    job: drop("directory"),
    error: /\(directory\) cannot be empty/,
  },
  {
    name: "dir: directory a list",
    type: "dir",
    job: (doc, ctx) => set("directory", [ctx.folder, "/etc"])(doc),
    error: /\(directory\) must be a string/,
  },
  {
    name: "dir: directory a number",
    type: "dir",
    job: set("directory", 5),
    error: /\(directory\) must be an absolute path, got "5"/,
  },
  {
    name: "dir: directory an object",
    type: "dir",
    job: (doc, ctx) => set("directory", { path: ctx.folder })(doc),
    error: /\(directory\) must be a string/,
  },
  {
    name: "dir: directory a bool",
    type: "dir",
    job: set("directory", true),
    error: /\(directory\) must be an absolute path, got "true"/,
  },
  {
    name: "dir: directory relative",
    type: "dir",
    job: set("directory", "docs/notes"),
    error: /\(directory\) must be an absolute path, got "docs\/notes"/,
  },
  {
    name: "dir: directory does not exist",
    type: "dir",
    job: set("directory", "/nonexistent/bad-input/folder"),
    error: /Directory \/nonexistent\/bad-input\/folder does not exist/,
  },
  {
    name: "dir: directory is a file",
    type: "dir",
    job: (doc, ctx) => set("directory", ctx.file)(doc),
    error: /is not a directory/,
  },
  {
    name: "dir: max_text_size a string",
    type: "dir",
    job: set("max_text_size", "abc"),
    error: /\(max_text_size\) must be an integer, got 'abc'/,
  },
  {
    name: "dir: max_text_size below its validations",
    type: "dir",
    job: set("max_text_size", -5),
    error: /\(max_text_size\) value '-5' should be greater than -1/,
  },
  // dir: globs.
  {
    name: "dir: pattern [unclosed",
    type: "dir",
    job: set("pattern", "[unclosed"),
    error: /\(pattern\) is not a valid glob/,
  },
  {
    name: "dir: pattern *.{md",
    type: "dir",
    job: set("pattern", "*.{md"),
    error: /\(pattern\) is not a valid glob/,
  },
  {
    name: "dir: pattern a}b",
    type: "dir",
    job: set("pattern", "a}b"),
    error: /\(pattern\) is not a valid glob/,
  },
  {
    name: "dir: pattern ../x",
    type: "dir",
    job: set("pattern", "../x"),
    error: /\(pattern\) must be relative to the directory and must not contain '\.\.'/,
  },
  {
    name: "dir: pattern /etc/*",
    type: "dir",
    job: set("pattern", "/etc/*"),
    error: /\(pattern\) must be relative to the directory/,
  },
  {
    name: "dir: pattern a list",
    type: "dir",
    job: set("pattern", ["*.md", "*.txt"]),
    error: /\(pattern\) must be a string/,
  },
  // Basic sync rules of the snapshot.
  {
    name: "rules: invalid regex",
    type: "dir",
    job: rules(rule({ rule: "regex", value: "([a-z" })),
    error: /Invalid regex '\(\[a-z'/,
  },
  {
    name: "rules: unknown policy",
    type: "dir",
    job: rules(rule({ policy: "maybe" })),
    error: /'maybe' is an unknown value for the enum Policy/,
  },
  {
    name: "rules: unknown rule type",
    type: "dir",
    job: rules(rule({ rule: "like" })),
    error: /'like' is an unknown value for the enum Rule/,
  },
  {
    name: "rules: match-all regex",
    type: "dir",
    job: rules(rule({ rule: "regex", value: ".*" })),
    error: /Match all regexps/,
  },
  {
    name: "rules: a rule without its field",
    type: "dir",
    job: rules({ id: "r1", policy: "include", rule: "equals", value: "x" }),
    error: /data must contain \['id', 'policy', 'field', 'rule', 'value', 'order'\] properties/,
  },
  // MongoDB.
  {
    name: "mongodb: host empty",
    type: "mongodb",
    job: set("host", ""),
    error: /\(host\) cannot be empty/,
  },
  {
    name: "mongodb: host not a URL",
    type: "mongodb",
    job: set("host", "http://db.example.com:27017/?serverSelectionTimeoutMS=500"),
    error:
      /\(host\) must be a mongodb:\/\/ or mongodb\+srv:\/\/ connection string .*got a http:\/\/ URL/,
  },
  {
    name: "mongodb: host with a bad driver option",
    type: "mongodb",
    job: set("host", "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=soon"),
    error: /\(host\) is not a valid MongoDB connection string .*serverSelectionTimeoutMS/,
  },
  {
    name: "mongodb: host a list",
    type: "mongodb",
    job: set("host", ["127.0.0.1:27017"]),
    error: /\(host\) must be a string/,
  },
  {
    name: "mongodb: unreachable port",
    type: "mongodb",
    job: set("host", "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=500"),
    error: /connection to MongoDB at 127\.0\.0\.1:9 refused/,
  },
  {
    name: "mongodb: database missing",
    type: "mongodb",
    job: drop("database"),
    error: /\(database\) cannot be empty/,
  },
  {
    name: "mongodb: database does not exist",
    type: "mongodb",
    job: set("database", "no_such_database_bad_input"),
    error: /Database 'no_such_database_bad_input' does not exist/,
  },
  {
    name: "mongodb: collection empty",
    type: "mongodb",
    job: set("collection", ""),
    error: /\(collection\) cannot be empty/,
  },
  {
    name: "mongodb: collection does not exist",
    type: "mongodb",
    job: set("collection", "no_such_collection"),
    error: /Collection 'no_such_collection' does not exist/,
  },
  {
    name: "mongodb: collection an object",
    type: "mongodb",
    job: set("collection", { name: MONGO_COLLECTION }),
    error: /\(collection\) must be a string/,
  },
  {
    name: "mongodb: batch_size 0",
    type: "mongodb",
    job: set("batch_size", 0),
    error: /\(batch_size\) value '0' should be greater than 0/,
  },
  {
    name: "mongodb: batch_size above its validations",
    type: "mongodb",
    job: set("batch_size", 100001),
    error: /\(batch_size\) value '100001' should be less than 100001/,
  },
  {
    name: "mongodb: batch_size a string",
    type: "mongodb",
    job: set("batch_size", "ten"),
    error: /\(batch_size\) must be an integer, got 'ten'/,
  },
  {
    name: "mongodb: ssl_enabled not a bool",
    type: "mongodb",
    job: set("ssl_enabled", "maybe"),
    error: /\(ssl_enabled\) must be true or false/,
  },
  {
    name: "mongodb: ssl_ca a list (depends_on ssl_enabled true)",
    type: "mongodb",
    job: setAll({ ssl_enabled: true, ssl_ca: ["-----BEGIN CERTIFICATE-----"] }),
    error: /\(ssl_ca\) must be a string/,
  },
  {
    name: "mongodb: ssl_ca not a PEM certificate (ssl_enabled true)",
    type: "mongodb",
    job: setAll({ ssl_enabled: true, ssl_ca: "not a certificate" }),
    error: /\(ssl_ca\) is not a PEM certificate/,
  },
  {
    name: "mongodb: tls_insecure a number (ssl_enabled true)",
    type: "mongodb",
    job: setAll({ ssl_enabled: true, tls_insecure: 7 }),
    error: /\(tls_insecure\) must be true or false/,
  },
  {
    name: "mongodb: advanced rules of the wrong shape",
    type: "mongodb",
    job: advanced({ find: { filter: [] } }),
    error: /Filtering in state invalid.*advanced_snippet/,
  },
  {
    name: "mongodb: advanced rules with an unknown key",
    type: "mongodb",
    job: advanced({ bogus: {} }),
    error: /Filtering in state invalid.*advanced_snippet/,
  },
  // S3.
  {
    name: "s3: buckets empty",
    type: "s3",
    job: set("buckets", ""),
    error: /\(buckets\) cannot be empty/,
  },
  {
    name: "s3: bucket does not exist",
    type: "s3",
    job: set("buckets", "no-such-bucket-bad-input"),
    error: /no-such-bucket-bad-input/,
  },
  {
    name: "s3: bucket name invalid",
    type: "s3",
    job: set("buckets", "Bad_Bucket!"),
    error: /\(buckets\) value 'Bad_Bucket!' is not a valid bucket name/,
  },
  {
    name: "s3: endpoint_url not a URL",
    type: "s3",
    job: set("endpoint_url", "not a url"),
    error: /\(endpoint_url\) must be an http:\/\/ or https:\/\/ URL .*got 'not a url'/,
  },
  {
    name: "s3: page_size 0",
    type: "s3",
    job: set("page_size", 0),
    error: /\(page_size\) value '0' should be greater than 0/,
  },
  {
    name: "s3: page_size 99999",
    type: "s3",
    job: set("page_size", 99999),
    error: /\(page_size\) value '99999' should be less than 1001/,
  },
  {
    name: "s3: max_attempts 0",
    type: "s3",
    job: set("max_attempts", 0),
    error: /\(max_attempts\) value '0' should be greater than 0/,
  },
  {
    name: "s3: read_timeout a string",
    type: "s3",
    job: set("read_timeout", "slow"),
    error: /\(read_timeout\) must be an integer, got 'slow'/,
  },
  {
    name: "s3: advanced rules an object, not a list",
    type: "s3",
    job: advanced({ bucket: S3_BUCKET }),
    error: /Filtering in state invalid.*advanced_snippet/,
  },
  {
    name: "s3: advanced rules whose second bucket does not exist",
    type: "s3",
    job: advanced([{ bucket: S3_BUCKET }, { bucket: "no-such-rule-bucket" }]),
    error: /Cannot list bucket 'no-such-rule-bucket': it does not exist/,
  },
  {
    name: "s3: * among other buckets",
    type: "s3",
    job: set("buckets", `${S3_BUCKET},*`),
    error: /\(buckets\) value '\*' must be the only entry/,
  },
  {
    name: "s3: endpoint_url of another scheme",
    type: "s3",
    job: set("endpoint_url", "ftp://files.example.com"),
    error: /\(endpoint_url\) must be an http:\/\/ or https:\/\/ URL .*got ftp:/,
  },
  {
    name: "s3: advanced rule without a bucket",
    type: "s3",
    job: advanced([{ prefix: "docs/" }]),
    error: /Filtering in state invalid.*advanced_snippet/,
  },
];

/** Everything a job row needs from the test servers. */
interface JobHarness {
  client: Client;
  deps: JobRunnerDeps;
  durableJobs: SyncJobRepository;
  ctx: RowContext;
}

async function jobHarness(): Promise<JobHarness> {
  const config = defaultConfig();
  config.elasticsearch.host = esUrl();
  config.service.job_heartbeat_interval = 60;
  config.service.job_check_interval = 60;
  const client = createEsClient(config.elasticsearch, { maxRetries: 2 });
  const connectors = new ConnectorRepository(client);
  const jobs = new SyncJobRepository(client);
  const registry = new SourceRegistry(config.sources, { baseDir: REPO_ROOT });
  const deps: JobRunnerDeps = {
    config,
    logger: nullLogger,
    hostname: "bad-input-test",
    registry: {
      load: (type: string) =>
        Object.hasOwn(CLASSES, type)
          ? Promise.resolve(CLASSES[type as SourceType])
          : registry.load(type),
    },
    connectors,
    jobs,
    durableConnectors: connectors,
    durableJobs: jobs,
    contentClient: client,
  };
  const folder = await Deno.makeTempDir({ prefix: "bad_input_" });
  await Deno.writeTextFile(`${folder}/a.txt`, "file a");
  await Deno.writeTextFile(`${folder}/b.md`, "# file b");
  const file = await Deno.makeTempFile({ prefix: "bad_input_", suffix: ".txt" });
  madeByRun.paths.push(folder, file);
  return { client, deps, durableJobs: jobs, ctx: { folder, file } };
}

/** The seeded connector and content index of one row. */
interface Seeded {
  id: string;
  index: string;
  connector: Doc;
}

/** A configured connector of `type` (valid values) whose content index holds two documents. */
async function seedConnector(
  type: SourceType,
  ctx: RowContext,
  values: Record<string, unknown> = {},
): Promise<Seeded> {
  const id = uniqueName("bad-conn");
  const index = uniqueName("search-bad");
  madeByRun.connectors.push(id);
  madeByRun.indices.push(index);
  const configuration: Doc = structuredClone(defaultConfigurationSchema(CLASSES[type]));
  for (const [key, value] of Object.entries({ ...baseValues(type, ctx), ...values })) {
    configuration[key] = { ...configuration[key], value };
  }
  const connector = {
    ...createConnectorDoc({ indexName: index, name: id, serviceType: type, configuration }),
    status: "configured",
  };
  await Promise.all([kibana.putConnector(id, connector), seedIndex(index)]);
  return { id, index, connector };
}

/** Indexes a job of `seeded` (after `mutate`), runs it; returns the outcome and both documents. */
async function runJob(
  h: JobHarness,
  seeded: Seeded,
  mutate: (doc: Doc, ctx: RowContext) => void,
): Promise<{ outcome: string; job: Doc | undefined; connector: Doc | undefined }> {
  const doc = createSyncJobDoc(seeded.id, seeded.connector);
  mutate(doc, h.ctx);
  const { _id } = await kibana.json<{ _id: string }>("POST", `/${JOBS}/_doc?refresh=true`, doc);
  const job = await h.durableJobs.get(_id);
  assert.ok(job, `job ${_id} exists`);
  const outcome = await new JobRunner(job, h.deps).run();
  const [jobAfter, connector] = await Promise.all([
    kibana.getJob(_id),
    kibana.getConnector(seeded.id),
  ]);
  return { outcome, job: jobAfter, connector };
}

/** Runs one bad-input row of group 1 and records its verdict. */
async function playJobRow(h: JobHarness, row: JobRow): Promise<Verdict> {
  const seeded = await seedConnector(row.type, h.ctx);
  const before = await snapshotIndex(seeded.index);
  const { outcome, job, connector } = await runJob(h, seeded, row.job);
  const [after, matching] = await Promise.all([
    snapshotIndex(seeded.index),
    indicesMatching(`${seeded.index}*`),
  ]);
  const created = matching.filter((i) => i !== seeded.index);
  const problems: string[] = [];
  if (outcome !== "error") problems.push(`outcome ${outcome}`);
  if (job?.status !== "error") problems.push(`job status ${job?.status}`);
  if (!row.error.test(String(job?.error))) {
    problems.push(`job error ${JSON.stringify(job?.error)} does not match ${row.error}`);
  }
  if (connector?.status !== "error" || !row.error.test(String(connector?.error))) {
    problems.push(
      `connector status ${connector?.status}, error ${JSON.stringify(connector?.error)}`,
    );
  }
  if (String(job?.error).includes(seeded.id)) namingConnector++;
  const wrote = JSON.stringify(before) !== JSON.stringify(after) || created.length > 0;
  if (wrote) {
    problems.push(
      `index changed: ${before.ids.join(",")} -> ${after.ids.join(",")}${
        created.length ? `; created ${created.join(", ")}` : ""
      }`,
    );
  }
  const verdict: Verdict = {
    group: "job",
    name: row.name,
    clear: outcome === "error" && job?.status === "error" &&
      problems.every((p) => p.startsWith("index changed")),
    wrote,
    message: String(job?.error),
  };
  if (problems.length > 0) verdict.detail = problems.join("; ");
  return verdict;
}

/** A row that must complete (valid input): the control of its source. */
async function playControl(
  h: JobHarness,
  name: string,
  type: SourceType,
  mutate: (doc: Doc) => void,
  expectedIds: string[],
): Promise<Verdict> {
  const seeded = await seedConnector(type, h.ctx);
  const { outcome, job } = await runJob(h, seeded, mutate);
  const after = await snapshotIndex(seeded.index);
  const ok = outcome === "completed" && job?.status === "completed" &&
    JSON.stringify(after.ids) === JSON.stringify(expectedIds);
  const verdict: Verdict = { group: "control", name, clear: ok, wrote: false };
  if (!ok) {
    verdict.detail = `outcome ${outcome}, job ${job?.status} (${job?.error}), ids ${
      after.ids.join(",")
    }`;
  }
  return verdict;
}

/** A folder `Deno.readDir` cannot list although it is a directory; undefined when none. */
async function unreadableFolder(): Promise<string | undefined> {
  const mine = await Deno.makeTempDir({ prefix: "bad_input_unreadable_" });
  madeByRun.paths.push(mine);
  await Deno.writeTextFile(`${mine}/x.txt`, "x");
  await Deno.chmod(mine, 0o000);
  // chmod 000 does not stop root; /proc/1/map_files needs CAP_SYS_ADMIN to be listed.
  for (const candidate of [mine, "/proc/1/map_files"]) {
    try {
      if (!(await Deno.stat(candidate)).isDirectory) continue;
      for await (const _ of Deno.readDir(candidate)) break;
    } catch (error) {
      if (error instanceof Deno.errors.PermissionDenied) return candidate;
    }
  }
  return undefined;
}

async function seedMongo(): Promise<void> {
  const client = new MongoClient(mongoUrl(), { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db(MONGO_DB).collection(MONGO_COLLECTION).insertMany([
      { _id: "m-1" as never, title: "mongo one" },
      { _id: "m-2" as never, title: "mongo two" },
    ]);
  } finally {
    await client.close();
  }
}

async function dropMongo(): Promise<void> {
  const client = new MongoClient(mongoUrl(), { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db(MONGO_DB).dropDatabase();
  } finally {
    await client.close();
  }
}

async function seedS3(): Promise<void> {
  const s3 = new S3Client({
    region: "us-east-1",
    endpoint: s3Url(),
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
    await s3.send(
      new PutObjectCommand({ Bucket: S3_BUCKET, Key: "docs/one.txt", Body: "s3 object one" }),
    );
  } finally {
    s3.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Group 2: config.yml
// ---------------------------------------------------------------------------------------------

interface ConfigRow {
  name: string;
  /** The file's text after the `elasticsearch.host` line of a dead cluster. */
  yaml: string;
  error: RegExp;
}

/** `elasticsearch:` with a cluster nobody answers for, and a short startup wait. */
const HEAD = `elasticsearch:\n  host: ${DEAD_HOST}\n  max_wait_duration: 1\n`;
const CONNECTOR = "connectors:\n  - connector_id: bad-input-a\n    service_type: dir\n";

const CONFIG_ROWS: ConfigRow[] = [
  {
    name: "unknown key (typo)",
    yaml: `${HEAD}service:\n  idlin: 3\n`,
    error: /:5:3: unknown key service\.idlin; did you mean service\.idling\?/,
  },
  {
    name: "negative timeout",
    yaml: `${HEAD}  request_timeout: -1\n`,
    error: /:4:20: elasticsearch\.request_timeout .*-1/,
  },
  {
    name: "bulk.error_monitor.max_error_rate: 7",
    yaml: `${HEAD}  bulk:\n    error_monitor:\n      max_error_rate: 7\n`,
    error: /:6:23: elasticsearch\.bulk\.error_monitor\.max_error_rate .*between 0 and 1, got 7/,
  },
  {
    name: "service.max_deletion_ratio: 2",
    yaml: `${HEAD}service:\n  max_deletion_ratio: 2\n`,
    error: /:5:23: service\.max_deletion_ratio .*between 0 and 1, got 2/,
  },
  {
    name: "connectors entry with an unknown service_type",
    yaml: `${HEAD}connectors:\n  - connector_id: a\n    service_type: nosuch\n`,
    error: /:6:19: connectors\[0\]\.service_type "nosuch" is not defined in sources/,
  },
  {
    name: "sources entry whose module does not exist",
    yaml: `${HEAD}sources:\n  mine: ./no_such_module.ts:Mine\n` +
      "connectors:\n  - connector_id: a\n    service_type: mine\n",
    error: /:5:9: sources\.mine: Cannot load source "mine".*module not found/,
  },
  {
    name: "sources entry whose class does not exist",
    yaml: `${HEAD}sources:\n  mine: ${REPO_ROOT}sources/dir/mod.ts:NoSuchClass\n` +
      "connectors:\n  - connector_id: a\n    service_type: mine\n",
    error: /:5:9: sources\.mine: .*NoSuchClass/,
  },
  {
    name: "sources entry whose class is not a data source",
    yaml: `${HEAD}sources:\n  mine: ${FIXTURES}/not_a_source.ts:NotASource\n` +
      "connectors:\n  - connector_id: a\n    service_type: mine\n",
    error: /:5:9: sources\.mine: .*NotASource/,
  },
  {
    name: "sources entry not MODULE:Class",
    yaml: `${HEAD}sources:\n  mine: nocolon\n${CONNECTOR}`,
    error: /:5:9: sources\.mine must be MODULE:ClassName, got "nocolon"/,
  },
  {
    name: "YAML syntax error",
    yaml: `elasticsearch:\n  host: [${DEAD_HOST}\n`,
    error: /:\d+:\d+: invalid YAML/,
  },
  {
    name: "string for a number",
    yaml: `${HEAD}  request_timeout: soon\n`,
    error: /:4:20: elasticsearch\.request_timeout must be a number of seconds, got string "soon"/,
  },
  {
    name: "string for an integer",
    yaml: `${HEAD}service:\n  max_errors: many\n`,
    error: /:5:15: service\.max_errors .*"many"/,
  },
  {
    name: "connectors not a list",
    yaml: `${HEAD}connectors: abc\n`,
    error: /:4:13: connectors must be a list, got string "abc"/,
  },
  {
    name: "connector_id missing",
    yaml: `${HEAD}connectors:\n  - service_type: dir\n`,
    error: /:5:5: connectors\[0\]\.connector_id is required/,
  },
  {
    name: "value still changeme",
    yaml: `${HEAD}  password: changeme\n  username: elastic\n`,
    error: /:4:13: elasticsearch\.password .*changeme/,
  },
];

async function playConfigRow(row: ConfigRow): Promise<Verdict> {
  const file = await Deno.makeTempFile({ prefix: "bad-input-", suffix: ".yml" });
  await Deno.writeTextFile(file, row.yaml);
  const result = await runCli(["--action", "poll", "-c", file], {
    timeoutMs: 30_000,
    env: { NO_COLOR: "1" },
  });
  const unchanged = (await Deno.readTextFile(file)) === row.yaml;
  await Deno.remove(file);
  const line = result.stderr.trim().split("\n").find((l) => l.startsWith("elastic-ingest: error:"));
  const problems: string[] = [];
  if (result.timedOut) problems.push("timed out");
  if (result.code !== 1) problems.push(`exit ${result.code}`);
  if (!line || !line.includes(file) || !row.error.test(line)) {
    problems.push(`stderr ${JSON.stringify(result.stderr.trim().slice(0, 300))}`);
  }
  const verdict: Verdict = {
    group: "config",
    name: row.name,
    clear: problems.length === 0,
    wrote: !unchanged,
    message: line ?? result.stderr.trim(),
  };
  if (!unchanged) problems.push("the config file changed");
  if (problems.length > 0) verdict.detail = problems.join("; ");
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// Group 3: CLI flags
// ---------------------------------------------------------------------------------------------

interface CliRow {
  name: string;
  /** Arguments after `-c FILE`; `create` rows get `--id ID` added, and `--index-name` unless `index` is null. */
  args: (ctx: CliContext) => string[];
  /** `connector create` rows: the index name passed (default: a fresh valid one); null: none. */
  index?: string | null;
  code: 1 | 2;
  error: RegExp;
}

interface CliContext {
  folder: string;
  /** An existing connector (from group 1) for `job start`. */
  connectorId: string;
}

const CREATE = ["connector", "create"];

const CLI_ROWS: CliRow[] = [
  {
    name: "create: unknown service type",
    args: () => [...CREATE, "--service-type", "nosuch"],
    code: 1,
    error: /Cannot load source "nosuch": unknown service type/,
  },
  {
    name: "create: --index-name missing",
    args: (c) => [...CREATE, "--service-type", "dir", "--config", `directory=${c.folder}`],
    index: null,
    code: 2,
    error: /missing required option --index-name/,
  },
  {
    name: "create: index name upper case",
    args: (c) => [...CREATE, "--service-type", "dir", "--config", `directory=${c.folder}`],
    index: "Search-Bad-Input",
    code: 2,
    error: /invalid index name 'Search-Bad-Input'/,
  },
  {
    name: "create: index name with a space",
    args: (c) => [...CREATE, "--service-type", "dir", "--config", `directory=${c.folder}`],
    index: "search bad input",
    code: 2,
    error: /invalid index name 'search bad input'/,
  },
  {
    name: "create: index name starting with _",
    args: (c) => [...CREATE, "--service-type", "dir", "--config", `directory=${c.folder}`],
    index: "_search-bad-input",
    code: 2,
    error: /invalid index name '_search-bad-input': it must not start with/,
  },
  {
    name: "create: index name .",
    args: (c) => [...CREATE, "--service-type", "dir", "--config", `directory=${c.folder}`],
    index: ".",
    code: 2,
    error: /invalid index name '\.': it is empty or a dot/,
  },
  {
    name: "create: --schedule '* * *'",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--schedule",
      "* * *",
    ],
    code: 2,
    error: /--schedule: Invalid cron expression "\* \* \*"/,
  },
  {
    name: "create: --schedule '61 * * * * ?'",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--schedule",
      "61 * * * * ?",
    ],
    code: 2,
    error: /--schedule: Invalid cron expression "61 \* \* \* \* \?".*second/,
  },
  {
    name: "create: --incremental-schedule not cron",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--incremental-schedule",
      "hourly",
    ],
    code: 2,
    error: /--incremental-schedule: Invalid cron expression "hourly"/,
  },
  {
    name: "create: --config unknown key",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--config",
      "directroy=/tmp",
    ],
    code: 2,
    error: /unknown configuration key 'directroy' for service type dir/,
  },
  {
    name: "create: --config max_text_size=abc",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--config",
      "max_text_size=abc",
    ],
    code: 1,
    error:
      /invalid configuration: 'Maximum size of inlined text \(bytes\)' \(max_text_size\) must be an integer, got 'abc'/,
  },
  {
    name: "create: --config without =",
    args: () => [...CREATE, "--service-type", "dir", "--config", "directory"],
    code: 2,
    error: /--config takes KEY=VALUE, got 'directory'/,
  },
  {
    name: "create: required directory missing",
    args: () => [...CREATE, "--service-type", "dir"],
    code: 2,
    error: /missing value for required configuration field 'Directory path' \(directory\)/,
  },
  {
    name: "create: --config directory relative",
    args: () => [...CREATE, "--service-type", "dir", "--config", "directory=docs/notes"],
    code: 1,
    error: /\(directory\) must be an absolute path/,
  },
  {
    name: "create: --config pattern [unclosed",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--config",
      "pattern=[unclosed",
    ],
    code: 1,
    error: /\(pattern\) is not a valid glob/,
  },
  {
    name: "create: --from-file not JSON",
    args: () => [...CREATE, "--service-type", "dir", "--from-file", `${FIXTURES}/not_json.txt`],
    code: 1,
    error: /Cannot read --from-file .*not_json\.txt: invalid JSON/,
  },
  {
    name: "create: --from-file missing",
    args: () => [...CREATE, "--service-type", "dir", "--from-file", `${FIXTURES}/no_such.json`],
    code: 1,
    error: /Cannot read --from-file .*no_such\.json: no such file/,
  },
  {
    name: "create: --index-language xx",
    args: (c) => [
      ...CREATE,
      "--service-type",
      "dir",
      "--config",
      `directory=${c.folder}`,
      "--index-language",
      "xx",
    ],
    code: 2,
    error: /--index-language: invalid choice: 'xx'/,
  },
  {
    name: "job start: unknown connector id",
    args: () => ["job", "start", "-i", "no-such-connector-bad-input", "-t", "full"],
    code: 1,
    error: /connector no-such-connector-bad-input does not exist/,
  },
  {
    name: "job start: bad -t job type",
    args: (c) => ["job", "start", "-i", c.connectorId, "-t", "bogus"],
    code: 2,
    error: /--type: invalid choice: 'bogus' \(choose from full, incremental, access_control\)/,
  },
  {
    name: "job start: -i missing",
    args: () => ["job", "start", "-t", "full"],
    code: 2,
    error: /missing required option --connector-id|-i/,
  },
];

async function cliConfig(): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "bad-input-cli-", suffix: ".yml" });
  await Deno.writeTextFile(
    file,
    `elasticsearch:\n  host: ${esUrl()}\n  max_wait_duration: 10\nconnectors: []\n`,
  );
  return file;
}

async function playCliRow(config: string, ctx: CliContext, row: CliRow): Promise<Verdict> {
  const base = row.args(ctx);
  const isCreate = base[0] === "connector" && base[1] === "create";
  const id = uniqueName("bad-cli");
  const index = row.index === undefined ? uniqueName("search-bad-cli") : row.index;
  const args = isCreate
    ? [...base, "--id", id, ...(index === null ? [] : ["--index-name", index])]
    : base;
  const jobOf = base.includes("-i") ? base[base.indexOf("-i") + 1]! : undefined;
  /** What the row could have written: its connector, its index, jobs of its connector. */
  const writes = async () => ({
    connector: isCreate && (await kibana.getConnector(id)) !== undefined,
    usingIndex: typeof index === "string"
      ? await count(CONNECTORS, { term: { index_name: index } })
      : 0,
    index: typeof index === "string" && (await exists(encodeURIComponent(index))),
    jobs: jobOf ? await count(JOBS, { term: { "connector.id": jobOf } }) : 0,
  });
  const before = await writes();
  const result: CliResult = await runCli(["-c", config, ...args], {
    stdin: "",
    timeoutMs: 60_000,
    env: { NO_COLOR: "1" },
  });
  const after = await writes();
  const problems: string[] = [];
  if (result.code !== row.code) problems.push(`exit ${result.code} (expected ${row.code})`);
  const lines = result.stderr.trim().split("\n").filter((l) => l.startsWith("elastic-ingest:"));
  if (lines.length === 0 || !row.error.test(lines[0]!)) {
    problems.push(`stderr ${JSON.stringify(result.stderr.trim().slice(0, 300))}`);
  }
  const clear = problems.length === 0;
  const wrote = JSON.stringify(before) !== JSON.stringify(after);
  if (wrote) {
    problems.push(`wrote: ${JSON.stringify({ before, after })}`);
    // Leave the shared cluster as it was.
    if (after.connector) await esJson("DELETE", `/${CONNECTORS}/_doc/${id}?refresh=true`);
    if (after.index && !before.index && typeof index === "string") {
      await esJson("DELETE", `/${encodeURIComponent(index)}`);
    }
  }
  const verdict: Verdict = {
    group: "cli",
    name: row.name,
    clear,
    wrote,
    message: lines[0] ?? result.stderr.trim(),
  };
  if (problems.length > 0) verdict.detail = problems.join("; ");
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

/** Removes the connectors, their jobs and the content indices this run created. */
async function cleanUp(): Promise<void> {
  for (const path of madeByRun.paths) {
    await Deno.chmod(path, 0o700).catch(() => {});
    await Deno.remove(path, { recursive: true }).catch(() => {});
  }
  for (let at = 0; at < madeByRun.indices.length; at += 50) {
    const batch = madeByRun.indices.slice(at, at + 50);
    await esJson("DELETE", `/${batch.join(",")}?ignore_unavailable=true`);
  }
  const ids = madeByRun.connectors;
  if (ids.length === 0) return;
  // By id through _bulk: a cluster without the reindex module has no _delete_by_query.
  await esJson("POST", `/${JOBS}/_refresh`);
  const jobs = await esJson<{ hits: { hits: { _id: string }[] } }>("POST", `/${JOBS}/_search`, {
    size: 10_000,
    _source: false,
    query: { terms: { "connector.id": ids } },
  });
  const lines = [
    ...jobs.hits.hits.map((hit) => ({ delete: { _index: JOBS, _id: hit._id } })),
    ...ids.map((id) => ({ delete: { _index: CONNECTORS, _id: id } })),
  ];
  await esJson(
    "POST",
    "/_bulk?refresh=true",
    lines.map((l) => JSON.stringify(l)).join("\n") + "\n",
  );
}

function report(group: string): string[] {
  return verdicts.filter((v) => v.group === group && (!v.clear || v.wrote)).map((v) =>
    `${v.name}: ${v.detail ?? (v.wrote ? "wrote" : "unclear")}`
  );
}

Deno.test({
  name: "bad input: every row ends in a clear error and writes nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await kibana.ensureIndices();
    await Promise.all([seedMongo(), seedS3()]);
    const h = await jobHarness();
    let connectorId = "";
    try {
      await t.step("job documents and connector snapshots", async () => {
        const rows = [...JOB_ROWS];
        const unreadable = await unreadableFolder();
        if (unreadable) {
          rows.push({
            name: "dir: directory unreadable",
            type: "dir",
            job: set("directory", unreadable),
            error: /Cannot read directory .*permission denied/,
          });
        } else {
          skipped.push("dir: directory unreadable (no folder here refuses a listing)");
        }
        for (const row of rows) {
          const started = Date.now();
          const verdict = await playJobRow(h, row);
          verdict.ms = Date.now() - started;
          record(verdict);
        }
        controls.push(
          await playControl(h, "no job_type means full", "dir", (doc) => delete doc.job_type, [
            "a.txt",
            "b.md",
          ]),
          await playControl(h, "valid mongodb snapshot", "mongodb", () => {}, ["m-1", "m-2"]),
          await playControl(h, "valid s3 snapshot", "s3", () => {}, [`${S3_BUCKET}/docs/one.txt`]),
        );
        const seeded = await seedConnector("dir", h.ctx);
        connectorId = seeded.id;
        assert.deepEqual(report("job"), []);
        assert.deepEqual(controls.filter((c) => !c.clear).map((c) => `${c.name}: ${c.detail}`), []);
      });

      await t.step("config.yml", async () => {
        for (const row of CONFIG_ROWS) record(await playConfigRow(row));
        assert.deepEqual(report("config"), []);
      });

      await t.step("CLI flags", async () => {
        const config = await cliConfig();
        const ctx: CliContext = { folder: h.ctx.folder, connectorId };
        for (const row of CLI_ROWS) record(await playCliRow(config, ctx, row));
        await Deno.remove(config);
        assert.deepEqual(report("cli"), []);
      });
    } finally {
      await h.client.close();
      await dropMongo().catch(() => {});
      await cleanUp().catch(() => {});
    }

    const cases = verdicts.length;
    const clearErrors = verdicts.filter((v) => v.clear).length;
    const writes = verdicts.filter((v) => v.wrote).length;
    const jobErrors = verdicts.filter((v) => v.group === "job").length;
    // deno-lint-ignore no-console
    console.log(
      [
        `bad input: ${cases} cases, ${clearErrors} clear errors, ${writes} writes`,
        `  by group: ${
          ["job", "config", "cli"].map((g) =>
            `${g} ${verdicts.filter((v) => v.group === g).length}`
          ).join(", ")
        }; controls (valid input, completed): ${
          controls.filter((c) => c.clear).length
        }/${controls.length}`,
        `  job errors naming the connector id: ${namingConnector}/${jobErrors}`,
        ...skipped.map((s) => `  skipped: ${s}`),
        ...(Deno.env.get("BAD_INPUT_VERBOSE")
          ? verdicts.map((v) => `  ${v.group}: ${v.name} (${v.ms ?? "-"} ms): ${v.message}`)
          : []),
        ...verdicts.filter((v) => !v.clear || v.wrote).map((v) =>
          `  FAILED ${v.group}: ${v.name}: ${v.detail}`
        ),
      ].join("\n"),
    );
    assert.ok(cases >= 60, `at least 60 cases, got ${cases}`);
    assert.equal(writes, 0, "no bad input writes");
    assert.equal(clearErrors, cases, "every bad input ends in a clear error");
  },
});
