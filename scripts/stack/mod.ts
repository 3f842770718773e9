// deno-lint-ignore-file no-console
/**
 * The local test servers: Elasticsearch, a TLS + security Elasticsearch node, an Elasticsearch
 * 8.19 node, a MongoDB wire-protocol server (FerretDB) and an S3 emulator (moto). Each one is
 * installed on first use with the ordinary clients (mvn, javac, go, pip), started on a free
 * loopback port and described by a small JSON state file. One file per server
 * (`elasticsearch.ts`, `elasticsearch_secure.ts`, `elasticsearch8.ts`, `ferretdb.ts`,
 * `moto.ts`); `_process.ts` and `_state.ts` hold the shared process and state helpers,
 * `_es_node.ts` what the Elasticsearch nodes share.
 *
 * ```sh
 * deno task stack up [es|mongo|s3|es-secure|es8|all] # default: es; prints ES_URL=... lines
 * deno task stack down [SERVICES|all] [--clean]       # default: all; --clean drops the data
 * deno task stack restart [SERVICES|all]              # default: es; keeps data and ports
 * deno task stack status [SERVICES|all] [--json]
 * ```
 *
 * Several services: `es,mongo`. `all` is every service, except for `up` and `restart`, where it
 * is es, mongo and s3: the secure node (`es-secure`) and the 8.19 node (`es8`) start only when
 * named.
 *
 * Directories:
 * - cache (downloads, builds): `${XDG_CACHE_HOME:-$HOME/.cache}/connectors-deno`
 * - state (pid files, data, logs, ports): `CONNECTORS_STACK_DIR` when set, else the shared
 *   stack `${XDG_STATE_HOME:-$HOME/.local/state}/connectors-deno/stack`. The test runner
 *   starts a private stack per run in `.../connectors-deno/runs/<pid>` (see scripts/test.ts);
 *   private stacks whose process died are stopped and removed by the next run.
 *
 * Each service has a lock file in its state folder, so concurrent commands on one stack are
 * serialized; installs hold a lock in the cache folder.
 *
 * Elasticsearch refuses to run as root: as root it runs as the system user `connectors-es`, which
 * must be able to traverse every parent folder. When a preferred folder sits below one it cannot
 * traverse (root's home is usually mode 0700), the state and the unpacked Elasticsearch go to
 * `/var/tmp/connectors-deno` instead.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { esInfo, startElasticsearch, stopElasticsearch } from "./elasticsearch.ts";
import {
  esSecureInfo,
  startElasticsearchSecure,
  stopElasticsearchSecure,
} from "./elasticsearch_secure.ts";
import { ES8_VERSION } from "./_es_node.ts";
import { es8Info, startElasticsearch8, stopElasticsearch8 } from "./elasticsearch8.ts";
import { mongoInfo, startMongo, stopMongo } from "./ferretdb.ts";
import { s3Info, startS3, stopS3 } from "./moto.ts";
import { exists, isAlive, log, mkdirp } from "./_process.ts";
import {
  COMMON_SERVICES,
  type ServiceInfo,
  type ServiceName,
  SERVICES,
  stackRoot,
  type StartedService,
  type StartOptions,
  stateDir,
  type StopOptions,
  withStateDir,
} from "./_state.ts";

export { isAlive, isPortFree, pickFreePort, traversableByOthers } from "./_process.ts";
export {
  cacheDir,
  COMMON_SERVICES,
  privateStateDir,
  type ServiceInfo,
  type ServiceName,
  SERVICES,
  sharedStateDir,
  stackRoot,
  type StartedService,
  type StartOptions,
  stateDir,
  type StopOptions,
  withStateDir,
} from "./_state.ts";
export {
  ES8_JAVA,
  ES9_JAVA,
  findEsJavaHome,
  type JavaRange,
  MIN_ES_JAVA,
  parseJavaRelease,
  pickJdk,
} from "./_java.ts";
export { ES8_VERSION, ES_USER, ES_VERSION } from "./_es_node.ts";
export {
  ensureElasticsearch,
  esHealthy,
  esHomeDir,
  startElasticsearch,
  stopElasticsearch,
} from "./elasticsearch.ts";
export {
  ensureElasticsearchSecure,
  esSecureHealthy,
  esSecureHomeDir,
  esSecureInfo,
  secureSettings,
  startElasticsearchSecure,
  stopElasticsearchSecure,
} from "./elasticsearch_secure.ts";
export {
  ensureElasticsearch8,
  es8HomeDir,
  es8Info,
  es8JavaHome,
  startElasticsearch8,
  stopElasticsearch8,
} from "./elasticsearch8.ts";
export { ensureFerretDb, FERRETDB_VERSION, startMongo, stopMongo } from "./ferretdb.ts";
export { ensureMoto, MOTO_VERSION, startS3, stopS3 } from "./moto.ts";

/** How each service starts and stops: one entry per service, so none is forgotten. */
const SERVICE_CONTROLS: Record<ServiceName, {
  start(opts: StartOptions): Promise<StartedService>;
  stop(opts: StopOptions): Promise<void>;
}> = {
  "es": { start: startElasticsearch, stop: stopElasticsearch },
  "mongo": { start: startMongo, stop: stopMongo },
  "s3": { start: startS3, stop: stopS3 },
  "es-secure": { start: startElasticsearchSecure, stop: stopElasticsearchSecure },
  "es8": { start: startElasticsearch8, stop: stopElasticsearch8 },
};

/**
 * Starts one service.
 *
 * @example
 * ```ts ignore
 * const started = await startService("es");
 * console.log(`${URL_ENV.es}=${started.url}`);
 * ```
 */
export function startService(
  service: ServiceName,
  opts: StartOptions = {},
): Promise<StartedService> {
  return SERVICE_CONTROLS[service].start(opts);
}

/**
 * Stops one service.
 *
 * @example
 * ```ts ignore
 * await stopService("mongo", { keepData: false });
 * ```
 */
export function stopService(service: ServiceName, opts: StopOptions = {}): Promise<void> {
  return SERVICE_CONTROLS[service].stop(opts);
}

/**
 * Stops every service of the stack.
 *
 * @example
 * ```ts ignore
 * await withStateDir(runDir, () => stopAll({ keepData: false }));
 * ```
 */
export async function stopAll(opts: StopOptions = {}): Promise<void> {
  for (const service of SERVICES) await stopService(service, opts);
}

/**
 * What is running, with URLs.
 *
 * @example
 * ```ts ignore
 * const [es] = await withStateDir(sharedStateDir(), () => stackStatus(["es"]));
 * if (es?.running && es.url) console.log(`reusing Elasticsearch at ${es.url}`);
 * ```
 */
export async function stackStatus(
  services: readonly ServiceName[] = SERVICES,
): Promise<ServiceInfo[]> {
  const info = {
    es: esInfo,
    mongo: mongoInfo,
    s3: s3Info,
    "es-secure": esSecureInfo,
    es8: es8Info,
  };
  const infos: ServiceInfo[] = [];
  for (const service of services) infos.push(await info[service]());
  return infos;
}

/** The environment variable that carries each service's URL to the tests. */
export const URL_ENV: Readonly<Record<ServiceName, string>> = {
  es: "ES_URL",
  mongo: "MONGO_URL",
  s3: "S3_URL",
  "es-secure": "ES_SECURE_URL",
  es8: "ES8_URL",
};

/**
 * The environment variables that describe a started or running service to the tests: its URL
 * ({@link URL_ENV}), and for `es-secure` also `ES_SECURE_CA`, `ES_SECURE_WRONG_CA` (PEM files)
 * and `ES_SECURE_PASSWORD` (the `elastic` user's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serviceEnv } from "./mod.ts";
 * assert.deepEqual(serviceEnv({ service: "s3", url: "http://127.0.0.1:5000" }), {
 *   S3_URL: "http://127.0.0.1:5000",
 * });
 * ```
 */
export function serviceEnv(
  s: Pick<ServiceInfo, "service" | "url" | "ca" | "wrongCa" | "password">,
): Record<string, string> {
  const env: Record<string, string> = {};
  const prefix = URL_ENV[s.service].replace(/_URL$/, "");
  if (s.url) env[URL_ENV[s.service]] = s.url;
  if (s.ca) env[`${prefix}_CA`] = s.ca;
  if (s.wrongCa) env[`${prefix}_WRONG_CA`] = s.wrongCa;
  if (s.password) env[`${prefix}_PASSWORD`] = s.password;
  return env;
}

/**
 * A new private state folder for one test run, `<stackRoot()>/runs/<pid>`. Folders of earlier
 * runs whose process is gone are cleaned first (their servers stopped, their data removed).
 *
 * @example
 * ```ts ignore
 * const runDir = await newRunStateDir();
 * Deno.env.set("CONNECTORS_STACK_DIR", runDir); // the stack functions now use this run's stack
 * const es = await startService("es");
 * ```
 */
export async function newRunStateDir(): Promise<string> {
  await cleanStaleRuns();
  const dir = `${stackRoot()}/runs/${Deno.pid}`;
  if (exists(dir)) Deno.removeSync(dir, { recursive: true });
  mkdirp(dir);
  return dir;
}

/**
 * Stops the servers of private stacks (`runs/<pid>` or `runs/<pid>-<tag>`) whose process is
 * gone, and removes their folders.
 *
 * @example
 * ```ts ignore
 * await cleanStaleRuns(); // stops the servers of test runs that died without cleaning up
 * ```
 */
export async function cleanStaleRuns(): Promise<void> {
  const runs = `${stackRoot()}/runs`;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(runs)];
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = Number(/^(\d+)(?:-|$)/.exec(entry.name)?.[1]);
    if (!entry.isDirectory || !Number.isInteger(owner) || isAlive(owner)) continue;
    const dir = `${runs}/${entry.name}`;
    log(`cleaning the stack of an earlier test run: ${dir}`);
    await withStateDir(dir, () => stopAll({ keepData: false }));
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // another run cleaned it meanwhile
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: deno task stack <command> [SERVICE[,SERVICE...]|all] [options]

services: es, mongo, s3, es-secure (Elasticsearch with TLS + security),
          es8 (Elasticsearch ${ES8_VERSION} on Java 17 to 20: ES8_JAVA_HOME or found)

commands:
  up       start services (default: es; all: es,mongo,s3); prints ES_URL=..., MONGO_URL=...,
           S3_URL=..., ES8_URL=..., and for es-secure ES_SECURE_URL, ES_SECURE_CA,
           ES_SECURE_WRONG_CA, ES_SECURE_PASSWORD
  down     stop services (default: all); --clean also removes their data
  restart  stop and start services (default: es; all: es,mongo,s3), keeping data and ports
  status   show each service, running or not, and its URL (default: all); --json

state: ${"$"}{XDG_STATE_HOME:-$HOME/.local/state}/connectors-deno/stack (or CONNECTORS_STACK_DIR)
cache: ${"$"}{XDG_CACHE_HOME:-$HOME/.cache}/connectors-deno`;

/**
 * The services named on the command line: `undefined` gives `fallback`, `all` gives `all`,
 * else a comma-separated list of service names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMMON_SERVICES, parseServices } from "./mod.ts";
 * assert.deepEqual(parseServices("es,es-secure", ["es"]), ["es", "es-secure"]);
 * assert.deepEqual(parseServices(undefined, ["es"]), ["es"]);
 * assert.deepEqual(parseServices("all", ["es"], COMMON_SERVICES), ["es", "mongo", "s3"]);
 * assert.throws(() => parseServices("redis", ["es"]), /unknown service "redis"/);
 * ```
 */
export function parseServices(
  arg: string | undefined,
  fallback: readonly ServiceName[],
  all: readonly ServiceName[] = SERVICES,
): ServiceName[] {
  if (arg === undefined) return [...fallback];
  if (arg === "all") return [...all];
  const names = arg.split(",");
  for (const name of names) {
    if (!(SERVICES as readonly string[]).includes(name)) {
      throw new Error(`unknown service "${name}" (${SERVICES.join(", ")} or all)`);
    }
  }
  return names as ServiceName[];
}

/** `deno task stack ...`: runs one command; returns the exit code. */
export async function stackMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      clean: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, target, ...rest] = positionals;
  if (values.help || command === undefined || rest.length > 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case "up":
    case "restart": {
      const services = parseServices(target, ["es"], COMMON_SERVICES);
      if (command === "restart") {
        for (const s of services) await stopService(s, { keepData: true });
      }
      const results = await Promise.allSettled(services.map((s) => startService(s)));
      let failed = false;
      results.forEach((r, i) => {
        const s = services[i] as ServiceName;
        if (r.status === "rejected") {
          failed = true;
          log(`${s} did not start: ${r.reason instanceof Error ? r.reason.message : r.reason}`);
        } else {
          if (r.value.alreadyRunning) log(`${s} is already running (pid ${r.value.pid})`);
          for (const [name, value] of Object.entries(serviceEnv(r.value))) {
            console.log(`${name}=${value}`);
          }
        }
      });
      return failed ? 1 : 0;
    }
    case "down": {
      const services = parseServices(target, SERVICES);
      for (const s of services) await stopService(s, { keepData: !values.clean });
      return 0;
    }
    case "status": {
      const infos = await stackStatus(parseServices(target, SERVICES));
      if (values.json) {
        console.log(JSON.stringify(infos, null, 2));
      } else {
        const width = Math.max(6, ...infos.map((i) => i.service.length + 1));
        for (const i of infos) {
          const state = i.running ? "running" : "stopped";
          const detail = i.running ? `${i.url}  pid ${i.pid}` : i.url ? `(last ${i.url})` : "";
          const ca = i.running && i.ca ? `  ca ${i.ca}` : "";
          console.log(`${i.service.padEnd(width)} ${state.padEnd(8)} ${detail}${ca}`.trimEnd());
        }
        console.log(`state: ${stateDir()}`);
      }
      return 0;
    }
    default:
      console.log(USAGE);
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await stackMain(Deno.args));
  } catch (e) {
    console.error(`[stack] error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
