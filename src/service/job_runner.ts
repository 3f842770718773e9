/**
 * {@linkcode JobRunner}: runs one sync job from lock to connector update (spec §3.2, §3.3,
 * §4.5). Whatever happens in between (a source that throws, a cancel request, a shutdown, the
 * job or connector deleted), the job ends in a definite state and the connector's lane lock is
 * released; it is never left `in_progress` by a live process.
 *
 * @module
 */
import { raceSignal, settleWithin } from "../async/mod.ts";
import type { Client } from "@elastic/elasticsearch";
import type { Config } from "../config/mod.ts";
import { errorMessage, FatalError } from "../errors/mod.ts";
import { credentialsOf, describeAuthFailure, isAuthFailure } from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";
import { redact } from "../log/mod.ts";
import type {
  Connector,
  ConnectorFeatures,
  ConnectorRepository,
  JobCounters,
  JobStatus,
  SyncJob,
  SyncJobRepository,
} from "../protocol/mod.ts";
import {
  bytesToMiB,
  isVersionConflict,
  KNOWN_JOB_TYPES,
  RUNNABLE_JOB_STATUSES,
} from "../protocol/mod.ts";
import type {
  DataSource,
  DataSourceClass,
  SourceConfiguration,
  SourceContext,
  WorkerPool,
} from "../source/mod.ts";
import { createSource, toSourceConfiguration, validateConfiguration } from "../source/mod.ts";
import type {
  ContentSyncRequest,
  ContentSyncResult,
  DeletionGuard,
  PreviousSync,
  SyncStats,
} from "../sync/mod.ts";
import { emptyStats, runContentSync } from "../sync/mod.ts";
import { readPlatinumLicenseProblem, requiresPlatinumLicense } from "./license.ts";

/**
 * Why a running job was stopped from outside its sync; `status` is how the job ends.
 *
 * @example
 * ```ts
 * import { JobCanceledError, ServiceShutdownError } from "./job_runner.ts";
 * if (new JobCanceledError("j1").status !== "canceled") throw new Error();
 * if (new ServiceShutdownError().status !== "suspended") throw new Error();
 * ```
 */
export class JobInterruptedError extends Error {
  /** The status the job ends with. */
  readonly status: JobStatus;
  constructor(status: JobStatus, message: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
  }
}

/**
 * The job was asked to stop (`canceling`): it ends `canceled`.
 *
 * @example
 * ```ts
 * import { JobCanceledError } from "./job_runner.ts";
 * new JobCanceledError("j1");
 * ```
 */
export class JobCanceledError extends JobInterruptedError {
  constructor(jobId: string) {
    super("canceled", `Job ${jobId} was canceled`);
  }
}

/**
 * The service shuts down: the job ends `suspended` and restarts on the next start.
 *
 * @example
 * ```ts
 * import { ServiceShutdownError } from "./job_runner.ts";
 * new ServiceShutdownError("SIGTERM received");
 * ```
 */
export class ServiceShutdownError extends JobInterruptedError {
  constructor(reason = "the service is shutting down") {
    super("suspended", `Job suspended: ${reason}`);
  }
}

/**
 * The job or its connector changed under it (deleted, or moved out of `in_progress`): the job
 * ends `error`.
 *
 * @example
 * ```ts
 * import { JobDisownedError } from "./job_runner.ts";
 * if (new JobDisownedError("gone").status !== "error") throw new Error();
 * ```
 */
export class JobDisownedError extends JobInterruptedError {
  constructor(message: string) {
    super("error", message);
  }
}

/** What a runner needs from the service. */
export interface JobRunnerDeps {
  config: Config;
  logger: Logger;
  /** Written into `worker_hostname`. */
  hostname: string;
  /** Loads source classes by service type. */
  registry: { load(serviceType: string): Promise<DataSourceClass> };
  /** Repositories whose failures are tolerated (periodic heartbeats and checks). */
  connectors: ConnectorRepository;
  jobs: SyncJobRepository;
  /** Repositories over a retrying client (lock, claim, termination). */
  durableConnectors: ConnectorRepository;
  durableJobs: SyncJobRepository;
  /** Client for content writes (may carry the connector's own API key). */
  contentClient: Client;
  /** The sync engine; injectable for tests. */
  runContentSync?: (request: ContentSyncRequest) => Promise<ContentSyncResult>;
  /** The process's Worker pool, handed to sources for CPU-heavy work. */
  workers?: WorkerPool;
}

/** How a run ended: `skipped` when the job was not started by this runner. */
export type JobRunOutcome = "skipped" | JobStatus;

/** Configuration field of DLS sources that switches document-level security on (Elastic's). */
export const USE_DLS_FIELD = "use_document_level_security";

/**
 * Why an access-control sync cannot run for a connector (spec §5.6), or undefined when it can:
 * the connector must have `features.document_level_security.enabled`, the source must implement
 * `getAccessControl()`, and a `use_document_level_security` field, when the configuration has
 * one, must be true.
 *
 * @example
 * ```ts
 * import { accessControlProblem } from "./job_runner.ts";
 * const source = { ping: async () => {}, async *getDocs() {}, async *getAccessControl() {} };
 * const dls = { document_level_security: { enabled: true } };
 * if (accessControlProblem("c1", "demo", dls, source, {}) !== undefined) throw new Error();
 * if (!accessControlProblem("c1", "demo", {}, source, {})?.endsWith("document-level security is not enabled")) throw new Error();
 * ```
 */
export function accessControlProblem(
  connectorId: string,
  serviceType: string,
  features: ConnectorFeatures | null | undefined,
  source: DataSource,
  configuration: SourceConfiguration,
): string | undefined {
  const prefix = `Cannot run access-control sync of connector ${connectorId}`;
  if (features?.document_level_security?.enabled !== true) {
    return `${prefix}: document-level security is not enabled`;
  }
  if (typeof source.getAccessControl !== "function") {
    return `${prefix}: service type ${serviceType} has no getAccessControl()`;
  }
  const toggle = configuration[USE_DLS_FIELD];
  if (toggle && toggle.value !== true) {
    return `${prefix}: its configuration field ${USE_DLS_FIELD} is not enabled`;
  }
  return undefined;
}

/**
 * The mass-deletion guard of a connector: its `connectors:` entry overrides `service:`.
 *
 * @example
 * ```ts
 * import { deletionGuardOf } from "./job_runner.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const config = defaultConfig();
 * config.connectors.push({ connector_id: "c1", max_deletion_ratio: 0.2 });
 * if (deletionGuardOf(config, "c1").maxDeletionRatio !== 0.2) throw new Error();
 * if (deletionGuardOf(config, "c2").allowEmptyFullSync !== false) throw new Error();
 * ```
 */
export function deletionGuardOf(config: Config, connectorId: string): DeletionGuard {
  const entry = config.connectors.find((c) => c.connector_id === connectorId);
  return {
    allowEmptyFullSync: entry?.allow_empty_full_sync ?? config.service.allow_empty_full_sync,
    maxDeletionRatio: entry?.max_deletion_ratio !== undefined
      ? entry.max_deletion_ratio
      : config.service.max_deletion_ratio,
  };
}

/**
 * Why a job's connector snapshot cannot be synced, or undefined: it needs a known job type, a
 * service type and a configuration (a missing one would be replaced by the source's defaults).
 *
 * @example
 * ```ts
 * import { snapshotProblem } from "./job_runner.ts";
 * const job = { job_type: "full", connector: { id: "c1", service_type: "dir", configuration: {} } };
 * if (!snapshotProblem("j1", job as never)?.includes("no configuration")) throw new Error();
 * if (!snapshotProblem("j1", { ...job, job_type: "bogus" } as never)?.includes("unknown job type")) throw new Error();
 * ```
 */
export function snapshotProblem(jobId: string, doc: SyncJob["doc"]): string | undefined {
  const prefix = `Cannot run job ${jobId}`;
  const jobType = doc.job_type ?? "full";
  if (!KNOWN_JOB_TYPES.includes(jobType)) {
    return `${prefix}: unknown job type ${JSON.stringify(jobType)} (expected ${
      KNOWN_JOB_TYPES.join(", ")
    })`;
  }
  const connector = doc.connector as Partial<SyncJob["doc"]["connector"]> | null | undefined;
  if (typeof connector !== "object" || connector === null) {
    return `${prefix}: it has no connector snapshot`;
  }
  if (!connector.service_type) return `${prefix}: its connector snapshot has no service_type`;
  const configuration = connector.configuration as Record<string, unknown> | null | undefined;
  const fields = typeof configuration === "object" && configuration !== null
    ? Object.values(configuration).filter((f) =>
      !(typeof f === "object" && f !== null && (f as { type?: unknown }).type === "category")
    )
    : [];
  if (fields.length === 0) {
    return `${prefix}: the connector snapshot of ${connector.id} has no configuration (its defaults are never used in its place)`;
  }
  return undefined;
}

/** Milliseconds a sync gets to stop after a cancel or shutdown before the job ends anyway. */
export const STOP_GRACE_MS = 5_000;

/**
 * The counters of a job as written to its document (volume in whole MiB).
 *
 * @example
 * ```ts
 * import { countersOf } from "./job_runner.ts";
 * import { emptyStats } from "../sync/mod.ts";
 * const stats = { ...emptyStats(), indexed_document_count: 3, indexed_document_volume_bytes: 3_000_000 };
 * if (countersOf(stats).indexed_document_volume !== 3) throw new Error();
 * ```
 */
export function countersOf(stats: SyncStats): JobCounters {
  return {
    indexed_document_count: stats.indexed_document_count,
    indexed_document_volume: bytesToMiB(stats.indexed_document_volume_bytes),
    deleted_document_count: stats.deleted_document_count,
  };
}

/**
 * Runs one pending or suspended job.
 *
 * @example
 * ```ts ignore
 * import { JobRunner } from "./job_runner.ts";
 * const outcome = await new JobRunner(job, deps).run(); // "completed", "error", … or "skipped"
 * ```
 */
export class JobRunner {
  /** The job as listed. */
  readonly job: SyncJob;
  readonly #deps: JobRunnerDeps;
  readonly #controller = new AbortController();
  readonly #logger: Logger;
  readonly #lockRefusal = Promise.withResolvers<unknown>();

  constructor(job: SyncJob, deps: JobRunnerDeps) {
    this.job = job;
    this.#deps = deps;
    this.#logger = deps.logger.child({
      connector_id: job.doc.connector?.id,
      job_id: job.id,
      service_type: job.doc.connector?.service_type ?? undefined,
    });
  }

  /** Id of the job. */
  get jobId(): string {
    return this.job.id;
  }

  /** Id of the job's connector. */
  get connectorId(): string {
    return this.job.doc.connector.id;
  }

  /**
   * Why the job must stay pending for now: for an access-control job of a connector with
   * document-level security enabled, a license below platinum (spec §4.5); undefined when it may
   * run. Reads the license with the content client, as Elastic's runner does; errors propagate.
   */
  async licenseProblem(
    features: ConnectorFeatures | null | undefined,
  ): Promise<string | undefined> {
    if (!requiresPlatinumLicense(this.job.doc.job_type, features)) return undefined;
    return await readPlatinumLicenseProblem(this.#deps.contentClient);
  }

  /**
   * Ends the job `error` without running it, because its connector needs configuration: the
   * message names what is missing; the connector document is left as it is.
   */
  async refuseUnconfigured(connector: Connector): Promise<void> {
    const { durableJobs, registry } = this.#deps;
    let reason = `connector ${this.connectorId} needs configuration`;
    try {
      const cls = await registry.load(connector.doc.service_type ?? "");
      validateConfiguration(toSourceConfiguration(connector.doc.configuration, cls));
    } catch (error) {
      reason += ` (${redact(errorMessage(error))})`;
    }
    const error = `Cannot run job ${this.jobId}: ${reason}`;
    try {
      const fresh = await durableJobs.get(this.jobId);
      if (!fresh || !RUNNABLE_JOB_STATUSES.includes(fresh.doc.status)) return;
      await durableJobs.terminate(this.jobId, "error", { error, version: fresh });
      this.#logger.error(error);
    } catch (e) {
      // Another process ended it first; anything else is tried again next round.
      if (!isVersionConflict(e)) {
        this.#logger.warning(`Cannot end job ${this.jobId}: ${redact(errorMessage(e))}`);
      }
    }
  }

  /** Stops the job with `reason` (its status says how the job ends). */
  stop(reason: JobInterruptedError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /**
   * Resolves once the lane lock was tried: with the 401/403 that refused it (the service's own
   * credentials, so every job would fail the same way: the caller backs off), else undefined.
   */
  get lockRefusal(): Promise<unknown> {
    return this.#lockRefusal.promise;
  }

  /** Locks the lane, claims the job, runs it and records the end. Never throws. */
  async run(): Promise<JobRunOutcome> {
    const { durableConnectors, durableJobs, hostname } = this.#deps;
    const log = this.#logger;
    const jobType = this.job.doc.job_type ?? "full";
    let start;
    let refusal: unknown;
    try {
      // Failed without a lock, so the connector stays `needs_configuration` for Kibana's flow.
      const current = await durableConnectors.get(this.connectorId);
      if (current?.doc.status === "needs_configuration") {
        await this.refuseUnconfigured(current);
        return "error";
      }
      start = await durableConnectors.startSync(this.connectorId, jobType);
    } catch (error) {
      // Refused credentials are reported once by the caller's backoff, not per job and round.
      if (isAuthFailure(error)) refusal = error;
      else log.warning(`Cannot start job ${this.jobId}: ${redact(errorMessage(error))}`);
      return "skipped";
    } finally {
      // Whatever the path: the caller waits for it.
      this.#lockRefusal.resolve(refusal);
    }
    if (!start.locked) {
      log.debug(`Job ${this.jobId} not started: the connector's lane is ${start.reason}`);
      return "skipped";
    }
    const lock = start.lock;
    let claimed: SyncJob | undefined;
    try {
      const fresh = await durableJobs.get(this.jobId);
      if (
        !fresh || !RUNNABLE_JOB_STATUSES.includes(fresh.doc.status) ||
        this.#controller.signal.aborted
      ) {
        log.debug(
          `Job ${this.jobId} is no longer waiting (${
            fresh?.doc.status ?? "deleted"
          }); releasing the lane`,
        );
      } else {
        const syncCursor = jobType === "incremental" ? lock.connector.doc.sync_cursor : null;
        claimed = await durableJobs.claim(fresh, { hostname, syncCursor });
      }
    } catch (error) {
      if (isVersionConflict(error)) {
        log.debug(`Job ${this.jobId} was claimed by another process; releasing the lane`);
      } else {
        log.error(`Cannot claim job ${this.jobId}: ${redact(errorMessage(error))}`);
      }
    }
    if (claimed === undefined) {
      // The lane is released in one place, so its failure is never reported as a failed claim.
      await durableConnectors.releaseSync(lock).catch((e) =>
        log.error(
          `Cannot release the lane of connector ${this.connectorId}: ${redact(errorMessage(e))}`,
        )
      );
      return "skipped";
    }
    log.info(
      `Job ${this.jobId} started: ${jobType} sync of connector ${this.connectorId} (${claimed.doc.trigger_method}) on ${hostname}`,
    );
    return await this.#execute(
      claimed,
      lock.connector.doc.sync_cursor,
      lock.connector.doc.features,
    );
  }

  /**
   * Runs a claimed job; `storedCursor` is the connector's cursor, for the source's `changed()`;
   * `features` are the connector's, as read when the lane was locked.
   */
  async #execute(
    job: SyncJob,
    storedCursor: unknown,
    features: ConnectorFeatures | null | undefined,
  ): Promise<JobStatus> {
    const { config } = this.#deps;
    const log = this.#logger;
    const signal = this.#controller.signal;
    const started = Date.now();
    const stats = emptyStats();
    let source: DataSource | undefined;
    let result: ContentSyncResult | undefined;
    let status: JobStatus;
    let error: string | null = null;
    const timers = this.#startTimers(job, stats);
    try {
      // Everything the job will use is checked before its first write (and its first read).
      const problem = snapshotProblem(job.id, job.doc);
      if (problem) throw new FatalError(problem);
      const serviceType = job.doc.connector.service_type as string;
      const cls = await raceSignal(this.#deps.registry.load(serviceType), signal);
      const configuration = toSourceConfiguration(job.doc.connector.configuration, cls);
      validateConfiguration(configuration);
      const context: SourceContext = {
        logger: log,
        maxFileSize: config.service.max_file_download_size,
        signal,
        syncCursor: storedCursor,
      };
      if (this.#deps.workers) context.workers = this.#deps.workers;
      source = createSource(cls, job.doc.connector.configuration, context);
      if (job.doc.job_type === "access_control") {
        const problem = accessControlProblem(
          this.connectorId,
          serviceType,
          features,
          source,
          configuration,
        );
        if (problem) throw new FatalError(problem);
      }
      if (source.validateConfig) await raceSignal(source.validateConfig(), signal);
      await raceSignal(source.ping(), signal);
      const previousSync = source.changed ? await this.#previousSync(job) : undefined;
      const run = this.#deps.runContentSync ?? runContentSync;
      const sync = run({
        job,
        source,
        sourceClass: cls,
        client: this.#deps.contentClient,
        bulk: config.elasticsearch.bulk,
        maxFileSize: config.service.max_file_download_size,
        logger: log,
        signal,
        stats,
        previousSync,
        deletionGuard: deletionGuardOf(config, this.connectorId),
      });
      result = await settleWithin(
        sync,
        signal,
        STOP_GRACE_MS,
        () =>
          log.warning(
            `The sync of job ${job.id} did not stop within ${
              STOP_GRACE_MS / 1000
            }s; ending the job anyway`,
          ),
      );
      status = "completed";
    } catch (thrown) {
      const reason = signal.aborted ? signal.reason : thrown;
      if (reason instanceof JobInterruptedError) {
        status = reason.status;
        if (status === "error") error = reason.message;
        log.info(`Job ${job.id} stopped: ${reason.message}`);
      } else {
        status = "error";
        error = this.#errorText(reason);
        log.error(`Job ${job.id} failed: ${error}`);
      }
    } finally {
      await timers.stop();
      if (source?.close) {
        await source.close().catch((e) =>
          log.warning(`Closing the source failed: ${errorMessage(e)}`)
        );
      }
    }
    status = await this.#finish(job, status, error, stats, result);
    const counters = countersOf(stats);
    log.info(
      `Job ${job.id} ended ${status}: indexed ${counters.indexed_document_count} (${counters.indexed_document_volume} MiB), deleted ${counters.deleted_document_count} (took ${
        ((Date.now() - started) / 1000).toFixed(1)
      }s)`,
    );
    return status;
  }

  #errorText(error: unknown): string {
    // Elasticsearch's own reason (action, index, privilege, or "api key is expired"), and which
    // credential it refused; the content client carries the connector's own api_key, if any.
    if (isAuthFailure(error)) {
      return redact(
        `Cannot sync connector ${this.connectorId}: ${
          describeAuthFailure(error, credentialsOf(this.#deps.contentClient))
        }`,
      );
    }
    const text = errorMessage(error);
    // Every job error names its connector (a user reading one job list sees several).
    return redact(
      text.includes(this.connectorId) ? text : `Cannot sync connector ${this.connectorId}: ${text}`,
    );
  }

  /** The last completed job of this connector and job type, for the skip decision. */
  async #previousSync(job: SyncJob): Promise<PreviousSync | undefined> {
    const previous = await this.#deps.durableJobs.lastCompleted(
      this.connectorId,
      job.doc.job_type ?? "full",
      job.id,
    );
    if (!previous) return undefined;
    return {
      jobId: previous.id,
      snapshot: previous.doc.connector,
      totalDocumentCount: previous.doc.total_document_count ?? null,
    };
  }

  /**
   * Periodic job heartbeat (counters, `last_seen`) and cancellation/ownership check. `stop()`
   * resolves once no heartbeat write is in flight.
   */
  #startTimers(job: SyncJob, stats: SyncStats): { stop(): Promise<void> } {
    const { config, jobs } = this.#deps;
    const log = this.#logger;
    let beating: Promise<void> | undefined;
    let checking = false;
    let warned = false;
    const warnOnce = (what: string, error: unknown) => {
      const text = `${what} of job ${job.id} failed (will retry): ${redact(errorMessage(error))}`;
      if (warned) log.debug(text);
      else log.warning(text);
      warned = true;
    };
    const heartbeat = setInterval(() => {
      if (beating) return;
      beating = jobs.updateStats(job.id, countersOf(stats))
        .then(() => void (warned = false), (e) => warnOnce("The heartbeat", e))
        .finally(() => (beating = undefined));
    }, config.service.job_heartbeat_interval * 1000);
    const check = setInterval(() => {
      if (checking || this.#controller.signal.aborted) return;
      checking = true;
      this.#check(job)
        .then((reason) => reason && this.stop(reason), (e) => warnOnce("The status check", e))
        .finally(() => (checking = false));
    }, config.service.job_check_interval * 1000);
    return {
      // A heartbeat landing after the termination would overwrite the final counters.
      async stop() {
        clearInterval(heartbeat);
        clearInterval(check);
        await beating;
      },
    };
  }

  /** Re-reads job and connector; returns why the job must stop, if it must. */
  async #check(job: SyncJob): Promise<JobInterruptedError | undefined> {
    const current = await this.#deps.jobs.get(job.id);
    if (!current) return new JobDisownedError(`Job ${job.id} was deleted while it ran`);
    if (current.doc.status === "canceling") return new JobCanceledError(job.id);
    if (current.doc.status !== "in_progress") {
      return new JobDisownedError(
        `Job ${job.id} is no longer running: its status became ${current.doc.status}`,
      );
    }
    const connector = await this.#deps.connectors.get(this.connectorId);
    if (!connector || connector.doc.deleted === true) {
      return new JobDisownedError(
        `Connector ${this.connectorId} was deleted while job ${job.id} ran`,
      );
    }
    return undefined;
  }

  /** Terminates the job and updates the connector (spec §3.3); returns the status written. */
  async #finish(
    job: SyncJob,
    status: JobStatus,
    error: string | null,
    stats: SyncStats,
    result: ContentSyncResult | undefined,
  ): Promise<JobStatus> {
    const { durableJobs, durableConnectors, contentClient } = this.#deps;
    const log = this.#logger;
    const counters = countersOf(stats);
    if (result) counters.total_document_count = result.totalDocumentCount;
    else {
      const total = await countDocuments(contentClient, job.doc.connector.index_name);
      if (total !== undefined) counters.total_document_count = total;
    }
    let exists = true;
    try {
      for (let attempt = 1;; attempt++) {
        const current = await durableJobs.get(job.id);
        exists = current !== undefined;
        if (!current) break;
        // A cancel requested before this write wins over the sync's own end.
        if (current.doc.status === "canceling" && status === "completed") status = "canceled";
        try {
          await durableJobs.terminate(job.id, status, { error, counters, version: current });
          break;
        } catch (e) {
          if (!isVersionConflict(e) || attempt >= 3) throw e;
        }
      }
    } catch (e) {
      log.error(
        `Cannot record the end of job ${job.id} (${status}): ${
          redact(errorMessage(e))
        }; the cleanup service will mark it after service.idle_job_timeout`,
      );
    }
    try {
      const finished = exists
        ? {
          status,
          error,
          job_type: job.doc.job_type,
          indexed_document_count: counters.indexed_document_count,
          deleted_document_count: counters.deleted_document_count,
        }
        : null;
      const options = status === "completed" && result && result.syncCursor !== undefined
        ? { cursor: { value: result.syncCursor } }
        : {};
      if (await durableConnectors.get(this.connectorId)) {
        await durableConnectors.syncDone(this.connectorId, finished, options);
      }
    } catch (e) {
      log.error(
        `Cannot update connector ${this.connectorId} after job ${job.id}: ${
          redact(errorMessage(e))
        }`,
      );
    }
    return status;
  }
}

/** `_count` of an index after a refresh; undefined when it cannot be read. */
async function countDocuments(client: Client, index: string): Promise<number | undefined> {
  // Without an index name these requests would address the whole cluster.
  if (typeof index !== "string" || index === "") return undefined;
  try {
    await client.indices.refresh({ index, ignore_unavailable: true });
    const response = await client.count({ index, ignore_unavailable: true });
    return response.count;
  } catch {
    return undefined;
  }
}
