/**
 * The connector service (`elastic-ingest --action poll`, spec §4): the scheduling, execution
 * and cleanup loops, the job runner, and what they share.
 *
 * @example
 * ```ts
 * import { ErrorBudget } from "./mod.ts";
 * new ErrorBudget("demo", 20, 600).record(new Error("once"));
 * ```
 *
 * @module
 */
export * from "./service.ts";
export * from "./cleanup_service.ts";
export * from "./cluster_gate.ts";
export * from "./error_budget.ts";
export * from "./execution_service.ts";
export * from "./job_runner.ts";
export * from "./license.ts";
export * from "./owned_connectors.ts";
export * from "./scheduling_service.ts";
export * from "./service_names.ts";
