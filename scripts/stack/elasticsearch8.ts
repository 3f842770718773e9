/**
 * The Elasticsearch 8.x node of the test stack (service `es8`): the `integ-test-zip`
 * distribution of {@link ES8_VERSION} (the newest 8.x the reachable Maven serves), fetched with
 * mvn and cached like the 9.x zip, unpacked into a home of its own, security off, on
 * `http://127.0.0.1:<port>`, 512 MB heap. It runs on Java 17 to 20: `ES8_JAVA_HOME` when set,
 * else the newest such JDK under /usr/lib/jvm and friends (`ES_JAVA_HOME` is left to the 9.x
 * nodes). The test runner starts it only for its Elasticsearch 8 phase (see scripts/test.ts).
 *
 * @module
 */

import {
  ES8_VERSION,
  esNodeInfo,
  type EsNodeSpec,
  startEsNode,
  stopEsNode,
  unpackEs,
} from "./_es_node.ts";
import { ES8_JAVA, findEsJavaHome } from "./_java.ts";
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
import { esHealthy } from "./elasticsearch.ts";

/**
 * The unpacked Elasticsearch 8 distribution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ES8_VERSION, es8HomeDir } from "./mod.ts";
 * assert.ok(es8HomeDir().endsWith(`/elasticsearch-${ES8_VERSION}`));
 * ```
 */
export function es8HomeDir(): string {
  return unpackedDir(`elasticsearch-${ES8_VERSION}`);
}

/**
 * The JDK that runs the 8.x node: `ES8_JAVA_HOME`, else the newest Java 17 to 20 found.
 *
 * @example
 * ```ts ignore
 * const javaHome = es8JavaHome(); // e.g. /usr/lib/jvm/java-17-openjdk-amd64
 * ```
 */
export function es8JavaHome(): string {
  return findEsJavaHome(`Elasticsearch ${ES8_VERSION}`, ES8_JAVA, "ES8_JAVA_HOME");
}

/**
 * Downloads (with mvn) and unpacks Elasticsearch 8 when missing; returns its home folder.
 *
 * @example
 * ```ts ignore
 * const esHome = await ensureElasticsearch8(); // the first call downloads with mvn and unpacks
 * ```
 */
export function ensureElasticsearch8(): Promise<string> {
  return withInstallLock("elasticsearch8", async () => {
    const esHome = es8HomeDir();
    const marker = `${esHome}/.connectors-deno-unpacked`;
    if (exists(marker)) return esHome;
    await unpackEs(esHome, ES8_VERSION);
    Deno.writeTextFileSync(marker, `${ES8_VERSION}\n`);
    return esHome;
  });
}

const ES8: EsNodeSpec = {
  service: "es8",
  label: "Elasticsearch (8.x)",
  version: ES8_VERSION,
  javaHome: es8JavaHome,
  scheme: "http",
  homeDir: es8HomeDir,
  ensureHome: ensureElasticsearch8,
  healthy: esHealthy,
  args: () => ["-Expack.security.enabled=false"],
  env: () => [],
};

/** What is known about the 8.x node of the current stack. */
export function es8Info(): Promise<ServiceInfo> {
  return esNodeInfo(ES8);
}

/**
 * Starts Elasticsearch 8 (installing it first when needed) and waits for a yellow cluster.
 * When it is already running, returns its URL. Restarts reuse the saved ports when free.
 *
 * @example
 * ```ts ignore
 * const es8 = await startElasticsearch8();
 * Deno.env.set("ES_URL", es8.url); // run tests against 8.19
 * ```
 */
export function startElasticsearch8(opts: StartOptions = {}): Promise<StartedService> {
  return withLock("es8", () => startEsNode(ES8, opts));
}

/**
 * Stops Elasticsearch 8; keeps the data unless told.
 *
 * @example
 * ```ts ignore
 * await stopElasticsearch8({ keepData: false });
 * ```
 */
export function stopElasticsearch8(opts: StopOptions = {}): Promise<void> {
  return withLock("es8", () => stopEsNode(ES8, opts));
}
