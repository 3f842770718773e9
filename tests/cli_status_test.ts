/**
 * `elastic-ingest status` against the real Elasticsearch: connectors in different states written
 * the way Kibana writes them (connected with a completed sync, in error, a stuck in-progress job,
 * pending jobs), text and JSON modes, exit codes 0 / 1 / 3, owned connectors versus `--all`.
 * Assertions look at this test's own connectors only: the shared cluster holds others.
 */
import assert from "node:assert/strict";
import { esUrl, runCli, uniqueName } from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";
import { createConnectorDoc, type Doc, Kibana } from "./fixtures/kibana.ts";
import { writeServiceConfig } from "./fixtures/protocol_setup.ts";

const SECRET = "s3cret-status-value";
const LONG_ERROR = `Cannot connect to the source: ${"the server said no ".repeat(12)}END-OF-ERROR`;

function ago(seconds: number): string {
  return new Date(Date.now() - seconds * 1000).toISOString();
}

interface Options {
  ids?: string[];
  serviceTypes?: string[];
  host?: string;
}

/** A config with the service's default heartbeat and idling, so the status thresholds are real. */
function writeConfig(options: Options): Promise<string> {
  return writeServiceConfig({
    connectors: (options.ids ?? []).map((id) => ({ id, serviceType: "test" })),
    ...(options.serviceTypes ? { serviceTypes: options.serviceTypes } : {}),
    ...(options.host ? { esHost: options.host } : {}),
    maxWaitDuration: 5,
    service: { heartbeat: 300, idling: 30, idle_job_timeout: 300 },
  });
}

function parseJson<T = Doc>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON:\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

/** The text row of a connector (a line starting with its id). */
function row(stdout: string, id: string): string {
  const line = stdout.split("\n").find((l) => l.startsWith(`${id} `));
  assert.ok(line, `no row for ${id} in:\n${stdout}`);
  return line.split(/ {2,}/).join(" | ");
}

/** A connector of the `test` source with a sensitive configuration value. */
function connectorDoc(overrides: Doc = {}): Doc {
  return {
    ...createConnectorDoc({ indexName: uniqueName("search-status"), serviceType: "test" }),
    configuration: {
      api_token: { label: "Token", sensitive: true, type: "str", value: SECRET },
    },
    status: "connected",
    ...overrides,
  };
}

interface Fixture {
  kibana: Kibana;
  connected: string;
  broken: string;
  stuck: string;
  waiting: string;
  stuckJob: string;
  workerType: string;
  byType: string;
  deleted: string;
}

/** Five connectors in different states plus a soft-deleted one. */
async function setUp(): Promise<Fixture> {
  const kibana = new Kibana();
  await kibana.ensureIndices();
  const connected = uniqueName("st-ok");
  const broken = uniqueName("st-err");
  const stuck = uniqueName("st-stuck");
  const waiting = uniqueName("st-wait");
  const byType = uniqueName("st-type");
  const deleted = uniqueName("st-del");
  const workerType = uniqueName("wtype").replace(/[-.]/g, "");
  await kibana.putConnector(
    connected,
    connectorDoc({
      last_seen: ago(12),
      last_sync_status: "completed",
      last_synced: ago(120),
      last_indexed_document_count: 5,
      scheduling: {
        full: { enabled: true, interval: "0 0 * * * ?" },
        incremental: { enabled: false, interval: "0 0 0 * * ?" },
        access_control: { enabled: false, interval: "0 0 0 * * ?" },
      },
    }),
  );
  await kibana.putConnector(
    broken,
    connectorDoc({ status: "error", error: LONG_ERROR, last_seen: ago(20) }),
  );
  await kibana.putConnector(
    stuck,
    connectorDoc({ last_seen: ago(7200), last_sync_status: "in_progress" }),
  );
  await kibana.putConnector(waiting, connectorDoc({ last_seen: ago(5) }));
  await kibana.putConnector(
    byType,
    connectorDoc({ service_type: workerType, last_seen: ago(1) }),
  );
  await kibana.putConnector(deleted, connectorDoc({ deleted: true }));
  // The stuck connector's job: claimed an hour ago, last heartbeat 40 minutes ago.
  const stuckJob = await kibana.startSync(stuck);
  await kibana.json("POST", `/.elastic-connectors-sync-jobs/_update/${stuckJob}?refresh=true`, {
    doc: {
      status: "in_progress",
      started_at: ago(3600),
      last_seen: ago(2400),
      worker_hostname: "host-a",
      indexed_document_count: 42,
      deleted_document_count: 3,
    },
  });
  await kibana.startSync(waiting);
  await kibana.startSync(waiting, { jobType: "incremental" });
  // A finished job is neither running nor pending.
  const done = await kibana.startSync(connected);
  await kibana.json("POST", `/.elastic-connectors-sync-jobs/_update/${done}?refresh=true`, {
    doc: { status: "completed", completed_at: ago(120) },
  });
  return {
    kibana,
    connected,
    broken,
    stuck,
    waiting,
    stuckJob,
    workerType,
    byType,
    deleted,
  };
}

const fixture = setUp();

Deno.test("status shows each owned connector's state in text, exit 3 for error and stuck job", async () => {
  const f = await fixture;
  const ghost = uniqueName("st-ghost");
  const config = await writeConfig({ ids: [f.connected, f.broken, f.stuck, f.waiting, ghost] });
  const result = await runCli(["-c", config, "status"]);
  assert.equal(result.code, 3, result.stderr);
  const out = result.stdout;
  assert.match(
    out,
    new RegExp(
      `^Elasticsearch: +${esUrl()} \\(\\d+\\.\\d+\\.\\d+, cluster \\S+, health (green|yellow)\\)$`,
      "m",
    ),
  );
  assert.match(
    out,
    /^System indices: +\.elastic-connectors ok, \.elastic-connectors-sync-jobs ok$/m,
  );
  // ID | Service type | Status | Last seen | Service | Running | Pending | Last sync | Next run
  assert.match(
    row(out, f.connected),
    /^\S+ \| test \| connected \| [\dms ]+ ago \| alive \| 0 \| 0 \| completed [\dms ]+ ago \| in [\dhms ]+ \(full\)$/,
  );
  assert.match(
    row(out, f.broken),
    /^\S+ \| test \| error \| [\dms ]+ ago \| alive \| 0 \| 0 \| never \| -$/,
  );
  assert.match(
    row(out, f.stuck),
    /^\S+ \| test \| connected \| 2h( \d+m)? ago \| stale \| 1 \| 0 \| in_progress \| -$/,
  );
  assert.match(
    row(out, f.waiting),
    /^\S+ \| test \| connected \| [\dms ]+ ago \| alive \| 0 \| 2 \| never \| -$/,
  );
  // Running jobs table: Connector | Job ID | Type | Status | Indexed | Deleted | Running for | Heartbeat
  assert.match(
    out,
    new RegExp(
      `^${f.stuck} +${f.stuckJob} +full +in_progress +42 +3 +1h( \\d+m)? +40m( \\d+s)? ago \\(stale\\)$`,
      "m",
    ),
  );
  const errorLine = out.split("\n").find((line) => line.startsWith(`  ${f.broken}: `));
  assert.ok(errorLine?.endsWith("..."), `error line is cut: ${errorLine}`);
  assert.ok(!out.includes("END-OF-ERROR"), "text mode truncates the error");
  assert.match(out, new RegExp(`Not found in \\.elastic-connectors .*: ${ghost}$`, "m"));
  assert.match(out, new RegExp(`Job ${f.stuckJob} of ${f.stuck} has sent no heartbeat`));
  assert.equal(
    out.trimEnd().split("\n").at(-1),
    "4 connectors, 1 running job, 2 pending, 1 in error, 1 stale job",
  );
  assert.ok(!out.includes(SECRET) && !result.stderr.includes(SECRET), "no secrets");
  assert.ok(!out.includes(f.deleted));
});

Deno.test("status --json: the same data with ISO times and ages in seconds", async () => {
  const f = await fixture;
  const config = await writeConfig({ ids: [f.connected, f.broken, f.stuck, f.waiting] });
  const result = await runCli(["-c", config, "status", "--json"]);
  assert.equal(result.code, 3, result.stderr);
  assert.ok(!result.stdout.includes(SECRET), "no secrets");
  const report = parseJson(result);
  assert.equal(report.scope, "owned");
  assert.equal(report.exit_code, 3);
  assert.equal(report.cluster.reachable, true);
  assert.equal(report.cluster.url, esUrl());
  assert.match(report.cluster.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(report.cluster.system_indices, {
    ".elastic-connectors": true,
    ".elastic-connectors-sync-jobs": true,
  });
  assert.deepEqual(report.thresholds, {
    service_stale_after_seconds: 630,
    idle_job_timeout_seconds: 300,
  });
  assert.deepEqual(
    report.connectors.map((c: Doc) => c.id),
    [f.connected, f.broken, f.stuck, f.waiting],
  );
  const [connected, broken, stuck, waiting] = report.connectors as Doc[];
  assert.equal(connected!.status, "connected");
  assert.equal(connected!.service, "alive");
  assert.ok(connected!.last_seen_age_seconds >= 12 && connected!.last_seen_age_seconds < 120);
  assert.equal(connected!.last_sync.status, "completed");
  assert.ok(!Number.isNaN(Date.parse(connected!.last_sync.at)));
  assert.equal(connected!.next_run.job_type, "full");
  assert.ok(connected!.next_run.in_seconds <= 3600);
  assert.deepEqual(connected!.running_jobs, []);
  assert.equal(connected!.pending_jobs, 0);
  assert.equal(broken!.error, LONG_ERROR, "JSON carries the whole error");
  assert.equal(connected!.error, null);
  assert.equal(stuck!.service, "stale");
  assert.equal(stuck!.running_jobs.length, 1);
  const job = stuck!.running_jobs[0];
  assert.equal(job.id, f.stuckJob);
  assert.equal(job.lane, "content");
  assert.equal(job.job_type, "full");
  assert.equal(job.status, "in_progress");
  assert.equal(job.worker_hostname, "host-a");
  assert.equal(job.indexed_document_count, 42);
  assert.equal(job.deleted_document_count, 3);
  assert.ok(job.running_seconds >= 3600 && job.running_seconds < 3700);
  assert.ok(job.last_seen_age_seconds >= 2400 && job.last_seen_age_seconds < 2500);
  assert.equal(job.stale, true);
  assert.equal(waiting!.pending_jobs, 2);
  assert.deepEqual(report.summary, {
    connectors: 4,
    running_jobs: 1,
    pending_jobs: 2,
    in_error: 1,
    stale_jobs: 1,
    healthy: false,
  });
  assert.equal(report.problems.length, 2);
  assert.match(report.problems[0], new RegExp(`connector ${f.broken} is in error`));
  assert.match(report.problems[1], new RegExp(`job ${f.stuckJob} of connector ${f.stuck}`));
});

Deno.test("status exits 0 when the owned connectors are fine, 3 for a stuck job alone", async () => {
  const f = await fixture;
  const healthy = await runCli([
    "-c",
    await writeConfig({ ids: [f.connected, f.waiting] }),
    "status",
  ]);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  assert.equal(
    healthy.stdout.trimEnd().split("\n").at(-1),
    "2 connectors, 0 running jobs, 2 pending, 0 in error",
  );
  const stuck = await runCli(["-c", await writeConfig({ ids: [f.stuck] }), "status", "--json"]);
  assert.equal(stuck.code, 3, stuck.stderr);
  const report = parseJson(stuck);
  assert.equal(report.summary.in_error, 0);
  assert.equal(report.summary.stale_jobs, 1);
});

Deno.test("status owns by service.service_types too; --all shows every connector not deleted", async () => {
  const f = await fixture;
  const config = await writeConfig({ ids: [f.connected], serviceTypes: [f.workerType] });
  const owned = parseJson(await runCli(["-c", config, "status", "--json"]));
  assert.deepEqual(owned.connectors.map((c: Doc) => c.id), [f.connected, f.byType]);
  assert.equal(owned.exit_code, 0);

  const all = await runCli(["-c", config, "status", "--all", "--json"]);
  // Our error connector is among them, so the exit code is 3 whatever else the cluster holds.
  assert.equal(all.code, 3, all.stderr);
  const report = parseJson(all);
  assert.equal(report.scope, "all");
  const ids = new Set(report.connectors.map((c: Doc) => c.id));
  for (const id of [f.connected, f.broken, f.stuck, f.waiting, f.byType]) {
    assert.ok(ids.has(id), `--all lists ${id}`);
  }
  assert.ok(!ids.has(f.deleted), "soft-deleted connectors are left out");
  assert.equal(report.connectors.find((c: Doc) => c.id === f.waiting).pending_jobs, 2);
  assert.ok(!all.stdout.includes(SECRET), "no secrets");

  const text = await runCli(["-c", config, "status", "--all"]);
  assert.equal(text.code, 3);
  assert.match(text.stdout, /^Connectors \(all in the index\):$/m);
  assert.match(row(text.stdout, f.broken), /\| error \|/);
});

Deno.test("status: an unreachable cluster exits 1 with a clear message", async () => {
  const config = await writeConfig({ ids: ["any"], host: "http://127.0.0.1:1" });
  const text = await runCli(["-c", config, "status"]);
  assert.equal(text.code, 1, text.stdout + text.stderr);
  assert.match(
    text.stderr,
    /error: Cannot reach Elasticsearch at http:\/\/127\.0\.0\.1:1: connection refused \(set elasticsearch\.host in .* or CONNECTORS_ES_HOST\)/,
  );
  assert.equal(text.stdout, "");
  const json = await runCli(["-c", config, "status", "--json"]);
  assert.equal(json.code, 1);
  const report = parseJson(json);
  assert.equal(report.cluster.reachable, false);
  assert.equal(report.cluster.url, "http://127.0.0.1:1");
  assert.match(report.cluster.error, /Cannot reach Elasticsearch/);
  assert.equal(report.exit_code, 1);
});

Deno.test("status --help documents the exit codes; a stray argument is a usage error", async () => {
  const config = await writeConfig({});
  const help = await runCli(["-c", config, "status", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: elastic-ingest status \[--all\] \[--json\]/);
  assert.match(help.stdout, /3 a connector shown is in error/);
  const top = await runCli(["--help"]);
  assert.match(top.stdout, /^ {2}status \[--all\] /m);
  const bad = await runCli(["-c", config, "status", "extra"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /status: unexpected argument 'extra'/);
});
