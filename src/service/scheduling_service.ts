/**
 * {@linkcode SchedulingService}: one check-in round over the connectors this process owns
 * (spec §4.3): merge the source's configuration schema and features into the connector,
 * heartbeat, validate the configuration and ping the source, validate edited sync rules, and
 * turn due cron slots (and the legacy `sync_now` flag) into pending jobs (spec §4.4).
 *
 * @module
 */
import { createLimiter, raceSignal } from "../async/mod.ts";
import type { Client } from "@elastic/elasticsearch";
import type { Config, ConnectorEntry } from "../config/mod.ts";
import { classifyError, errorMessage, statusOf } from "../errors/mod.ts";
import { deniedSentence, isAuthFailure } from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";
import { redact } from "../log/mod.ts";
import type {
  Connector,
  ConnectorDoc,
  ConnectorFeatures,
  ConnectorRepository,
  JobType,
  Schedule,
  SyncJobRepository,
} from "../protocol/mod.ts";
import {
  DEFAULT_FILTERING_DOMAIN,
  isVersionConflict,
  nextRun,
  parseCron,
  scheduledAtField,
} from "../protocol/mod.ts";
import { CONCURRENCY_RETRIES } from "../protocol/mod.ts";
import type { DataSource, DataSourceClass, Filtering } from "../source/mod.ts";
import {
  createSource,
  featuresOf,
  toSourceConfiguration,
  validateConfiguration,
} from "../source/mod.ts";
import { validateFiltering } from "../sync/mod.ts";
import { checkInChanges, deepEqual } from "./check_in.ts";
import { readPlatinumLicenseProblem } from "./license.ts";
import { listOwnedConnectors, ownsAnyConnector } from "./owned_connectors.ts";

/** What the scheduling service needs. */
export interface SchedulingDeps {
  config: Config;
  logger: Logger;
  connectors: ConnectorRepository;
  jobs: SyncJobRepository;
  registry: { load(serviceType: string): Promise<DataSourceClass> };
  /** For the license check of access-control scheduling. */
  client: Client;
  /** Aborted on shutdown. */
  signal: AbortSignal;
}

/**
 * True when any of the sync-rule features is enabled (Elastic's `sync_rules_enabled`).
 *
 * @example
 * ```ts
 * import { syncRulesEnabled } from "./scheduling_service.ts";
 * if (!syncRulesEnabled({ sync_rules: { basic: { enabled: true } } })) throw new Error();
 * if (syncRulesEnabled(null)) throw new Error();
 * ```
 */
export function syncRulesEnabled(features: ConnectorFeatures | null | undefined): boolean {
  if (!features) return false;
  return Boolean(
    features.sync_rules?.basic?.enabled || features.sync_rules?.advanced?.enabled ||
      features.filtering_rules || features.filtering_advanced_config,
  );
}

/**
 * The schedule of a job type; the flat 8.5-8.8 `{enabled, interval}` counts for `full`.
 *
 * @example
 * ```ts
 * import { scheduleOf } from "./scheduling_service.ts";
 * const legacy = { scheduling: { enabled: true, interval: "0 0 * * * ?" } } as never;
 * if (scheduleOf(legacy, "full")?.interval !== "0 0 * * * ?") throw new Error();
 * ```
 */
export function scheduleOf(doc: ConnectorDoc, jobType: JobType): Schedule | undefined {
  const scheduling = doc.scheduling ?? {};
  const schedule = scheduling[jobType];
  if (schedule) return schedule;
  if (jobType === "full" && typeof scheduling.interval === "string") {
    return { enabled: Boolean(scheduling.enabled), interval: scheduling.interval };
  }
  return undefined;
}

/**
 * The next due minute over the enabled schedules of a connector, with the job type; undefined
 * when none is enabled. Invalid expressions are reported in `invalid`.
 *
 * @example
 * ```ts
 * import { nextScheduledRun } from "./scheduling_service.ts";
 * const doc = { scheduling: { full: { enabled: true, interval: "0 0 0 * * ?" } } } as never;
 * const next = nextScheduledRun(doc, new Date("2024-01-01T10:00:00Z"));
 * if (next.next?.at.toISOString() !== "2024-01-02T00:00:00.000Z") throw new Error();
 * ```
 */
export function nextScheduledRun(
  doc: ConnectorDoc,
  after: Date,
): { next?: { at: Date; jobType: JobType }; invalid: { jobType: JobType; message: string }[] } {
  const invalid: { jobType: JobType; message: string }[] = [];
  let next: { at: Date; jobType: JobType } | undefined;
  for (const jobType of ["full", "incremental", "access_control"] as const) {
    const schedule = scheduleOf(doc, jobType);
    if (!schedule?.enabled) continue;
    try {
      const at = nextRun(schedule.interval, after);
      if (!next || at < next.at) next = { at, jobType };
    } catch (error) {
      invalid.push({ jobType, message: (error as Error).message });
    }
  }
  return next ? { next, invalid } : { invalid };
}

/**
 * Check-in and scheduling of owned connectors, one {@linkcode SchedulingService.round} per
 * `service.idling`.
 *
 * @example
 * ```ts ignore
 * import { SchedulingService } from "./scheduling_service.ts";
 * const scheduler = new SchedulingService(deps);
 * await scheduler.round();
 * ```
 */
export class SchedulingService {
  readonly #deps: SchedulingDeps;
  readonly #entries: Map<string, ConnectorEntry>;
  /** Per connector and job type: the end of the last window evaluated completely. */
  readonly #evaluatedUntil = new Map<string, Date>();
  readonly #checkedIn = new Set<string>();
  readonly #reported = new Map<string, string>();
  readonly #startedAt = new Date();

  constructor(deps: SchedulingDeps) {
    this.#deps = deps;
    this.#entries = new Map(deps.config.connectors.map((entry) => [entry.connector_id, entry]));
  }

  /** Checks in every owned connector (at most `max_concurrent_scheduling_tasks` at once). */
  async round(): Promise<void> {
    const { config, connectors, logger } = this.#deps;
    if (!ownsAnyConnector(config)) return;
    const ids = config.connectors.map((entry) => entry.connector_id);
    const owned = await listOwnedConnectors(connectors, config);
    const found = new Set(owned.map((c) => c.id));
    for (const id of ids) {
      if (found.has(id)) this.#reported.delete(`missing:${id}`);
      else {this.#once(`missing:${id}`, "", () =>
          logger.warning(
            `Connector ${id} (from ${config.file}) was not found in .elastic-connectors; create it in Kibana`,
            { connector_id: id },
          ));}
    }
    const limiter = createLimiter(Math.max(1, config.service.max_concurrent_scheduling_tasks));
    let retriable: unknown;
    let denied: unknown;
    await Promise.all(owned.map((connector) =>
      limiter.run(async () => {
        try {
          await this.checkIn(connector);
        } catch (error) {
          if (this.#deps.signal.aborted) return;
          if (classifyError(error) === "retriable") retriable ??= error;
          // Refused credentials or writes fail the round once (the loop backs off), not per connector.
          else if (isAuthFailure(error)) denied ??= error;
          else if (isVersionConflict(error)) {
            // Another process checked the connector in meanwhile: it is read afresh next round.
            logger.debug(`Connector ${connector.id} changed during its check-in; next round`, {
              connector_id: connector.id,
            });
          } else {
            logger.error(
              `Check-in of connector ${connector.id} failed: ${redact(errorMessage(error))}`,
              {
                connector_id: connector.id,
              },
            );
          }
        }
      })
    ));
    if (retriable !== undefined) throw retriable;
    if (denied !== undefined) throw denied;
  }

  /** Runs `log` when `value` differs from the last one reported under `key`. */
  #once(key: string, value: string, log: () => void): void {
    if (this.#reported.get(key) === value) return;
    this.#reported.set(key, value);
    log();
  }

  /** One connector's check-in (spec §4.3). Errors of Elasticsearch calls propagate. */
  async checkIn(connector: Connector): Promise<void> {
    const { config, connectors, registry } = this.#deps;
    const id = connector.id;
    const configured = this.#entries.get(id)?.service_type;
    const serviceType = configured || connector.doc.service_type;
    const log = this.#deps.logger.child({
      connector_id: id,
      service_type: serviceType ?? undefined,
    });
    if (configured && connector.doc.service_type && configured !== connector.doc.service_type) {
      this.#once(`type:${id}`, configured, () =>
        log.warning(
          `Connector ${id} has service type ${connector.doc.service_type} but ${config.file} says ${configured}; using ${configured}`,
        ));
    }
    if (!serviceType) {
      await this.#heartbeat(connector);
      await this.#setError(
        connector,
        `Connector ${id} has no service type: set service_type for it under connectors in ${config.file}`,
        log,
      );
      return this.#skipSchedules(id);
    }
    let cls: DataSourceClass;
    try {
      cls = await raceSignal(registry.load(serviceType), this.#deps.signal);
    } catch (error) {
      if (this.#deps.signal.aborted) return;
      await this.#heartbeat(connector);
      await this.#setError(connector, redact((error as Error).message ?? String(error)), log);
      return this.#skipSchedules(id);
    }
    const prepared = await connectors.updateWithRetry(
      id,
      (current) => checkInChanges(current, cls, serviceType),
    );
    if (!prepared) return;
    if (
      prepared.doc.status !== connector.doc.status && prepared.doc.status === "needs_configuration"
    ) {
      log.info(
        `Connector ${id}: wrote the ${serviceType} configuration schema; waiting for it to be configured in Kibana`,
      );
    }
    await this.#heartbeat(prepared);
    if (prepared.doc.status === "created" || prepared.doc.status === "needs_configuration") {
      this.#once(
        `status:${id}`,
        prepared.doc.status,
        () =>
          log.info(
            `Connector ${id} is ${prepared.doc.status}: it cannot sync until it is configured`,
          ),
      );
      return this.#skipSchedules(id);
    }
    this.#reported.delete(`status:${id}`);
    if (!(await this.#validate(prepared, cls, log))) return this.#skipSchedules(id);
    await this.#syncNow(prepared, log);
    const features = prepared.doc.features ?? {};
    const declared = featuresOf(cls);
    const wanted = {
      access_control: Boolean(
        features.document_level_security?.enabled && declared.document_level_security?.enabled,
      ) && await this.#platinum(log),
      incremental: Boolean(
        features.incremental_sync?.enabled && declared.incremental_sync?.enabled,
      ),
      full: true,
    };
    for (const jobType of ["access_control", "incremental", "full"] as const) {
      if (wanted[jobType]) await this.#trySchedule(prepared, jobType, log);
      else this.#evaluatedUntil.set(`${id}:${jobType}`, new Date());
    }
  }

  /**
   * Slots that fall due while a connector cannot sync (not configured, broken) are dropped, as
   * in Elastic's scheduler: fixing a connector does not trigger a catch-up sync.
   */
  #skipSchedules(id: string): void {
    const now = new Date();
    for (const jobType of ["full", "incremental", "access_control"]) {
      this.#evaluatedUntil.set(`${id}:${jobType}`, now);
    }
  }

  async #heartbeat(connector: Connector): Promise<void> {
    const lastSeen = connector.doc.last_seen ? Date.parse(connector.doc.last_seen) : NaN;
    const stale = Number.isNaN(lastSeen) ||
      Date.now() - lastSeen > this.#deps.config.service.heartbeat * 1000;
    if (!this.#checkedIn.has(connector.id) || stale) {
      await this.#deps.connectors.heartbeat(connector.id);
      this.#checkedIn.add(connector.id);
    }
  }

  async #setError(connector: Connector, message: string, log: Logger): Promise<void> {
    this.#once(
      `error:${connector.id}`,
      message,
      () => log.error(`Connector ${connector.id}: ${message}`),
    );
    if (connector.doc.status === "error" && connector.doc.error === message) return;
    await this.#deps.connectors.setError(connector.id, message);
  }

  /**
   * Validates the configuration, the enabled cron expressions and pings the source; validates
   * an edited sync-rules draft; sets `connected` or `error`. Returns true when connected.
   */
  async #validate(connector: Connector, cls: DataSourceClass, log: Logger): Promise<boolean> {
    const { config, connectors, signal } = this.#deps;
    let source: DataSource | undefined;
    let problem: string | undefined;
    let draftValidation: Awaited<ReturnType<typeof validateFiltering>> | undefined;
    const draft = this.#editedDraft(connector);
    try {
      const configuration = connector.doc.configuration as Record<string, unknown>;
      source = createSource(cls, configuration, {
        logger: log,
        maxFileSize: config.service.max_file_download_size,
        signal,
      });
      validateConfiguration(toSourceConfiguration(configuration, cls));
      if (source.validateConfig) await raceSignal(source.validateConfig(), signal);
      for (const jobType of ["full", "incremental", "access_control"] as const) {
        const schedule = scheduleOf(connector.doc, jobType);
        if (schedule?.enabled) {
          try {
            parseCron(schedule.interval);
          } catch (error) {
            throw new Error(`Invalid ${jobType} sync schedule: ${(error as Error).message}`);
          }
        }
      }
      await raceSignal(source.ping(), signal);
      if (draft && syncRulesEnabled(connector.doc.features)) {
        draftValidation = await raceSignal(validateFiltering(draft, source), signal);
      }
    } catch (error) {
      if (signal.aborted) return false;
      problem = redact(
        error instanceof Error && /^Invalid \w+ sync schedule/.test(error.message)
          ? error.message
          : errorMessage(error),
      );
    } finally {
      // A source whose close hangs must not hold the shutdown.
      if (source?.close) {
        await raceSignal(source.close(), signal).catch((e) =>
          signal.aborted || log.warning(`Closing the source failed: ${errorMessage(e)}`)
        );
      }
    }
    if (problem !== undefined) {
      await this.#setError(connector, problem, log);
      return false;
    }
    this.#reported.delete(`error:${connector.id}`);
    if (draft && draftValidation) {
      await this.#writeDraftValidation(connector, draft, draftValidation, log);
    }
    if (connector.doc.status !== "connected" || connector.doc.error !== null) {
      log.info(`Connector ${connector.id} is connected`);
      await connectors.setConnected(connector.id);
    }
    return true;
  }

  /** The `DEFAULT` draft when Kibana marked it `edited`. */
  #editedDraft(connector: Connector): Filtering | undefined {
    const entries = Array.isArray(connector.doc.filtering) ? connector.doc.filtering : [];
    const entry = entries.find((e) => e?.domain === DEFAULT_FILTERING_DOMAIN);
    return entry?.draft?.validation?.state === "edited" ? entry.draft : undefined;
  }

  /** Writes the validation result into the draft; a valid draft becomes the active filtering. */
  async #writeDraftValidation(
    connector: Connector,
    validated: Filtering,
    result: Awaited<ReturnType<typeof validateFiltering>>,
    log: Logger,
  ): Promise<void> {
    const strip = (f: Filtering) => ({ rules: f.rules, advanced_snippet: f.advanced_snippet });
    await this.#deps.connectors.updateWithRetry(connector.id, (current) => {
      const filtering = structuredClone(current.doc.filtering ?? []);
      const entry = filtering.find((e) => e?.domain === DEFAULT_FILTERING_DOMAIN);
      // A draft edited again meanwhile is validated in the next round instead.
      if (!entry || !deepEqual(strip(entry.draft), strip(validated))) return undefined;
      entry.draft.validation = { state: result.state, errors: result.errors };
      if (result.state === "valid") entry.active = structuredClone(entry.draft);
      return { filtering };
    });
    log.info(`Connector ${connector.id}: sync rules draft is ${result.state}`);
  }

  /** Honours the legacy `sync_now: true` flag: resets it and creates an on-demand full job. */
  async #syncNow(connector: Connector, log: Logger): Promise<void> {
    if (connector.doc.sync_now !== true) return;
    let reset = false;
    const updated = await this.#deps.connectors.updateWithRetry(connector.id, (current) => {
      reset = current.doc.sync_now === true;
      return reset ? { sync_now: false } : undefined;
    });
    if (!updated || !reset) return;
    const jobId = await this.#deps.jobs.create(updated, {
      jobType: "full",
      triggerMethod: "on_demand",
    });
    log.info(`Connector ${connector.id}: sync_now was set; created on-demand job ${jobId}`);
  }

  async #platinum(log: Logger): Promise<boolean> {
    try {
      const problem = await readPlatinumLicenseProblem(this.#deps.client);
      if (problem === undefined) {
        this.#reported.delete("license");
        return true;
      }
      this.#once(
        "license",
        problem,
        () => log.error(`${problem} Skipping access control sync scheduling.`),
      );
      return false;
    } catch (error) {
      if (classifyError(error) === "retriable") throw error;
      // Once per reason: a key without `monitor` would repeat it every round.
      const text = statusOf(error) === 403
        ? deniedSentence(
          "read the Elasticsearch license",
          error,
          "monitor",
          "access-control syncs are not scheduled",
        )
        : `Cannot read the Elasticsearch license: ${errorMessage(error)}`;
      this.#once("license", text, () => log.warning(text));
      return false;
    }
  }

  /**
   * Creates a scheduled job when a cron slot of `jobType` fell due since the last evaluation
   * (spec §4.4). The slot is recorded in `last_*_scheduled_at` with optimistic concurrency
   * first, so that of several processes exactly one creates the job.
   */
  async #trySchedule(connector: Connector, jobType: JobType, log: Logger): Promise<void> {
    const key = `${connector.id}:${jobType}`;
    const now = new Date();
    const previous = this.#evaluatedUntil.get(key) ?? this.#startedAt;
    const schedule = scheduleOf(connector.doc, jobType);
    if (!schedule?.enabled) {
      this.#evaluatedUntil.set(key, now);
      return;
    }
    const cron = parseCron(schedule.interval); // Validated just before; a throw here is a bug.
    let slot = cron.next(previous);
    if (slot > now) {
      this.#evaluatedUntil.set(key, now);
      return;
    }
    // After an outage several slots may be due: one job covers them, recorded at the latest.
    for (
      let next = cron.next(slot), i = 0;
      next <= now && i < 10_000;
      next = cron.next(next), i++
    ) slot = next;
    const field = scheduledAtField(jobType);
    for (let attempt = 1;; attempt++) {
      const current = await this.#deps.connectors.get(connector.id);
      if (!current) return;
      const last = current.doc[field];
      if (typeof last === "string" && Date.parse(last) > previous.getTime()) {
        log.debug(`A scheduled ${jobType} sync for ${connector.id} was created by another process`);
        this.#evaluatedUntil.set(key, now);
        return;
      }
      try {
        const version = await this.#deps.connectors.markScheduled(current, jobType, slot);
        const jobId = await this.#deps.jobs.create(
          { ...current, ...version, doc: { ...current.doc, [field]: slot.toISOString() } },
          { jobType, triggerMethod: "scheduled" },
        );
        log.info(
          `Connector ${connector.id}: created scheduled ${jobType} job ${jobId} for ${slot.toISOString()}`,
        );
        this.#evaluatedUntil.set(key, now);
        return;
      } catch (error) {
        // Left unevaluated on failure, the slot is tried again next round.
        if (!isVersionConflict(error)) throw error;
        if (attempt >= CONCURRENCY_RETRIES) {
          log.debug(
            `Connector ${connector.id} kept changing while scheduling ${jobType}; next round`,
          );
          return;
        }
      }
    }
  }
}
