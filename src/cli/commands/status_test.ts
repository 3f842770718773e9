import assert from "node:assert/strict";
import { displayUrl } from "../../log/mod.ts";
import type { Connector } from "../../protocol/mod.ts";
import {
  ageSeconds,
  buildStatusReport,
  formatDuration,
  formatStatusText,
  oneLine,
  serviceState,
  STATUS_EXIT_UNHEALTHY,
  type StatusInput,
  summaryLine,
} from "./status.ts";

const NOW = new Date("2024-05-01T12:00:00Z");
const SERVICE = { heartbeat: 300, idling: 30, idle_job_timeout: 300 };

function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString();
}

function connector(id: string, doc: Record<string, unknown>): Connector {
  return {
    id,
    seqNo: 0,
    primaryTerm: 1,
    doc: {
      name: id,
      service_type: "test",
      index_name: `search-${id}`,
      status: "connected",
      error: null,
      last_seen: null,
      last_sync_status: null,
      last_sync_error: null,
      last_synced: null,
      last_access_control_sync_status: null,
      last_access_control_sync_error: null,
      scheduling: {},
      configuration: { password: { sensitive: true, value: "s3cret-value" } },
      ...doc,
    } as never,
  };
}

function input(overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    url: "http://elastic:pw-in-url@localhost:9200",
    cluster: { version: "9.2.4", major: 9, clusterName: "es", status: "green" },
    systemIndices: { ".elastic-connectors": true, ".elastic-connectors-sync-jobs": true },
    scope: "owned",
    connectors: [],
    missingConnectors: [],
    runningJobs: [],
    pendingByConnector: new Map(),
    service: SERVICE,
    now: NOW,
    ...overrides,
  };
}

Deno.test("formatDuration: at most two units, no trailing zero unit", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(-5), "0s");
  assert.equal(formatDuration(59.9), "59s");
  assert.equal(formatDuration(60), "1m");
  assert.equal(formatDuration(3600), "1h");
  assert.equal(formatDuration(3601), "1h");
  assert.equal(formatDuration(3660), "1h 1m");
  assert.equal(formatDuration(86400 + 59), "1d");
  assert.equal(formatDuration(90061), "1d 1h");
});

Deno.test("ageSeconds: null for absent or invalid times, never negative", () => {
  assert.equal(ageSeconds(ago(12), NOW), 12);
  assert.equal(ageSeconds(undefined, NOW), null);
  assert.equal(ageSeconds("not a date", NOW), null);
  assert.equal(ageSeconds(new Date(NOW.getTime() + 5000).toISOString(), NOW), 0);
});

Deno.test("serviceState: alive up to 2 x heartbeat + idling, stale beyond, never without last_seen", () => {
  assert.equal(serviceState(0, SERVICE), "alive");
  // A live service writes last_seen once per heartbeat: 5 min old is normal.
  assert.equal(serviceState(300 + 30, SERVICE), "alive");
  assert.equal(serviceState(630, SERVICE), "alive");
  assert.equal(serviceState(631, SERVICE), "stale");
  assert.equal(serviceState(null, SERVICE), "never");
});

Deno.test("oneLine and displayUrl", () => {
  assert.equal(oneLine("x".repeat(20), 10), "xxxxxxx...");
  assert.equal(oneLine("short", 10), "short");
  assert.equal(displayUrl("http://u:p@h:9200"), "http://h:9200");
  assert.equal(displayUrl("https://h"), "https://h");
});

Deno.test("buildStatusReport: healthy connectors give exit code 0 and the counts", () => {
  const report = buildStatusReport(input({
    connectors: [
      connector("ok", {
        last_seen: ago(12),
        last_sync_status: "completed",
        last_synced: ago(300),
        scheduling: { full: { enabled: true, interval: "0 0 13 * * ?" } },
      }),
      connector("waiting", { last_seen: ago(5) }),
    ],
    pendingByConnector: new Map([["waiting", 2]]),
    runningJobs: [{
      id: "j1",
      doc: {
        connector: { id: "ok" } as never,
        job_type: "incremental",
        status: "in_progress",
        started_at: ago(120),
        last_seen: ago(4),
        indexed_document_count: 7,
      },
    }],
  }));
  assert.equal(report.exit_code, 0);
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.summary, {
    connectors: 2,
    running_jobs: 1,
    pending_jobs: 2,
    in_error: 0,
    stale_jobs: 0,
    healthy: true,
  });
  const ok = report.connectors[0]!;
  assert.equal(ok.service, "alive");
  assert.equal(ok.last_seen_age_seconds, 12);
  assert.deepEqual(ok.last_sync, {
    status: "completed",
    error: null,
    at: ago(300),
    age_seconds: 300,
  });
  assert.deepEqual(ok.next_run, {
    at: "2024-05-01T13:00:00.000Z",
    job_type: "full",
    in_seconds: 3600,
  });
  assert.equal(ok.running_jobs[0]!.lane, "content");
  assert.equal(ok.running_jobs[0]!.running_seconds, 120);
  assert.equal(ok.running_jobs[0]!.stale, false);
  assert.equal(report.cluster.url, "http://localhost:9200");
  assert.doesNotMatch(JSON.stringify(report), /s3cret-value|pw-in-url/);
});

Deno.test("buildStatusReport: an error connector or a job past idle_job_timeout gives exit 3", () => {
  const longError = `Cannot connect to the source: ${"detail ".repeat(40)}END`;
  const report = buildStatusReport(input({
    connectors: [
      connector("broken", { status: "error", error: longError, last_seen: ago(20) }),
      connector("stuck", { last_seen: ago(7200), last_sync_status: "in_progress" }),
      // A leftover error message on a connected connector is not an error.
      connector("recovered", { error: "old", last_seen: ago(1) }),
    ],
    runningJobs: [{
      id: "j-stuck",
      doc: {
        connector: { id: "stuck" } as never,
        job_type: "full",
        status: "in_progress",
        started_at: ago(3600),
        last_seen: ago(301),
      },
    }],
  }));
  assert.equal(report.exit_code, STATUS_EXIT_UNHEALTHY);
  assert.equal(report.summary.in_error, 1);
  assert.equal(report.summary.stale_jobs, 1);
  assert.equal(report.summary.healthy, false);
  assert.equal(report.connectors[0]!.error, longError, "JSON keeps the whole error");
  assert.equal(report.connectors[1]!.service, "stale");
  assert.equal(report.connectors[2]!.error, null);
  assert.equal(report.problems.length, 2);
  assert.match(report.problems[1]!, /job j-stuck of connector stuck .* 5m 1s/);

  const text = formatStatusText(report, "config.yml");
  const errorLine = text.split("\n").find((line) => line.startsWith("  broken: "))!;
  assert.ok(errorLine.endsWith("..."), errorLine);
  assert.ok(errorLine.length < longError.length);
  assert.match(text, /^stuck +j-stuck +full +in_progress +0 +0 +1h +5m 1s ago \(stale\)$/m);
  assert.equal(
    text.split("\n").at(-1),
    "3 connectors, 1 running job, 0 pending, 1 in error, 1 stale job",
  );
});

Deno.test("buildStatusReport: a running job without heartbeat counts from its start", () => {
  const report = buildStatusReport(input({
    connectors: [connector("c", { last_seen: ago(1) })],
    runningJobs: [{
      id: "j",
      doc: { connector: { id: "c" } as never, status: "canceling", started_at: ago(400) },
    }],
  }));
  assert.equal(report.connectors[0]!.running_jobs[0]!.last_seen_age_seconds, null);
  assert.equal(report.connectors[0]!.running_jobs[0]!.stale, true);
  assert.equal(report.exit_code, STATUS_EXIT_UNHEALTHY);
});

Deno.test("formatStatusText: rows, missing connectors, no configuration values", () => {
  const report = buildStatusReport(input({
    connectors: [
      connector("c1", {
        last_seen: ago(12),
        last_sync_status: "completed",
        last_synced: ago(90),
      }),
      connector("acl-only", { last_access_control_sync_status: "completed", last_synced: ago(60) }),
    ],
    missingConnectors: ["ghost"],
    pendingByConnector: new Map([["c1", 3]]),
  }));
  const text = formatStatusText(report, "my.yml");
  assert.match(text, /^Connectors \(owned by my\.yml\):$/m);
  assert.match(text, /^c1 +test +connected +12s ago +alive +0 +3 +completed 1m 30s ago +-$/m);
  assert.match(
    text,
    /^acl-only +test +connected +- +never +0 +0 +completed \(access control\) 1m ago/m,
  );
  assert.match(text, /Not found in \.elastic-connectors .*my\.yml.*: ghost/);
  assert.doesNotMatch(text, /s3cret-value|pw-in-url/);
  assert.equal(summaryLine(report.summary), text.split("\n").at(-1));
});

Deno.test("formatStatusText: a privilege problem is one line before the summary", () => {
  const report = buildStatusReport(input({ connectors: [connector("c1", { last_seen: ago(5) })] }));
  report.privileges = {
    checked: true,
    credentials: "user reader (elasticsearch.username)",
    missing: ["index privilege write on .elastic-connectors"],
    can_write: false,
  };
  const text = formatStatusText(report, "my.yml");
  assert.match(
    text,
    /^Privileges: the service cannot write its system indices as user reader \(elasticsearch\.username\): it lacks index privilege write on \.elastic-connectors$/m,
  );
  assert.equal(summaryLine(report.summary), text.split("\n").at(-1));
  report.privileges = {
    checked: true,
    credentials: "user bot (elasticsearch.username)",
    missing: ["cluster privilege manage_connector"],
    can_write: true,
  };
  assert.match(
    formatStatusText(report, "my.yml"),
    /^Privileges: user bot \(elasticsearch\.username\) lacks privileges Elastic documents for a connector service: cluster privilege manage_connector$/m,
  );
  report.privileges = { checked: false, credentials: "", missing: [], can_write: true };
  assert.doesNotMatch(formatStatusText(report, "my.yml"), /Privileges:/);
});
