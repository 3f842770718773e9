/**
 * {@linkcode CleanupService}: every `service.job_cleanup_interval` (spec §3.3) running jobs
 * that stopped reporting (`last_seen` older than `service.idle_job_timeout`) end `error` and
 * release their connector's lane; running jobs whose connector is gone end `error` too; and a
 * lane left `in_progress` by a process that died between taking the lock and claiming its job
 * is released after the same timeout.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { classifyError, errorMessage } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import type {
  Connector,
  ConnectorDoc,
  ConnectorRepository,
  SyncJobRepository,
  SyncLane,
} from "../protocol/mod.ts";
import { isVersionConflict, LANE_JOB_TYPES, laneFields } from "../protocol/mod.ts";
import { listOwnedConnectors, ownsAnyConnector } from "./owned_connectors.ts";

/** Start of the message of a job that stopped reporting (Elastic's wording). */
export const IDLE_JOB_ERROR = "The job has not seen any update for some time.";

/**
 * The message stored on a job declared dead after `idleSeconds` without heartbeat.
 *
 * @example
 * ```ts
 * import { idleJobError } from "./cleanup_service.ts";
 * if (!idleJobError(300).includes("300s")) throw new Error();
 * ```
 */
export function idleJobError(idleSeconds: number): string {
  return `${IDLE_JOB_ERROR} It stopped reporting: no heartbeat for more than ${idleSeconds}s (the service process running it died or lost its connection).`;
}

/**
 * The message stored on a running job whose connector no longer exists.
 *
 * @example
 * ```ts
 * import { orphanedJobError } from "./cleanup_service.ts";
 * if (!orphanedJobError("c1").includes("c1")) throw new Error();
 * ```
 */
export function orphanedJobError(connectorId: string): string {
  return `${IDLE_JOB_ERROR} Its connector ${connectorId} no longer exists.`;
}

/** The lane error written when a lane lock outlived its (never claimed) job. */
export const STALE_LANE_ERROR =
  "The sync was interrupted before its job started (the service process stopped); the connector was unlocked.";

/** What the cleanup service needs. */
export interface CleanupDeps {
  config: Config;
  logger: Logger;
  connectors: ConnectorRepository;
  jobs: SyncJobRepository;
  /** Jobs this process runs now: never touched by its own cleanup. */
  runningJobIds: () => Set<string>;
  /** Connectors with a runner of this process in a lane. */
  busyConnectors: (lane: SyncLane) => Set<string>;
}

/**
 * Marks dead and orphaned jobs.
 *
 * @example
 * ```ts ignore
 * import { CleanupService } from "./cleanup_service.ts";
 * await new CleanupService(deps).round();
 * ```
 */
export class CleanupService {
  readonly #deps: CleanupDeps;
  /** Lanes seen `in_progress` without a running job: when first seen. */
  readonly #staleSince = new Map<string, number>();

  constructor(deps: CleanupDeps) {
    this.#deps = deps;
  }

  /** One cleanup pass. */
  async round(): Promise<void> {
    await this.#orphaned();
    const owned = ownsAnyConnector(this.#deps.config)
      ? await listOwnedConnectors(this.#deps.connectors, this.#deps.config)
      : [];
    await this.#idle(owned);
    await this.#staleLanes(owned);
  }

  /** Marks one job `error` unless it changed since it was listed. True when written. */
  async #fail(
    job: { id: string; seqNo: number; primaryTerm: number },
    message: string,
  ): Promise<boolean> {
    try {
      await this.#deps.jobs.terminate(job.id, "error", { error: message, version: job });
      return true;
    } catch (error) {
      if (isVersionConflict(error)) return false; // It reported meanwhile: alive after all.
      throw error;
    }
  }

  async #orphaned(): Promise<void> {
    const { jobs, logger } = this.#deps;
    const running = this.#deps.runningJobIds();
    let marked = 0;
    for (const job of await jobs.listOrphaned()) {
      if (running.has(job.id)) continue;
      if (await this.#fail(job, orphanedJobError(job.doc.connector?.id ?? "?"))) marked++;
    }
    if (marked > 0) logger.info(`Marked ${marked} orphaned job(s) as error`);
  }

  async #idle(owned: readonly Connector[]): Promise<void> {
    const { config, jobs, connectors, logger } = this.#deps;
    // Listed ids count even when their connector is gone or soft-deleted: their jobs still die.
    const ids = [
      ...new Set([
        ...config.connectors.map((entry) => entry.connector_id),
        ...owned.map((c) => c.id),
      ]),
    ];
    const idleSeconds = config.service.idle_job_timeout;
    const running = this.#deps.runningJobIds();
    for (const job of await jobs.listIdle(ids, idleSeconds)) {
      if (running.has(job.id)) continue;
      const connectorId = job.doc.connector.id;
      if (!(await this.#fail(job, idleJobError(idleSeconds)))) continue;
      logger.warning(
        `Job ${job.id} stopped reporting for more than ${idleSeconds}s: marked as error`,
        {
          connector_id: connectorId,
          job_id: job.id,
        },
      );
      try {
        const current = await jobs.get(job.id);
        if (await connectors.get(connectorId)) {
          await connectors.syncDone(connectorId, current?.doc ?? null);
        }
      } catch (error) {
        if (classifyError(error) === "retriable") throw error;
        logger.error(
          `Cannot release connector ${connectorId} after job ${job.id}: ${errorMessage(error)}`,
        );
      }
    }
  }

  async #staleLanes(owned: readonly Connector[]): Promise<void> {
    const { config, connectors, jobs, logger } = this.#deps;
    const now = Date.now();
    const timeoutMs = config.service.idle_job_timeout * 1000;
    const seen = new Set<string>();
    for (const connector of owned) {
      for (const lane of ["content", "access_control"] as const) {
        const fields = laneFields(lane);
        const key = `${connector.id}:${lane}`;
        if (connector.doc[fields.status] !== "in_progress") continue;
        if (this.#deps.busyConnectors(lane).has(connector.id)) continue;
        if ((await jobs.countActive(connector.id, LANE_JOB_TYPES[lane])) > 0) continue;
        seen.add(key);
        const since = this.#staleSince.get(key);
        if (since === undefined) {
          this.#staleSince.set(key, now);
          continue;
        }
        if (now - since < timeoutMs) continue;
        this.#staleSince.delete(key);
        await connectors.updateWithRetry(
          connector.id,
          (current) =>
            current.doc[fields.status] === "in_progress"
              ? { [fields.status]: "error", [fields.error]: STALE_LANE_ERROR } as Partial<
                ConnectorDoc
              >
              : undefined,
        );
        logger.warning(`Connector ${connector.id}: released a ${lane} lock without a running job`, {
          connector_id: connector.id,
        });
      }
    }
    for (const key of [...this.#staleSince.keys()]) {
      if (!seen.has(key)) this.#staleSince.delete(key);
    }
  }
}
