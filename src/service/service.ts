/**
 * {@linkcode runService}: the connector service (`--action poll`, spec §4). Preflight (cluster,
 * system indices), then the selected loops in one process (all by default; `--action schedule`,
 * `sync_content`, `sync_access_control`, `cleanup` pick some): scheduling and check-in every
 * `service.idling`, job execution (content and/or access-control lane) every `service.idling`,
 * cleanup every `service.job_cleanup_interval`. The loops pause together while Elasticsearch is
 * unreachable and resume by themselves; a loop that keeps failing otherwise (`service.max_errors`
 * within `service.max_errors_span`) stops the process. On shutdown running jobs are suspended and
 * their connectors' lanes released; a second signal cuts that short to
 * {@linkcode FORCED_SHUTDOWN_MS}.
 *
 * @module
 */
import { sleep } from "../async/mod.ts";
import { dirname } from "node:path";
import type { Client } from "@elastic/elasticsearch";
import type { Config } from "../config/mod.ts";
import { classifyError, errorMessage, FatalError } from "../errors/mod.ts";
import {
  createEsClient,
  credentialsOf,
  describeAuthFailure,
  isAuthFailure,
  waitForCluster,
} from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";
import { displayUrl, redact } from "../log/mod.ts";
import {
  ConnectorRepository,
  CONNECTORS_INDEX,
  ensureSystemIndices,
  JOBS_INDEX,
  SyncJobRepository,
  SystemIndexMissingError,
} from "../protocol/mod.ts";
import { SourceRegistry, WorkerPool } from "../source/mod.ts";
import { CleanupService } from "./cleanup_service.ts";
import { ClusterGate } from "./cluster_gate.ts";
import { DeniedBackoff } from "./denied_backoff.ts";
import { ErrorBudget } from "./error_budget.ts";
import { ExecutionService } from "./execution_service.ts";
import { JobInterruptedError, JobRunner, ServiceShutdownError } from "./job_runner.ts";
import { SchedulingService } from "./scheduling_service.ts";
import { describeOwnership, ownsAnyConnector } from "./owned_connectors.ts";
import { lanesOf, SERVICE_NAMES } from "./service_names.ts";
import type { ServiceName } from "./service_names.ts";

/** Milliseconds running jobs get on shutdown to record `suspended` before the process exits. */
export const SHUTDOWN_GRACE_MS = 10_000;
/**
 * Milliseconds spent marking running jobs `suspended` without their runners: at once on a second
 * signal, and after {@linkcode SHUTDOWN_GRACE_MS} for jobs whose sync does not stop.
 */
export const FORCED_SHUTDOWN_MS = 2_000;

/** Options of {@linkcode runService}. */
export interface ServiceOptions {
  logger: Logger;
  /** Aborting it shuts the service down (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /**
   * Aborting it (a second signal) hurries the shutdown: running jobs are marked `suspended` and
   * their lanes released without waiting for their syncs, within {@linkcode FORCED_SHUTDOWN_MS}.
   */
  urgent?: AbortSignal;
  /** The services to run (`--action`); all four when omitted. */
  services?: readonly ServiceName[];
}

/**
 * The host name written into `worker_hostname` (needs `--allow-sys=hostname`; `unknown`
 * without it).
 *
 * @example
 * ```ts
 * import { serviceHostname } from "./service.ts";
 * if (serviceHostname() === "") throw new Error();
 * ```
 */
export function serviceHostname(): string {
  try {
    return Deno.hostname() || "unknown";
  } catch {
    return "unknown";
  }
}

function allowVersionMismatch(): boolean {
  try {
    const value = Deno.env.get("ALLOW_ES_VERSION_MISMATCH");
    return value !== undefined && !["", "0", "false", "no"].includes(value.toLowerCase());
  } catch {
    return false;
  }
}

/** Ensures the system indices, retrying `preflight_max_attempts` × `preflight_idle`. */
async function preflightSystemIndices(
  client: Client,
  config: Config,
  esMajor: number,
  options: ServiceOptions,
): Promise<void> {
  const attempts = Math.max(1, config.service.preflight_max_attempts);
  for (let attempt = 1;; attempt++) {
    try {
      await ensureSystemIndices(client, options.logger, { esMajor });
      return;
    } catch (error) {
      const retriable = error instanceof SystemIndexMissingError ||
        classifyError(error) === "retriable";
      if (!retriable) throw withAuthReason(error, client);
      const message = redact(error instanceof FatalError ? error.message : errorMessage(error));
      if (attempt >= attempts) {
        throw new FatalError(
          `The system indices are not available after ${attempts} attempts (service.preflight_max_attempts): ${message}`,
          { cause: error },
        );
      }
      options.logger.warning(
        `Preflight attempt ${attempt}/${attempts} failed: ${message}; retrying in ${config.service.preflight_idle}s`,
      );
      await sleep(config.service.preflight_idle * 1000, options.signal);
    }
  }
}

/**
 * A preflight failure caused by refused credentials, with Elasticsearch's reason and the
 * credential used appended (the system-index check states only what it tried).
 */
function withAuthReason(error: unknown, client: Client): unknown {
  const cause = error instanceof FatalError ? error.cause : error;
  if (!isAuthFailure(cause)) return error;
  const what = error instanceof FatalError ? `${error.message}: ` : "";
  return new FatalError(`${what}${describeAuthFailure(cause, credentialsOf(client))}`, {
    cause,
  });
}

/**
 * Runs the service until `signal` aborts (then resolves after suspending running jobs) or a
 * fatal error (then rejects). Preflight failures reject with a {@linkcode FatalError}.
 *
 * @example
 * ```ts ignore
 * import { runService } from "./service.ts";
 * const controller = new AbortController();
 * Deno.addSignalListener("SIGTERM", () => controller.abort());
 * await runService(config, { logger, signal: controller.signal });
 * ```
 */
export async function runService(config: Config, options: ServiceOptions): Promise<void> {
  const { logger } = options;
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal.reason);
  if (options.signal.aborted) stop();
  options.signal.addEventListener("abort", stop, { once: true });
  const signal = controller.signal;
  // A stray rejection in a source or a sync must not kill every other job of the process.
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    const reason = event.reason;
    if (reason instanceof JobInterruptedError) {
      logger.debug(`A promise was left rejected with the stop reason of a job: ${reason.message}`);
    } else {
      logger.error(
        `Unhandled promise rejection (a bug; the service goes on): ${redact(errorMessage(reason))}`,
      );
    }
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  // Polling requests fail fast: outages are handled once, by the gate, for every loop.
  const client = createEsClient(config.elasticsearch, { logger, signal, maxRetries: 0 });
  // Lock, claim, termination and content writes retry (and finish even during shutdown).
  const durableClient = createEsClient(config.elasticsearch, { logger });
  const connectorClients = new Map<string, Client>();
  let workers: WorkerPool | undefined;
  let onUrgent: (() => void) | undefined;
  try {
    const info = await waitForCluster(client, config.elasticsearch, {
      logger,
      signal,
      allowVersionMismatch: allowVersionMismatch(),
    });
    logger.info(
      `Connected to Elasticsearch ${info.version} at ${displayUrl(config.elasticsearch.host)} as ${
        credentialsOf(client)
      }`,
    );
    await preflightSystemIndices(client, config, info.major, { logger, signal });
    const services = SERVICE_NAMES.filter((name) => options.services?.includes(name) ?? true);
    logger.info(`Running services: ${services.join(", ")}`);

    const hostname = serviceHostname();
    if (!ownsAnyConnector(config)) {
      logger.warning(
        `No connectors configured in ${config.file}: add them under "connectors:" (or list service types under "service.service_types:")`,
      );
    } else {
      logger.info(`Serving ${describeOwnership(config)} on ${hostname}`);
    }
    const registry = new SourceRegistry(config.sources, { baseDir: dirname(config.file), logger });
    for (const type of config.service.service_types) {
      if (registry.fqn(type) === undefined) {
        logger.warning(
          `service.service_types lists ${type}, which is not under "sources:" in ${config.file}: its connectors will be set to error`,
        );
      }
    }
    // One pool for the whole process, so CPU-heavy source work never exceeds the machine's cores.
    const pool = new WorkerPool({ logger });
    workers = pool;
    const connectors = new ConnectorRepository(client, { logger });
    const jobs = new SyncJobRepository(client, { logger });
    const durableConnectors = new ConnectorRepository(durableClient, { logger });
    const durableJobs = new SyncJobRepository(durableClient, { logger });
    const contentClientFor = (connectorId: string): Client => {
      const index = config.connectors.findIndex((entry) => entry.connector_id === connectorId);
      const apiKey = config.connectors[index]?.api_key;
      if (!apiKey) return durableClient;
      let perConnector = connectorClients.get(connectorId);
      if (!perConnector) {
        perConnector = createEsClient(config.elasticsearch, {
          logger,
          apiKey,
          apiKeySource: `connectors[${index}].api_key`,
        });
        connectorClients.set(connectorId, perConnector);
      }
      return perConnector;
    };

    const gate = new ClusterGate(
      async () => {
        // What the loops read: a starting cluster answers health checks before these searches.
        await client.search(
          {
            index: [CONNECTORS_INDEX, JOBS_INDEX],
            size: 0,
            ignore_unavailable: true,
            allow_no_indices: true,
          },
          { maxRetries: 0 } as never,
        );
      },
      logger,
      {
        initial: config.elasticsearch.initial_backoff_duration,
        multiplier: config.elasticsearch.backoff_multiplier,
        signal,
        host: displayUrl(config.elasticsearch.host),
      },
    );
    const lanes = lanesOf(services);
    const executor = new ExecutionService({
      config,
      logger,
      connectors,
      jobs,
      lanes,
      createRunner: (job) =>
        new JobRunner(job, {
          config,
          logger,
          hostname,
          registry,
          connectors,
          jobs,
          durableConnectors,
          durableJobs,
          contentClient: contentClientFor(job.doc.connector.id),
          workers: pool,
        }),
    });
    const scheduler = new SchedulingService({
      config,
      logger,
      connectors,
      jobs,
      registry,
      client,
      signal,
    });
    const cleanup = new CleanupService({
      config,
      logger,
      connectors,
      jobs,
      runningJobIds: () => executor.runningJobIds(),
      busyConnectors: (lane) => executor.busyConnectors(lane),
    });

    const loop = async (name: string, intervalSeconds: number, body: () => Promise<void>) => {
      const budget = new ErrorBudget(
        name,
        config.service.max_errors,
        config.service.max_errors_span,
      );
      // Refused credentials or writes: said once, then rounds less and less often.
      const denial = new DeniedBackoff(logger, {
        loop: name,
        initial: intervalSeconds,
        credentials: credentialsOf(client),
      });
      while (!signal.aborted) {
        await gate.ready();
        if (signal.aborted) break;
        let pause = intervalSeconds * 1000;
        try {
          await body();
          gate.reportSuccess();
          denial.allowed();
        } catch (error) {
          if (signal.aborted) break;
          if (classifyError(error) === "retriable") gate.reportFailure(error, name);
          else if (isAuthFailure(error)) pause = Math.max(pause, denial.denied(error));
          else {
            logger.error(`The ${name} loop failed: ${redact(errorMessage(error))}`);
            budget.record(error);
          }
        }
        await sleep(pause, signal).catch(() => {});
      }
    };
    // Running jobs are stopped as soon as the shutdown starts, not after the loops end.
    const suspended = new Promise<void>((resolve) => {
      const suspend = () =>
        executor.shutdown(() => new ServiceShutdownError(), SHUTDOWN_GRACE_MS, FORCED_SHUTDOWN_MS)
          .then(
            resolve,
            resolve,
          );
      if (signal.aborted) suspend();
      else signal.addEventListener("abort", suspend, { once: true });
    });
    // A second signal: record the jobs' end at once instead of waiting for loops and syncs.
    const hurried = new Promise<void>((resolve) => {
      onUrgent = () =>
        void executor.forceSuspend(() => new ServiceShutdownError(), FORCED_SHUTDOWN_MS).then(
          resolve,
          resolve,
        );
      if (options.urgent?.aborted) onUrgent();
      else options.urgent?.addEventListener("abort", onUrgent, { once: true });
    });
    let fatal: unknown;
    const loops = [
      ...(services.includes("schedule")
        ? [loop("scheduling", config.service.idling, () => scheduler.round())]
        : []),
      ...(lanes.size > 0 ? [loop("execution", config.service.idling, () => executor.round())] : []),
      ...(services.includes("cleanup")
        ? [loop("cleanup", config.service.job_cleanup_interval, () => cleanup.round())]
        : []),
    ].map((running) =>
      running.catch((error) => {
        fatal ??= error;
        controller.abort(error);
      })
    );
    const stopped = await Promise.race([
      Promise.all([...loops, suspended]).then(() => "stopped" as const),
      hurried.then(() => "hurried" as const),
    ]);
    if (fatal !== undefined) throw fatal;
    logger.info(stopped === "stopped" ? "Service stopped" : "Service stopped (hurried)");
  } finally {
    options.signal.removeEventListener("abort", stop);
    if (onUrgent) options.urgent?.removeEventListener("abort", onUrgent);
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
    workers?.close();
    await Promise.allSettled([
      client.close(),
      durableClient.close(),
      ...[...connectorClients.values()].map((c) => c.close()),
    ]);
  }
}
