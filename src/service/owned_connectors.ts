/**
 * Which connectors a process owns (spec §4.2), computed in one place for the scheduling,
 * execution and cleanup services and `--action list`: the ids under `connectors:` OR, in worker
 * mode, every non-native connector whose service type is in `service.service_types`.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Connector, ConnectorRepository } from "../protocol/mod.ts";
import { isNotFound } from "../protocol/mod.ts";

/**
 * True when the config gives the process any connector to own.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "../config/mod.ts";
 * import { ownsAnyConnector } from "./owned_connectors.ts";
 * const config = defaultConfig();
 * if (ownsAnyConnector(config)) throw new Error();
 * config.service.service_types = ["dir"];
 * if (!ownsAnyConnector(config)) throw new Error();
 * ```
 */
export function ownsAnyConnector(config: Config): boolean {
  return config.connectors.length > 0 || config.service.service_types.length > 0;
}

/**
 * What the process owns, for the startup log (`Serving <this> on <host>`).
 *
 * @example
 * ```ts
 * import { defaultConfig } from "../config/mod.ts";
 * import { describeOwnership } from "./owned_connectors.ts";
 * const config = defaultConfig();
 * config.connectors = [{ connector_id: "c1" }];
 * config.service.service_types = ["dir", "s3"];
 * const line = describeOwnership(config);
 * if (line !== "1 connector(s) (c1) and every connector of service type dir, s3") {
 *   throw new Error(line);
 * }
 * ```
 */
export function describeOwnership(config: Config): string {
  const ids = config.connectors.map((entry) => entry.connector_id);
  const listed = `${ids.length} connector(s)${ids.length > 0 ? ` (${ids.join(", ")})` : ""}`;
  const types = config.service.service_types;
  return types.length > 0
    ? `${listed} and every connector of service type ${types.join(", ")}`
    : listed;
}

/**
 * The connectors owned this round: listed ones first (in config order), then those found by
 * service type; never soft-deleted ones.
 *
 * @example
 * ```ts ignore
 * import { listOwnedConnectors } from "./owned_connectors.ts";
 * const owned = await listOwnedConnectors(connectors, config);
 * ```
 */
export function listOwnedConnectors(
  connectors: ConnectorRepository,
  config: Config,
): Promise<Connector[]> {
  return connectors.listOwned(
    config.connectors.map((entry) => entry.connector_id),
    config.service.service_types,
  );
}

/**
 * {@linkcode listOwnedConnectors} for the views (`--action list`, `status`): also the ids under
 * `connectors:` that have no live document. A missing connectors index reads as none found.
 *
 * @example
 * ```ts ignore
 * import { findOwnedConnectors } from "./owned_connectors.ts";
 * const { connectors: owned, missing } = await findOwnedConnectors(connectors, config);
 * for (const id of missing) console.log(`${id}: not found`);
 * ```
 */
export async function findOwnedConnectors(
  connectors: ConnectorRepository,
  config: Config,
): Promise<{ connectors: Connector[]; missing: string[] }> {
  const ids = config.connectors.map((entry) => entry.connector_id);
  let owned: Connector[];
  try {
    owned = ownsAnyConnector(config) ? await listOwnedConnectors(connectors, config) : [];
  } catch (error) {
    if (!isNotFound(error)) throw error;
    owned = [];
  }
  const found = new Set(owned.map((c) => c.id));
  return { connectors: owned, missing: ids.filter((id) => !found.has(id)) };
}
