/**
 * The plain Elasticsearch node of the test stack (service `es`): the `integ-test-zip`
 * distribution, security off, on `http://127.0.0.1:<port>`.
 *
 * @module
 */

import {
  ES_VERSION,
  esNodeInfo,
  type EsNodeSpec,
  startEsNode,
  stopEsNode,
  unpackEs,
} from "./_es_node.ts";
import { exists } from "./_process.ts";
import {
  type ServiceInfo,
  type StartedService,
  type StartOptions,
  type StopOptions,
  unpackedDir,
  withInstallLock,
  withLock,
} from "./_state.ts";

/**
 * The unpacked Elasticsearch distribution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ES_VERSION, esHomeDir } from "./mod.ts";
 * assert.ok(esHomeDir().endsWith(`/elasticsearch-${ES_VERSION}`));
 * ```
 */
export function esHomeDir(): string {
  return unpackedDir(`elasticsearch-${ES_VERSION}`);
}

/**
 * Downloads (with mvn) and unpacks Elasticsearch when missing; returns its home folder.
 *
 * @example
 * ```ts ignore
 * const esHome = await ensureElasticsearch(); // the first call downloads with mvn and unpacks
 * ```
 */
export function ensureElasticsearch(): Promise<string> {
  return withInstallLock("elasticsearch", async () => {
    const esHome = esHomeDir();
    const marker = `${esHome}/.connectors-deno-unpacked`;
    if (exists(marker)) return esHome;
    await unpackEs(esHome);
    Deno.writeTextFileSync(marker, `${ES_VERSION}\n`);
    return esHome;
  });
}

/**
 * Whether the cluster answers with status yellow or green.
 *
 * @example
 * ```ts ignore
 * if (!(await esHealthy("http://127.0.0.1:9200", 5))) throw new Error("cluster is not healthy");
 * ```
 */
export async function esHealthy(url: string, waitSeconds = 1): Promise<boolean> {
  try {
    const res = await fetch(
      `${url}/_cluster/health?wait_for_status=yellow&timeout=${waitSeconds}s`,
      { signal: AbortSignal.timeout(waitSeconds * 1000 + 5000) },
    );
    const body = await res.json() as { status?: string; timed_out?: boolean };
    return res.ok && !body.timed_out && (body.status === "yellow" || body.status === "green");
  } catch {
    return false;
  }
}

const PLAIN: EsNodeSpec = {
  service: "es",
  label: "Elasticsearch",
  scheme: "http",
  homeDir: esHomeDir,
  ensureHome: ensureElasticsearch,
  healthy: esHealthy,
  args: () => ["-Expack.security.enabled=false"],
  env: () => [],
};

/** What is known about the plain node of the current stack. */
export function esInfo(): Promise<ServiceInfo> {
  return esNodeInfo(PLAIN);
}

/**
 * Starts Elasticsearch (installing it first when needed) and waits for a yellow cluster.
 * When it is already running, returns its URL. Restarts reuse the saved ports when free.
 *
 * @example
 * ```ts ignore
 * const es = await startElasticsearch({ timeoutMs: 300_000 });
 * Deno.env.set("ES_URL", es.url);
 * ```
 */
export function startElasticsearch(opts: StartOptions = {}): Promise<StartedService> {
  return withLock("es", () => startEsNode(PLAIN, opts));
}

/**
 * Stops Elasticsearch (SIGTERM, then SIGKILL after the timeout); keeps the data unless told.
 *
 * @example
 * ```ts ignore
 * await stopElasticsearch(); // keeps the data: a later start has the same indices
 * await stopElasticsearch({ keepData: false }); // also removes the data folder
 * ```
 */
export function stopElasticsearch(opts: StopOptions = {}): Promise<void> {
  return withLock("es", () => stopEsNode(PLAIN, opts));
}
