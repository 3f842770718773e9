/**
 * `elastic-ingest job start|list|show|cancel`: sync jobs requested and followed from the
 * terminal. A started job is a `pending` document, exactly what Kibana's "Sync" button writes;
 * a running connector service picks it up.
 *
 * @module
 */
import { FatalError, UsageError } from "../../errors/mod.ts";
import { AdminRepository, ConnectorRepository, SyncJobRepository } from "../../protocol/mod.ts";
import type { Connector, JobStatus, JobType, SyncJob } from "../../protocol/mod.ts";
import { JOB_STATUSES, JOBS_INDEX } from "../../protocol/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { formatCount, formatElapsed, ProgressReporter, watchJob } from "../progress.ts";
import type { CommandEnv } from "./_env.ts";
import {
  booleanFlag,
  type CommandSpec,
  JSON_FLAG,
  type ParsedCommand,
  secondsFlag,
  stringFlag,
} from "./_flags.ts";
import { formatFields, formatTable, maskConfiguration, shortDate } from "../output.ts";

/** Job types a user can start. */
export const JOB_TYPES: readonly JobType[] = ["full", "incremental", "access_control"];
/** Jobs `job list` shows unless told otherwise. */
export const DEFAULT_JOB_LIST_LIMIT = 20;

/** Flags of `job start`. */
export const JOB_START: CommandSpec = {
  group: "job",
  name: "start",
  summary: "Request a sync of a connector (an on-demand job, as Kibana's Sync button does). " +
    "A running connector service serving the connector runs it; with --wait the command " +
    "shows its progress and exits 0 when it completes, 1 otherwise.",
  flags: [
    {
      name: "connector-id",
      short: "i",
      type: "string",
      metavar: "ID",
      required: true,
      help: "the connector to sync",
    },
    {
      name: "type",
      short: "t",
      type: "string",
      metavar: "TYPE",
      choices: JOB_TYPES,
      help: "full (default), incremental or access_control",
    },
    { name: "wait", type: "boolean", help: "wait for the job to end, showing its progress" },
    {
      name: "timeout",
      type: "string",
      metavar: "SECONDS",
      help: "with --wait: give up waiting after this long (exit 1; the job goes on)",
    },
    {
      name: "progress-interval",
      type: "string",
      metavar: "SECONDS",
      help:
        "with --wait and no terminal: seconds between progress lines (default: service.progress_interval)",
    },
    JSON_FLAG,
  ],
};

/** Flags of `job list`. */
export const JOB_LIST: CommandSpec = {
  group: "job",
  name: "list",
  summary: "List sync jobs, most recent first.",
  flags: [
    {
      name: "connector-id",
      short: "i",
      type: "string",
      metavar: "ID",
      help: "only this connector's jobs",
    },
    {
      name: "status",
      type: "string",
      metavar: "STATUS",
      choices: JOB_STATUSES,
      help: "only jobs with this status",
    },
    {
      name: "limit",
      type: "string",
      metavar: "N",
      help: `at most N jobs (default ${DEFAULT_JOB_LIST_LIMIT})`,
    },
    JSON_FLAG,
  ],
  positionals: [{ name: "CONNECTOR_ID", help: "same as --connector-id", optional: true }],
};

/** Flags of `job show`. */
export const JOB_SHOW: CommandSpec = {
  group: "job",
  name: "show",
  summary: "Show one sync job: status, counters, times and error.",
  flags: [JSON_FLAG],
  positionals: [{ name: "JOB_ID", help: "the job's id" }],
};

/** Flags of `job cancel`. */
export const JOB_CANCEL: CommandSpec = {
  group: "job",
  name: "cancel",
  summary: "Cancel a sync job: a pending one at once, a running one is stopped by its service " +
    "within a few seconds (canceling).",
  flags: [JSON_FLAG],
  positionals: [{ name: "JOB_ID", help: "the job's id" }],
};

function jobLogger(logger: Logger, job: SyncJob | { id: string; connector: Connector }): Logger {
  if ("doc" in job) {
    return logger.child({
      connector_id: job.doc.connector?.id,
      job_id: job.id,
      service_type: job.doc.connector?.service_type ?? undefined,
    });
  }
  return logger.child({
    connector_id: job.connector.id,
    job_id: job.id,
    service_type: job.connector.doc.service_type ?? undefined,
  });
}

/**
 * A job as `--json` prints it (the configuration snapshot's secrets masked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jobSummary } from "./job.ts";
 * const job = {
 *   id: "j1",
 *   doc: {
 *     status: "pending",
 *     connector: { id: "c1", configuration: { password: { sensitive: true, value: "s3cret" } } },
 *   },
 * } as never;
 * const summary = jobSummary(job) as { id: string; connector: { configuration: unknown } };
 * assert.equal(summary.id, "j1");
 * assert.deepEqual(summary.connector.configuration, {
 *   password: { sensitive: true, value: "*****" },
 * });
 * ```
 */
export function jobSummary(job: SyncJob): Record<string, unknown> {
  return {
    id: job.id,
    ...job.doc,
    connector: {
      ...job.doc.connector,
      configuration: maskConfiguration(job.doc.connector?.configuration),
    },
  };
}

function unsupported(connector: Connector, type: JobType): string | undefined {
  const features = connector.doc.features;
  if (!features) return undefined;
  if (type === "incremental" && features.incremental_sync?.enabled === false) {
    return `connector ${connector.id} (${connector.doc.service_type}) does not support incremental syncs`;
  }
  if (type === "access_control" && features.document_level_security?.enabled !== true) {
    return `connector ${connector.id} does not have document level security enabled`;
  }
  return undefined;
}

/** Options of {@linkcode waitForJob}. */
export interface WaitForJobOptions {
  logger: Logger;
  /** Seconds between progress lines without a terminal. */
  intervalSeconds: number;
  /** True: live line on stderr. */
  terminal: boolean;
  timeoutSeconds?: number;
  pollMs?: number;
}

/**
 * Follows a job until it ends, showing its progress; returns it as last read. Throws a
 * {@linkcode FatalError} when `timeoutSeconds` pass first.
 *
 * @example
 * ```ts ignore
 * const jobs = new SyncJobRepository(client);
 * const job = (await jobs.get(jobId))!;
 * const done = await waitForJob(jobs, job, {
 *   logger, intervalSeconds: 10, terminal: Deno.stderr.isTerminal(), timeoutSeconds: 600,
 * });
 * ```
 */
export async function waitForJob(
  jobs: SyncJobRepository,
  job: SyncJob,
  options: WaitForJobOptions,
): Promise<SyncJob> {
  using reporter = new ProgressReporter({
    terminal: options.terminal,
    logger: jobLogger(options.logger, job),
    intervalSeconds: options.intervalSeconds,
    label: `Sync job ${job.id}`,
  });
  const signal = options.timeoutSeconds !== undefined
    ? AbortSignal.timeout(options.timeoutSeconds * 1000)
    : undefined;
  try {
    return await watchJob(jobs, job.id, {
      reporter,
      ...(signal ? { signal } : {}),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    });
  } catch (error) {
    if (signal?.aborted) {
      throw new FatalError(
        `Sync job ${job.id} did not end within ${options.timeoutSeconds}s (status ${reporter.snapshot.status}); it goes on, follow it with: elastic-ingest job show ${job.id}`,
      );
    }
    throw error;
  }
}

/**
 * One line about a finished job: `Sync job ID completed in 0:03: 12 indexed, 0 deleted, ...`
 * (without the `Sync job ID ` prefix when `prefix` is false).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jobOutcomeText } from "./job.ts";
 * const job = {
 *   id: "j1",
 *   doc: {
 *     status: "completed", error: null, connector: { index_name: "search-docs" },
 *     started_at: "2025-01-01T00:00:00Z", completed_at: "2025-01-01T00:00:03Z",
 *     indexed_document_count: 1200, deleted_document_count: 0, total_document_count: 1200,
 *   },
 * } as never;
 * assert.equal(
 *   jobOutcomeText(job),
 *   "Sync job j1 completed in 0:03: 1,200 indexed, 0 deleted, 1,200 documents in search-docs",
 * );
 * assert.ok(jobOutcomeText(job, false).startsWith("completed in 0:03"));
 * ```
 */
export function jobOutcomeText(job: SyncJob, prefix = true): string {
  const doc = job.doc;
  const started = doc.started_at ? Date.parse(doc.started_at) : NaN;
  const ended = doc.completed_at ? Date.parse(doc.completed_at) : NaN;
  const took = Number.isNaN(started) || Number.isNaN(ended)
    ? ""
    : ` in ${formatElapsed(ended - started)}`;
  const total = doc.total_document_count === null || doc.total_document_count === undefined
    ? ""
    : `, ${formatCount(doc.total_document_count)} documents in ${doc.connector?.index_name}`;
  const error = doc.error ? `: ${doc.error}` : "";
  return `${prefix ? `Sync job ${job.id} ` : ""}${doc.status}${took}: ${
    formatCount(doc.indexed_document_count ?? 0)
  } indexed, ${formatCount(doc.deleted_document_count ?? 0)} deleted${total}${error}`;
}

/**
 * `job start`.
 *
 * @example
 * ```ts ignore
 * const parsed = parseCommand(JOB_START, ["--connector-id", "my-connector-id", "--wait"]);
 * const code = await jobStart(env, parsed); // with --wait: 0 when the job completed, else 1
 * ```
 */
export async function jobStart(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const command = "job start";
  const connectorId = stringFlag(parsed, "connector-id")!;
  const jobType = (stringFlag(parsed, "type") ?? "full") as JobType;
  const wait = booleanFlag(parsed, "wait");
  const timeout = secondsFlag(parsed, "timeout", command);
  const interval = secondsFlag(parsed, "progress-interval", command) ??
    env.context.config.service.progress_interval;
  if (!wait && (timeout !== undefined || stringFlag(parsed, "progress-interval") !== undefined)) {
    throw new UsageError(`${command}: --timeout and --progress-interval need --wait`);
  }
  const client = env.client();
  const connector = await new ConnectorRepository(client).get(connectorId);
  if (!connector || connector.doc.deleted === true) {
    throw new FatalError(
      `Cannot start a ${jobType} sync: connector ${connectorId} does not exist (see elastic-ingest connector list)`,
    );
  }
  const why = unsupported(connector, jobType);
  if (why) throw new FatalError(`Cannot start a ${jobType} sync: ${why}`);
  if (connector.doc.status === "created" || connector.doc.status === "needs_configuration") {
    env.warn(
      `Connector ${connectorId} is ${connector.doc.status}: a service syncs it once it is configured`,
    );
  }
  const jobs = new SyncJobRepository(client);
  const jobId = await jobs.create(connector, { jobType, triggerMethod: "on_demand" });
  // So that a `job list` right after shows it (refused on clusters that manage the index).
  await client.indices.refresh({ index: JOBS_INDEX }).catch(() => {});
  const logger = jobLogger(env.context.logger, { id: jobId, connector });
  logger.info(`Requested ${jobType} sync job ${jobId} for connector ${connectorId}`);
  if (!wait) {
    if (booleanFlag(parsed, "json")) {
      env.printJson({ id: jobId, connector_id: connectorId, job_type: jobType, status: "pending" });
    } else {
      env.print(`Started ${jobType} sync job ${jobId} for connector ${connectorId}`);
    }
    return 0;
  }
  const created = await jobs.get(jobId);
  if (!created) throw new FatalError(`Sync job ${jobId} disappeared right after its creation`);
  const seen = connector.doc.last_seen ? Date.parse(connector.doc.last_seen) : NaN;
  if (Number.isNaN(seen)) {
    env.warn(
      `No connector service has checked in for ${connectorId} yet: the job stays pending until one serving it runs (elastic-ingest -c CONFIG with the connector under "connectors:")`,
    );
  }
  const done = await waitForJob(jobs, created, {
    logger: env.context.logger,
    intervalSeconds: interval,
    terminal: Deno.stderr.isTerminal(),
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
  });
  if (booleanFlag(parsed, "json")) env.printJson(jobSummary(done));
  else env.print(jobOutcomeText(done));
  if (done.doc.status !== "completed") {
    jobLogger(env.context.logger, done).error(
      `Sync job ${done.id} ended ${done.doc.status}${done.doc.error ? `: ${done.doc.error}` : ""}`,
    );
    return 1;
  }
  return 0;
}

/**
 * `job list`.
 *
 * @example
 * ```ts ignore
 * const parsed = parseCommand(JOB_LIST, ["my-connector-id", "--status", "error", "--limit", "5"]);
 * const code = await jobList(env, parsed);
 * ```
 */
export async function jobList(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const flagId = stringFlag(parsed, "connector-id");
  const positional = parsed.positionals[0];
  if (flagId !== undefined && positional !== undefined && flagId !== positional) {
    throw new UsageError("job list: give the connector id once (--connector-id or CONNECTOR_ID)");
  }
  const connectorId = flagId ?? positional;
  const limitText = stringFlag(parsed, "limit");
  const limit = limitText === undefined ? DEFAULT_JOB_LIST_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError(
      `job list: option --limit must be a whole number of 1 or more, got '${limitText}'`,
    );
  }
  if (connectorId !== undefined) {
    const connector = await new ConnectorRepository(env.client()).get(connectorId);
    if (!connector) {
      throw new FatalError(
        `Connector ${connectorId} does not exist (see elastic-ingest connector list)`,
      );
    }
  }
  const status = stringFlag(parsed, "status") as JobStatus | undefined;
  const jobs = await new AdminRepository(env.client()).listJobs({
    limit,
    ...(connectorId !== undefined ? { connectorId } : {}),
    ...(status !== undefined ? { statuses: [status] } : {}),
  });
  if (booleanFlag(parsed, "json")) {
    env.printJson(jobs.map(jobSummary));
    return 0;
  }
  if (jobs.length === 0) {
    env.print("No jobs found");
    return 0;
  }
  env.print(formatTable(
    ["Job ID", "Connector ID", "Index name", "Type", "Status", "Indexed", "Deleted", "Created"],
    jobs.map(({ id, doc }) => [
      id,
      doc.connector?.id,
      doc.connector?.index_name,
      doc.job_type,
      doc.status,
      doc.indexed_document_count ?? 0,
      doc.deleted_document_count ?? 0,
      shortDate(doc.created_at),
    ]),
  ));
  return 0;
}

async function requireJob(jobs: SyncJobRepository, id: string): Promise<SyncJob> {
  const job = await jobs.get(id);
  if (!job) throw new FatalError(`Sync job ${id} does not exist (see elastic-ingest job list)`);
  return job;
}

/**
 * `job show`.
 *
 * @example
 * ```ts ignore
 * const code = await jobShow(env, parseCommand(JOB_SHOW, ["my-job-id", "--json"]));
 * ```
 */
export async function jobShow(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const job = await requireJob(new SyncJobRepository(env.client()), parsed.positionals[0]!);
  if (booleanFlag(parsed, "json")) {
    env.printJson(jobSummary(job));
    return 0;
  }
  const doc = job.doc;
  env.print(formatFields([
    ["Job ID", job.id],
    ["Connector ID", doc.connector?.id],
    ["Service type", doc.connector?.service_type],
    ["Index name", doc.connector?.index_name],
    ["Type", doc.job_type],
    ["Trigger", doc.trigger_method],
    ["Status", doc.status],
    ["Error", doc.error],
    ["Indexed", doc.indexed_document_count ?? 0],
    ["Deleted", doc.deleted_document_count ?? 0],
    ["Volume (MiB)", doc.indexed_document_volume ?? 0],
    ["Total in index", doc.total_document_count],
    ["Created", shortDate(doc.created_at)],
    ["Started", shortDate(doc.started_at)],
    ["Completed", shortDate(doc.completed_at)],
    ["Last seen", shortDate(doc.last_seen)],
    ["Worker", doc.worker_hostname],
  ]));
  return 0;
}

/**
 * `job cancel`.
 *
 * @example
 * ```ts ignore
 * const code = await jobCancel(env, parseCommand(JOB_CANCEL, ["my-job-id"]));
 * ```
 */
export async function jobCancel(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const id = parsed.positionals[0]!;
  const jobs = new SyncJobRepository(env.client());
  const job = await requireJob(jobs, id);
  const status = await jobs.requestCancel(id);
  if (status === undefined) {
    const now = (await jobs.get(id))?.doc.status ?? job.doc.status;
    throw new FatalError(`Cannot cancel sync job ${id}: it already ended (${now})`);
  }
  // So that a `job list --status canceled` right after shows it, as after `job start`.
  await env.client().indices.refresh({ index: JOBS_INDEX }).catch(() => {});
  jobLogger(env.context.logger, job).info(`Cancel requested for sync job ${id}: ${status}`);
  if (booleanFlag(parsed, "json")) {
    env.printJson({ id, status });
  } else if (status === "canceling") {
    env.print(`Sync job ${id} is canceling: its service stops it within a few seconds`);
  } else {
    env.print(`Sync job ${id} ${status}`);
  }
  return 0;
}
