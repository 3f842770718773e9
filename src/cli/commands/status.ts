/**
 * `elastic-ingest status`: is the deployment healthy and what is it doing, in one screen. The
 * cluster (URL, version, health, system indices), then each connector the config owns (or every
 * one with `--all`): status, service check-in age, running jobs per lane, pending jobs, last sync
 * and next scheduled run; then one summary line. Exit code 3 flags a connector in `error` or a
 * running job whose heartbeat is older than `service.idle_job_timeout`, for monitoring scripts.
 * A handful of Elasticsearch requests in all, whatever the number of connectors.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import type { Config } from "../../config/mod.ts";
import { errorMessage, FatalError } from "../../errors/mod.ts";
import { displayUrl, redact } from "../../log/mod.ts";
import type { ClusterInfo } from "../../es/mod.ts";
import { AdminRepository, ConnectorRepository, isNotFound, laneOf } from "../../protocol/mod.ts";
import type { Connector, JobStatus, SyncJobDoc } from "../../protocol/mod.ts";
import { CONNECTORS_INDEX, JOBS_INDEX } from "../../protocol/types.ts";
import type { JobType, SyncLane } from "../../protocol/types.ts";
import { findOwnedConnectors } from "../../service/owned_connectors.ts";
import { nextScheduledRun } from "../../service/scheduling_service.ts";
import { formatCount } from "../progress.ts";
import type { CommandEnv } from "./_env.ts";
import { booleanFlag, type CommandSpec, JSON_FLAG, type ParsedCommand } from "./_flags.ts";
import { formatFields, formatTable } from "../output.ts";
import { checkPrivileges, type PrivilegeReport, privilegeSentences } from "./_privileges.ts";

/** Exit code of `status` when a connector is in `error` or a running job stopped heartbeating. */
export const STATUS_EXIT_UNHEALTHY = 3;
/** Characters of a connector error shown in text mode (JSON carries it whole). */
export const STATUS_ERROR_WIDTH = 100;
/** Running jobs read at most per connector shown (one per lane is normal; room for strays). */
const RUNNING_JOBS_PER_CONNECTOR = 4;
/** Upper bound of the running-jobs page, whatever the number of connectors. */
const MAX_RUNNING_JOBS = 1000;

const RUNNING_STATUSES: readonly JobStatus[] = ["in_progress", "canceling"];
// Suspended jobs wait to be claimed again, like pending ones (spec §3.1).
const WAITING_STATUSES: readonly JobStatus[] = ["pending", "suspended"];

/** Flags of `status`. */
export const STATUS: CommandSpec = {
  group: "status",
  name: "",
  summary: "Show whether the deployment is healthy and what it is doing: the cluster " +
    "(URL, version, health, system indices), each connector the config owns (status, last " +
    "check-in of its service, running jobs, pending jobs, last sync, next scheduled run, error) " +
    "and a summary line. Configuration values are never shown.",
  flags: [
    {
      name: "all",
      type: "boolean",
      help: "every connector in the index (not soft-deleted), not only those the config owns",
    },
    JSON_FLAG,
  ],
  epilog: "service column: alive when the connector's last_seen is at most " +
    "2 x service.heartbeat + service.idling old (the service checks in once per heartbeat), " +
    "stale beyond, never when no service has checked in.\n\n" +
    "exit codes: 0 healthy; 1 cluster unreachable (or a request refused); 2 usage error; " +
    `${STATUS_EXIT_UNHEALTHY} a connector shown is in error, or a running job's heartbeat is ` +
    "older than service.idle_job_timeout.",
};

/** Whether a service checks the connector in: `alive`, `stale` or `never` (no `last_seen`). */
export type ServiceState = "alive" | "stale" | "never";

/** A running (or canceling) job as `status` reports it. */
export interface RunningJobStatus {
  id: string;
  job_type: JobType;
  lane: SyncLane;
  status: JobStatus;
  trigger_method: string | null;
  worker_hostname: string | null;
  indexed_document_count: number;
  deleted_document_count: number;
  started_at: string | null;
  running_seconds: number | null;
  last_seen: string | null;
  last_seen_age_seconds: number | null;
  /** The heartbeat is older than `service.idle_job_timeout`. */
  stale: boolean;
}

/** One connector as `status` reports it. */
export interface ConnectorStatusEntry {
  id: string;
  name: string | null;
  service_type: string | null;
  index_name: string | null;
  status: string | null;
  /** The connector's `error` (only when its status is `error`). */
  error: string | null;
  last_seen: string | null;
  last_seen_age_seconds: number | null;
  service: ServiceState;
  running_jobs: RunningJobStatus[];
  pending_jobs: number;
  last_sync: {
    status: string | null;
    error: string | null;
    at: string | null;
    age_seconds: number | null;
  };
  last_access_control_sync: { status: string | null; error: string | null };
  next_run: { at: string; job_type: JobType; in_seconds: number } | null;
  invalid_schedules: { job_type: JobType; message: string }[];
}

/** What `status --json` prints. */
export interface StatusReport {
  generated_at: string;
  cluster: {
    url: string;
    reachable: boolean;
    version: string | null;
    cluster_name: string | null;
    health: string | null;
    system_indices: Record<string, boolean>;
    error?: string;
  };
  /** `owned` (the config's connectors) or `all` (`--all`). */
  scope: "owned" | "all";
  /** Seconds of the thresholds used, from the config. */
  thresholds: { service_stale_after_seconds: number; idle_job_timeout_seconds: number };
  connectors: ConnectorStatusEntry[];
  /** Ids under `connectors:` in the config with no (or a soft-deleted) document. */
  missing_connectors: string[];
  summary: {
    connectors: number;
    running_jobs: number;
    pending_jobs: number;
    in_error: number;
    stale_jobs: number;
    healthy: boolean;
  };
  /** Why the exit code is not 0, one sentence each. */
  problems: string[];
  /** The configured credentials' privileges (`_has_privileges`); absent when not read. */
  privileges?: PrivilegeReport;
  exit_code: number;
}

/**
 * A duration in seconds as at most two units: `12s`, `5m 3s`, `3h 4m`, `2d 3h`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./status.ts";
 * assert.equal(formatDuration(12.4), "12s");
 * assert.equal(formatDuration(303), "5m 3s");
 * assert.equal(formatDuration(3 * 3600 + 240), "3h 4m");
 * assert.equal(formatDuration(2 * 86400 + 3 * 3600 + 59), "2d 3h");
 * ```
 */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const units: [string, number][] = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts: string[] = [];
  let rest = total;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return "0s";
  // "5m 0s" reads as noise: drop a trailing zero unit.
  if (parts.length === 2 && parts[1]!.startsWith("0")) parts.pop();
  return parts.join(" ");
}

/**
 * An age as `12s ago` (`-` when unknown).
 *
 * @example
 * ```ts
 * import { formatAge } from "./status.ts";
 * if (formatAge(75) !== "1m 15s ago" || formatAge(null) !== "-") throw new Error();
 * ```
 */
export function formatAge(seconds: number | null): string {
  return seconds === null ? "-" : `${formatDuration(seconds)} ago`;
}

/**
 * Seconds from an ISO time to `now` (null when absent or invalid; never negative, so a small
 * clock skew between hosts reads as "0s ago").
 *
 * @example
 * ```ts
 * import { ageSeconds } from "./status.ts";
 * const now = new Date("2024-05-01T10:00:30Z");
 * if (ageSeconds("2024-05-01T10:00:00Z", now) !== 30 || ageSeconds(null, now) !== null) {
 *   throw new Error();
 * }
 * ```
 */
export function ageSeconds(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.round((now.getTime() - at) / 1000));
}

/**
 * Seconds after which a connector's `last_seen` means no service checks it in: a live service
 * writes it only once per `service.heartbeat`, on a scheduling round every `service.idling`, so
 * twice the heartbeat plus one round.
 *
 * @example
 * ```ts
 * import { serviceStaleAfter } from "./status.ts";
 * if (serviceStaleAfter({ heartbeat: 300, idling: 30 }) !== 630) throw new Error();
 * ```
 */
export function serviceStaleAfter(service: { heartbeat: number; idling: number }): number {
  return 2 * service.heartbeat + service.idling;
}

/**
 * The service state of a connector from the age of its `last_seen`.
 *
 * @example
 * ```ts
 * import { serviceState } from "./status.ts";
 * const service = { heartbeat: 300, idling: 30 };
 * if (serviceState(400, service) !== "alive") throw new Error();
 * if (serviceState(700, service) !== "stale" || serviceState(null, service) !== "never") {
 *   throw new Error();
 * }
 * ```
 */
export function serviceState(
  age: number | null,
  service: { heartbeat: number; idling: number },
): ServiceState {
  if (age === null) return "never";
  return age <= serviceStaleAfter(service) ? "alive" : "stale";
}

/**
 * Text on one line, cut to `width` characters with `...`.
 *
 * @example
 * ```ts
 * import { oneLine } from "./status.ts";
 * if (oneLine("a\n  b", 10) !== "a b" || oneLine("abcdefghij", 8) !== "abcde...") throw new Error();
 * ```
 */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 3))}...` : flat;
}

/** A job as read by `status` (its configuration snapshot is never fetched). */
export interface StatusJob {
  id: string;
  doc: Partial<SyncJobDoc>;
}

/** Everything {@linkcode buildStatusReport} needs, read from Elasticsearch. */
export interface StatusInput {
  url: string;
  cluster: ClusterInfo;
  systemIndices: Record<string, boolean>;
  scope: "owned" | "all";
  connectors: readonly Connector[];
  missingConnectors: readonly string[];
  /** In-progress and canceling jobs of the connectors. */
  runningJobs: readonly StatusJob[];
  /** Pending and suspended jobs by connector id. */
  pendingByConnector: ReadonlyMap<string, number>;
  service: Pick<Config["service"], "heartbeat" | "idling" | "idle_job_timeout">;
  now: Date;
}

function runningJobStatus(
  job: StatusJob,
  idleJobTimeout: number,
  now: Date,
): RunningJobStatus {
  const doc = job.doc;
  const jobType = doc.job_type ?? "full";
  // A job claimed without a heartbeat yet counts from its start.
  const heartbeat = doc.last_seen ?? doc.started_at ?? doc.created_at ?? null;
  const heartbeatAge = ageSeconds(heartbeat, now);
  return {
    id: job.id,
    job_type: jobType,
    lane: laneOf(jobType),
    status: doc.status ?? "in_progress",
    trigger_method: doc.trigger_method ?? null,
    worker_hostname: doc.worker_hostname ?? null,
    indexed_document_count: doc.indexed_document_count ?? 0,
    deleted_document_count: doc.deleted_document_count ?? 0,
    started_at: doc.started_at ?? null,
    running_seconds: ageSeconds(doc.started_at, now),
    last_seen: doc.last_seen ?? null,
    last_seen_age_seconds: ageSeconds(doc.last_seen, now),
    stale: heartbeatAge !== null && heartbeatAge > idleJobTimeout,
  };
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/**
 * The report `status` prints, from what was read: per-connector entries, the summary, the
 * problems and the exit code (0, or {@linkcode STATUS_EXIT_UNHEALTHY}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildStatusReport } from "./status.ts";
 * const now = new Date("2024-05-01T10:00:00Z");
 * const report = buildStatusReport({
 *   url: "http://localhost:9200",
 *   cluster: { version: "9.2.4", major: 9, clusterName: "es", status: "green" },
 *   systemIndices: { ".elastic-connectors": true, ".elastic-connectors-sync-jobs": true },
 *   scope: "owned",
 *   connectors: [{
 *     id: "c1", seqNo: 0, primaryTerm: 1,
 *     doc: { status: "error", error: "Cannot connect", last_seen: "2024-05-01T09:59:48Z" } as never,
 *   }],
 *   missingConnectors: [],
 *   runningJobs: [],
 *   pendingByConnector: new Map([["c1", 2]]),
 *   service: { heartbeat: 300, idling: 30, idle_job_timeout: 300 },
 *   now,
 * });
 * assert.equal(report.connectors[0]!.service, "alive");
 * assert.equal(report.connectors[0]!.last_seen_age_seconds, 12);
 * assert.equal(report.summary.pending_jobs, 2);
 * assert.equal(report.exit_code, 3);
 * assert.deepEqual(report.problems, ["connector c1 is in error: Cannot connect"]);
 * ```
 */
export function buildStatusReport(input: StatusInput): StatusReport {
  const { now, service } = input;
  const jobsByConnector = new Map<string, StatusJob[]>();
  for (const job of input.runningJobs) {
    const id = job.doc.connector?.id;
    if (id === undefined) continue;
    jobsByConnector.set(id, [...(jobsByConnector.get(id) ?? []), job]);
  }
  const problems: string[] = [];
  const connectors = input.connectors.map((connector): ConnectorStatusEntry => {
    const doc = connector.doc;
    const lastSeenAge = ageSeconds(doc.last_seen, now);
    const { next, invalid } = nextScheduledRun(doc, now);
    const running = (jobsByConnector.get(connector.id) ?? [])
      .map((job) => runningJobStatus(job, service.idle_job_timeout, now))
      .sort((a, b) => a.lane.localeCompare(b.lane) || a.id.localeCompare(b.id));
    const error = doc.status === "error" ? (doc.error ?? "(no message)") : null;
    if (error !== null) problems.push(`connector ${connector.id} is in error: ${error}`);
    for (const job of running) {
      if (!job.stale) continue;
      problems.push(
        `job ${job.id} of connector ${connector.id} has sent no heartbeat for ${
          formatDuration(job.last_seen_age_seconds ?? job.running_seconds ?? 0)
        } (service.idle_job_timeout is ${service.idle_job_timeout}s)`,
      );
    }
    return {
      id: connector.id,
      name: doc.name || null,
      service_type: doc.service_type ?? null,
      index_name: doc.index_name ?? null,
      status: doc.status ?? null,
      error,
      last_seen: doc.last_seen ?? null,
      last_seen_age_seconds: lastSeenAge,
      service: serviceState(lastSeenAge, service),
      running_jobs: running,
      pending_jobs: input.pendingByConnector.get(connector.id) ?? 0,
      last_sync: {
        status: doc.last_sync_status ?? null,
        error: doc.last_sync_error ?? null,
        at: doc.last_synced ?? null,
        age_seconds: ageSeconds(doc.last_synced, now),
      },
      last_access_control_sync: {
        status: doc.last_access_control_sync_status ?? null,
        error: doc.last_access_control_sync_error ?? null,
      },
      next_run: next
        ? {
          at: next.at.toISOString(),
          job_type: next.jobType,
          in_seconds: Math.max(0, Math.round((next.at.getTime() - now.getTime()) / 1000)),
        }
        : null,
      invalid_schedules: invalid.map((i) => ({ job_type: i.jobType, message: i.message })),
    };
  });
  const running = connectors.flatMap((c) => c.running_jobs);
  const exitCode = problems.length > 0 ? STATUS_EXIT_UNHEALTHY : 0;
  return {
    generated_at: now.toISOString(),
    cluster: {
      url: displayUrl(input.url),
      reachable: true,
      version: input.cluster.version,
      cluster_name: input.cluster.clusterName,
      health: input.cluster.status,
      system_indices: { ...input.systemIndices },
    },
    scope: input.scope,
    thresholds: {
      service_stale_after_seconds: serviceStaleAfter(service),
      idle_job_timeout_seconds: service.idle_job_timeout,
    },
    connectors,
    missing_connectors: [...input.missingConnectors],
    summary: {
      connectors: connectors.length,
      running_jobs: running.length,
      pending_jobs: connectors.reduce((sum, c) => sum + c.pending_jobs, 0),
      in_error: connectors.filter((c) => c.status === "error").length,
      stale_jobs: running.filter((job) => job.stale).length,
      healthy: exitCode === 0,
    },
    problems,
    exit_code: exitCode,
  };
}

/**
 * The summary line: `3 connectors, 1 running job, 2 pending, 1 in error`.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./status.ts";
 * const line = summaryLine({
 *   connectors: 3, running_jobs: 1, pending_jobs: 2, in_error: 1, stale_jobs: 0, healthy: false,
 * });
 * if (line !== "3 connectors, 1 running job, 2 pending, 1 in error") throw new Error(line);
 * ```
 */
export function summaryLine(summary: StatusReport["summary"]): string {
  const stale = summary.stale_jobs > 0 ? `, ${plural(summary.stale_jobs, "stale job")}` : "";
  return `${plural(summary.connectors, "connector")}, ${
    plural(summary.running_jobs, "running job")
  }, ${summary.pending_jobs} pending, ${summary.in_error} in error${stale}`;
}

function lastSyncText(entry: ConnectorStatusEntry): string {
  const { age_seconds } = entry.last_sync;
  // Only access-control jobs ran: last_synced is theirs (it is set by jobs of any type).
  const accessControl = entry.last_access_control_sync.status;
  const status = entry.last_sync.status ??
    (accessControl === null ? null : `${accessControl} (access control)`);
  if (status === null) return age_seconds === null ? "never" : formatAge(age_seconds);
  return age_seconds === null ? status : `${status} ${formatAge(age_seconds)}`;
}

function nextRunText(entry: ConnectorStatusEntry): string {
  const invalid = entry.invalid_schedules.length > 0
    ? `invalid cron (${entry.invalid_schedules.map((i) => i.job_type).join(", ")})`
    : "";
  const next = entry.next_run
    ? `in ${formatDuration(entry.next_run.in_seconds)} (${entry.next_run.job_type})`
    : "";
  return [next, invalid].filter(Boolean).join("; ") || "-";
}

/**
 * The text screen of a report (the JSON mode prints the report itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildStatusReport, formatStatusText } from "./status.ts";
 * const report = buildStatusReport({
 *   url: "http://localhost:9200",
 *   cluster: { version: "9.2.4", major: 9, clusterName: "es", status: "green" },
 *   systemIndices: { ".elastic-connectors": true, ".elastic-connectors-sync-jobs": false },
 *   scope: "all",
 *   connectors: [],
 *   missingConnectors: [],
 *   runningJobs: [],
 *   pendingByConnector: new Map(),
 *   service: { heartbeat: 300, idling: 30, idle_job_timeout: 300 },
 *   now: new Date(),
 * });
 * const text = formatStatusText(report, "config.yml");
 * assert.match(text, /^Elasticsearch: +http:\/\/localhost:9200 \(9\.2\.4, cluster es, health green\)/);
 * assert.match(text, /\.elastic-connectors-sync-jobs missing/);
 * assert.equal(text.split("\n").at(-1), "0 connectors, 0 running jobs, 0 pending, 0 in error");
 * ```
 */
export function formatStatusText(report: StatusReport, configFile: string): string {
  const { cluster } = report;
  const indices = Object.entries(cluster.system_indices)
    .map(([name, present]) => `${name} ${present ? "ok" : "missing"}`).join(", ");
  const out: string[] = [
    formatFields([
      [
        "Elasticsearch",
        `${cluster.url} (${cluster.version}, cluster ${cluster.cluster_name}, health ${cluster.health})`,
      ],
      ["System indices", indices],
    ]),
    "",
  ];
  const scope = report.scope === "all"
    ? "Connectors (all in the index):"
    : `Connectors (owned by ${configFile}):`;
  if (report.connectors.length === 0) {
    out.push(
      report.scope === "all"
        ? "No connectors in the index."
        : `No owned connectors found (see connectors: and service.service_types in ${configFile}, or use --all).`,
    );
  } else {
    out.push(
      scope,
      formatTable(
        [
          "ID",
          "Service type",
          "Status",
          "Last seen",
          "Service",
          "Running",
          "Pending",
          "Last sync",
          "Next run",
        ],
        report.connectors.map((entry) => [
          entry.id,
          entry.service_type,
          entry.status,
          formatAge(entry.last_seen_age_seconds),
          entry.service,
          entry.running_jobs.length,
          entry.pending_jobs,
          lastSyncText(entry),
          nextRunText(entry),
        ]),
      ),
    );
  }
  const running = report.connectors.flatMap((entry) =>
    entry.running_jobs.map((job) => ({ connector: entry.id, job }))
  );
  if (running.length > 0) {
    out.push(
      "",
      "Running jobs:",
      formatTable(
        [
          "Connector",
          "Job ID",
          "Type",
          "Status",
          "Indexed",
          "Deleted",
          "Running for",
          "Heartbeat",
        ],
        running.map(({ connector, job }) => [
          connector,
          job.id,
          job.job_type,
          job.status,
          formatCount(job.indexed_document_count),
          formatCount(job.deleted_document_count),
          job.running_seconds === null ? "-" : formatDuration(job.running_seconds),
          `${job.last_seen_age_seconds === null ? "never" : formatAge(job.last_seen_age_seconds)}${
            job.stale ? " (stale)" : ""
          }`,
        ]),
      ),
    );
  }
  const errors = report.connectors.filter((entry) => entry.error !== null);
  if (errors.length > 0) {
    out.push("", "Errors:");
    for (const entry of errors) {
      out.push(`  ${entry.id}: ${oneLine(entry.error!, STATUS_ERROR_WIDTH)}`);
    }
  }
  if (report.missing_connectors.length > 0) {
    out.push(
      "",
      `Not found in ${CONNECTORS_INDEX} (listed under connectors: in ${configFile}): ${
        report.missing_connectors.join(", ")
      }`,
    );
  }
  const stale = report.connectors.flatMap((entry) =>
    entry.running_jobs.filter((job) => job.stale).map((job) => ({ connector: entry.id, job }))
  );
  if (stale.length > 0) {
    out.push("");
    for (const { connector, job } of stale) {
      out.push(
        `Job ${job.id} of ${connector} has sent no heartbeat for longer than service.idle_job_timeout (${report.thresholds.idle_job_timeout_seconds}s): is its service still running?`,
      );
    }
  }
  const access = report.privileges && privilegeSentences(report.privileges);
  if (access?.problem || access?.note) out.push("", `Privileges: ${access.problem ?? access.note}`);
  out.push("", summaryLine(report.summary));
  return out.join("\n");
}

/** Whether each system index (alias or concrete index) exists; two HEAD requests. */
async function readSystemIndices(client: Client): Promise<Record<string, boolean>> {
  const names = [CONNECTORS_INDEX, JOBS_INDEX];
  const present = await Promise.all(
    names.map((index) => client.indices.exists({ index, expand_wildcards: "all" } as never)),
  );
  return Object.fromEntries(names.map((name, i) => [name, present[i] === true]));
}

/**
 * The running jobs and the pending counts of the given connectors in one search: the hits are
 * the in-progress and canceling jobs (post filter), an aggregation counts pending and suspended
 * ones per connector. Configuration snapshots are not fetched.
 */
async function readJobs(
  client: Client,
  connectorIds: readonly string[],
): Promise<{ running: StatusJob[]; pending: Map<string, number> }> {
  const pending = new Map<string, number>();
  if (connectorIds.length === 0) return { running: [], pending };
  type Buckets = {
    waiting?: { by_connector?: { buckets?: { key: string; doc_count: number }[] } };
  };
  let response;
  try {
    response = await client.search<Partial<SyncJobDoc>>({
      index: JOBS_INDEX,
      size: Math.min(MAX_RUNNING_JOBS, connectorIds.length * RUNNING_JOBS_PER_CONNECTOR),
      _source_excludes: [
        "connector.configuration",
        "connector.filtering",
        "connector.sync_cursor",
        "metadata",
      ],
      query: {
        bool: {
          filter: [
            { terms: { "connector.id": [...connectorIds] } },
            { terms: { status: [...RUNNING_STATUSES, ...WAITING_STATUSES] } },
          ],
        },
      },
      post_filter: { terms: { status: [...RUNNING_STATUSES] } },
      sort: [{ created_at: { order: "desc", unmapped_type: "date" } }, "_doc"],
      aggs: {
        waiting: {
          filter: { terms: { status: [...WAITING_STATUSES] } },
          aggs: {
            by_connector: { terms: { field: "connector.id", size: connectorIds.length } },
          },
        },
      },
    } as never);
  } catch (error) {
    if (isNotFound(error)) return { running: [], pending };
    throw error;
  }
  const aggregations = response.aggregations as Buckets | undefined;
  for (const bucket of aggregations?.waiting?.by_connector?.buckets ?? []) {
    pending.set(String(bucket.key), bucket.doc_count);
  }
  const running = response.hits.hits.flatMap((hit) =>
    hit._id && hit._source ? [{ id: hit._id, doc: hit._source }] : []
  );
  return { running, pending };
}

/** The connectors shown and the configured ids without a document. */
async function readConnectors(
  env: CommandEnv,
  all: boolean,
): Promise<{ connectors: Connector[]; missing: string[] }> {
  const client = env.client();
  if (all) return { connectors: await new AdminRepository(client).listConnectors(), missing: [] };
  const repository = new ConnectorRepository(client, { logger: env.context.logger });
  return await findOwnedConnectors(repository, env.context.config);
}

/**
 * `status`: prints the report (text or `--json`); returns 0 when healthy, else
 * {@linkcode STATUS_EXIT_UNHEALTHY}. An unreachable cluster throws a {@linkcode FatalError}
 * (exit 1), after printing `{"cluster": {"reachable": false, ...}}` in JSON mode.
 *
 * @example
 * ```ts ignore
 * const code = await statusCommand(env, parseCommand(STATUS, ["--all", "--json"]));
 * ```
 */
export async function statusCommand(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const json = booleanFlag(parsed, "json");
  const all = booleanFlag(parsed, "all");
  const config = env.context.config;
  let cluster: ClusterInfo;
  try {
    cluster = await env.cluster();
  } catch (error) {
    if (json) {
      env.printJson({
        generated_at: new Date().toISOString(),
        cluster: {
          url: displayUrl(env.host),
          reachable: false,
          // The client may echo the host with its credentials: secrets never reach output.
          error: redact(errorMessage(error)),
        },
        exit_code: 1,
      });
    }
    if (error instanceof FatalError) throw error;
    throw new FatalError(`Cannot read the status of Elasticsearch at ${displayUrl(env.host)}`, {
      cause: error,
    });
  }
  const client = env.client();
  const [systemIndices, { connectors, missing }] = await Promise.all([
    readSystemIndices(client),
    readConnectors(env, all),
  ]);
  const [{ running, pending }, privileges] = await Promise.all([
    readJobs(client, connectors.map((c) => c.id)),
    // A check that fails says so; it never hides the rest of the screen.
    checkPrivileges(client, connectors.map((c) => c.doc.index_name ?? "")).catch((error) => ({
      checked: false,
      credentials: "",
      skipped: redact(errorMessage(error)),
      missing: [],
      can_write: true,
    })),
  ]);
  const report = buildStatusReport({
    url: env.host,
    cluster,
    systemIndices,
    scope: all ? "all" : "owned",
    connectors,
    missingConnectors: missing,
    runningJobs: running,
    pendingByConnector: pending,
    service: config.service,
    now: new Date(),
  });
  report.privileges = privileges;
  const problem = privilegeSentences(privileges).problem;
  if (problem) {
    report.problems.push(problem);
    report.exit_code = STATUS_EXIT_UNHEALTHY;
    report.summary.healthy = false;
  }
  if (json) env.printJson(report);
  else env.print(formatStatusText(report, config.file));
  return report.exit_code;
}
