/**
 * The privilege check of `status`: one `_security/user/_has_privileges` request asks whether the
 * configured credentials hold what Elastic documents for a self-managed connector (cluster
 * `monitor` and `manage_connector`; `all` on the system indices and the content indices shown)
 * and, above all, whether the service can read and write its system indices. A cluster without
 * security (the API answers 400 or 404, or says security is disabled) is not checked.
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { statusOf } from "../../errors/mod.ts";
import { credentialsOf, esReason } from "../../es/mod.ts";
import { CONNECTORS_INDEX, JOBS_INDEX } from "../../protocol/types.ts";

/** Cluster privileges Elastic documents for a self-managed connector's credentials. */
export const DOCUMENTED_CLUSTER_PRIVILEGES: readonly string[] = ["monitor", "manage_connector"];
/** Index privilege Elastic documents on the system and content indices. */
export const DOCUMENTED_INDEX_PRIVILEGE = "all";
/** What the service cannot run without on its system indices. */
export const SYSTEM_INDEX_PRIVILEGES: readonly string[] = ["read", "write"];

/** What `status` reports about the credentials' privileges. */
export interface PrivilegeReport {
  /** False when the cluster has no security (nothing to check). */
  checked: boolean;
  /** The credential checked, named without its secret. */
  credentials: string;
  /** Why nothing was checked, when `checked` is false. */
  skipped?: string;
  /** Documented privileges not held, e.g. `index privilege all on search-docs`. */
  missing: string[];
  /** True when the service can read and write both system indices. */
  can_write: boolean;
}

interface HasPrivilegesAnswer {
  cluster?: Record<string, boolean>;
  index?: Record<string, Record<string, boolean>>;
}

/** True for the answers of a cluster whose security is off (no such API, or it says so). */
function securityDisabled(error: unknown): boolean {
  const status = statusOf(error);
  const reason = esReason(error) ?? "";
  return status === 400 && /no handler found/i.test(reason) || status === 404 ||
    /security (is|must be explicitly) (disabled|enabled)|security is not enabled/i.test(reason);
}

/**
 * Reads the {@linkcode PrivilegeReport} of `client`'s credentials for these content indices.
 *
 * @example
 * ```ts
 * import { checkPrivileges } from "./_privileges.ts";
 * import { createEsClient } from "../../es/mod.ts";
 * import { defaultConfig } from "../../config/mod.ts";
 * const answer = {
 *   cluster: { monitor: true, manage_connector: true },
 *   index: { ".elastic-connectors": { all: false, read: true, write: false } },
 * };
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   Response.json(answer, { headers: { "x-elastic-product": "Elasticsearch" } }));
 * const es = { ...defaultConfig().elasticsearch, host: `http://127.0.0.1:${server.addr.port}` };
 * const client = createEsClient(es, { maxRetries: 0 });
 * const report = await checkPrivileges(client, ["search-docs"]);
 * await client.close();
 * await server.shutdown();
 * if (report.can_write || !report.checked) throw new Error(JSON.stringify(report));
 * ```
 */
export async function checkPrivileges(
  client: Client,
  contentIndices: readonly string[],
): Promise<PrivilegeReport> {
  const credentials = credentialsOf(client);
  const system = [CONNECTORS_INDEX, JOBS_INDEX];
  const content = [...new Set(contentIndices)].filter((name) => name !== "");
  const index = [
    { names: system, privileges: [DOCUMENTED_INDEX_PRIVILEGE, ...SYSTEM_INDEX_PRIVILEGES] },
    ...(content.length > 0 ? [{ names: content, privileges: [DOCUMENTED_INDEX_PRIVILEGE] }] : []),
  ];
  const ask = (cluster: readonly string[]) =>
    client.security.hasPrivileges({ cluster: [...cluster], index } as never) as Promise<
      HasPrivilegesAnswer
    >;
  let answer: HasPrivilegesAnswer;
  try {
    answer = await ask(DOCUMENTED_CLUSTER_PRIVILEGES).catch((error) => {
      // Clusters before 8.15 do not know manage_connector: ask without it.
      if (statusOf(error) === 400 && /manage_connector/.test(esReason(error) ?? "")) {
        return ask(["monitor"]);
      }
      throw error;
    });
  } catch (error) {
    if (!securityDisabled(error)) throw error;
    return {
      checked: false,
      credentials,
      skipped: "security is not enabled on this cluster",
      missing: [],
      can_write: true,
    };
  }
  return privilegeReport(answer, credentials);
}

/**
 * The report of a `_has_privileges` answer.
 *
 * @example
 * ```ts
 * import { privilegeReport } from "./_privileges.ts";
 * const report = privilegeReport({
 *   cluster: { monitor: true, manage_connector: true },
 *   index: { ".elastic-connectors": { all: false, read: true, write: false } },
 * }, "user reader (elasticsearch.username)");
 * if (report.can_write || !report.missing.includes("index privilege write on .elastic-connectors")) throw new Error();
 * ```
 */
export function privilegeReport(answer: HasPrivilegesAnswer, credentials: string): PrivilegeReport {
  const missing: string[] = [];
  for (const [name, held] of Object.entries(answer.cluster ?? {})) {
    if (!held) missing.push(`cluster privilege ${name}`);
  }
  let canWrite = true;
  for (const [index, privileges] of Object.entries(answer.index ?? {})) {
    for (const [name, held] of Object.entries(privileges)) {
      if (held) continue;
      // `all` implies the others: name it only when read and write are held, else name those.
      if (
        name === DOCUMENTED_INDEX_PRIVILEGE &&
        SYSTEM_INDEX_PRIVILEGES.some((p) => privileges[p] === false)
      ) continue;
      missing.push(`index privilege ${name} on ${index}`);
      if (SYSTEM_INDEX_PRIVILEGES.includes(name)) canWrite = false;
    }
  }
  return { checked: true, credentials, missing, can_write: canWrite };
}

/**
 * The sentences `status` adds: a problem (exit code 3) when the service cannot write its
 * system indices, and a note listing documented privileges the credentials lack.
 *
 * @example
 * ```ts
 * import { privilegeSentences } from "./_privileges.ts";
 * const report = { checked: true, credentials: "user reader", missing: ["index privilege write on .elastic-connectors"], can_write: false };
 * const { problem } = privilegeSentences(report);
 * if (!problem?.startsWith("the service cannot write its system indices as user reader")) throw new Error(problem);
 * ```
 */
export function privilegeSentences(
  report: PrivilegeReport,
): { problem?: string; note?: string } {
  if (!report.checked || report.missing.length === 0) return {};
  const list = report.missing.join(", ");
  if (!report.can_write) {
    return {
      problem:
        `the service cannot write its system indices as ${report.credentials}: it lacks ${list}`,
    };
  }
  return {
    note:
      `${report.credentials} lacks privileges Elastic documents for a connector service: ${list}`,
  };
}
