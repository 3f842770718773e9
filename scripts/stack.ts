// deno-lint-ignore-file no-console
/**
 * The local test servers: Elasticsearch, a MongoDB wire-protocol server (FerretDB) and an S3
 * emulator (moto). Each one is installed on first use with the ordinary clients (mvn, go, pip),
 * started on a free loopback port and described by a small JSON state file.
 *
 * ```sh
 * deno task stack up [es|mongo|s3|all]        # default: es; prints ES_URL=... lines
 * deno task stack down [es|mongo|s3|all] [--clean]   # default: all; --clean drops the data
 * deno task stack restart [es|mongo|s3|all]   # default: es; keeps data and ports
 * deno task stack status [es|mongo|s3|all] [--json]
 * ```
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
import { dirname, join } from "node:path";

/** The Elasticsearch version the stack runs (the `integ-test-zip` distribution). */
export const ES_VERSION = "9.2.4";
/** The FerretDB version built for the MongoDB wire protocol. */
export const FERRETDB_VERSION = "v1.24.2";
/** The moto version installed for the S3 emulator. */
export const MOTO_VERSION = "5.2.5";
/** The system user Elasticsearch runs as when the stack is managed by root. */
export const ES_USER = "connectors-es";
/** The lowest Java feature version Elasticsearch 9 runs on. */
export const MIN_ES_JAVA = 21;

const ES_ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
const FERRETDB_MODULE = "github.com/FerretDB/FerretDB";
const FALLBACK_ROOT = "/var/tmp/connectors-deno";
const ES_HEAP = "-Xms512m -Xmx512m";

/** The services this module manages. */
export type ServiceName = "es" | "mongo" | "s3";
/** All services, in start order. */
export const SERVICES: readonly ServiceName[] = ["es", "mongo", "s3"];

/** What is known about one service. */
export interface ServiceInfo {
  service: ServiceName;
  running: boolean;
  /** The URL clients use, when a port has been assigned. */
  url: string | undefined;
  pid: number | undefined;
  port: number | undefined;
  /** Where the service writes its log. */
  logFile: string | undefined;
}

/** A started (or already running) service. */
export interface StartedService {
  service: ServiceName;
  url: string;
  port: number;
  pid: number;
  /** True when the service was already running and was left as it was. */
  alreadyRunning: boolean;
}

/** Options for the start functions. */
export interface StartOptions {
  /** How long to wait for the service to answer (default: 240 s for ES, 60 s otherwise). */
  timeoutMs?: number;
}

/** Options for the stop functions. */
export interface StopOptions {
  /** Keep the data directory (default: true). */
  keepData?: boolean;
  /** How long to wait after SIGTERM before SIGKILL (default: 60 s). */
  timeoutMs?: number;
}

interface SavedState {
  port?: number;
  transportPort?: number;
  pid?: number;
  url?: string;
  version?: string;
}

// ---------------------------------------------------------------------------------------------
// Small utilities

function log(message: string): void {
  console.error(`[stack] ${message}`);
}

function home(): string {
  return Deno.env.get("HOME") || "/root";
}

function isRoot(): boolean {
  return Deno.uid() === 0;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates `path` and its missing parents with `mode` (not reduced by the umask). */
function mkdirp(path: string, mode = 0o755): void {
  const missing: string[] = [];
  let p = path;
  while (!exists(p)) {
    missing.unshift(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing) {
    try {
      Deno.mkdirSync(dir);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    Deno.chmodSync(dir, mode);
  }
}

/**
 * Whether other users can traverse `path` and every existing parent of it (missing folders are
 * created later with mode 0755, so they do not count against it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { traversableByOthers } from "./stack.ts";
 * const dir = await Deno.makeTempDir(); // mode 0700
 * try {
 *   assert.equal(traversableByOthers(`${dir}/es/data`), false);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function traversableByOthers(path: string): boolean {
  let p = path;
  while (true) {
    try {
      const st = Deno.statSync(p);
      if (st.isDirectory && ((st.mode ?? 0o755) & 0o001) === 0) return false;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const parent = dirname(p);
    if (parent === p) return true;
    p = parent;
  }
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.env ? { env: opts.env } : {}),
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${cmd}: command not found` };
    }
    throw e;
  }
}

async function runChecked(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${res.code})\n${res.stdout}${res.stderr}`.trimEnd(),
    );
  }
  return res;
}

/** The full path of `cmd` on PATH (or in `extra` folders), or undefined. */
function which(cmd: string, extra: string[] = []): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), ...extra];
  for (const dir of dirs) {
    const p = join(dir, cmd);
    try {
      const st = Deno.statSync(p);
      if (st.isFile && ((st.mode ?? 0o755) & 0o111) !== 0) return p;
    } catch {
      // not there
    }
  }
  return undefined;
}

function tail(path: string, lines = 30): string {
  try {
    const text = Deno.readTextFileSync(path);
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return `(no ${path})`;
  }
}

/** State of a process from /proc: undefined when gone or a zombie. */
function procCmdline(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return undefined;
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is alive and (when given) its command line contains `needle`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAlive } from "./stack.ts";
 * assert.ok(isAlive(Deno.pid));
 * assert.equal(isAlive(Deno.pid, "org.elasticsearch.bootstrap.Elasticsearch"), false);
 * ```
 */
export function isAlive(pid: number, needle?: string): boolean {
  const cmdline = procCmdline(pid);
  if (cmdline === undefined) return false;
  return needle === undefined || cmdline.includes(needle);
}

/**
 * Whether nothing listens on 127.0.0.1:`port`.
 *
 * @example
 * ```ts ignore
 * if (!isPortFree(9200)) console.error("something already listens on 127.0.0.1:9200");
 * ```
 */
export function isPortFree(port: number): boolean {
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    listener.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A free loopback port below the Linux ephemeral range (32768+), so an outgoing connection
 * cannot take it between now and the server's start.
 *
 * @example
 * ```ts ignore
 * const httpPort = pickFreePort();
 * const transportPort = pickFreePort([httpPort]);
 * ```
 */
export function pickFreePort(exclude: readonly number[] = []): number {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!exclude.includes(port) && isPortFree(port)) return port;
  }
  throw new Error("no free port found on 127.0.0.1 between 20000 and 32000");
}

async function tcpOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  stillAlive?: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await check()) return;
    if (stillAlive && !stillAlive()) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`${what}: no answer after ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** Runs `fn` holding an exclusive lock (flock) on the file `path`. Not re-entrant. */
async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  mkdirp(dirname(path));
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}

/**
 * Runs `fn` holding the lock of one service of the current stack, so two commands on it (two
 * shells, a test and its runner) never start or stop it at the same time; different services
 * start in parallel.
 */
function withLock<T>(service: ServiceName, fn: () => Promise<T>): Promise<T> {
  return withFileLock(`${stateDir()}/.${service}.lock`, fn);
}

/** Runs `fn` holding a cache lock, so two stacks never install the same thing at once. */
function withInstallLock<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(`${cacheDir()}/.install-${what}.lock`, fn);
}

/**
 * Starts `cmd` in its own session, detached from this process, with stdin from /dev/null and
 * stdout and stderr appended to `logFile`. Returns its pid (the shell execs the command).
 */
function spawnDetached(cmd: string[], logFile: string, env?: Record<string, string>): number {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" >>"$0" 2>&1 </dev/null', logFile, ...cmd],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
    ...(env ? { env } : {}),
  }).spawn();
  child.unref();
  return child.pid;
}

async function stopPid(pid: number, needle: string, what: string, timeoutMs: number) {
  if (!isAlive(pid, needle)) return;
  log(`stopping ${what} (pid ${pid})`);
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid, needle) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid, needle)) {
    log(`${what} did not stop after ${timeoutMs / 1000} s: SIGKILL`);
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
    const killDeadline = Date.now() + 10_000;
    while (isAlive(pid, needle) && Date.now() < killDeadline) await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Directories and state files

/**
 * `${XDG_CACHE_HOME:-$HOME/.cache}/connectors-deno`: downloads and builds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheDir } from "./stack.ts";
 * assert.ok(cacheDir().endsWith("/connectors-deno"));
 * ```
 */
export function cacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") || `${home()}/.cache`;
  return `${base}/connectors-deno`;
}

/**
 * The folder that holds the shared stack's state and the test runner's private stacks:
 * `${XDG_STATE_HOME:-$HOME/.local/state}/connectors-deno`, or `/var/tmp/connectors-deno` when
 * root runs it and the Elasticsearch user could not traverse the preferred folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stackRoot } from "./stack.ts";
 * assert.ok(stackRoot().endsWith("/connectors-deno"));
 * ```
 */
export function stackRoot(): string {
  const base = Deno.env.get("XDG_STATE_HOME") || `${home()}/.local/state`;
  const preferred = `${base}/connectors-deno`;
  if (isRoot() && !traversableByOthers(preferred)) return FALLBACK_ROOT;
  return preferred;
}

/**
 * Where pid files, data, logs and ports live (outside the repository): `CONNECTORS_STACK_DIR`
 * when set (the test runner sets it for a private stack), else `<stackRoot()>/stack`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateDir, withStateDir } from "./stack.ts";
 * const dir = await withStateDir("/tmp/my-stack", () => Promise.resolve(stateDir()));
 * assert.equal(dir, "/tmp/my-stack");
 * ```
 */
export function stateDir(): string {
  return Deno.env.get("CONNECTORS_STACK_DIR") || `${stackRoot()}/stack`;
}

/**
 * The shared stack's state folder (`deno task stack`), whatever CONNECTORS_STACK_DIR says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedStateDir, stackRoot, withStateDir } from "./stack.ts";
 * const shared = await withStateDir("/tmp/my-stack", () => Promise.resolve(sharedStateDir()));
 * assert.equal(shared, `${stackRoot()}/stack`);
 * ```
 */
export function sharedStateDir(): string {
  return `${stackRoot()}/stack`;
}

/**
 * Runs `fn` with `CONNECTORS_STACK_DIR` set to `dir` (or unset when undefined), restoring it
 * afterwards. The stack functions read the variable on every call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stateDir, withStateDir } from "./stack.ts";
 * const before = Deno.env.get("CONNECTORS_STACK_DIR");
 * const inside = await withStateDir("/tmp/run-42", () => Promise.resolve(stateDir()));
 * assert.equal(inside, "/tmp/run-42");
 * assert.equal(Deno.env.get("CONNECTORS_STACK_DIR"), before); // restored
 * ```
 */
export async function withStateDir<T>(dir: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("CONNECTORS_STACK_DIR");
  if (dir === undefined) Deno.env.delete("CONNECTORS_STACK_DIR");
  else Deno.env.set("CONNECTORS_STACK_DIR", dir);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("CONNECTORS_STACK_DIR");
    else Deno.env.set("CONNECTORS_STACK_DIR", before);
  }
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
 * A private state folder for this process, `<stackRoot()>/runs/<pid>-<tag>`, for a test that
 * needs a server of its own (e.g. one it stops and restarts): use it with {@link withStateDir}.
 * Should the process die before cleaning up, the next test run stops its servers and removes it.
 *
 * @example
 * ```ts ignore
 * const dir = privateStateDir("restart");
 * const es = await withStateDir(dir, () => startElasticsearch());
 * await withStateDir(dir, () => stopElasticsearch({ keepData: false }));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function privateStateDir(tag: string): string {
  const dir = `${stackRoot()}/runs/${Deno.pid}-${tag.replace(/[^A-Za-z0-9_.-]+/g, "-")}`;
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

/**
 * The unpacked Elasticsearch distribution.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ES_VERSION, esHomeDir } from "./stack.ts";
 * assert.ok(esHomeDir().endsWith(`/elasticsearch-${ES_VERSION}`));
 * ```
 */
export function esHomeDir(): string {
  const preferred = `${cacheDir()}/elasticsearch-${ES_VERSION}`;
  if (isRoot() && !traversableByOthers(preferred)) {
    return `${FALLBACK_ROOT}/elasticsearch-${ES_VERSION}`;
  }
  return preferred;
}

function stateFile(service: ServiceName): string {
  return `${stateDir()}/${service}.json`;
}

function readState(service: ServiceName): SavedState {
  try {
    return JSON.parse(Deno.readTextFileSync(stateFile(service))) as SavedState;
  } catch {
    return {};
  }
}

function writeState(service: ServiceName, state: SavedState): void {
  mkdirp(stateDir());
  const file = stateFile(service);
  Deno.writeTextFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  Deno.renameSync(`${file}.tmp`, file);
}

/** Reuses the saved port when it is free, else picks a new one. */
function choosePort(saved: number | undefined, exclude: readonly number[] = []): number {
  if (saved !== undefined && !exclude.includes(saved) && isPortFree(saved)) return saved;
  return pickFreePort(exclude);
}

// ---------------------------------------------------------------------------------------------
// Java

/**
 * The Java feature version in a JDK's `release` file (`JAVA_VERSION="21.0.2"` gives 21).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJavaRelease } from "./stack.ts";
 * assert.equal(parseJavaRelease('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="21.0.2"\n'), 21);
 * assert.equal(parseJavaRelease('JAVA_VERSION="1.8.0_402"'), 8);
 * assert.equal(parseJavaRelease("no version here"), undefined);
 * ```
 */
export function parseJavaRelease(text: string): number | undefined {
  const m = /^JAVA_VERSION="?(\d+)(?:\.(\d+))?/m.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 && m[2] !== undefined ? Number(m[2]) : major;
}

/**
 * The JDK with the highest feature version >= `min`, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pickJdk } from "./stack.ts";
 * const jdks = [
 *   { home: "/usr/lib/jvm/java-17", major: 17 },
 *   { home: "/usr/lib/jvm/java-21", major: 21 },
 * ];
 * assert.equal(pickJdk(jdks)?.home, "/usr/lib/jvm/java-21");
 * assert.equal(pickJdk(jdks, 25), undefined);
 * ```
 */
export function pickJdk(
  candidates: readonly { home: string; major: number }[],
  min = MIN_ES_JAVA,
): { home: string; major: number } | undefined {
  let best: { home: string; major: number } | undefined;
  for (const c of candidates) {
    if (c.major >= min && (best === undefined || c.major > best.major)) best = c;
  }
  return best;
}

function jdkAt(homeDir: string): { home: string; major: number } | undefined {
  if (!exists(`${homeDir}/bin/java`)) return undefined;
  try {
    const major = parseJavaRelease(Deno.readTextFileSync(`${homeDir}/release`));
    return major === undefined ? undefined : { home: homeDir, major };
  } catch {
    return undefined;
  }
}

/**
 * `ES_JAVA_HOME` when set, else the newest JDK >= 21 found under /usr/lib/jvm and friends.
 *
 * @example
 * ```ts ignore
 * const env = { ES_JAVA_HOME: findEsJavaHome() }; // throws naming the JDKs found when none fits
 * ```
 */
export function findEsJavaHome(): string {
  const fromEnv = Deno.env.get("ES_JAVA_HOME");
  if (fromEnv) {
    if (!exists(`${fromEnv}/bin/java`)) throw new Error(`ES_JAVA_HOME=${fromEnv} has no bin/java`);
    return fromEnv;
  }
  const candidates: { home: string; major: number }[] = [];
  const roots = ["/usr/lib/jvm", "/opt/java", "/usr/local/java"];
  for (const root of roots) {
    try {
      for (const entry of Deno.readDirSync(root)) {
        if (entry.name.startsWith(".")) continue;
        const jdk = jdkAt(`${root}/${entry.name}`);
        if (jdk) candidates.push(jdk);
      }
    } catch {
      // no such folder
    }
  }
  const javaHome = Deno.env.get("JAVA_HOME");
  if (javaHome) {
    const jdk = jdkAt(javaHome);
    if (jdk) candidates.push(jdk);
  }
  const best = pickJdk(candidates.sort((a, b) => a.home.localeCompare(b.home)));
  if (!best) {
    const seen = candidates.map((c) => `${c.home} (${c.major})`).join(", ") || "none";
    throw new Error(
      `Elasticsearch ${ES_VERSION} needs Java >= ${MIN_ES_JAVA}; JDKs found: ${seen}. ` +
        "Install one or point ES_JAVA_HOME at it.",
    );
  }
  return best.home;
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch

function esPaths() {
  const dir = `${stateDir()}/es`;
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

async function ensureEsZip(): Promise<string> {
  const cache = cacheDir();
  const zip = `${cache}/elasticsearch-${ES_VERSION}.zip`;
  if (exists(zip)) return zip;
  mkdirp(cache);
  if (!which("mvn")) throw new Error("mvn is needed to download Elasticsearch");
  log(`downloading Elasticsearch ${ES_VERSION} (${ES_ARTIFACT}) with mvn…`);
  const tmp = Deno.makeTempDirSync({ dir: cache, prefix: ".es-download-" });
  try {
    await runChecked("mvn", [
      "-B",
      "-q",
      `${DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=${ES_ARTIFACT}`,
      `-DoutputDirectory=${tmp}`,
    ], { cwd: tmp });
    Deno.renameSync(`${tmp}/elasticsearch-${ES_VERSION}.zip`, zip);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  return zip;
}

async function unzip(zip: string, dest: string): Promise<void> {
  if (which("unzip")) {
    await runChecked("unzip", ["-q", zip, "-d", dest]);
  } else if (which("python3")) {
    await runChecked("python3", ["-m", "zipfile", "-e", zip, dest]);
  } else {
    throw new Error("neither unzip nor python3 is available to unpack Elasticsearch");
  }
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
  return withInstallLock("elasticsearch", ensureElasticsearchUnlocked);
}

async function ensureElasticsearchUnlocked(): Promise<string> {
  const esHome = esHomeDir();
  const marker = `${esHome}/.connectors-deno-unpacked`;
  if (exists(marker)) return esHome;
  const zip = await ensureEsZip();
  const parent = dirname(esHome);
  mkdirp(parent);
  log(`unpacking ${zip} into ${esHome}`);
  const tmp = Deno.makeTempDirSync({ dir: parent, prefix: ".es-unpack-" });
  try {
    await unzip(zip, tmp);
    if (exists(esHome)) Deno.removeSync(esHome, { recursive: true });
    Deno.renameSync(`${tmp}/elasticsearch-${ES_VERSION}`, esHome);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  Deno.chmodSync(esHome, 0o755);
  // python's zipfile drops the permission bits
  for (const entry of Deno.readDirSync(`${esHome}/bin`)) {
    if (entry.isFile) Deno.chmodSync(`${esHome}/bin/${entry.name}`, 0o755);
  }
  Deno.writeTextFileSync(marker, `${ES_VERSION}\n`);
  return esHome;
}

async function ensureEsUser(): Promise<void> {
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

function readEsPid(): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(esPaths().pidFile).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Elasticsearch processes that hold this stack's data folder open (when the pid file is lost).
 * Several stacks share one unpacked Elasticsearch, so the home folder alone would not do.
 */
function findEsPids(): number[] {
  const homeNeedle = `-Des.path.home=${esHomeDir()} `;
  const dataPrefix = `${esPaths().data}/`;
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const cmdline = procCmdline(pid);
    if (!cmdline?.includes(homeNeedle) || !cmdline.includes("org.elasticsearch")) continue;
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

async function esInfo(): Promise<ServiceInfo> {
  const saved = readState("es");
  const paths = esPaths();
  let pid = readEsPid();
  if (pid !== undefined && !isAlive(pid, "org.elasticsearch")) pid = undefined;
  pid ??= findEsPids()[0];
  const url = saved.port ? `http://127.0.0.1:${saved.port}` : undefined;
  const running = pid !== undefined && url !== undefined && await esHealthy(url, 0);
  return {
    service: "es",
    running,
    url,
    pid,
    port: saved.port,
    logFile: exists(paths.serverLog) ? paths.serverLog : undefined,
  };
}

async function startElasticsearchUnlocked(opts: StartOptions = {}): Promise<StartedService> {
  const timeoutMs = opts.timeoutMs ?? 240_000;
  const paths = esPaths();
  const saved = readState("es");
  const livePid = readEsPid();
  if (livePid !== undefined && isAlive(livePid, "org.elasticsearch") && saved.port) {
    const url = `http://127.0.0.1:${saved.port}`;
    if (await esHealthy(url, 30)) {
      return { service: "es", url, port: saved.port, pid: livePid, alreadyRunning: true };
    }
    log(`Elasticsearch (pid ${livePid}) does not answer on ${url}: restarting it`);
    await stopPid(livePid, "org.elasticsearch", "Elasticsearch", 60_000);
  } else if (livePid !== undefined) {
    log(`removing stale pid file ${paths.pidFile} (pid ${livePid} is gone)`);
  }
  try {
    Deno.removeSync(paths.pidFile);
  } catch {
    // none
  }
  const orphans = findEsPids();
  if (orphans.length === 1 && orphans[0] !== undefined && saved.port) {
    // Running on this data folder, but its pid file is gone: adopt it when it answers.
    const pid = orphans[0];
    const url = `http://127.0.0.1:${saved.port}`;
    if (await esHealthy(url, 5)) {
      log(`adopting the running Elasticsearch (pid ${pid}) on ${url}`);
      Deno.writeTextFileSync(paths.pidFile, `${pid}\n`);
      writeState("es", { ...saved, pid, url, version: ES_VERSION });
      return { service: "es", url, port: saved.port, pid, alreadyRunning: true };
    }
  }
  for (const pid of orphans) {
    await stopPid(pid, "org.elasticsearch", "a leftover Elasticsearch", 60_000);
  }

  const esHome = await ensureElasticsearch();
  const javaHome = findEsJavaHome();
  mkdirp(stateDir());
  for (const dir of [paths.dir, paths.data, paths.logs, paths.run]) mkdirp(dir);
  if (isRoot()) {
    await ensureEsUser();
    await runChecked("chown", ["-R", `${ES_USER}:${ES_USER}`, esHome, paths.dir]);
  }

  const port = choosePort(saved.port);
  const transportPort = choosePort(saved.transportPort, [port]);
  const url = `http://127.0.0.1:${port}`;
  writeState("es", { port, transportPort, url, version: ES_VERSION });

  const esArgs = [
    `${esHome}/bin/elasticsearch`,
    "-d",
    "-p",
    paths.pidFile,
    "-Ediscovery.type=single-node",
    "-Enetwork.host=127.0.0.1",
    `-Ehttp.port=${port}`,
    `-Etransport.port=${transportPort}`,
    "-Expack.security.enabled=false",
    "-Ecluster.routing.allocation.disk.threshold_enabled=false",
    `-Epath.data=${paths.data}`,
    `-Epath.logs=${paths.logs}`,
  ];
  const envArgs = [`ES_JAVA_HOME=${javaHome}`, `ES_JAVA_OPTS=${ES_HEAP}`];
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

  log(`starting Elasticsearch ${ES_VERSION} on ${url} (Java: ${javaHome})`);
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
    const pid = readEsPid();
    if (pid !== undefined) await stopPid(pid, "org.elasticsearch", "Elasticsearch", 30_000);
    throw new Error(
      `Elasticsearch did not start: ${why}\n--- ${paths.launcherLog}\n${tail(paths.launcherLog)}` +
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
  const pid = readEsPid();
  if (pid === undefined) return await fail(`no pid file at ${paths.pidFile}`);
  try {
    const left = Math.max(10_000, timeoutMs - (Date.now() - started));
    await waitUntil("Elasticsearch", () => esHealthy(url, 2), left, () => isAlive(pid));
  } catch (e) {
    return await fail(e instanceof Error ? e.message : String(e));
  }
  writeState("es", { port, transportPort, url, pid, version: ES_VERSION });
  log(
    `Elasticsearch is up on ${url} (pid ${pid}, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return { service: "es", url, port, pid, alreadyRunning: false };
}

async function stopElasticsearchUnlocked(opts: StopOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const paths = esPaths();
  const pid = readEsPid();
  if (pid !== undefined) await stopPid(pid, "org.elasticsearch", "Elasticsearch", timeoutMs);
  for (const other of findEsPids()) {
    await stopPid(other, "org.elasticsearch", "Elasticsearch", timeoutMs);
  }
  try {
    Deno.removeSync(paths.pidFile);
  } catch {
    // none
  }
  const saved = readState("es");
  if (opts.keepData === false) {
    if (exists(paths.dir)) {
      log(`removing ${paths.dir}`);
      Deno.removeSync(paths.dir, { recursive: true });
    }
    if (exists(stateFile("es"))) Deno.removeSync(stateFile("es"));
  } else if (exists(stateFile("es"))) {
    const { pid: _pid, ...rest } = saved;
    writeState("es", rest);
  }
}

// ---------------------------------------------------------------------------------------------
// FerretDB (MongoDB wire protocol)

function ferretPaths() {
  const dir = `${stateDir()}/mongo`;
  return { dir, data: `${dir}/data`, logFile: `${dir}/ferretdb.log` };
}

function goBinary(): string {
  const go = which("go", ["/usr/local/go/bin", `${home()}/go/bin`, "/usr/lib/go/bin"]);
  if (!go) throw new Error("go is needed to build FerretDB");
  return go;
}

/**
 * Builds FerretDB into the cache when missing. A plain `go install …/cmd/ferretdb@v1.24.2`
 * builds a binary that panics at start (its generated build/version/version.txt is not in the
 * module), so this copies the module source, writes that file and builds it.
 *
 * @example
 * ```ts ignore
 * const ferretdb = await ensureFerretDb(); // the first call builds it with go (a few minutes)
 * ```
 */
export function ensureFerretDb(): Promise<string> {
  return withInstallLock("ferretdb", ensureFerretDbUnlocked);
}

async function ensureFerretDbUnlocked(): Promise<string> {
  const bin = `${cacheDir()}/bin/ferretdb`;
  if (exists(bin)) {
    const res = await run(bin, ["--version"]);
    if (res.code === 0 && res.stdout.includes(`version: ${FERRETDB_VERSION}`)) return bin;
    log(`${bin} is not a working FerretDB ${FERRETDB_VERSION}: rebuilding it`);
  }
  const go = goBinary();
  mkdirp(`${cacheDir()}/bin`);
  const tmp = Deno.makeTempDirSync({ dir: cacheDir(), prefix: ".ferretdb-build-" });
  try {
    log(`building FerretDB ${FERRETDB_VERSION} with go (a few minutes on a cold cache)…`);
    const env = { CGO_ENABLED: "0", GOFLAGS: "-mod=mod" };
    const dl = await runChecked(go, [
      "mod",
      "download",
      "-json",
      `${FERRETDB_MODULE}@${FERRETDB_VERSION}`,
    ], { cwd: tmp, env });
    const moduleDir = (JSON.parse(dl.stdout) as { Dir?: string }).Dir;
    if (!moduleDir) throw new Error(`go mod download gave no Dir: ${dl.stdout}`);
    const src = `${tmp}/src`;
    await runChecked("cp", ["-R", moduleDir, src]);
    await runChecked("chmod", ["-R", "u+w", src]);
    Deno.writeTextFileSync(`${src}/build/version/version.txt`, `${FERRETDB_VERSION}\n`);
    await runChecked(go, ["build", "-trimpath", "-o", `${bin}.tmp`, "./cmd/ferretdb"], {
      cwd: src,
      env,
    });
    Deno.renameSync(`${bin}.tmp`, bin);
  } finally {
    await run("chmod", ["-R", "u+w", tmp]);
    Deno.removeSync(tmp, { recursive: true });
  }
  return bin;
}

async function mongoInfo(): Promise<ServiceInfo> {
  const saved = readState("mongo");
  const pid = saved.pid !== undefined && isAlive(saved.pid, "ferretdb") ? saved.pid : undefined;
  const running = pid !== undefined && saved.port !== undefined && await tcpOpen(saved.port);
  const logFile = ferretPaths().logFile;
  return {
    service: "mongo",
    running,
    url: saved.port ? `mongodb://127.0.0.1:${saved.port}/` : undefined,
    pid,
    port: saved.port,
    logFile: exists(logFile) ? logFile : undefined,
  };
}

async function startMongoUnlocked(opts: StartOptions = {}): Promise<StartedService> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const info = await mongoInfo();
  if (info.running && info.pid !== undefined && info.port !== undefined && info.url) {
    return {
      service: "mongo",
      url: info.url,
      port: info.port,
      pid: info.pid,
      alreadyRunning: true,
    };
  }
  if (info.pid !== undefined) await stopPid(info.pid, "ferretdb", "FerretDB", 10_000);
  const bin = await ensureFerretDb();
  const paths = ferretPaths();
  mkdirp(paths.data);
  const port = choosePort(readState("mongo").port);
  const url = `mongodb://127.0.0.1:${port}/`;
  log(`starting FerretDB ${FERRETDB_VERSION} on ${url}`);
  const pid = spawnDetached([
    bin,
    "--handler=sqlite",
    `--sqlite-url=file:${paths.data}/`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${paths.dir}`,
    "--debug-addr=-",
    "--telemetry=disable",
  ], paths.logFile);
  writeState("mongo", { port, pid, url, version: FERRETDB_VERSION });
  try {
    await waitUntil("FerretDB", () => tcpOpen(port), timeoutMs, () => isAlive(pid, "ferretdb"));
  } catch (e) {
    await stopPid(pid, "ferretdb", "FerretDB", 5_000);
    throw new Error(`${(e as Error).message}\n--- ${paths.logFile}\n${tail(paths.logFile)}`);
  }
  log(`FerretDB is up on ${url} (pid ${pid})`);
  return { service: "mongo", url, port, pid, alreadyRunning: false };
}

async function stopMongoUnlocked(opts: StopOptions = {}): Promise<void> {
  const saved = readState("mongo");
  if (saved.pid !== undefined) {
    await stopPid(saved.pid, "ferretdb", "FerretDB", opts.timeoutMs ?? 30_000);
  }
  if (opts.keepData === false) {
    const { dir } = ferretPaths();
    if (exists(dir)) Deno.removeSync(dir, { recursive: true });
    if (exists(stateFile("mongo"))) Deno.removeSync(stateFile("mongo"));
  } else if (exists(stateFile("mongo"))) {
    const { pid: _pid, ...rest } = saved;
    writeState("mongo", rest);
  }
}

// ---------------------------------------------------------------------------------------------
// moto (S3)

function motoPaths() {
  const dir = `${stateDir()}/s3`;
  return { dir, logFile: `${dir}/moto.log`, venv: `${cacheDir()}/moto-venv` };
}

/**
 * Creates the moto virtualenv (pinned version) when missing; returns the moto_server path.
 *
 * @example
 * ```ts ignore
 * const motoServer = await ensureMoto(); // the first call creates the virtualenv with pip
 * ```
 */
export function ensureMoto(): Promise<string> {
  return withInstallLock("moto", ensureMotoUnlocked);
}

async function ensureMotoUnlocked(): Promise<string> {
  const { venv } = motoPaths();
  const python = `${venv}/bin/python`;
  const server = `${venv}/bin/moto_server`;
  if (exists(python) && exists(server)) {
    const res = await run(python, [
      "-c",
      "import importlib.metadata as m; print(m.version('moto'))",
    ]);
    if (res.code === 0 && res.stdout.trim() === MOTO_VERSION) return server;
  }
  const python3 = which("python3");
  if (!python3) throw new Error("python3 is needed for the S3 emulator (moto)");
  mkdirp(cacheDir());
  if (!exists(python)) {
    log(`creating the virtualenv ${venv}`);
    await runChecked(python3, ["-m", "venv", venv]);
  }
  log(`installing moto[server]==${MOTO_VERSION} with pip…`);
  await runChecked(`${venv}/bin/pip`, [
    "install",
    "-q",
    "--disable-pip-version-check",
    `moto[server]==${MOTO_VERSION}`,
  ]);
  return server;
}

async function httpAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

async function s3Info(): Promise<ServiceInfo> {
  const saved = readState("s3");
  const pid = saved.pid !== undefined && isAlive(saved.pid, "moto_server") ? saved.pid : undefined;
  const url = saved.port ? `http://127.0.0.1:${saved.port}` : undefined;
  const running = pid !== undefined && url !== undefined && await httpAnswers(`${url}/moto-api/`);
  const logFile = motoPaths().logFile;
  return {
    service: "s3",
    running,
    url,
    pid,
    port: saved.port,
    logFile: exists(logFile) ? logFile : undefined,
  };
}

async function startS3Unlocked(opts: StartOptions = {}): Promise<StartedService> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const info = await s3Info();
  if (info.running && info.pid !== undefined && info.port !== undefined && info.url) {
    return { service: "s3", url: info.url, port: info.port, pid: info.pid, alreadyRunning: true };
  }
  if (info.pid !== undefined) await stopPid(info.pid, "moto_server", "moto", 10_000);
  const server = await ensureMoto();
  const paths = motoPaths();
  mkdirp(paths.dir);
  const port = choosePort(readState("s3").port);
  const url = `http://127.0.0.1:${port}`;
  log(`starting moto ${MOTO_VERSION} (S3) on ${url}`);
  const pid = spawnDetached([server, "-H", "127.0.0.1", "-p", String(port)], paths.logFile);
  writeState("s3", { port, pid, url, version: MOTO_VERSION });
  try {
    await waitUntil(
      "moto",
      () => httpAnswers(`${url}/moto-api/`),
      timeoutMs,
      () => isAlive(pid, "moto_server"),
    );
  } catch (e) {
    await stopPid(pid, "moto_server", "moto", 5_000);
    throw new Error(`${(e as Error).message}\n--- ${paths.logFile}\n${tail(paths.logFile)}`);
  }
  log(`moto is up on ${url} (pid ${pid})`);
  return { service: "s3", url, port, pid, alreadyRunning: false };
}

async function stopS3Unlocked(opts: StopOptions = {}): Promise<void> {
  const saved = readState("s3");
  if (saved.pid !== undefined) {
    await stopPid(saved.pid, "moto_server", "moto", opts.timeoutMs ?? 30_000);
  }
  if (opts.keepData === false) {
    const { dir } = motoPaths();
    if (exists(dir)) Deno.removeSync(dir, { recursive: true });
    if (exists(stateFile("s3"))) Deno.removeSync(stateFile("s3"));
  } else if (exists(stateFile("s3"))) {
    const { pid: _pid, ...rest } = saved;
    writeState("s3", rest);
  }
}

// ---------------------------------------------------------------------------------------------
// Public start and stop functions (each holds the stack lock)

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
  return withLock("es", () => startElasticsearchUnlocked(opts));
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
  return withLock("es", () => stopElasticsearchUnlocked(opts));
}

/**
 * Starts FerretDB (building it first when needed); returns `mongodb://127.0.0.1:<port>/`.
 *
 * @example
 * ```ts ignore
 * const mongo = await startMongo();
 * Deno.env.set("MONGO_URL", mongo.url);
 * ```
 */
export function startMongo(opts: StartOptions = {}): Promise<StartedService> {
  return withLock("mongo", () => startMongoUnlocked(opts));
}

/**
 * Stops FerretDB; keeps its data unless `keepData: false`.
 *
 * @example
 * ```ts ignore
 * await stopMongo({ keepData: false });
 * ```
 */
export function stopMongo(opts: StopOptions = {}): Promise<void> {
  return withLock("mongo", () => stopMongoUnlocked(opts));
}

/**
 * Starts the moto S3 server (installing it first when needed); returns `http://127.0.0.1:<port>`.
 *
 * @example
 * ```ts ignore
 * const s3 = await startS3();
 * Deno.env.set("S3_URL", s3.url);
 * ```
 */
export function startS3(opts: StartOptions = {}): Promise<StartedService> {
  return withLock("s3", () => startS3Unlocked(opts));
}

/**
 * Stops the moto server (its state lives in memory only).
 *
 * @example
 * ```ts ignore
 * await stopS3();
 * ```
 */
export function stopS3(opts: StopOptions = {}): Promise<void> {
  return withLock("s3", () => stopS3Unlocked(opts));
}

// ---------------------------------------------------------------------------------------------
// All services

/**
 * Starts one service.
 *
 * @example
 * ```ts ignore
 * const started = await startService("es");
 * console.log(`${URL_ENV.es}=${started.url}`);
 * ```
 */
export function startService(service: ServiceName, opts: StartOptions = {}) {
  switch (service) {
    case "es":
      return startElasticsearch(opts);
    case "mongo":
      return startMongo(opts);
    case "s3":
      return startS3(opts);
  }
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
  switch (service) {
    case "es":
      return stopElasticsearch(opts);
    case "mongo":
      return stopMongo(opts);
    case "s3":
      return stopS3(opts);
  }
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
  const infos: ServiceInfo[] = [];
  for (const service of services) {
    infos.push(
      service === "es" ? await esInfo() : service === "mongo" ? await mongoInfo() : await s3Info(),
    );
  }
  return infos;
}

/** The environment variable that carries each service's URL to the tests. */
export const URL_ENV: Readonly<Record<ServiceName, string>> = {
  es: "ES_URL",
  mongo: "MONGO_URL",
  s3: "S3_URL",
};

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: deno task stack <command> [es|mongo|s3|all] [options]

commands:
  up       start services (default: es); prints ES_URL=..., MONGO_URL=..., S3_URL=...
  down     stop services (default: all); --clean also removes their data
  restart  stop and start services (default: es), keeping data and ports
  status   show each service, running or not, and its URL (default: all); --json

state: ${"$"}{XDG_STATE_HOME:-$HOME/.local/state}/connectors-deno/stack (or CONNECTORS_STACK_DIR)
cache: ${"$"}{XDG_CACHE_HOME:-$HOME/.cache}/connectors-deno`;

function parseServices(arg: string | undefined, fallback: readonly ServiceName[]): ServiceName[] {
  if (arg === undefined) return [...fallback];
  if (arg === "all") return [...SERVICES];
  const names = arg.split(",");
  for (const name of names) {
    if (!(SERVICES as readonly string[]).includes(name)) {
      throw new Error(`unknown service "${name}" (es, mongo, s3 or all)`);
    }
  }
  return names as ServiceName[];
}

async function main(argv: string[]): Promise<number> {
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
      const services = parseServices(target, ["es"]);
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
          console.log(`${URL_ENV[s]}=${r.value.url}`);
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
        for (const i of infos) {
          const state = i.running ? "running" : "stopped";
          const detail = i.running ? `${i.url}  pid ${i.pid}` : i.url ? `(last ${i.url})` : "";
          console.log(`${i.service.padEnd(6)} ${state.padEnd(8)} ${detail}`.trimEnd());
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
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`[stack] error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
