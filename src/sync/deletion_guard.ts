/**
 * The mass-deletion guard of full syncs (ours; Elastic has none): before the first delete of a
 * full or access-control sync, refuse to empty a non-empty index when the source yielded
 * nothing (a wrong prefix, an unmounted folder, revoked read rights), and, when configured,
 * refuse to delete more than a fraction of what the index held at the start of the sync.
 *
 * @module
 */

/** How far a full sync of one connector may delete (from `service:` and its `connectors:` entry). */
export interface DeletionGuard {
  /** A sync whose source yields nothing may empty a non-empty index. */
  allowEmptyFullSync: boolean;
  /** Largest fraction (0-1) of the index at the start that one sync may delete; null: any. */
  maxDeletionRatio: number | null;
}

/** The guard when nothing is configured: empty syncs refused, no ratio. */
export const DEFAULT_DELETION_GUARD: Readonly<DeletionGuard> = {
  allowEmptyFullSync: false,
  maxDeletionRatio: null,
};

/** What a sync is about to delete. */
export interface PlannedDeletion {
  connectorId: string;
  index: string;
  /** Documents the source yielded. */
  yielded: number;
  /** Documents the index held when the sync started. */
  heldAtStart: number;
  /** Documents the sync would now delete (stale and excluded by rules). */
  deletions: number;
}

/**
 * Why the planned deletion must not happen, or undefined when it may: the message names the
 * numbers and the key that overrides the guard.
 *
 * @example
 * ```ts
 * import { DEFAULT_DELETION_GUARD, deletionProblem } from "./deletion_guard.ts";
 * const plan = { connectorId: "c1", index: "search-a", yielded: 0, heldAtStart: 5, deletions: 5 };
 * if (!deletionProblem(plan, DEFAULT_DELETION_GUARD)?.includes("allow_empty_full_sync")) throw new Error();
 * if (deletionProblem(plan, { allowEmptyFullSync: true, maxDeletionRatio: null })) throw new Error();
 * const some = { ...plan, yielded: 10, deletions: 3 };
 * if (!deletionProblem(some, { allowEmptyFullSync: false, maxDeletionRatio: 0.5 })?.includes("60%")) throw new Error();
 * if (deletionProblem({ ...some, deletions: 2 }, { allowEmptyFullSync: false, maxDeletionRatio: 0.5 })) throw new Error();
 * ```
 */
export function deletionProblem(plan: PlannedDeletion, guard: DeletionGuard): string | undefined {
  const { connectorId, index, yielded, heldAtStart, deletions } = plan;
  if (deletions <= 0 || heldAtStart <= 0) return undefined;
  const prefix = `Full sync of connector ${connectorId} deleted nothing`;
  if (yielded === 0 && !guard.allowEmptyFullSync) {
    return `${prefix}: the source yielded no document while ${index} holds ${heldAtStart}; if the source is really empty, set allow_empty_full_sync: true (under service: or on this connector's entry in config.yml)`;
  }
  const ratio = guard.maxDeletionRatio;
  if (ratio !== null && deletions / heldAtStart > ratio) {
    const percent = (n: number) => `${Math.round(n * 1000) / 10}%`;
    return `${prefix}: it would delete ${deletions} of the ${heldAtStart} documents ${index} held at its start (${
      percent(deletions / heldAtStart)
    }), more than max_deletion_ratio ${ratio} (${
      percent(ratio)
    }); raise max_deletion_ratio (under service: or on this connector's entry in config.yml) if this is intended`;
  }
  return undefined;
}
