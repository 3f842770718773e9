/**
 * Reads and writes of `.elastic-connectors` documents: check-ins, partial updates guarded by
 * `if_seq_no`/`if_primary_term`, the per-lane lock a job takes before it starts (spec §3.2) and
 * the connector update when it ends (spec §3.3).
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { type Hit, toVersioned } from "./_hit.ts";
import { statusOf } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger } from "../log/mod.ts";
import type { Connector, ConnectorDoc, JobStatus, JobType, SyncJobDoc, SyncLane } from "./types.ts";
import { CONNECTORS_INDEX, laneOf, TERMINAL_JOB_STATUSES } from "./types.ts";

/** Attempts of an optimistic-concurrency update before giving up (Elastic's value). */
export const CONCURRENCY_RETRIES = 3;
/** Connectors one process owns by service type at most (a search page; Elasticsearch's window). */
export const MAX_OWNED_CONNECTORS = 10_000;
/** `retry_on_conflict` of unguarded partial updates. */
export const RETRY_ON_CONFLICT = 3;

/** Connector error when the job it ran vanished (Elastic's wording). */
export const JOB_NOT_FOUND_ERROR = "Couldn't find the job";
/** Connector error when a job ended `error` without a message (Elastic's wording). */
export const UNKNOWN_ERROR = "unknown error";

/** The concurrency tokens of a read document. */
export interface DocVersion {
  seqNo: number;
  primaryTerm: number;
}

/**
 * True when an Elasticsearch error is a version conflict (HTTP 409).
 *
 * @example
 * ```ts
 * import { isVersionConflict } from "./connector_repository.ts";
 * if (isVersionConflict(new Error("x"))) throw new Error();
 * ```
 */
export function isVersionConflict(error: unknown): boolean {
  return statusOf(error) === 409;
}

/**
 * True when an Elasticsearch error says the document or index is missing (HTTP 404).
 *
 * @example
 * ```ts
 * import { isNotFound } from "./connector_repository.ts";
 * if (isNotFound(new Error("x"))) throw new Error();
 * ```
 */
export function isNotFound(error: unknown): boolean {
  return statusOf(error) === 404;
}

/**
 * Names of a lane's status and error fields on the connector.
 *
 * @example
 * ```ts
 * import { laneFields } from "./connector_repository.ts";
 * if (laneFields("content").status !== "last_sync_status") throw new Error();
 * ```
 */
export function laneFields(
  lane: SyncLane,
): { status: keyof ConnectorDoc; error: keyof ConnectorDoc } {
  return lane === "access_control"
    ? { status: "last_access_control_sync_status", error: "last_access_control_sync_error" }
    : { status: "last_sync_status", error: "last_sync_error" };
}

/**
 * Name of the `last_*_scheduled_at` field of a job type.
 *
 * @example
 * ```ts
 * import { scheduledAtField } from "./connector_repository.ts";
 * if (scheduledAtField("full") !== "last_sync_scheduled_at") throw new Error();
 * ```
 */
export function scheduledAtField(jobType: JobType): keyof ConnectorDoc {
  switch (jobType) {
    case "access_control":
      return "last_access_control_sync_scheduled_at";
    case "incremental":
      return "last_incremental_sync_scheduled_at";
    default:
      return "last_sync_scheduled_at";
  }
}

/** The lane lock a job holds on its connector (see {@linkcode ConnectorRepository.startSync}). */
export interface SyncLock {
  connectorId: string;
  lane: SyncLane;
  /** The connector as it was right after the lock was written. */
  connector: Connector;
  /** Lane status and error before the lock, restored by {@linkcode ConnectorRepository.releaseSync}. */
  previous: { status: unknown; error: unknown };
}

/** The outcome of {@linkcode ConnectorRepository.startSync}. */
export type StartSyncResult =
  | { locked: true; lock: SyncLock }
  | { locked: false; reason: "busy" | "conflict" | "missing" };

/** What a finished job tells its connector (spec §3.3); null when the job vanished. */
export type FinishedJob = Pick<
  SyncJobDoc,
  "status" | "error" | "job_type" | "indexed_document_count" | "deleted_document_count"
>;

/**
 * The fields written on a connector when its job ends (spec §3.3): `last_synced`, `status`
 * (`error` if the job ended `error`, else `connected`), `error`, the lane status and error,
 * `sync_cursor` for completed content jobs (when `cursor` is given) and the last counts of
 * terminal jobs. A vanished job (`null`) sets both lanes to `error`.
 *
 * @example
 * ```ts
 * import { syncDoneFields } from "./connector_repository.ts";
 * const job = { status: "suspended", error: null, job_type: "full" } as const;
 * const doc = syncDoneFields({ ...job, indexed_document_count: 3, deleted_document_count: 0 });
 * if (doc.last_sync_status !== "suspended" || doc.status !== "connected") throw new Error();
 * if ("last_indexed_document_count" in doc) throw new Error("suspended is not terminal");
 * ```
 */
export function syncDoneFields(
  job: FinishedJob | null,
  options: { cursor?: { value: unknown }; now?: Date } = {},
): Partial<ConnectorDoc> {
  const status: JobStatus = job?.status ?? "error";
  let error = job === null ? JOB_NOT_FOUND_ERROR : job.error;
  if ((error === null || error === undefined) && status === "error") error = UNKNOWN_ERROR;
  const doc: Partial<ConnectorDoc> = {
    last_synced: (options.now ?? new Date()).toISOString(),
    status: status === "error" ? "error" : "connected",
    error: error ?? null,
  };
  const lanes: SyncLane[] = job === null ? ["content", "access_control"] : [laneOf(job.job_type)];
  for (const lane of lanes) {
    const fields = laneFields(lane);
    Object.assign(doc, { [fields.status]: status, [fields.error]: error ?? null });
  }
  if (job && job.job_type !== "access_control" && status === "completed" && options.cursor) {
    doc.sync_cursor = options.cursor.value ?? null;
  }
  if (job && TERMINAL_JOB_STATUSES.includes(status)) {
    doc.last_indexed_document_count = job.indexed_document_count ?? 0;
    doc.last_deleted_document_count = job.deleted_document_count ?? 0;
  }
  return doc;
}

const toConnector: (hit: Hit<ConnectorDoc>) => Connector = toVersioned;

/** Options of {@linkcode ConnectorRepository}. */
export interface ConnectorRepositoryOptions {
  /** Debug lines about conflicts and retries. */
  logger?: Logger;
  /** Index or alias to use (tests); defaults to `.elastic-connectors`. */
  index?: string;
}

/**
 * Access to connector documents.
 *
 * @example
 * ```ts ignore
 * import { ConnectorRepository } from "./connector_repository.ts";
 * const connectors = new ConnectorRepository(client);
 * const owned = await connectors.listOwned(["my-connector"]);
 * await connectors.heartbeat("my-connector");
 * ```
 */
export class ConnectorRepository {
  readonly #client: Client;
  readonly #logger: Logger;
  readonly #index: string;

  constructor(client: Client, options: ConnectorRepositoryOptions = {}) {
    this.#client = client;
    this.#logger = options.logger ?? nullLogger;
    this.#index = options.index ?? CONNECTORS_INDEX;
  }

  /** The connector with its concurrency tokens, or undefined when there is no such document. */
  async get(id: string): Promise<Connector | undefined> {
    try {
      const response = await this.#client.get<ConnectorDoc>({ index: this.#index, id });
      if (!response.found || !response._source) return undefined;
      return toConnector(response);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * The connectors a process owns (spec §4.2): those among `ids`, and every connector whose
   * `service_type` is in `serviceTypes` and whose `is_native` is not true (worker mode); none
   * soft-deleted (`deleted: true`). Listed connectors come first in the order of `ids`, then the
   * others by id. At most {@linkcode MAX_OWNED_CONNECTORS} by service type.
   */
  async listOwned(
    ids: readonly string[],
    serviceTypes: readonly string[] = [],
  ): Promise<Connector[]> {
    if (ids.length === 0 && serviceTypes.length === 0) return [];
    const groups: Record<string, unknown>[] = [];
    if (ids.length > 0) groups.push({ ids: { values: [...ids] } });
    if (serviceTypes.length > 0) {
      groups.push({
        bool: {
          filter: [{ terms: { service_type: [...serviceTypes] } }],
          must_not: [{ term: { is_native: true } }],
        },
      });
    }
    const response = await this.#client.search<ConnectorDoc>({
      index: this.#index,
      size: serviceTypes.length > 0 ? MAX_OWNED_CONNECTORS : ids.length,
      seq_no_primary_term: true,
      query: {
        bool: {
          filter: [{ bool: { should: groups, minimum_should_match: 1 } }],
          must_not: [{ term: { deleted: true } }],
        },
      },
    });
    const hits = response.hits.hits;
    if (serviceTypes.length > 0 && hits.length >= MAX_OWNED_CONNECTORS) {
      this.#logger.warning(
        `More than ${MAX_OWNED_CONNECTORS} connectors match service.service_types; serving the first ${MAX_OWNED_CONNECTORS}`,
      );
    }
    const byId = new Map(hits.map((hit) => [hit._id!, toConnector(hit as Hit<ConnectorDoc>)]));
    const listed = ids.flatMap((id) => byId.get(id) ?? []);
    const listedIds = new Set(ids);
    const others = [...byId.values()].filter((c) => !listedIds.has(c.id))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return [...listed, ...others];
  }

  /**
   * Partially updates a connector. With `version` the write only succeeds if nobody wrote since
   * that read (HTTP 409 otherwise, see {@linkcode isVersionConflict}). Returns the new version.
   */
  async update(id: string, doc: Partial<ConnectorDoc>, version?: DocVersion): Promise<DocVersion> {
    const response = await this.#client.update({
      index: this.#index,
      id,
      doc,
      // Unguarded writes (heartbeats, status) retry Elasticsearch's internal get-then-index race.
      ...(version
        ? { if_seq_no: version.seqNo, if_primary_term: version.primaryTerm }
        : { retry_on_conflict: RETRY_ON_CONFLICT }),
    });
    return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
  }

  /**
   * Read-modify-write with optimistic concurrency: re-reads the connector, asks `change` for the
   * fields to write (undefined: nothing to do) and writes them guarded by the read's version,
   * retrying from the read on conflict up to {@linkcode CONCURRENCY_RETRIES} times. Returns the
   * connector as written (or as read when nothing changed); undefined when it does not exist.
   */
  async updateWithRetry(
    id: string,
    change: (connector: Connector) => Partial<ConnectorDoc> | undefined,
  ): Promise<Connector | undefined> {
    for (let attempt = 1;; attempt++) {
      const connector = await this.get(id);
      if (!connector) return undefined;
      const doc = change(connector);
      if (!doc || Object.keys(doc).length === 0) return connector;
      try {
        const version = await this.update(id, doc, connector);
        return { id, doc: { ...connector.doc, ...doc }, ...version };
      } catch (error) {
        if (!isVersionConflict(error) || attempt >= CONCURRENCY_RETRIES) throw error;
        this.#logger.debug(`Connector ${id} changed while being updated; retrying (${attempt})`);
      }
    }
  }

  /** Writes the check-in timestamp `last_seen`. */
  async heartbeat(id: string, now = new Date()): Promise<void> {
    await this.update(id, { last_seen: now.toISOString() });
  }

  /** Sets `status: error` with a message. */
  async setError(id: string, message: string): Promise<void> {
    await this.update(id, { status: "error", error: message });
  }

  /** Sets `status: connected` and clears `error`. */
  async setConnected(id: string): Promise<void> {
    await this.update(id, { status: "connected", error: null });
  }

  /**
   * Takes the connector's lane lock for a job of `jobType` (spec §3.2): re-reads the connector,
   * gives up if the lane status is `in_progress`, else writes `status: connected, error: null`
   * and the lane status `in_progress` (error null) guarded by the read's version. A conflict is
   * retried from the read up to {@linkcode CONCURRENCY_RETRIES} times; after that the other
   * writer is assumed to have won.
   */
  async startSync(id: string, jobType: JobType): Promise<StartSyncResult> {
    const lane = laneOf(jobType);
    const fields = laneFields(lane);
    for (let attempt = 1;; attempt++) {
      const connector = await this.get(id);
      if (!connector) return { locked: false, reason: "missing" };
      if (connector.doc[fields.status] === "in_progress") return { locked: false, reason: "busy" };
      const doc: Partial<ConnectorDoc> = {
        status: "connected",
        error: null,
        [fields.status]: "in_progress",
        [fields.error]: null,
      };
      try {
        const version = await this.update(id, doc, connector);
        return {
          locked: true,
          lock: {
            connectorId: id,
            lane,
            connector: { id, doc: { ...connector.doc, ...doc }, ...version },
            previous: { status: connector.doc[fields.status], error: connector.doc[fields.error] },
          },
        };
      } catch (error) {
        if (!isVersionConflict(error)) throw error;
        if (attempt >= CONCURRENCY_RETRIES) return { locked: false, reason: "conflict" };
        this.#logger.debug(`Connector ${id} changed while taking the ${lane} lock; retrying`);
      }
    }
  }

  /**
   * Gives a lane lock back without running a job (the job was taken by another process): the
   * lane status and error return to their values before the lock, if the lane is still
   * `in_progress`.
   */
  async releaseSync(lock: SyncLock): Promise<void> {
    const fields = laneFields(lock.lane);
    await this.updateWithRetry(lock.connectorId, (connector) => {
      if (connector.doc[fields.status] !== "in_progress") return undefined;
      return {
        [fields.status]: lock.previous.status ?? null,
        [fields.error]: lock.previous.error ?? null,
      } as Partial<ConnectorDoc>;
    });
  }

  /**
   * The connector update when a job ends (spec §3.3), see {@linkcode syncDoneFields}. A vanished
   * job (`null`) sets both lanes to `error` with "Couldn't find the job".
   */
  async syncDone(
    id: string,
    job: FinishedJob | null,
    options: { cursor?: { value: unknown }; now?: Date } = {},
  ): Promise<void> {
    await this.update(id, syncDoneFields(job, options));
  }

  /**
   * {@linkcode ConnectorRepository.syncDone} only while the job's lane is still `in_progress`
   * (a guarded read-modify-write), so that it never overwrites what the job's runner wrote first.
   * Returns true when it wrote; false when the lane was already released or the connector is gone.
   */
  async syncDoneIfLocked(id: string, job: FinishedJob, now = new Date()): Promise<boolean> {
    const status = laneFields(laneOf(job.job_type)).status;
    let wrote = false;
    await this.updateWithRetry(id, (connector) => {
      wrote = connector.doc[status] === "in_progress";
      return wrote ? syncDoneFields(job, { now }) : undefined;
    });
    return wrote;
  }

  /**
   * Records that the slot `slot` of `jobType` was turned into a scheduled job, guarded by the
   * version of `connector` (HTTP 409 when another process wrote first).
   */
  async markScheduled(connector: Connector, jobType: JobType, slot: Date): Promise<DocVersion> {
    return await this.update(
      connector.id,
      { [scheduledAtField(jobType)]: slot.toISOString() } as Partial<ConnectorDoc>,
      connector,
    );
  }
}
