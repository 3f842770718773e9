/**
 * The stack's folders and state files: the cache (downloads, builds), the state folder of the
 * current stack (pid files, data, logs, ports), one JSON state file and one lock per service.
 *
 * @module
 */

import { exists, home, isRoot, mkdirp, traversableByOthers, withFileLock } from "./_process.ts";

/** Where state and unpacked servers go when the Elasticsearch user cannot reach the home. */
export const FALLBACK_ROOT = "/var/tmp/connectors-deno";

/** The services the stack manages. */
export type ServiceName = "es" | "mongo" | "s3" | "es-secure" | "es8";
/** All services, in start order. */
export const SERVICES: readonly ServiceName[] = ["es", "mongo", "s3", "es-secure", "es8"];
/**
 * The services `deno task stack up all` starts: all but `es-secure` and `es8` (Elasticsearch
 * 8.19), which start only when named (their own tests need them; the rest of the suite does not).
 */
export const COMMON_SERVICES: readonly ServiceName[] = ["es", "mongo", "s3"];

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
  /** es-secure: the PEM file of the CA that signed the node's certificate. */
  ca?: string;
  /** es-secure: the PEM file of an unrelated CA (for "wrong CA" tests). */
  wrongCa?: string;
  /** es-secure: the password of the `elastic` user. */
  password?: string;
}

/** A started (or already running) service. */
export interface StartedService {
  service: ServiceName;
  url: string;
  port: number;
  pid: number;
  /** True when the service was already running and was left as it was. */
  alreadyRunning: boolean;
  /** es-secure: see {@link ServiceInfo.ca}. */
  ca?: string;
  /** es-secure: see {@link ServiceInfo.wrongCa}. */
  wrongCa?: string;
  /** es-secure: see {@link ServiceInfo.password}. */
  password?: string;
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

/** The JSON state file of a service. */
export interface SavedState {
  port?: number;
  transportPort?: number;
  pid?: number;
  url?: string;
  version?: string;
}

/**
 * `${XDG_CACHE_HOME:-$HOME/.cache}/connectors-deno`: downloads and builds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheDir } from "./mod.ts";
 * assert.ok(cacheDir().endsWith("/connectors-deno"));
 * ```
 */
export function cacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") || `${home()}/.cache`;
  return `${base}/connectors-deno`;
}

/**
 * Where an unpacked server tree named `name` lives: the cache folder, or `/var/tmp/connectors-deno`
 * when root runs the stack and the Elasticsearch user could not traverse the cache folder.
 */
export function unpackedDir(name: string): string {
  const preferred = `${cacheDir()}/${name}`;
  if (isRoot() && !traversableByOthers(preferred)) return `${FALLBACK_ROOT}/${name}`;
  return preferred;
}

/**
 * The folder that holds the shared stack's state and the test runner's private stacks:
 * `${XDG_STATE_HOME:-$HOME/.local/state}/connectors-deno`, or `/var/tmp/connectors-deno` when
 * root runs it and the Elasticsearch user could not traverse the preferred folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stackRoot } from "./mod.ts";
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
 * import { stateDir, withStateDir } from "./mod.ts";
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
 * import { sharedStateDir, stackRoot, withStateDir } from "./mod.ts";
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
 * import { stateDir, withStateDir } from "./mod.ts";
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

/** The JSON state file of `service` in the current stack. */
export function stateFile(service: ServiceName): string {
  return `${stateDir()}/${service}.json`;
}

/** The saved state of `service` (empty when none). */
export function readState(service: ServiceName): SavedState {
  try {
    return JSON.parse(Deno.readTextFileSync(stateFile(service))) as SavedState;
  } catch {
    return {};
  }
}

/** Replaces the saved state of `service` (atomically). */
export function writeState(service: ServiceName, state: SavedState): void {
  mkdirp(stateDir());
  const file = stateFile(service);
  Deno.writeTextFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  Deno.renameSync(`${file}.tmp`, file);
}

/**
 * After a stop: with `keepData: false`, removes the service's folder `dir` and its state file;
 * else drops only the pid from the state file (the ports are reused by the next start).
 */
export function forgetState(service: ServiceName, dir: string, keepData: boolean): void {
  const file = stateFile(service);
  if (!keepData) {
    if (exists(dir)) Deno.removeSync(dir, { recursive: true });
    if (exists(file)) Deno.removeSync(file);
  } else if (exists(file)) {
    const { pid: _pid, ...rest } = readState(service);
    writeState(service, rest);
  }
}

/**
 * Runs `fn` holding the lock of one service of the current stack, so two commands on it (two
 * shells, a test and its runner) never start or stop it at the same time; different services
 * start in parallel.
 */
export function withLock<T>(service: ServiceName, fn: () => Promise<T>): Promise<T> {
  return withFileLock(`${stateDir()}/.${service}.lock`, fn);
}

/** Runs `fn` holding a cache lock, so two stacks never install the same thing at once. */
export function withInstallLock<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(`${cacheDir()}/.install-${what}.lock`, fn);
}
