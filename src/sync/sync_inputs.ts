/**
 * What a sync depends on besides the source's own data: the configuration values, the active
 * filtering and the pipeline settings of the job's connector snapshot, and the content index.
 * A source's `changed()` may skip a sync only when none of them changed since the last completed
 * sync of the same connector and job type (spec §5.4; Elastic lets `changed()` decide alone).
 *
 * @module
 */
import type { JobConnectorSnapshot } from "../protocol/types.ts";
import { resolvePipelineSettings } from "./document.ts";
import { resolveFiltering } from "./filtering.ts";

/** Rule properties that change whenever a rule is saved, without changing what it selects. */
const VOLATILE_RULE_PROPERTIES = new Set(["created_at", "updated_at"]);

/** JSON with object keys sorted, so that key order never makes two equal values differ. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
  });
}

/**
 * A key over what a sync of `snapshot` depends on besides the source's data: the configuration
 * values (not labels or tooltips), the active rules and advanced snippet, and the pipeline
 * settings. Two snapshots with the same key sync the same way.
 *
 * @example
 * ```ts
 * import { syncInputsKey } from "./sync_inputs.ts";
 * const base = { id: "c1", index_name: "search-a", language: null, service_type: "dir",
 *   configuration: { directory: { label: "Dir", value: "/srv" } }, filtering: null, pipeline: null };
 * const relabelled = { ...base, configuration: { directory: { label: "Folder", value: "/srv" } } };
 * const moved = { ...base, configuration: { directory: { label: "Dir", value: "/data" } } };
 * if (syncInputsKey(base as never) !== syncInputsKey(relabelled as never)) throw new Error();
 * if (syncInputsKey(base as never) === syncInputsKey(moved as never)) throw new Error();
 * ```
 */
export function syncInputsKey(snapshot: JobConnectorSnapshot): string {
  const configuration: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(snapshot.configuration ?? {})) {
    const isField = typeof field === "object" && field !== null && !Array.isArray(field);
    if (isField && (field as { type?: unknown }).type === "category") continue;
    configuration[key] = isField ? (field as { value?: unknown }).value ?? null : field;
  }
  const filtering = resolveFiltering(snapshot.filtering);
  const rules = filtering.rules.map((rule) =>
    Object.fromEntries(
      Object.entries(rule).filter(([key]) => !VOLATILE_RULE_PROPERTIES.has(key)),
    )
  );
  return stableJson({
    configuration,
    rules,
    advanced: filtering.advanced_snippet?.value ?? null,
    pipeline: resolvePipelineSettings(snapshot.pipeline),
  });
}

/** The last completed sync of the same connector and job type, as the runner found it. */
export interface PreviousSync {
  /** Its job id, for messages. */
  jobId: string;
  /** Its connector snapshot. */
  snapshot: JobConnectorSnapshot;
  /** `total_document_count` it recorded; null when unknown. */
  totalDocumentCount: number | null;
}

/**
 * Why a sync must run whatever the source's `changed()` says, or undefined when `changed()`
 * may decide: there is no earlier completed sync, an input changed since it, or the content
 * index is gone or holds another number of documents than that sync left.
 *
 * @example
 * ```ts
 * import { mustSyncReason } from "./sync_inputs.ts";
 * const snapshot = { id: "c1", index_name: "search-a", language: null, service_type: "dir",
 *   configuration: {}, filtering: null, pipeline: null };
 * const previous = { jobId: "j0", snapshot, totalDocumentCount: 5 };
 * if (mustSyncReason(snapshot, previous, 5) !== undefined) throw new Error();
 * if (!mustSyncReason(snapshot, previous, undefined)?.includes("does not exist")) throw new Error();
 * if (!mustSyncReason(snapshot, previous, 3)?.includes("holds 3")) throw new Error();
 * if (!mustSyncReason(snapshot, undefined, 5)) throw new Error();
 * ```
 */
export function mustSyncReason(
  snapshot: JobConnectorSnapshot,
  previous: PreviousSync | undefined,
  indexCount: number | undefined,
): string | undefined {
  if (!previous) return "no earlier sync of this type completed";
  if (indexCount === undefined) return `the index ${snapshot.index_name} does not exist`;
  if (previous.snapshot.index_name !== snapshot.index_name) {
    return `the index changed from ${previous.snapshot.index_name} to ${snapshot.index_name}`;
  }
  if (syncInputsKey(previous.snapshot) !== syncInputsKey(snapshot)) {
    return `the configuration, sync rules or pipeline settings changed since job ${previous.jobId}`;
  }
  if (previous.totalDocumentCount !== null && previous.totalDocumentCount !== indexCount) {
    return `the index ${snapshot.index_name} holds ${indexCount} documents, job ${previous.jobId} left ${previous.totalDocumentCount}`;
  }
  return undefined;
}
