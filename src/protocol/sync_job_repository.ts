/**
 * Reads and writes of `.elastic-connectors-sync-jobs` documents: creating a job with the
 * connector snapshot Kibana writes, listing pending work oldest first, claiming, heartbeats,
 * termination, cancellation and the queries of the cleanup service (spec §3).
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { type Hit, toVersioned } from "./_hit.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger } from "../log/mod.ts";
import type { Filtering } from "../source/types.ts";
import {
  CONCURRENCY_RETRIES,
  isNotFound,
  isVersionConflict,
  RETRY_ON_CONFLICT,
} from "./connector_repository.ts";
import type { DocVersion } from "./connector_repository.ts";
import type {
  Connector,
  ConnectorDoc,
  JobConnectorSnapshot,
  JobStatus,
  JobType,
  SyncJob,
  SyncJobDoc,
  TriggerMethod,
} from "./types.ts";
import {
  ACCESS_CONTROL_INDEX_PREFIX,
  CONNECTORS_INDEX,
  DEFAULT_FILTERING_DOMAIN,
  JOBS_INDEX,
} from "./types.ts";

/** Jobs fetched per search page. */
export const JOB_PAGE_SIZE = 100;
/** Bytes per MiB: `indexed_document_volume` is stored in whole MiB. */
export const BYTES_PER_MIB = 1_048_576;
/** Statuses of jobs a service process is (or was) running. */
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ["in_progress", "canceling"];
/** Statuses the execution service picks up. */
export const RUNNABLE_JOB_STATUSES: readonly JobStatus[] = ["pending", "suspended"];
/** The job types of the protocol (spec §3). */
export const KNOWN_JOB_TYPES: readonly JobType[] = ["full", "incremental", "access_control"];

/** Counters written on a job. */
export interface JobCounters {
  indexed_document_count: number;
  /** Whole MiB. */
  indexed_document_volume: number;
  deleted_document_count: number;
  total_document_count?: number;
}

/**
 * Whole MiB of a byte count, rounded as Elastic rounds it.
 *
 * @example
 * ```ts
 * import { bytesToMiB } from "./sync_job_repository.ts";
 * if (bytesToMiB(1_600_000) !== 2 || bytesToMiB(100) !== 0) throw new Error();
 * ```
 */
export function bytesToMiB(bytes: number): number {
  return Math.round(bytes / BYTES_PER_MIB);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The active sync rules of a connector as a job snapshot carries them: the `DEFAULT` domain's
 * `active` filtering, or `{advanced_snippet: {}, rules: []}` when there is none.
 *
 * @example
 * ```ts
 * import { activeFilteringSnapshot } from "./sync_job_repository.ts";
 * const snapshot = activeFilteringSnapshot([]);
 * if (snapshot.rules.length !== 0) throw new Error();
 * ```
 */
export function activeFilteringSnapshot(
  filtering: ConnectorDoc["filtering"] | null | undefined,
): Filtering {
  const entries = Array.isArray(filtering) ? filtering : [];
  const entry = entries.find((e) => e?.domain === DEFAULT_FILTERING_DOMAIN) ?? entries[0];
  const active = entry?.active;
  if (!isPlainObject(active) || Object.keys(active).length === 0) {
    return { advanced_snippet: {}, rules: [] };
  }
  return structuredClone(active) as Filtering;
}

/**
 * The connector snapshot of a new job, as Kibana writes it (spec §3): configuration without
 * Kibana's `category` entries, the active filtering, index (the `.search-acl-filter-` index for
 * access-control jobs), language, pipeline and service type.
 *
 * @example
 * ```ts
 * import { jobSnapshot } from "./sync_job_repository.ts";
 * const snapshot = jobSnapshot("c1", {
 *   configuration: { dir: { value: "/x" }, group: { type: "category", label: "G" } },
 *   filtering: [], index_name: "search-x", language: null, pipeline: null, service_type: "dir",
 * } as never, "access_control");
 * if (snapshot.index_name !== ".search-acl-filter-search-x" || "group" in snapshot.configuration) throw new Error();
 * ```
 */
export function jobSnapshot(id: string, doc: ConnectorDoc, jobType: JobType): JobConnectorSnapshot {
  const configuration: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(doc.configuration ?? {})) {
    if (isPlainObject(field) && (field as { type?: unknown }).type === "category") continue;
    configuration[key] = structuredClone(field);
  }
  return {
    configuration: configuration as JobConnectorSnapshot["configuration"],
    filtering: activeFilteringSnapshot(doc.filtering),
    id,
    index_name: jobType === "access_control"
      ? `${ACCESS_CONTROL_INDEX_PREFIX}${doc.index_name}`
      : doc.index_name,
    language: doc.language ?? null,
    pipeline: doc.pipeline ?? null,
    service_type: doc.service_type ?? null,
  };
}

const toJob: (hit: Hit<SyncJobDoc>) => SyncJob = toVersioned;

/** Options of {@linkcode SyncJobRepository}. */
export interface SyncJobRepositoryOptions {
  logger?: Logger;
  /** Index or alias of jobs; defaults to `.elastic-connectors-sync-jobs`. */
  index?: string;
  /** Index or alias of connectors (for orphan detection); defaults to `.elastic-connectors`. */
  connectorsIndex?: string;
}

/** Options of {@linkcode SyncJobRepository.terminate}. */
export interface TerminateOptions {
  /** Message stored in `error` (null clears it). */
  error?: string | null;
  /** Final counters. */
  counters?: JobCounters;
  /** Only write if the job is still at this version (cleanup); HTTP 409 otherwise. */
  version?: DocVersion;
  now?: Date;
}

/**
 * Access to sync job documents.
 *
 * @example
 * ```ts ignore
 * import { SyncJobRepository } from "./sync_job_repository.ts";
 * const jobs = new SyncJobRepository(client);
 * for await (const job of jobs.listPending(["c1"], ["full", "incremental"])) console.log(job.id);
 * ```
 */
export class SyncJobRepository {
  readonly #client: Client;
  readonly #logger: Logger;
  readonly #index: string;
  readonly #connectorsIndex: string;

  constructor(client: Client, options: SyncJobRepositoryOptions = {}) {
    this.#client = client;
    this.#logger = options.logger ?? nullLogger;
    this.#index = options.index ?? JOBS_INDEX;
    this.#connectorsIndex = options.connectorsIndex ?? CONNECTORS_INDEX;
  }

  /** The job with its concurrency tokens (real-time read), or undefined. */
  async get(id: string): Promise<SyncJob | undefined> {
    try {
      const response = await this.#client.get<SyncJobDoc>({ index: this.#index, id });
      if (!response.found || !response._source) return undefined;
      return toJob(response);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Creates a `pending` job for a connector with the snapshot Kibana writes; returns its id.
   */
  async create(
    connector: Connector,
    options: { jobType: JobType; triggerMethod: TriggerMethod; now?: Date },
  ): Promise<string> {
    const now = (options.now ?? new Date()).toISOString();
    const doc: SyncJobDoc = {
      cancelation_requested_at: null,
      canceled_at: null,
      completed_at: null,
      connector: jobSnapshot(connector.id, connector.doc, options.jobType),
      created_at: now,
      deleted_document_count: 0,
      error: null,
      indexed_document_count: 0,
      indexed_document_volume: 0,
      job_type: options.jobType,
      last_seen: null,
      metadata: {},
      started_at: null,
      status: "pending",
      total_document_count: null,
      trigger_method: options.triggerMethod,
      worker_hostname: null,
    };
    const response = await this.#client.index({ index: this.#index, document: doc });
    this.#logger.debug(`Created ${options.triggerMethod} ${options.jobType} job ${response._id}`, {
      connector_id: connector.id,
      job_id: response._id,
    });
    return response._id;
  }

  /** Pages through a query in `created_at` order (ties in index order), 100 hits a request. */
  async *#search(query: Record<string, unknown>): AsyncGenerator<SyncJob> {
    let after: unknown[] | undefined;
    for (;;) {
      const response = await this.#client.search<SyncJobDoc>({
        index: this.#index,
        size: JOB_PAGE_SIZE,
        seq_no_primary_term: true,
        query,
        sort: [{ created_at: { order: "asc" } }, "_doc"],
        ...(after ? { search_after: after } : {}),
      } as never);
      const hits = response.hits.hits as Hit<SyncJobDoc>[];
      for (const hit of hits) yield toJob(hit);
      if (hits.length < JOB_PAGE_SIZE) return;
      after = hits.at(-1)?.sort;
      if (!after) return;
    }
  }

  /**
   * The `pending` and `suspended` jobs of `connectorIds` whose type is in `jobTypes`, oldest
   * first (spec §3.2 step 1).
   */
  listPending(
    connectorIds: readonly string[],
    jobTypes: readonly JobType[],
  ): AsyncGenerator<SyncJob> {
    // A job without a known type belongs to the full-sync lane: it runs as `full` (no type, as
    // the spec says) or ends `error` (an unknown type), instead of staying pending forever.
    const typeFilter = jobTypes.includes("full")
      ? {
        bool: {
          should: [
            { terms: { job_type: jobTypes } },
            { bool: { must_not: { terms: { job_type: KNOWN_JOB_TYPES } } } },
          ],
          minimum_should_match: 1,
        },
      }
      : { terms: { job_type: jobTypes } };
    return this.#search({
      bool: {
        filter: [
          { terms: { status: RUNNABLE_JOB_STATUSES } },
          { terms: { "connector.id": connectorIds } },
          typeFilter,
        ],
      },
    });
  }

  /**
   * The most recently completed job of a connector and job type other than `exceptId`, or
   * undefined: what the last successful sync saw (its snapshot and final document count).
   */
  async lastCompleted(
    connectorId: string,
    jobType: JobType,
    exceptId?: string,
  ): Promise<SyncJob | undefined> {
    const response = await this.#client.search<SyncJobDoc>({
      index: this.#index,
      size: 1,
      seq_no_primary_term: true,
      query: {
        bool: {
          filter: [
            { term: { "connector.id": connectorId } },
            { term: { job_type: jobType } },
            { term: { status: "completed" } },
          ],
          ...(exceptId ? { must_not: { ids: { values: [exceptId] } } } : {}),
        },
      },
      sort: [{ completed_at: { order: "desc" } }],
    } as never);
    const hit = response.hits.hits[0] as Hit<SyncJobDoc> | undefined;
    return hit ? toJob(hit) : undefined;
  }

  /**
   * Claims a job for this process (spec §3.2 step 4): `in_progress`, `started_at`, `last_seen`,
   * `worker_hostname` and the cursor the job starts from. Guarded by the version of `job`, so
   * a job re-read after the lane lock cannot be claimed twice (HTTP 409 otherwise).
   */
  async claim(
    job: SyncJob,
    options: { hostname: string; syncCursor?: unknown; now?: Date },
  ): Promise<SyncJob> {
    const now = (options.now ?? new Date()).toISOString();
    const doc = {
      status: "in_progress" as const,
      started_at: now,
      last_seen: now,
      worker_hostname: options.hostname,
      connector: { sync_cursor: options.syncCursor ?? null },
    };
    const response = await this.#client.update({
      index: this.#index,
      id: job.id,
      doc,
      if_seq_no: job.seqNo,
      if_primary_term: job.primaryTerm,
    });
    return {
      id: job.id,
      doc: {
        ...job.doc,
        ...doc,
        connector: { ...job.doc.connector, sync_cursor: options.syncCursor ?? null },
      },
      seqNo: response._seq_no ?? job.seqNo,
      primaryTerm: response._primary_term ?? job.primaryTerm,
    };
  }

  /** Job heartbeat: counters and `last_seen` (spec §3.3). */
  async updateStats(
    id: string,
    counters: JobCounters,
    options: { metadata?: Record<string, unknown>; now?: Date } = {},
  ): Promise<void> {
    const doc: Record<string, unknown> = {
      last_seen: (options.now ?? new Date()).toISOString(),
      ...counters,
    };
    if (options.metadata && Object.keys(options.metadata).length > 0) {
      doc.metadata = options.metadata;
    }
    await this.#client.update({
      index: this.#index,
      id,
      doc,
      retry_on_conflict: RETRY_ON_CONFLICT,
    });
  }

  /**
   * Ends a job (or suspends it): `status`, `error`, `last_seen`, counters, `completed_at` for
   * `completed`/`error`/`canceled` and `canceled_at` for `canceled`.
   */
  async terminate(id: string, status: JobStatus, options: TerminateOptions = {}): Promise<void> {
    const now = (options.now ?? new Date()).toISOString();
    const doc: Record<string, unknown> = { last_seen: now, status, error: options.error ?? null };
    if (status === "completed" || status === "error" || status === "canceled") {
      doc.completed_at = now;
    }
    if (status === "canceled") doc.canceled_at = now;
    if (options.counters) Object.assign(doc, options.counters);
    await this.#client.update({
      index: this.#index,
      id,
      doc,
      ...(options.version
        ? { if_seq_no: options.version.seqNo, if_primary_term: options.version.primaryTerm }
        : { retry_on_conflict: RETRY_ON_CONFLICT }),
    });
  }

  /**
   * Requests cancellation as Kibana does: `pending`/`suspended` jobs become `canceled` at once,
   * `in_progress` ones `canceling` (the runner then stops them). Returns the new status, or
   * undefined when the job is missing or already finished.
   */
  async requestCancel(id: string, now = new Date()): Promise<JobStatus | undefined> {
    for (let attempt = 1;; attempt++) {
      const job = await this.get(id);
      if (!job) return undefined;
      const at = now.toISOString();
      let doc: Partial<SyncJobDoc>;
      if (job.doc.status === "pending" || job.doc.status === "suspended") {
        doc = {
          status: "canceled",
          cancelation_requested_at: at,
          canceled_at: at,
          completed_at: at,
        };
      } else if (job.doc.status === "in_progress") {
        doc = { status: "canceling", cancelation_requested_at: at };
      } else {
        return undefined;
      }
      try {
        await this.#client.update({
          index: this.#index,
          id,
          doc,
          if_seq_no: job.seqNo,
          if_primary_term: job.primaryTerm,
        });
        return doc.status;
      } catch (error) {
        if (!isVersionConflict(error) || attempt >= CONCURRENCY_RETRIES) throw error;
      }
    }
  }

  /**
   * Running (`in_progress`/`canceling`) jobs of `connectorIds` whose `last_seen` is older than
   * `idleSeconds` (spec §3.3 cleanup), at most one page.
   */
  async listIdle(
    connectorIds: readonly string[],
    idleSeconds: number,
    now = new Date(),
  ): Promise<SyncJob[]> {
    if (connectorIds.length === 0) return [];
    const threshold = new Date(now.getTime() - idleSeconds * 1000).toISOString();
    const jobs: SyncJob[] = [];
    for await (
      const job of this.#search({
        bool: {
          filter: [
            { terms: { "connector.id": connectorIds } },
            { terms: { status: ACTIVE_JOB_STATUSES } },
            { range: { last_seen: { lte: threshold } } },
          ],
        },
      })
    ) {
      jobs.push(job);
      if (jobs.length >= JOB_PAGE_SIZE) break;
    }
    return jobs;
  }

  /** Number of running (`in_progress`/`canceling`) jobs of a connector among `jobTypes`. */
  async countActive(connectorId: string, jobTypes: readonly JobType[]): Promise<number> {
    const response = await this.#client.count({
      index: this.#index,
      query: {
        bool: {
          filter: [
            { term: { "connector.id": connectorId } },
            { terms: { status: ACTIVE_JOB_STATUSES } },
            { terms: { job_type: jobTypes } },
          ],
        },
      },
    } as never);
    return response.count;
  }

  /**
   * Running (`in_progress`/`canceling`) jobs whose connector no longer exists or is
   * soft-deleted, at most one page.
   */
  async listOrphaned(): Promise<SyncJob[]> {
    const active: SyncJob[] = [];
    for await (
      const job of this.#search({ bool: { filter: [{ terms: { status: ACTIVE_JOB_STATUSES } }] } })
    ) {
      active.push(job);
      if (active.length >= 10 * JOB_PAGE_SIZE) break;
    }
    const ids = [
      ...new Set(active.map((job) => job.doc.connector?.id).filter((id): id is string => !!id)),
    ];
    const alive = new Set<string>();
    if (ids.length > 0) {
      const response = await this.#client.mget<ConnectorDoc>({
        index: this.#connectorsIndex,
        ids,
        _source_includes: ["deleted"],
      });
      for (const entry of response.docs) {
        if ("found" in entry && entry.found && entry._source?.deleted !== true) {
          alive.add(entry._id);
        }
      }
    }
    return active.filter((job) => !alive.has(job.doc.connector?.id ?? "")).slice(0, JOB_PAGE_SIZE);
  }
}
