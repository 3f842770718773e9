/**
 * Finding what a full sync must delete without holding the index's ids in memory: every document
 * the sync wrote carries the job's id in {@linkcode SYNC_JOB_STAMP_FIELD}; after the source ended
 * and the index was refreshed, a point-in-time scan pages (`search_after` on `_shard_doc`) through
 * the documents whose stamp is anything else. Memory stays at one page.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { SYNC_JOB_STAMP_FIELD } from "./document.ts";

/** Hits per page of the stale-document scan. */
export const DEFAULT_SCAN_PAGE_SIZE = 1000;
/** How long the point in time stays open between two pages. */
export const DEFAULT_PIT_KEEP_ALIVE = "5m";

/** A document to delete: its concrete index and `_id`. */
export interface StaleDocument {
  index: string;
  id: string;
}

/** Options of {@linkcode scanStaleDocuments}. */
export interface ScanOptions {
  /** Hits per page (default {@linkcode DEFAULT_SCAN_PAGE_SIZE}). */
  pageSize?: number;
  /** Aborts the scan. */
  signal?: AbortSignal;
}

/**
 * Yields every document of `index` (an index or alias) not stamped with `jobId`. The caller must
 * refresh the index first. The point in time is closed when the iteration ends or is abandoned.
 *
 * @example
 * ```ts ignore
 * await client.indices.refresh({ index });
 * for await (const doc of scanStaleDocuments(client, index, job.id)) console.log(doc.id);
 * ```
 */
export async function* scanStaleDocuments(
  client: Client,
  index: string,
  jobId: string,
  options: ScanOptions = {},
): AsyncGenerator<StaleDocument> {
  const size = options.pageSize ?? DEFAULT_SCAN_PAGE_SIZE;
  const request = options.signal ? { signal: options.signal } : {};
  const opened = await client.openPointInTime(
    { index, keep_alive: DEFAULT_PIT_KEEP_ALIVE },
    request,
  );
  let pitId = opened.id;
  try {
    let after: unknown[] | undefined;
    for (;;) {
      const page = await client.search({
        pit: { id: pitId, keep_alive: DEFAULT_PIT_KEEP_ALIVE },
        size,
        sort: [{ _shard_doc: "asc" }],
        query: { bool: { must_not: [{ term: { [SYNC_JOB_STAMP_FIELD]: jobId } }] } },
        _source: false,
        track_total_hits: false,
        ...(after ? { search_after: after as never } : {}),
      }, request);
      if (page.pit_id) pitId = page.pit_id;
      const hits = page.hits.hits;
      for (const hit of hits) {
        if (hit._id !== undefined) yield { index: hit._index, id: hit._id };
      }
      if (hits.length < size) return;
      after = hits[hits.length - 1]!.sort;
    }
  } finally {
    await client.closePointInTime({ id: pitId }).catch(() => {});
  }
}
