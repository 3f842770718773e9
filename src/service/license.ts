/**
 * The Elasticsearch license check of access-control syncs (spec §4.3, §4.5): scheduling and
 * running them needs a platinum-or-better license, as in Elastic's framework.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import type { ConnectorFeatures, JobType } from "../protocol/mod.ts";

/** Licenses that allow access-control syncs (Elastic: platinum and what ranks above it). */
export const PLATINUM_LICENSES: readonly string[] = ["platinum", "enterprise", "trial"];

/**
 * Whether a job needs a platinum license: an access-control job of a connector with
 * document-level security enabled (Elastic's `requires_platinum_license`; premium sources do
 * not exist here).
 *
 * @example
 * ```ts
 * import { requiresPlatinumLicense } from "./license.ts";
 * const dls = { document_level_security: { enabled: true } };
 * if (!requiresPlatinumLicense("access_control", dls)) throw new Error();
 * if (requiresPlatinumLicense("full", dls) || requiresPlatinumLicense("access_control", {})) throw new Error();
 * ```
 */
export function requiresPlatinumLicense(
  jobType: JobType | null | undefined,
  features: ConnectorFeatures | null | undefined,
): boolean {
  return jobType === "access_control" && features?.document_level_security?.enabled === true;
}

/**
 * What is wrong with a `GET _license` answer for access-control syncs: undefined for a
 * platinum, enterprise or trial license that has not expired, else Elastic's message naming the
 * actual license (`expired` when it expired).
 *
 * @example
 * ```ts
 * import { platinumLicenseProblem } from "./license.ts";
 * if (platinumLicenseProblem({ license: { type: "trial", status: "active" } }) !== undefined) throw new Error();
 * const problem = platinumLicenseProblem({ license: { type: "basic", status: "active" } });
 * if (problem !== "Minimum required Elasticsearch license: 'platinum'. Actual license: 'basic'.") throw new Error();
 * if (!platinumLicenseProblem({ license: { type: "platinum", status: "expired" } })?.includes("'expired'")) throw new Error();
 * ```
 */
export function platinumLicenseProblem(
  response: { license?: { type?: string; status?: string } | undefined },
): string | undefined {
  const status = response.license?.status?.toLowerCase();
  const type = status === "expired" ? "expired" : response.license?.type?.toLowerCase() ?? "basic";
  if (PLATINUM_LICENSES.includes(type)) return undefined;
  return `Minimum required Elasticsearch license: 'platinum'. Actual license: '${type}'.`;
}

/**
 * Reads the cluster's license and returns {@linkcode platinumLicenseProblem}'s answer. Errors
 * of the request propagate.
 *
 * @example
 * ```ts ignore
 * const problem = await readPlatinumLicenseProblem(client);
 * if (problem) logger.error(`${problem} Skipping access control sync scheduling.`);
 * ```
 */
export async function readPlatinumLicenseProblem(client: Client): Promise<string | undefined> {
  return platinumLicenseProblem(await client.license.get());
}
