/**
 * The management commands (`connector`, `job`, `index`) against the real Elasticsearch, in text
 * and JSON modes, including bad input (clear error, exit code, nothing written), progress lines
 * of `job start --wait` without a terminal, ECS log lines, and prompting in a terminal.
 */
import assert from "node:assert/strict";
import {
  DENO_JSON,
  esJson,
  esUrl,
  MAIN_TS,
  REPO_ROOT,
  runCli,
  runDeno,
  startCli,
  uniqueName,
} from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";

const TEST_SOURCE = `${REPO_ROOT}tests/fixtures/sources/test_source.ts:TestDataSource`;
const SECRET_SOURCE = `${REPO_ROOT}tests/fixtures/cli_secret_source.ts:SecretTokenSource`;
const SAMPLE = `${REPO_ROOT}sources/dir/sample`;
const CONNECTORS = ".elastic-connectors";
const JOBS = ".elastic-connectors-sync-jobs";

/** A config file for the test node with the fixture sources and the given connectors. */
async function writeConfig(
  connectors: { id: string; type: string }[] = [],
  service: Record<string, number> = {},
): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "cli-cmd-", suffix: ".yml" });
  const lines = [
    "elasticsearch:",
    `  host: ${esUrl()}`,
    "  max_wait_duration: 30",
    "service:",
    "  idling: 1",
    "  progress_interval: 1",
    "  job_heartbeat_interval: 1",
    ...Object.entries(service).map(([key, value]) => `  ${key}: ${value}`),
    "sources:",
    `  test: ${TEST_SOURCE}`,
    `  secret: ${SECRET_SOURCE}`,
  ];
  if (connectors.length === 0) lines.push("connectors: []");
  else {
    lines.push("connectors:");
    for (const { id, type } of connectors) {
      lines.push(`  - connector_id: ${id}`, `    service_type: ${type}`);
    }
  }
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  return file;
}

function cli(config: string, args: string[], stdin?: string): Promise<CliResult> {
  return runCli(["-c", config, ...args], stdin === undefined ? {} : { stdin });
}

async function status(method: string, path: string): Promise<number> {
  const response = await fetch(`${esUrl()}/${path}`, { method });
  await response.body?.cancel();
  return response.status;
}

async function indexExists(index: string): Promise<boolean> {
  return await status("HEAD", index) === 200;
}

/** A connector document, or undefined. */
async function connectorDoc(id: string): Promise<Record<string, unknown> | undefined> {
  try {
    const doc = await esJson<{ found: boolean; _source?: Record<string, unknown> }>(
      "GET",
      `${CONNECTORS}/_doc/${encodeURIComponent(id)}`,
    );
    return doc.found ? doc._source : undefined;
  } catch (error) {
    if (/HTTP 404/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Documents of `index` (or alias) matching `query`; 0 when the index does not exist. */
async function count(index: string, query: unknown = { match_all: {} }): Promise<number> {
  try {
    await esJson("POST", `${index}/_refresh`);
    return (await esJson<{ count: number }>("POST", `${index}/_count`, { query })).count;
  } catch (error) {
    if (/HTTP 404/.test((error as Error).message)) return 0;
    throw error;
  }
}

function connectorsUsing(index: string): Promise<number> {
  return count(CONNECTORS, { term: { index_name: index } });
}

function jobsOf(connectorId: string): Promise<number> {
  return count(JOBS, { term: { "connector.id": connectorId } });
}

function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON:\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

/** Creates a connector through the CLI; returns its id. */
async function createConnector(
  config: string,
  args: string[],
): Promise<{ id: string; index: string }> {
  const id = uniqueName("cli-conn");
  const index = uniqueName("search-cli");
  const result = await cli(config, [
    "connector",
    "create",
    "--id",
    id,
    "--index-name",
    index,
    "--json",
    ...args,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(parseJson(result).id, id);
  return { id, index };
}

Deno.test("connector create writes a connector the way Kibana does, and its content index", async () => {
  const config = await writeConfig();
  const id = uniqueName("cli-dir");
  const index = uniqueName("search-cli-dir");
  const result = await cli(config, [
    "connector",
    "create",
    "--service-type",
    "dir",
    "--index-name",
    index,
    "--id",
    id,
    "--name",
    "My docs",
    "--index-language",
    "en",
    "--config",
    `directory=${SAMPLE}`,
    "--config",
    "pattern=**/*.md",
    "--schedule",
    "0 0 * * * ?",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`Created connector ${id} .*status: configured`));
  assert.match(result.stdout, /connector_id: /, "the text tells how to serve it");
  const doc = await connectorDoc(id);
  assert.ok(doc, "the connector document exists");
  assert.equal(doc.status, "configured");
  assert.equal(doc.name, "My docs");
  assert.equal(doc.index_name, index);
  assert.equal(doc.service_type, "dir");
  assert.equal(doc.language, "en");
  assert.equal(doc.is_native, false);
  assert.equal(doc.sync_now, false);
  assert.equal(doc.error, null);
  assert.equal(doc.last_sync_status, null);
  assert.equal(doc.last_seen, null);
  assert.deepEqual(doc.custom_scheduling, {});
  const scheduling = doc.scheduling as Record<string, { enabled: boolean; interval: string }>;
  assert.deepEqual(scheduling.full, { enabled: true, interval: "0 0 * * * ?" });
  assert.deepEqual(scheduling.incremental, { enabled: false, interval: "0 0 0 * * ?" });
  const filtering = doc.filtering as {
    domain: string;
    active: { rules: { id: string; rule: string; value: string }[]; validation: { state: string } };
  }[];
  assert.equal(filtering[0]?.domain, "DEFAULT");
  assert.equal(filtering[0]?.active.rules[0]?.id, "DEFAULT");
  assert.equal(filtering[0]?.active.validation.state, "valid");
  const configuration = doc.configuration as Record<string, { value: unknown; label: string }>;
  assert.equal(configuration.directory?.value, SAMPLE);
  assert.equal(configuration.pattern?.value, "**/*.md");
  assert.equal(configuration.max_text_size?.value, 1048576, "schema defaults are filled");
  const features = doc.features as { incremental_sync: { enabled: boolean } };
  assert.equal(features.incremental_sync.enabled, true, "features of the source class");
  assert.equal(typeof (doc.pipeline as { name: string }).name, "string");
  assert.ok(await indexExists(index), "the content index was created");
});

Deno.test("connector create --json and --update-config add the connector to the config file", async () => {
  const config = await writeConfig();
  const before = await Deno.readTextFile(config);
  const { id, index } = await createConnector(config, [
    "--service-type",
    "test",
    "--config",
    "prefix=doc",
    "--update-config",
  ]);
  const after = await Deno.readTextFile(config);
  assert.ok(after.includes(`- connector_id: ${id}`), after);
  assert.ok(after.includes("service_type: test"), after);
  assert.ok(after.includes(`  test: ${TEST_SOURCE}`), "the rest of the file is kept");
  assert.notEqual(before, after);
  const listed = await cli(config, ["--action", "list"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.includes(id), listed.stdout);
  assert.equal((await connectorDoc(id))?.index_name, index);
});

Deno.test("--action list prints least-privilege flags that include a dir connector's folder", async () => {
  const config = await writeConfig();
  const folder = await Deno.makeTempDir({ prefix: "list-flags-" });
  const { id } = await createConnector(config, [
    "--service-type",
    "dir",
    "--config",
    `directory=${folder}`,
    "--update-config",
  ]);
  const listed = await cli(config, ["--action", "list"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.includes(id), listed.stdout);
  const line = listed.stdout.split("\n").find((l) => l.startsWith("Least-privilege flags: "));
  const read = line?.split(" ").find((f) => f.startsWith("--allow-read="));
  assert.ok((read ?? "").split("=")[1]?.split(",").includes(folder), line);
  await Deno.remove(folder);
});

Deno.test("connector create --update-config without write permission fails before writing", async () => {
  const config = await writeConfig();
  const before = await Deno.readTextFile(config);
  const index = uniqueName("search-cli-nowrite");
  // The permission flags of `deno task start`, which grant no write access.
  const task = JSON.parse(await Deno.readTextFile(DENO_JSON)).tasks.start.command as string;
  const flags = task.split(" ").filter((word) => word.startsWith("--allow-"));
  const { code, stderr } = await runDeno([
    "run",
    ...flags,
    `--config=${DENO_JSON}`,
    MAIN_TS,
    "-c",
    config,
    "connector",
    "create",
    "--service-type",
    "test",
    "--index-name",
    index,
    "--config",
    "prefix=doc",
    "--update-config",
  ]);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /Cannot update config file .*no write permission.*--allow-write=/);
  assert.equal(await indexExists(index), false, "no content index was created");
  assert.equal(await Deno.readTextFile(config), before);
});

Deno.test("connector create with bad input: a clear error, the exit code, nothing written", async () => {
  const config = await writeConfig();
  const used = await createConnector(config, ["--service-type", "test", "--config", "prefix=a"]);
  const cases: { args: string[]; code: number; error: RegExp; index?: string }[] = [
    {
      args: ["--service-type", "nosuch"],
      code: 1,
      error: /Cannot load source "nosuch": unknown service type.*known: .*dir/,
    },
    { args: [], code: 2, error: /missing required option --service-type/ },
    {
      args: ["--service-type", "test"],
      code: 2,
      error: /missing value for required configuration field 'Prefix' \(prefix\)/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix=a", "--schedule", "0 61 * * * ?"],
      code: 2,
      error: /--schedule: Invalid cron expression "0 61 \* \* \* \?": .*minute/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix=a", "--config", "nope=1"],
      code: 2,
      error: /unknown configuration key 'nope' for service type test/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix=a", "--bogus"],
      code: 2,
      error: /unknown option --bogus/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix"],
      code: 2,
      error: /--config takes KEY=VALUE, got 'prefix'/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix=Not Valid"],
      code: 1,
      error: /invalid configuration: 'Prefix' \(prefix\) value 'Not Valid' failed regex check/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix=a", "--index-language", "xx"],
      code: 2,
      error: /--index-language: invalid choice: 'xx'/,
    },
    {
      args: ["--service-type", "test", "--config", "prefix=a"],
      code: 2,
      error: /invalid index name 'Bad Name'/,
      index: "Bad Name",
    },
    {
      args: ["--service-type", "test", "--config", "prefix=a"],
      code: 1,
      error: new RegExp(`Index ${used.index} is already used by connector ${used.id}`),
      index: used.index,
    },
  ];
  for (const { args, code, error, index: givenIndex } of cases) {
    const id = uniqueName("cli-bad");
    const index = givenIndex ?? uniqueName("search-cli-bad");
    const usersBefore = await connectorsUsing(index);
    const result = await cli(config, [
      "connector",
      "create",
      "--id",
      id,
      "--index-name",
      index,
      ...args,
    ], "");
    const what = `connector create ${args.join(" ")}`;
    assert.equal(result.code, code, `${what}: ${result.stderr}`);
    assert.match(result.stderr, error, what);
    assert.match(result.stderr, /^elastic-ingest: error: /m, what);
    assert.equal(await connectorDoc(id), undefined, `${what}: no connector written`);
    assert.equal(await connectorsUsing(index), usersBefore, `${what}: no connector written`);
    if (givenIndex === undefined) {
      assert.equal(await indexExists(index), false, `${what}: no index created`);
    }
  }
  // An id that exists: refused, the existing connector is unchanged.
  const again = await cli(config, [
    "connector",
    "create",
    "--id",
    used.id,
    "--index-name",
    uniqueName("search-cli-dup"),
    "--service-type",
    "test",
    "--config",
    "prefix=b",
  ]);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, new RegExp(`Connector ${used.id} already exists`));
  assert.equal((await connectorDoc(used.id))?.index_name, used.index);
});

Deno.test("connector list and show, text and JSON, never print a sensitive value", async () => {
  const config = await writeConfig();
  const secret = `Sup3r-${crypto.randomUUID()}`;
  const { id, index } = await createConnector(config, [
    "--service-type",
    "test",
    "--name",
    "Listed",
    "--config",
    "prefix=doc",
    "--config",
    `secret=${secret}`,
  ]);
  const stored = (await connectorDoc(id))?.configuration as Record<string, { value: unknown }>;
  assert.equal(stored.secret?.value, secret, "the value is stored for the service");

  const list = await cli(config, ["connector", "list"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ID\s+Name\s+Index name\s+Service type\s+Status/m);
  const row = list.stdout.split("\n").find((line) => line.startsWith(id));
  assert.ok(row, list.stdout);
  assert.match(row, new RegExp(`${id}\\s+Listed\\s+${index}\\s+test\\s+configured`));

  const listJson = await cli(config, ["connector", "list", "--json"]);
  assert.equal(listJson.code, 0, listJson.stderr);
  const all = parseJson<Record<string, unknown>[]>(listJson);
  const mine = all.find((c) => c.id === id);
  assert.ok(mine, "listed in JSON");
  assert.equal(mine.index_name, index);
  assert.equal(
    (mine.configuration as Record<string, { value: unknown }>).secret?.value,
    "*****",
  );

  const show = await cli(config, ["connector", "show", id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^ID:\\s+${id}$`, "m"));
  assert.match(show.stdout, /^Status:\s+configured$/m);
  assert.match(show.stdout, /^secret\s+Secret\s+\*\*\*\*\*$/m);
  assert.match(show.stdout, /^prefix\s+Prefix\s+doc$/m);

  const showJson = await cli(config, ["connector", "show", id, "--json"]);
  assert.equal(showJson.code, 0, showJson.stderr);
  const shown = parseJson(showJson);
  assert.equal(shown.id, id);
  assert.equal((shown.configuration as Record<string, { value: unknown }>).secret?.value, "*****");

  for (const result of [list, listJson, show, showJson]) {
    assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), "no secret");
  }

  const missing = await cli(config, ["connector", "show", "no-such-connector"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Connector no-such-connector does not exist/);
  const noId = await cli(config, ["connector", "show"]);
  assert.equal(noId.code, 2);
  assert.match(noId.stderr, /connector show: missing argument CONNECTOR_ID/);
});

Deno.test("connector delete: needs --yes without a terminal, removes the connector and its jobs", async () => {
  const config = await writeConfig();
  const { id, index } = await createConnector(config, [
    "--service-type",
    "test",
    "--config",
    "prefix=doc",
  ]);
  const started = await cli(config, ["job", "start", "-i", id, "--json"]);
  assert.equal(started.code, 0, started.stderr);
  assert.equal(await jobsOf(id), 1);

  const refused = await cli(config, ["connector", "delete", id], "");
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /connector delete: pass --yes/);
  assert.ok(await connectorDoc(id), "still there");

  const deleted = await cli(config, [
    "connector",
    "delete",
    id,
    "--yes",
    "--delete-sync-jobs",
    "--json",
  ]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(parseJson(deleted), { id, deleted: true, deleted_sync_jobs: 1 });
  assert.equal(await connectorDoc(id), undefined);
  assert.equal(await jobsOf(id), 0);
  assert.ok(await indexExists(index), "the content index is kept");

  const again = await cli(config, ["connector", "delete", id, "--yes"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`Connector ${id} does not exist`));
});

Deno.test("job start, list, show and cancel without a service, in text and JSON", async () => {
  const config = await writeConfig();
  const { id, index } = await createConnector(config, [
    "--service-type",
    "test",
    "--config",
    "prefix=doc",
  ]);

  const text = await cli(config, ["job", "start", "--connector-id", id, "--type", "full"]);
  assert.equal(text.code, 0, text.stderr);
  const jobId = /Started full sync job (\S+) for connector/.exec(text.stdout)?.[1];
  assert.ok(jobId, text.stdout);
  const json = await cli(config, ["job", "start", "-i", id, "-t", "full", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const second = parseJson(json);
  assert.equal(second.connector_id, id);
  assert.equal(second.status, "pending");
  const job = await esJson<{ _source: Record<string, unknown> }>("GET", `${JOBS}/_doc/${jobId}`);
  assert.equal(job._source.status, "pending");
  assert.equal(job._source.trigger_method, "on_demand");
  assert.equal(job._source.job_type, "full");
  const snapshot = job._source.connector as Record<string, unknown>;
  assert.equal(snapshot.id, id);
  assert.equal(snapshot.index_name, index);
  assert.equal(snapshot.service_type, "test");

  const list = await cli(config, ["job", "list", "-i", id]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^Job ID\s+Connector ID\s+Index name\s+Type\s+Status/m);
  assert.ok(list.stdout.includes(jobId) && list.stdout.includes(String(second.id)), list.stdout);
  const listJson = await cli(config, ["job", "list", id, "--json"]);
  assert.equal(listJson.code, 0, listJson.stderr);
  const jobs = parseJson<{ id: string; status: string }[]>(listJson);
  assert.deepEqual(jobs.map((j) => j.id).sort(), [jobId, String(second.id)].sort());

  const show = await cli(config, ["job", "show", jobId]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^Job ID:\\s+${jobId}$`, "m"));
  assert.match(show.stdout, /^Status:\s+pending$/m);
  const showJson = await cli(config, ["job", "show", jobId, "--json"]);
  assert.equal(parseJson(showJson).job_type, "full");

  const cancel = await cli(config, ["job", "cancel", jobId]);
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.match(cancel.stdout, new RegExp(`Sync job ${jobId} canceled`));
  const cancelJson = await cli(config, ["job", "cancel", String(second.id), "--json"]);
  assert.deepEqual(parseJson(cancelJson), { id: second.id, status: "canceled" });
  const after = await esJson<{ _source: Record<string, unknown> }>("GET", `${JOBS}/_doc/${jobId}`);
  assert.equal(after._source.status, "canceled");
  assert.ok(after._source.canceled_at, "canceled_at set");
  const canceledOnly = await cli(config, [
    "job",
    "list",
    "-i",
    id,
    "--status",
    "canceled",
    "--json",
  ]);
  assert.equal(parseJson<unknown[]>(canceledOnly).length, 2);

  const twice = await cli(config, ["job", "cancel", jobId]);
  assert.equal(twice.code, 1);
  assert.match(
    twice.stderr,
    new RegExp(`Cannot cancel sync job ${jobId}: it already ended \\(canceled\\)`),
  );
  for (const command of ["show", "cancel"]) {
    const unknown = await cli(config, ["job", command, "no-such-job"]);
    assert.equal(unknown.code, 1, command);
    assert.match(unknown.stderr, /Sync job no-such-job does not exist/);
  }
});

Deno.test("job start with bad input: a clear error, the exit code, no job written", async () => {
  const config = await writeConfig();
  const { id } = await createConnector(config, [
    "--service-type",
    "test",
    "--config",
    "prefix=doc",
  ]);
  const cases: { args: string[]; code: number; error: RegExp; connector: string }[] = [
    {
      args: ["-i", "no-such-connector"],
      code: 1,
      error: /connector no-such-connector does not exist/,
      connector: "no-such-connector",
    },
    {
      args: [],
      code: 2,
      error: /job start: missing required option --connector-id/,
      connector: id,
    },
    {
      args: ["-i", id, "-t", "sometimes"],
      code: 2,
      error: /--type: invalid choice: 'sometimes'/,
      connector: id,
    },
    {
      args: ["-i", id, "-t", "incremental"],
      code: 1,
      error: /does not support incremental syncs/,
      connector: id,
    },
    {
      args: ["-i", id, "-t", "access_control"],
      code: 1,
      error: /does not have document level security enabled/,
      connector: id,
    },
    { args: ["-i", id, "--timeout", "5"], code: 2, error: /need --wait/, connector: id },
    {
      args: ["-i", id, "--wait", "--timeout", "soon"],
      code: 2,
      error: /--timeout must be a positive number/,
      connector: id,
    },
  ];
  for (const { args, code, error, connector } of cases) {
    const before = await jobsOf(connector);
    const result = await cli(config, ["job", "start", ...args]);
    const what = `job start ${args.join(" ")}`;
    assert.equal(result.code, code, `${what}: ${result.stderr}`);
    assert.match(result.stderr, error, what);
    assert.equal(await jobsOf(connector), before, `${what}: no job written`);
  }
  const badLimit = await cli(config, ["job", "list", "--limit", "0"]);
  assert.equal(badLimit.code, 2);
  assert.match(badLimit.stderr, /--limit must be a whole number/);
});

Deno.test({
  name: "job start --wait: progress lines every --progress-interval seconds without a terminal",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const id = uniqueName("cli-wait");
    const failing = uniqueName("cli-fail");
    const config = await writeConfig([{ id, type: "test" }, { id: failing, type: "test" }]);
    await using service = startCli(["-c", config]);
    const index = uniqueName("search-cli-wait");
    const created = await cli(config, [
      "connector",
      "create",
      "--id",
      id,
      "--index-name",
      index,
      "--service-type",
      "test",
      "--config",
      "prefix=slow",
      "--config",
      "doc_count=16",
      "--config",
      "delay_ms=250",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const result = await cli(config, [
      "job",
      "start",
      "-i",
      id,
      "--wait",
      "--progress-interval",
      "1",
      "--timeout",
      "120",
    ]);
    assert.equal(result.code, 0, `${result.stderr}\n--- service\n${service.stderr()}`);
    assert.match(
      result.stdout,
      /^Sync job \S+ completed in \d+:\d\d: 16 indexed, 0 deleted, 16 documents in /m,
    );
    const lines = result.stderr.split("\n").filter((line) =>
      /\[INFO\] Sync job \S+: (\d+ indexed|waiting)/.test(line)
    );
    // The sync alone takes about 4 s; one line a second, whatever the document count.
    assert.ok(lines.length >= 3, `expected progress lines every second:\n${result.stderr}`);
    assert.ok(
      lines.some((line) =>
        /\d+ indexed, \d+ deleted, [\d.,]+ docs\/s, \d+:\d\d elapsed/.test(line)
      ),
      result.stderr,
    );
    assert.ok(
      lines.every((line) =>
        line.includes(`connector_id=${id}`) && line.includes("service_type=test")
      ),
      "every progress line names the connector and the service type",
    );
    assert.equal(await count(index), 16);

    // A job that fails: exit 1 and the job's error.
    const bad = await cli(config, [
      "connector",
      "create",
      "--id",
      failing,
      "--index-name",
      uniqueName("search-cli-fail"),
      "--service-type",
      "test",
      "--config",
      "prefix=bad",
      "--config",
      "fail_after=2",
    ]);
    assert.equal(bad.code, 0, bad.stderr);
    const failed = await cli(config, ["job", "start", "-i", failing, "--wait", "--timeout", "120"]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /^Sync job \S+ error/m);
    assert.match(failed.stderr, /ended error: /);
    service.kill("SIGTERM");
    const stopped = await service.output();
    assert.equal(stopped.code, 0, stopped.stderr);
  },
});

Deno.test({
  name: "--filebeat: ECS JSON lines about a job carry the connector id, job id and service type",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const id = uniqueName("cli-ecs");
    const config = await writeConfig([{ id, type: "test" }]);
    await using service = startCli(["-c", config, "--filebeat"]);
    const created = await cli(config, [
      "connector",
      "create",
      "--id",
      id,
      "--index-name",
      uniqueName("search-cli-ecs"),
      "--service-type",
      "test",
      "--config",
      "prefix=ecs",
      "--config",
      "doc_count=5",
      "--config",
      "delay_ms=300",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const result = await cli(config, [
      "--filebeat",
      "job",
      "start",
      "-i",
      id,
      "--wait",
      "--progress-interval",
      "1",
      "--timeout",
      "120",
    ]);
    assert.equal(result.code, 0, result.stderr);
    service.kill("SIGTERM");
    const served = await service.output();
    const jobId = /^Sync job (\S+) completed/m.exec(result.stdout)?.[1];
    assert.ok(jobId, result.stdout);
    const outputs: [string, string][] = [["job start", result.stderr], ["service", served.stderr]];
    for (const [name, text] of outputs) {
      const lines = text.split("\n").filter((line) => line.trim() !== "");
      assert.ok(lines.length > 0, `${name} wrote log lines`);
      const records = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`${name}: not a JSON line: ${line}`);
        }
      });
      for (const record of records) {
        assert.equal(typeof record["@timestamp"], "string");
        assert.equal(typeof record["log.level"], "string");
        assert.equal(typeof record.message, "string");
        assert.equal(typeof record["ecs.version"], "string");
      }
      const aboutJob: Record<string, unknown>[] = records.filter((r) =>
        r["labels.sync_job_id"] === jobId
      );
      assert.ok(aboutJob.length >= 2, `${name}: lines about job ${jobId}:\n${text}`);
      for (const record of aboutJob) {
        assert.equal(record["labels.connector_id"], id, JSON.stringify(record));
        assert.equal(record["labels.service_type"], "test", JSON.stringify(record));
      }
    }
  },
});

Deno.test("index list, clean and delete, text and JSON; confirmation without a terminal", async () => {
  const config = await writeConfig();
  const index = uniqueName("cli-index");
  const bulk = Array.from(
    { length: 25 },
    (_, i) => `{"index":{"_index":"${index}","_id":"d${i}"}}\n{"n":${i}}\n`,
  ).join("");
  await esJson("POST", "_bulk?refresh=true", bulk);

  const list = await cli(config, ["index", "list"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^Index name\s+Documents\s+Size\s+Connectors/m);
  assert.match(list.stdout, new RegExp(`^${index}\\s+25\\s`, "m"));
  assert.ok(!/^\.elastic-connectors/m.test(list.stdout), "system indices are not listed");
  const listJson = await cli(config, ["index", "list", "--json"]);
  const row = parseJson<{ index: string; document_count: number }[]>(listJson).find((r) =>
    r.index === index
  );
  assert.equal(row?.document_count, 25);

  const refused = await cli(config, ["index", "clean", index], "");
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /index clean: pass --yes to confirm/);
  assert.equal(await count(index), 25, "nothing deleted");

  const clean = await cli(config, ["index", "clean", index, "--yes"]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, new RegExp(`Deleted 25 documents from ${index}`));
  assert.equal(await count(index), 0);
  assert.ok(await indexExists(index), "the index itself stays");
  const cleanJson = await cli(config, ["index", "clean", index, "--yes", "--json"]);
  assert.deepEqual(parseJson(cleanJson), { index, deleted_document_count: 0 });

  const refusedDelete = await cli(config, ["index", "delete", index], "");
  assert.equal(refusedDelete.code, 2);
  assert.match(refusedDelete.stderr, /index delete: pass --yes to confirm/);
  assert.ok(await indexExists(index));
  const deleted = await cli(config, ["index", "delete", index, "--yes", "--json"]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(parseJson(deleted), { index, deleted: true });
  assert.equal(await indexExists(index), false);

  for (const command of ["clean", "delete"]) {
    const missing = await cli(config, ["index", command, index, "--yes"]);
    assert.equal(missing.code, 1, command);
    assert.match(missing.stderr, new RegExp(`Index ${index} does not exist`));
    const system = await cli(config, ["index", command, ".elastic-connectors", "--yes"]);
    assert.equal(system.code, 1, command);
    assert.match(system.stderr, /hidden or system index/);
  }
});

Deno.test("every command has --help; unknown commands and flags are usage errors", async () => {
  const config = await writeConfig();
  const commands = [
    ["connector", "create"],
    ["connector", "list"],
    ["connector", "show"],
    ["connector", "delete"],
    ["job", "start"],
    ["job", "list"],
    ["job", "show"],
    ["job", "cancel"],
    ["index", "list"],
    ["index", "clean"],
    ["index", "delete"],
    ["demo"],
  ];
  for (const command of commands) {
    const result = await cli(config, [...command, "--help"]);
    assert.equal(result.code, 0, `${command.join(" ")}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^usage: elastic-ingest ${command.join(" ")}\\b`));
    assert.match(result.stdout, /--json/);
  }
  const start = await cli(config, ["job", "start", "--help"]);
  assert.match(start.stdout, /-i, --connector-id ID/);
  assert.match(start.stdout, /-t, --type TYPE/);
  for (const group of ["connector", "job", "index"]) {
    const help = await cli(config, [group, "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`^usage: elastic-ingest ${group} \\{`));
    const bare = await cli(config, [group]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, new RegExp(`'${group}' needs a command`));
  }
  const cases: [string[], RegExp][] = [
    [["connector", "explode"], /unknown command 'connector explode'/],
    [["frobnicate", "now"], /unknown command 'frobnicate now'/],
    [["connector", "list", "--verbose"], /connector list: unknown option --verbose/],
    [["job", "show", "a", "b"], /job show: unexpected argument 'b'/],
    [["job", "start", "-i"], /job start: option --connector-id needs a value/],
    [["index", "list", "--json=yes"], /index list: option --json takes no value/],
  ];
  for (const [args, error] of cases) {
    const result = await cli(config, args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, error);
  }
});

const hasScript = await (async () => {
  try {
    const { success } = await new Deno.Command("script", { args: ["--version"] }).output();
    return success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: hasScript
    ? "connector create in a terminal asks for a missing sensitive value without echoing it"
    : "connector create in a terminal asks without echo (skipped: the `script` command that provides a terminal is missing)",
  ignore: !hasScript,
  fn: async () => {
    const config = await writeConfig();
    const id = uniqueName("cli-tty");
    const secret = `Tty-${crypto.randomUUID().slice(0, 8)}`;
    const command = [
      Deno.execPath(),
      "run",
      "-A",
      `--config=${REPO_ROOT}deno.json`,
      `${REPO_ROOT}main.ts`,
      "-c",
      config,
      "connector",
      "create",
      "--service-type",
      "secret",
      "--index-name",
      uniqueName("search-cli-tty"),
      "--id",
      id,
    ].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
    // `script` runs the command in a pseudo-terminal; what we write is what the user types.
    const child = new Deno.Command("script", {
      args: ["-qfec", command, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    let out = "";
    const reading = (async () => {
      for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    const errors = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    const deadline = Date.now() + 60_000;
    while (!out.includes("API token (token): ")) {
      if (Date.now() > deadline) throw new Error(`no prompt:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Give the prompt time to switch the terminal to raw mode before typing.
    await new Promise((r) => setTimeout(r, 500));
    await writer.write(new TextEncoder().encode(`${secret}\r`));
    const status = await child.status;
    await writer.close().catch(() => {});
    await reading;
    await errors;
    assert.equal(status.code, 0, out);
    assert.match(out, new RegExp(`Created connector ${id} .*status: configured`));
    assert.ok(!out.includes(secret), `the typed value is not echoed:\n${out}`);
    const stored = (await connectorDoc(id))?.configuration as Record<string, { value: unknown }>;
    assert.equal(stored.token?.value, secret);
    assert.equal(stored.greeting?.value, "hello", "optional fields are not asked for");
  },
});

Deno.test({
  name: "README 'Your own source': the example class, loaded by FQN, syncs a text file",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const readme = await Deno.readTextFile(`${REPO_ROOT}README.md`);
    const start = readme.indexOf("## Your own source");
    assert.ok(start >= 0, "the README has the section");
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(code, "the section has a TypeScript example");
    const fqn = /^ {2}lines: (\.\/my_sources\/lines\.ts:LinesDataSource)$/m.exec(section)?.[1];
    assert.ok(fqn, "the section names the class in `sources:`");

    const dir = await Deno.makeTempDir({ prefix: "own-source-" });
    await Deno.mkdir(`${dir}/my_sources`);
    await Deno.writeTextFile(`${dir}/my_sources/lines.ts`, code);
    await Deno.writeTextFile(`${dir}/notes.txt`, "alpha\n\nbeta\ngamma\n");
    const id = uniqueName("cli-lines");
    const config = `${dir}/config.yml`;
    await Deno.writeTextFile(
      config,
      [
        "elasticsearch:",
        `  host: ${esUrl()}`,
        "service:",
        "  idling: 1",
        "connectors:",
        `  - connector_id: ${id}`,
        "    service_type: lines",
        "sources:",
        `  lines: ${fqn}`,
        "",
      ].join("\n"),
    );
    await using service = startCli(["-c", config]);
    const index = uniqueName("search-lines");
    const created = await cli(config, [
      "connector",
      "create",
      "--service-type",
      "lines",
      "--index-name",
      index,
      "--config",
      `path=${dir}/notes.txt`,
      "--id",
      id,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const synced = await cli(config, ["job", "start", "-i", id, "--wait", "--timeout", "120"]);
    assert.equal(synced.code, 0, `${synced.stderr}\n--- service\n${service.stderr()}`);
    assert.match(synced.stdout, /completed in \d+:\d\d: 3 indexed, 0 deleted, 3 documents/);
    service.kill("SIGTERM");
    await service.output();
    await Deno.remove(dir, { recursive: true });
  },
});
