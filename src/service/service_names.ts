/**
 * The services one `elastic-ingest` process can run (spec §4.1, `--action` of Elastic's 8.12+
 * CLI), and the sync lanes the two execution services serve.
 *
 * @module
 */
import type { SyncLane } from "../protocol/types.ts";

/** The four services, in the order they are started and logged. */
export const SERVICE_NAMES = [
  "schedule",
  "sync_content",
  "sync_access_control",
  "cleanup",
] as const;
/** One of {@linkcode SERVICE_NAMES}. */
export type ServiceName = typeof SERVICE_NAMES[number];

/**
 * The sync lanes served by the execution services among `services`.
 *
 * @example
 * ```ts
 * import { lanesOf } from "./service_names.ts";
 * const lanes = lanesOf(["schedule", "sync_access_control"]);
 * if (lanes.has("content") || !lanes.has("access_control")) throw new Error();
 * ```
 */
export function lanesOf(services: readonly ServiceName[]): Set<SyncLane> {
  const lanes = new Set<SyncLane>();
  if (services.includes("sync_content")) lanes.add("content");
  if (services.includes("sync_access_control")) lanes.add("access_control");
  return lanes;
}
