/**
 * What the Elasticsearch nodes (the plain and the secure 9.x nodes, the 8.x node) share: the
 * pinned versions and their zips (downloaded once with mvn), unpacking them, the non-root system
 * user, and one node's life cycle (pid file, daemonized start, readiness, stop), parameterized
 * by an {@link EsNodeSpec}.
 *
 * @module
 */

import { dirname } from "node:path";
import { findEsJavaHome } from "./_java.ts";
import {
  choosePort,
  exists,
  isAlive,
  isRoot,
  log,
  mkdirp,
  procCmdline,
  run,
  runChecked,
  stopPid,
  tail,
  unzip,
  waitUntil,
  which,
} from "./_process.ts";
import {
  cacheDir,
  forgetState,
  readState,
  type ServiceInfo,
  type ServiceName,
  type StartedService,
  type StartOptions,
  stateDir,
  type StopOptions,
  writeState,
} from "./_state.ts";

/** The Elasticsearch version the stack runs (the `integ-test-zip` distribution). */
export const ES_VERSION = "9.2.4";
/**
 * The version of the 8.x node (service `es8`): the newest 8.x `integ-test-zip` the reachable
 * Maven serves. It runs on Java 17.
 */
export const ES8_VERSION = "8.19.21";
/** The system user Elasticsearch runs as when the stack is managed by root. */
export const ES_USER = "connectors-es";

const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
const ES_HEAP = "-Xms512m -Xmx512m";
const NEEDLE = "org.elasticsearch";

/** The Maven coordinates of the `integ-test-zip` distribution of `version`. */
export function esArtifact(version: string): string {
  return `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${version}:zip`;
}

/** The Elasticsearch zip of `version` in the cache, downloaded with mvn when missing. */
export async function ensureEsZip(version = ES_VERSION): Promise<string> {
  const cache = cacheDir();
  const zip = `${cache}/elasticsearch-${version}.zip`;
  if (exists(zip)) return zip;
  mkdirp(cache);
  if (!which("mvn")) throw new Error("mvn is needed to download Elasticsearch");
  const artifact = esArtifact(version);
  log(`downloading Elasticsearch ${version} (${artifact}) with mvn…`);
  const tmp = Deno.makeTempDirSync({ dir: cache, prefix: ".es-download-" });
  try {
    await runChecked("mvn", [
      "-B",
      "-q",
      `${DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=${artifact}`,
      `-DoutputDirectory=${tmp}`,
    ], { cwd: tmp });
    Deno.renameSync(`${tmp}/elasticsearch-${version}.zip`, zip);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  return zip;
}

/**
 * Unpacks the cached zip of `version` into `esHome` (replacing what is there), bin/ made
 * executable.
 */
export async function unpackEs(esHome: string, version = ES_VERSION): Promise<void> {
  const zip = await ensureEsZip(version);
  const parent = dirname(esHome);
  mkdirp(parent);
  log(`unpacking ${zip} into ${esHome}`);
  const tmp = Deno.makeTempDirSync({ dir: parent, prefix: ".es-unpack-" });
  try {
    await unzip(zip, tmp);
    if (exists(esHome)) Deno.removeSync(esHome, { recursive: true });
    Deno.renameSync(`${tmp}/elasticsearch-${version}`, esHome);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  Deno.chmodSync(esHome, 0o755);
  // python's zipfile drops the permission bits
  for (const entry of Deno.readDirSync(`${esHome}/bin`)) {
    if (entry.isFile) Deno.chmodSync(`${esHome}/bin/${entry.name}`, 0o755);
  }
}

/** Creates the system user {@link ES_USER} when missing (root only). */
export async function ensureEsUser(): Promise<void> {
  if ((await run("id", ["-u", ES_USER])).code === 0) return;
  log(`creating system user ${ES_USER}`);
  const useradd = which("useradd", ["/usr/sbin", "/sbin"]) ?? "useradd";
  const res = await run(useradd, [
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    ES_USER,
  ]);
  // 9: the user appeared meanwhile
  if (res.code !== 0 && res.code !== 9) {
    throw new Error(`useradd ${ES_USER} failed (exit ${res.code}): ${res.stderr}`);
  }
}

/** The folders of one node in the current stack, `<stateDir()>/<service>/...`. */
export interface EsNodePaths {
  dir: string;
  data: string;
  logs: string;
  run: string;
  pidFile: string;
  launcherLog: string;
  serverLog: string;
}

/** The services that are Elasticsearch nodes. */
export type EsService = Extract<ServiceName, "es" | "es-secure" | "es8">;

/** One kind of Elasticsearch node. */
export interface EsNodeSpec {
  service: EsService;
  /** For log lines and errors. */
  label: string;
  /** The Elasticsearch version of its home (default {@link ES_VERSION}). */
  version?: string;
  /** The JDK that runs it (default: {@link findEsJavaHome}, Java >= 21). */
  javaHome?(): string;
  scheme: "http" | "https";
  /** The unpacked home (may not exist yet). */
  homeDir(): string;
  /** Installs the home when needed; returns it. */
  ensureHome(): Promise<string>;
  /** Whether the node at `url` answers with a yellow or green cluster. */
  healthy(url: string, waitSeconds: number): Promise<boolean>;
  /** Runs before the start, once the folders exist (and before they are chowned). */
  prepare?(paths: EsNodePaths, esHome: string, javaHome: string): Promise<void>;
  /** Extra `-E` arguments. */
  args(paths: EsNodePaths): string[];
  /** Extra environment variables, `NAME=value`. */
  env(paths: EsNodePaths): string[];
}

/** The folders of `service`'s node in the current stack. */
export function esNodePaths(service: EsService): EsNodePaths {
  const dir = `${stateDir()}/${service}`;
  return {
    dir,
    data: `${dir}/data`,
    logs: `${dir}/logs`,
    run: `${dir}/run`,
    pidFile: `${dir}/run/elasticsearch.pid`,
    launcherLog: `${dir}/logs/launcher.log`,
    serverLog: `${dir}/logs/elasticsearch.log`,
  };
}

function readPid(paths: EsNodePaths): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(paths.pidFile).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Elasticsearch processes of this home that hold this stack's data folder open (when the pid
 * file is lost). Several stacks share one unpacked Elasticsearch, so the home alone would not do.
 */
function findPids(spec: EsNodeSpec): number[] {
  const homeNeedle = `-Des.path.home=${spec.homeDir()} `;
  const dataPrefix = `${esNodePaths(spec.service).data}/`;
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const cmdline = procCmdline(pid);
    if (!cmdline?.includes(homeNeedle) || !cmdline.includes(NEEDLE)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
        let target = "";
        try {
          target = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
        } catch {
          continue;
        }
        if (target.startsWith(dataPrefix)) {
          pids.push(pid);
          break;
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** What is known about the node: pid, port, URL, whether it answers. */
export async function esNodeInfo(spec: EsNodeSpec): Promise<ServiceInfo> {
  const saved = readState(spec.service);
  const paths = esNodePaths(spec.service);
  let pid = readPid(paths);
  if (pid !== undefined && !isAlive(pid, NEEDLE)) pid = undefined;
  pid ??= findPids(spec)[0];
  const url = saved.port ? `${spec.scheme}://127.0.0.1:${saved.port}` : undefined;
  const running = pid !== undefined && url !== undefined && await spec.healthy(url, 0);
  return {
    service: spec.service,
    running,
    url,
    pid,
    port: saved.port,
    logFile: exists(paths.serverLog) ? paths.serverLog : undefined,
  };
}

/** Starts the node unless it already answers (call it holding the service's lock). */
export async function startEsNode(
  spec: EsNodeSpec,
  opts: StartOptions = {},
): Promise<StartedService> {
  const { service, label } = spec;
  const version = spec.version ?? ES_VERSION;
  const timeoutMs = opts.timeoutMs ?? 240_000;
  const paths = esNodePaths(service);
  const saved = readState(service);
  const urlOf = (port: number) => `${spec.scheme}://127.0.0.1:${port}`;
  const livePid = readPid(paths);
  if (livePid !== undefined && isAlive(livePid, NEEDLE) && saved.port) {
    const url = urlOf(saved.port);
    if (await spec.healthy(url, 30)) {
      return { service, url, port: saved.port, pid: livePid, alreadyRunning: true };
    }
    log(`${label} (pid ${livePid}) does not answer on ${url}: restarting it`);
    await stopPid(livePid, NEEDLE, label, 60_000);
  } else if (livePid !== undefined) {
    log(`removing stale pid file ${paths.pidFile} (pid ${livePid} is gone)`);
  }
  try {
    Deno.removeSync(paths.pidFile);
  } catch {
    // none
  }
  const orphans = findPids(spec);
  if (orphans.length === 1 && orphans[0] !== undefined && saved.port) {
    // Running on this data folder, but its pid file is gone: adopt it when it answers.
    const pid = orphans[0];
    const url = urlOf(saved.port);
    if (await spec.healthy(url, 5)) {
      log(`adopting the running ${label} (pid ${pid}) on ${url}`);
      Deno.writeTextFileSync(paths.pidFile, `${pid}\n`);
      writeState(service, { ...saved, pid, url, version });
      return { service, url, port: saved.port, pid, alreadyRunning: true };
    }
  }
  for (const pid of orphans) await stopPid(pid, NEEDLE, `a leftover ${label}`, 60_000);

  const esHome = await spec.ensureHome();
  const javaHome = spec.javaHome?.() ?? findEsJavaHome(`Elasticsearch ${version}`);
  mkdirp(stateDir());
  for (const dir of [paths.dir, paths.data, paths.logs, paths.run]) mkdirp(dir);
  await spec.prepare?.(paths, esHome, javaHome);
  if (isRoot()) {
    await ensureEsUser();
    await runChecked("chown", ["-R", `${ES_USER}:${ES_USER}`, esHome, paths.dir]);
  }

  const port = choosePort(saved.port);
  const transportPort = choosePort(saved.transportPort, [port]);
  const url = urlOf(port);
  writeState(service, { port, transportPort, url, version });

  const esArgs = [
    `${esHome}/bin/elasticsearch`,
    "-d",
    "-p",
    paths.pidFile,
    "-Ediscovery.type=single-node",
    "-Enetwork.host=127.0.0.1",
    `-Ehttp.port=${port}`,
    `-Etransport.port=${transportPort}`,
    ...spec.args(paths),
    "-Ecluster.routing.allocation.disk.threshold_enabled=false",
    `-Epath.data=${paths.data}`,
    `-Epath.logs=${paths.logs}`,
  ];
  const envArgs = [`ES_JAVA_HOME=${javaHome}`, `ES_JAVA_OPTS=${ES_HEAP}`, ...spec.env(paths)];
  const cmd = isRoot()
    ? [
      which("runuser", ["/usr/sbin", "/sbin"]) ?? "runuser",
      "-u",
      ES_USER,
      "--",
      "/usr/bin/env",
      ...envArgs,
      ...esArgs,
    ]
    : ["/usr/bin/env", ...envArgs, ...esArgs];

  log(`starting ${label} ${version} on ${url} (Java: ${javaHome})`);
  const started = Date.now();
  const launcher = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" >"$0" 2>&1 </dev/null', paths.launcherLog, ...cmd],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    launcher.status,
    new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
  ]);
  clearTimeout(timer);
  const fail = async (why: string): Promise<never> => {
    const pid = readPid(paths);
    if (pid !== undefined) await stopPid(pid, NEEDLE, label, 30_000);
    throw new Error(
      `${label} did not start: ${why}\n--- ${paths.launcherLog}\n${tail(paths.launcherLog)}` +
        `\n--- ${paths.serverLog}\n${tail(paths.serverLog)}`,
    );
  };
  if (status === "timeout") {
    try {
      launcher.kill("SIGKILL");
    } catch {
      // gone
    }
    return await fail(`the launcher did not return within ${timeoutMs / 1000} s`);
  }
  if (!status.success) return await fail(`the launcher exited with code ${status.code}`);
  const pid = readPid(paths);
  if (pid === undefined) return await fail(`no pid file at ${paths.pidFile}`);
  try {
    const left = Math.max(10_000, timeoutMs - (Date.now() - started));
    await waitUntil(label, () => spec.healthy(url, 2), left, () => isAlive(pid));
  } catch (e) {
    return await fail(e instanceof Error ? e.message : String(e));
  }
  writeState(service, { port, transportPort, url, pid, version });
  log(`${label} is up on ${url} (pid ${pid}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { service, url, port, pid, alreadyRunning: false };
}

/** Stops the node (call it holding the service's lock); keeps the data unless told. */
export async function stopEsNode(spec: EsNodeSpec, opts: StopOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const paths = esNodePaths(spec.service);
  const pid = readPid(paths);
  if (pid !== undefined) await stopPid(pid, NEEDLE, spec.label, timeoutMs);
  for (const other of findPids(spec)) await stopPid(other, NEEDLE, spec.label, timeoutMs);
  try {
    Deno.removeSync(paths.pidFile);
  } catch {
    // none
  }
  if (opts.keepData === false && exists(paths.dir)) log(`removing ${paths.dir}`);
  forgetState(spec.service, paths.dir, opts.keepData !== false);
}
