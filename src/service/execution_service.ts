/**
 * {@linkcode ExecutionService}: each round lists the `pending` and `suspended` jobs of owned
 * connectors oldest first and starts those it can (spec §4.5): one job per connector and lane
 * at a time, at most `service.max_concurrent_content_syncs` content jobs and
 * `service.max_concurrent_access_control_syncs` access-control jobs in flight per process.
 * An access-control job of a connector with document-level security waits (stays `pending`,
 * with one error line per job) while the cluster's license is below platinum.
 *
 * @module
 */
import { createLimiter, type Limiter } from "../async/mod.ts";
import type { Config } from "../config/mod.ts";
import { classifyError, errorMessage } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { redact } from "../log/mod.ts";
import type {
  Connector,
  ConnectorRepository,
  SyncJob,
  SyncJobRepository,
  SyncLane,
} from "../protocol/mod.ts";
import {
  ACTIVE_JOB_STATUSES,
  CONCURRENCY_RETRIES,
  isVersionConflict,
  LANE_JOB_TYPES,
  laneFields,
} from "../protocol/mod.ts";
import type { JobInterruptedError, JobRunner } from "./job_runner.ts";
import { listOwnedConnectors, ownsAnyConnector } from "./owned_connectors.ts";

/** Milliseconds {@linkcode ExecutionService.forceSuspend} gets after a shutdown's grace ran out. */
export const DEFAULT_RECORD_STOP_MS = 2_000;

/** What the execution service needs. */
export interface ExecutionDeps {
  config: Config;
  logger: Logger;
  connectors: ConnectorRepository;
  jobs: SyncJobRepository;
  /** Builds the runner of a job (wires clients, registry, hostname). */
  createRunner: (job: SyncJob) => JobRunner;
  /**
   * The lanes this process serves (`--action sync_content` / `sync_access_control`); both when
   * omitted. Jobs of other lanes are left to other processes.
   */
  lanes?: ReadonlySet<SyncLane>;
}

/**
 * Starts pending jobs; tracks the runners in flight.
 *
 * @example
 * ```ts ignore
 * import { ExecutionService } from "./execution_service.ts";
 * const executor = new ExecutionService(deps);
 * await executor.round();
 * await executor.shutdown(() => new ServiceShutdownError(), 10_000);
 * await executor.forceSuspend(() => new ServiceShutdownError(), 2_000); // a second SIGTERM
 * ```
 */
export class ExecutionService {
  readonly #deps: ExecutionDeps;
  readonly #limiters: Record<SyncLane, Limiter>;
  readonly #lanes: SyncLane[];
  readonly #running = new Map<string, JobRunner>();
  /** Jobs left pending for their license, with the problem last logged for each. */
  readonly #waiting = new Map<string, string>();
  /** Set by {@linkcode ExecutionService.shutdown}: no job starts afterwards. */
  #stopping = false;

  constructor(deps: ExecutionDeps) {
    this.#deps = deps;
    this.#lanes = (["content", "access_control"] as const).filter((lane) =>
      deps.lanes?.has(lane) ?? true
    );
    const service = deps.config.service;
    this.#limiters = {
      content: createLimiter(Math.max(1, service.max_concurrent_content_syncs)),
      access_control: createLimiter(Math.max(1, service.max_concurrent_access_control_syncs)),
    };
  }

  /** Ids of the jobs this process runs now. */
  runningJobIds(): Set<string> {
    return new Set(this.#running.keys());
  }

  /** Connector ids with a runner in `lane` now. */
  busyConnectors(lane: SyncLane): Set<string> {
    const ids = new Set<string>();
    for (const runner of this.#running.values()) {
      const type = runner.job.doc.job_type ?? "full";
      if (LANE_JOB_TYPES[lane].includes(type)) ids.add(runner.connectorId);
    }
    return ids;
  }

  /** The lanes this service starts jobs in. */
  get lanes(): readonly SyncLane[] {
    return this.#lanes;
  }

  /** One polling round over the lanes served. */
  async round(): Promise<void> {
    if (this.#lanes.length === 0) return;
    const { config, connectors } = this.#deps;
    if (!ownsAnyConnector(config)) return;
    const owned = new Map((await listOwnedConnectors(connectors, config)).map((c) => [c.id, c]));
    // A job of a connector that needs configuration fails naming the empty field instead of
    // waiting unseen; a `created` one waits for its first check-in (one round).
    const runnable = [...owned.values()].filter((c) => c.doc.status !== "created").map((c) => c.id);
    if (runnable.length === 0) return;
    for (const lane of this.#lanes) {
      await this.#startLane(lane, runnable, owned);
    }
  }

  async #startLane(
    lane: SyncLane,
    connectorIds: string[],
    owned: Map<string, Connector>,
  ): Promise<void> {
    const limiter = this.#limiters[lane];
    if (limiter.active >= limiter.concurrency) return;
    const statusField = laneFields(lane).status;
    const seen = new Set<string>(this.busyConnectors(lane));
    const listed = new Set<string>();
    let complete = true;
    for await (const job of this.#deps.jobs.listPending(connectorIds, LANE_JOB_TYPES[lane])) {
      listed.add(job.id);
      if (this.#stopping || limiter.active >= limiter.concurrency) {
        complete = false;
        break;
      }
      const connectorId = job.doc.connector?.id;
      // Oldest first per connector: a newer job never overtakes an older one that must wait.
      if (!connectorId || seen.has(connectorId) || this.#running.has(job.id)) continue;
      seen.add(connectorId);
      const connector = owned.get(connectorId);
      if (connector?.doc[statusField] === "in_progress") continue;
      const runner = this.#deps.createRunner(job);
      if (await this.#mustWait(runner, connector)) continue;
      this.#running.set(job.id, runner);
      await limiter.spawn(async () => {
        try {
          await runner.run();
        } catch (error) {
          this.#deps.logger.error(`Job runner ${job.id} crashed: ${String(error)}`);
        } finally {
          this.#running.delete(job.id);
        }
      });
      // A lock refused with 401/403 (the service's credentials) fails the round: the loop backs
      // off instead of trying the next job, and the next round, with the same refused write.
      const refused = await runner.lockRefusal;
      if (refused !== undefined) throw refused;
    }
    // Jobs no longer pending are forgotten (only a complete listing tells which).
    if (lane === "access_control" && complete) {
      for (const id of this.#waiting.keys()) if (!listed.has(id)) this.#waiting.delete(id);
    }
  }

  /**
   * True when the job must stay pending for its license (spec §4.5); logs the problem once per
   * job. A license that cannot be read (other than a retriable outage, which fails the round)
   * counts as a problem.
   */
  async #mustWait(runner: JobRunner, connector: Connector | undefined): Promise<boolean> {
    let problem: string | undefined;
    try {
      problem = await runner.licenseProblem(connector?.doc.features);
    } catch (error) {
      if (classifyError(error) === "retriable") throw error;
      problem = `Cannot read the Elasticsearch license: ${redact(errorMessage(error))}`;
    }
    if (problem === undefined) {
      this.#waiting.delete(runner.jobId);
      return false;
    }
    if (this.#waiting.get(runner.jobId) !== problem) {
      this.#waiting.set(runner.jobId, problem);
      this.#deps.logger.error(
        `Access-control job ${runner.jobId} of connector ${runner.connectorId} stays pending: ${problem}`,
        { connector_id: runner.connectorId, job_id: runner.jobId },
      );
    }
    return true;
  }

  /**
   * Stops every running job with `reason` (they end `suspended` on shutdown) and waits up to
   * `graceMs` for them to record it; the end of those still running then is recorded without
   * them ({@linkcode ExecutionService.forceSuspend}, within `recordMs`).
   */
  async shutdown(
    reason: () => JobInterruptedError,
    graceMs: number,
    recordMs: number = DEFAULT_RECORD_STOP_MS,
  ): Promise<void> {
    this.#stopping = true;
    const runners = [...this.#running.values()];
    if (runners.length > 0) {
      this.#deps.logger.info(`Stopping ${runners.length} running job(s)`);
    }
    for (const runner of runners) runner.stop(reason());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = Promise.all([
      this.#limiters.content.drain(),
      this.#limiters.access_control.drain(),
    ])
      .then(() => true, () => true);
    const timedOut = new Promise<boolean>((
      resolve,
    ) => (timer = setTimeout(() => resolve(false), graceMs)));
    const done = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (!done) {
      this.#deps.logger.warning(
        `${this.#running.size} job(s) did not finish within ${
          graceMs / 1000
        }s; recording their end without them`,
      );
      await this.forceSuspend(reason, recordMs);
    }
  }

  /**
   * The hurried end of {@linkcode ExecutionService.shutdown} (a second SIGTERM): stops every
   * running job and records its end itself, without waiting for the sync to wind down: a job
   * still `in_progress` becomes `suspended` (`canceling`: `canceled`) and its connector's lane
   * is released, each write guarded so that it never overwrites what the runner wrote first.
   * Jobs whose runner was already recording the end get the rest of the time to finish.
   * Resolves within `graceMs`, recorded or not.
   */
  async forceSuspend(reason: () => JobInterruptedError, graceMs: number): Promise<void> {
    this.#stopping = true;
    const runners = [...this.#running.values()];
    for (const runner of runners) runner.stop(reason());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"late">((
      resolve,
    ) => (timer = setTimeout(resolve, graceMs, "late")));
    const work = (async () => {
      const outcomes = await Promise.allSettled(runners.map((r) => this.#recordStop(r)));
      if (outcomes.some((o) => o.status === "rejected" || !o.value)) {
        await Promise.all([this.#limiters.content.drain(), this.#limiters.access_control.drain()]);
      }
      return outcomes.filter((o) => o.status === "rejected").length;
    })();
    const failed = await Promise.race([work.catch(() => runners.length), timedOut]);
    clearTimeout(timer);
    if (failed === 0) return;
    this.#deps.logger.warning(
      failed === "late"
        ? `The end of ${this.#running.size} job(s) was not recorded within ${graceMs / 1000}s`
        : `The end of ${failed} job(s) could not be recorded`,
    );
  }

  /**
   * Ends a stopped runner's job and releases its lane unless the runner did it already; true
   * when this wrote the job's end.
   */
  async #recordStop(runner: JobRunner): Promise<boolean> {
    const { jobs, connectors, logger } = this.#deps;
    let ended: SyncJob | undefined;
    let wrote = false;
    for (let attempt = 1; !ended && attempt <= CONCURRENCY_RETRIES; attempt++) {
      const job = await jobs.get(runner.jobId);
      if (!job) return false;
      if (!ACTIVE_JOB_STATUSES.includes(job.doc.status)) {
        // Never claimed (the lane may be another process's) or ended by the runner meanwhile.
        if (attempt === 1) return false;
        ended = job;
        break;
      }
      const status = job.doc.status === "canceling" ? "canceled" : "suspended";
      try {
        await jobs.terminate(job.id, status, { version: job });
        ended = { ...job, doc: { ...job.doc, status, error: null } };
        wrote = true;
      } catch (error) {
        // A heartbeat or the runner wrote meanwhile: read again.
        if (!isVersionConflict(error)) throw error;
      }
    }
    if (!ended) return false;
    const released = await connectors.syncDoneIfLocked(runner.connectorId, {
      status: ended.doc.status,
      error: ended.doc.error ?? null,
      job_type: ended.doc.job_type,
      indexed_document_count: ended.doc.indexed_document_count ?? 0,
      deleted_document_count: ended.doc.deleted_document_count ?? 0,
    });
    if (!wrote) return false;
    logger.info(
      `Job ${ended.id} marked ${ended.doc.status}${
        released ? " and its connector's lane released" : ""
      } without waiting for its sync to stop`,
      { connector_id: runner.connectorId, job_id: ended.id },
    );
    return true;
  }
}
