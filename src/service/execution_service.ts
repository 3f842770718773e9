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
import { LANE_JOB_TYPES } from "../protocol/mod.ts";
import { laneFields } from "../protocol/mod.ts";
import type { Limiter } from "../sync/mod.ts";
import { createLimiter } from "../sync/mod.ts";
import type { JobInterruptedError, JobRunner } from "./job_runner.ts";
import { listOwnedConnectors, ownsAnyConnector } from "./owned_connectors.ts";

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
 * await executor.shutdown(new ServiceShutdownError(), 10_000);
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
    const runnable = [...owned.values()]
      .filter((c) => c.doc.status !== "created" && c.doc.status !== "needs_configuration")
      .map((c) => c.id);
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
   * `graceMs` for them to record it.
   */
  async shutdown(reason: () => JobInterruptedError, graceMs: number): Promise<void> {
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
        }s; the cleanup service will mark them`,
      );
    }
  }
}
