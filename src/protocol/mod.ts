/**
 * The connector protocol (spec §1-§4): document types of the two system indices, their
 * creation, repositories for connectors and sync jobs, and Quartz cron scheduling.
 *
 * @example
 * ```ts
 * import { laneOf, nextRun } from "./mod.ts";
 * if (laneOf("full") !== "content") throw new Error();
 * nextRun("0 0 0 * * ?", new Date());
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./cron.ts";
export * from "./system_indices.ts";
export * from "./connector_repository.ts";
export * from "./sync_job_repository.ts";
export * from "./connector_doc.ts";
export * from "./admin_repository.ts";
