/**
 * Preflight: wait for the cluster with backoff, then check its version. Works without the
 * root endpoint (`GET /`), which some distributions lack, through `_cluster/health` and `_nodes`.
 *
 * Only an unreachable or starting cluster is waited for. Refused credentials (401, 403), a
 * certificate the client does not trust, and a plain `http://` host on a port that speaks TLS
 * fail at once, with Elasticsearch's reason, the credential used (never its secret) and what to
 * change. A cluster health refused with 403 is only a warning (it needs the `monitor` privilege).
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import type { ElasticsearchConfig } from "../config/mod.ts";
import { FatalError, statusOf } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { displayUrl, nullLogger } from "../log/mod.ts";
import {
  decodeApiKey,
  describeAuthFailure,
  esReason,
  missingPrivilege,
  normalizeApiKey,
} from "./auth.ts";
import { credentialsOf, describeFailure } from "./client.ts";
import { backoffDelay, sleep } from "../async/mod.ts";
import {
  httpsUrl,
  isTlsTrustFailure,
  mayBePlainToTls,
  speaksTls,
  tlsTrustHint,
  tlsWarnings,
} from "./tls.ts";

/** Elasticsearch majors this product serves (the 8.19 client speaks to both). */
export const SUPPORTED_ES_MAJORS: readonly number[] = [8, 9];

/** What the preflight learnt about the cluster. */
export interface ClusterInfo {
  /** Version of the node answering, e.g. `9.2.4`. */
  version: string;
  /** Major of {@linkcode ClusterInfo.version}. */
  major: number;
  /** Name of the cluster. */
  clusterName: string;
  /** Health status seen (`unknown` when the credentials may not read it). */
  status: string;
  /** What could not be read for lack of a privilege, one sentence each (for warnings). */
  denied?: string[];
}

/** Options of {@linkcode waitForCluster}. */
export interface PreflightOptions {
  /** One line per backoff step. */
  logger?: Logger;
  /** Stops waiting (shutdown). */
  signal?: AbortSignal;
  /** Skip the version check (env `ALLOW_ES_VERSION_MISMATCH`). */
  allowVersionMismatch?: boolean;
}

/**
 * Reads version and health in one round trip each; throws on any failure.
 *
 * @example
 * ```ts ignore
 * import { readClusterInfo } from "./preflight.ts";
 * const info = await readClusterInfo(client);
 * console.log(info.version);
 * ```
 */
export async function readClusterInfo(client: Client): Promise<ClusterInfo> {
  const denied: string[] = [];
  const health = await client.cluster.health({}, { maxRetries: 0 } as never).catch((error) => {
    // The version below is what matters; health needs `monitor`, which a key may lack.
    if (statusOf(error) !== 403) throw error;
    denied.push(deniedSentence("read the cluster health", error, "monitor"));
    return { cluster_name: "unknown", status: "unknown" };
  });
  const nodes = await client.nodes.info(
    { node_id: "_local", metric: "_none", filter_path: "nodes.*.version" } as never,
    { maxRetries: 0 } as never,
  ) as unknown as { nodes?: Record<string, { version?: string }> };
  const version = Object.values(nodes.nodes ?? {})[0]?.version ?? "unknown";
  return {
    version,
    major: Number.parseInt(version, 10),
    clusterName: health.cluster_name,
    status: health.status,
    ...(denied.length > 0 ? { denied } : {}),
  };
}

/**
 * "Cannot <what>: the credentials lack the cluster privilege X (<reason>); <then>" (default:
 * "going on without it"); the privilege is the first one Elasticsearch names, else `fallback`.
 *
 * @example
 * ```ts
 * import { deniedSentence } from "./preflight.ts";
 * const error = { meta: { statusCode: 403, body: { error: { reason: "action [a] is unauthorized, this action is granted by the cluster privileges [read_pipeline,all]" } } } };
 * if (!deniedSentence("check the pipeline", error).includes("cluster privilege read_pipeline")) throw new Error();
 * ```
 */
export function deniedSentence(
  what: string,
  error: unknown,
  fallback?: string,
  then = "going on without it",
): string {
  const reason = esReason(error) ?? `HTTP ${statusOf(error) ?? "?"}`;
  const missing = missingPrivilege(reason);
  const privilege = missing
    ? `the ${missing.scope} privilege ${missing.privilege}`
    : fallback
    ? `the cluster privilege ${fallback}`
    : "a privilege";
  return `Cannot ${what}: the credentials lack ${privilege} (${reason}); ${then}`;
}

/**
 * The error to stop the start with, when retrying cannot help: refused credentials (401/403),
 * an untrusted certificate, or plain HTTP to a TLS port. Undefined for failures worth waiting
 * for (refused connections, 5xx, timeouts). `prefix` starts the message of refused credentials.
 *
 * @example
 * ```ts
 * import { startupFailure } from "./preflight.ts";
 * import { createEsClient } from "./client.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const config = { ...defaultConfig().elasticsearch, username: "bob", password: "pw-12345" };
 * const client = createEsClient(config);
 * const error = { meta: { statusCode: 401, body: { error: { reason: "unable to authenticate user [bob]" } } } };
 * const fatal = await startupFailure(error, client, config);
 * if (!fatal?.message.includes("user bob (elasticsearch.username)")) throw new Error(fatal?.message);
 * if (await startupFailure(new Error("connect ECONNREFUSED"), client, config) !== undefined) throw new Error();
 * await client.close();
 * ```
 */
export async function startupFailure(
  error: unknown,
  client: Client,
  config: ElasticsearchConfig,
  prefix = "Cannot start: ",
): Promise<FatalError | undefined> {
  const at = displayUrl(config.host);
  const status = statusOf(error);
  if (status === 401 || status === 403) {
    let text = `${prefix}${describeAuthFailure(error, credentialsOf(client))}`;
    if (status === 401 && config.api_key && !decodeApiKey(normalizeApiKey(config.api_key))) {
      text += "; elasticsearch.api_key must be the key's `encoded` value or id:secret";
    }
    return new FatalError(`${text} (at ${at})`, { cause: error });
  }
  if (isTlsTrustFailure(error)) {
    return new FatalError(
      `Cannot connect to Elasticsearch at ${at}: ${(error as Error).message}: ${
        tlsTrustHint(config)
      }`,
      { cause: error },
    );
  }
  if (mayBePlainToTls(config.host, error) && await speaksTls(config.host)) {
    return new FatalError(
      `Cannot connect to Elasticsearch at ${at}: the server speaks TLS on that port (${
        (error as Error).message
      }); use https:// in elasticsearch.host (${httpsUrl(config.host)})`,
      { cause: error },
    );
  }
  return undefined;
}

/**
 * Waits for the cluster up to `max_wait_duration` seconds with exponential backoff, then
 * checks that its major version is supported.
 *
 * @example
 * ```ts ignore
 * import { waitForCluster } from "./preflight.ts";
 * const info = await waitForCluster(client, config.elasticsearch, { logger });
 * ```
 */
export async function waitForCluster(
  client: Client,
  config: ElasticsearchConfig,
  options: PreflightOptions = {},
): Promise<ClusterInfo> {
  const logger = options.logger ?? nullLogger;
  const at = displayUrl(config.host);
  for (const warning of tlsWarnings(config)) logger.warning(warning);
  const deadline = Date.now() + config.max_wait_duration * 1000;
  let lastFailure = "";
  for (let attempt = 0;; attempt++) {
    try {
      const info = await readClusterInfo(client);
      if (!options.allowVersionMismatch && !SUPPORTED_ES_MAJORS.includes(info.major)) {
        throw new FatalError(
          `Elasticsearch at ${at} runs version ${info.version}; this service supports majors ${
            SUPPORTED_ES_MAJORS.join(" and ")
          } (set ALLOW_ES_VERSION_MISMATCH=true to try anyway)`,
        );
      }
      for (const sentence of info.denied ?? []) logger.warning(sentence);
      return info;
    } catch (error) {
      if (error instanceof FatalError) throw error;
      const fatal = await startupFailure(error, client, config);
      if (fatal) throw fatal;
      lastFailure = describeFailure(error);
      const wait = backoffDelay(attempt, {
        initial: config.initial_backoff_duration,
        multiplier: config.backoff_multiplier,
      });
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      logger.warning(
        `Elasticsearch at ${at} is not ready (${lastFailure}); retrying in ${
          (Math.min(wait, remaining) / 1000).toFixed(1)
        }s`,
      );
      await sleep(Math.min(wait, remaining), options.signal);
    }
  }
  throw new FatalError(
    `Cannot reach Elasticsearch at ${at} within ${config.max_wait_duration}s (elasticsearch.max_wait_duration): ${lastFailure}`,
  );
}
