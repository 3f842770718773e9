/**
 * The one mapping from a search hit or `get` response to a versioned document, shared by the
 * repositories of this folder.
 *
 * @module
 */

/** A search hit or `get` response read with `seq_no_primary_term`. */
export interface Hit<T> {
  _id?: string;
  _source?: T;
  _seq_no?: number;
  _primary_term?: number;
  sort?: unknown[];
}

/** A document with the version that optimistic writes guard on (`if_seq_no`/`if_primary_term`). */
export interface Versioned<T> {
  id: string;
  doc: T;
  seqNo: number;
  primaryTerm: number;
}

/**
 * Maps a hit to `{ id, doc, seqNo, primaryTerm }`; a missing version reads as 0, which no
 * guarded write will match, so a stale read can never win a race.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toVersioned } from "./_hit.ts";
 * const hit = { _id: "c1", _source: { name: "docs" }, _seq_no: 7, _primary_term: 1 };
 * assert.deepEqual(toVersioned(hit), { id: "c1", doc: { name: "docs" }, seqNo: 7, primaryTerm: 1 });
 * ```
 */
export function toVersioned<T>(hit: Hit<T>): Versioned<T> {
  return {
    id: hit._id ?? "",
    doc: hit._source as T,
    seqNo: hit._seq_no ?? 0,
    primaryTerm: hit._primary_term ?? 0,
  };
}
