/**
 * `--action list`: the configured sources (resolved, never imported: listing runs no source
 * module's code) and, when Elasticsearch answers, each owned connector (those under
 * `connectors:`, then those of `service.service_types`): id, name, service type, index,
 * status, last sync status and time, and the next scheduled run.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { serviceTypeProblems } from "../config/mod.ts";
import { createEsClient, describeFailure } from "../es/mod.ts";
import { displayUrl } from "../log/mod.ts";
import { ConnectorRepository } from "../protocol/mod.ts";
import { CONNECTORS_INDEX } from "../protocol/types.ts";
import type { ConnectorDoc } from "../protocol/types.ts";
import { nextScheduledRun } from "../service/scheduling_service.ts";
import { findOwnedConnectors, ownsAnyConnector } from "../service/owned_connectors.ts";
import { SourceRegistry } from "../source/mod.ts";
import { describeGrant } from "../source/sandbox/mod.ts";
import { permissionFlagsFor } from "../source/permissions.ts";
import type { CliContext } from "./context.ts";
import { formatTable } from "./output.ts";

const COLUMNS = [
  "ID",
  "NAME",
  "SERVICE TYPE",
  "INDEX",
  "STATUS",
  "LAST SYNC",
  "LAST SYNCED",
  "NEXT RUN",
];

/** An ISO time without milliseconds (`2024-05-01T10:00:00Z`), or `-`. */
function shortTime(value: string | Date | null | undefined): string {
  if (!value) return "-";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * One row of the connector table.
 *
 * @example
 * ```ts
 * import { connectorRow } from "./list.ts";
 * const row = connectorRow("c1", {
 *   name: "Docs", service_type: "dir", index_name: "search-docs", status: "connected",
 *   last_sync_status: "completed", last_synced: "2024-05-01T10:00:00.000Z",
 *   scheduling: { full: { enabled: true, interval: "0 0 0 * * ?" } },
 * } as never, new Date("2024-05-01T12:00:00Z"));
 * if (row.at(-1) !== "2024-05-02T00:00:00Z (full)") throw new Error(row.join(" | "));
 * ```
 */
export function connectorRow(id: string, doc: ConnectorDoc, now = new Date()): string[] {
  const { next, invalid } = nextScheduledRun(doc, now);
  let nextRun = next ? `${shortTime(next.at)} (${next.jobType})` : "-";
  if (invalid.length > 0) {
    const types = invalid.map((i) => i.jobType).join(", ");
    nextRun = next ? `${nextRun}; invalid cron (${types})` : `invalid cron (${types})`;
  }
  return [
    id,
    doc.name || "-",
    doc.service_type ?? "-",
    doc.index_name ?? "-",
    doc.deleted === true ? `${doc.status} (deleted)` : String(doc.status ?? "-"),
    doc.last_sync_status ?? "never",
    shortTime(doc.last_synced),
    nextRun,
  ];
}

/**
 * What `--action list` says of a source without running its module's code: `built-in`, the
 * module file found (or not) for paths, the specifier for remote and package modules (those
 * load when a service action starts) and what their sandbox grants them.
 *
 * @example
 * ```ts
 * import { SourceRegistry } from "../source/mod.ts";
 * import { DEFAULT_SOURCES } from "../config/mod.ts";
 * import { sourceStatus } from "./list.ts";
 * const registry = new SourceRegistry({ ...DEFAULT_SOURCES, x: "./nowhere.ts:X" }, { baseDir: "/nonexistent" });
 * if (await sourceStatus(registry, "dir") !== "built-in") throw new Error();
 * if (await sourceStatus(registry, "x") !== "module not found: /nonexistent/nowhere.ts") throw new Error();
 * const remote = new SourceRegistry({ r: "npm:@acme/src@1.0.0:S" }, { baseDir: "/" });
 * const text = await sourceStatus(remote, "r");
 * if (!text.startsWith("npm:@acme/src@1.0.0, sandboxed: net the service's hosts; read none; env none")) throw new Error(text);
 * ```
 */
export async function sourceStatus(registry: SourceRegistry, serviceType: string): Promise<string> {
  if (registry.isBuiltin(serviceType)) return "built-in";
  const specifier = registry.specifier(serviceType);
  if (specifier === undefined) return "expected MODULE:ClassName";
  if (!specifier.startsWith("file:")) {
    const sandbox = registry.isSandboxed(serviceType)
      ? `${describeGrant(specifier, registry.grant(serviceType))}; `
      : "";
    return `${specifier}, ${sandbox}loaded when the service starts`;
  }
  const path = fromFileUrl(specifier);
  try {
    const info = await Deno.stat(path);
    return info.isFile ? `module found: ${path}` : `not a file: ${path}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `module not found: ${path}`;
    return `${path} not checked: ${(error as Error).message}`;
  }
}

/**
 * Prints sources and connectors; exits 0 even when the cluster is unreachable.
 *
 * @example
 * ```ts ignore
 * import { listAction } from "./list.ts";
 * await listAction(context);
 * ```
 */
export async function listAction({ config, print, logger }: CliContext): Promise<number> {
  for (const problem of serviceTypeProblems(config)) logger.warning(problem);
  print("Registered sources:");
  const registry = new SourceRegistry(config.sources, { baseDir: dirname(config.file), logger });
  for (const [type, fqn] of Object.entries(config.sources).sort()) {
    print(`- ${type}: ${fqn} (${await sourceStatus(registry, type)})`);
  }
  const ids = config.connectors.map((c) => c.connector_id);
  const serviceTypes = config.service.service_types;
  if (!ownsAnyConnector(config)) {
    print(`Least-privilege flags: ${permissionFlagsFor(config).join(" ")}`);
    print("No connectors configured.");
    return 0;
  }
  // The `dir` connectors' folders must be readable too; other sources need only the network.
  const read: string[] = [];
  const client = createEsClient(config.elasticsearch, { logger, maxRetries: 0 });
  try {
    const repository = new ConnectorRepository(client, { logger });
    const { connectors: owned, missing } = await findOwnedConnectors(repository, config);
    const rows: string[][] = [];
    for (const { id, doc } of owned) {
      rows.push(connectorRow(id, doc));
      const directory = (doc.configuration as Record<string, { value?: unknown }> | undefined)
        ?.directory?.value;
      if (doc.service_type === "dir" && typeof directory === "string" && directory) {
        read.push(directory);
      }
    }
    // Worker mode: connectors found by their service type, beyond those listed by id.
    const byType = owned.length - (ids.length - missing.length);
    print("Connectors:");
    if (rows.length > 0) print(formatTable(COLUMNS, rows));
    if (serviceTypes.length > 0 && byType === 0) {
      print(`No other connectors of service type ${serviceTypes.join(", ")} found`);
    }
    for (const id of missing) {
      print(`${id}: not found in ${CONNECTORS_INDEX} (create it in Kibana)`);
    }
  } catch (error) {
    print(
      `Connectors: cannot reach Elasticsearch at ${displayUrl(config.elasticsearch.host)} (${
        describeFailure(error)
      })`,
    );
    for (const id of ids) print(`- ${id}`);
    if (serviceTypes.length > 0) {
      print(`- every connector of service type ${serviceTypes.join(", ")}`);
    }
  } finally {
    await client.close();
  }
  print(`Least-privilege flags: ${permissionFlagsFor(config, { read }).join(" ")}`);
  return 0;
}
