// deno-lint-ignore-file no-console
/**
 * Process, file and port utilities shared by the servers of the test stack: running commands,
 * starting detached servers, stopping them, free loopback ports, file locks.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** The output of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link run} and {@link runChecked}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Text written to the command's standard input. */
  stdin?: string;
}

/** Writes `[stack] message` to stderr. */
export function log(message: string): void {
  console.error(`[stack] ${message}`);
}

/** `$HOME`, or `/root` when unset. */
export function home(): string {
  return Deno.env.get("HOME") || "/root";
}

/** Whether this process runs as root. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Whether `path` exists (following symlinks). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates `path` and its missing parents with `mode` (not reduced by the umask). */
export function mkdirp(path: string, mode = 0o755): void {
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
 * import { traversableByOthers } from "./mod.ts";
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

/** Runs `cmd` to completion; a missing command gives exit code 127 instead of throwing. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  try {
    const child = new Deno.Command(cmd, {
      args,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.env ? { env: opts.env } : {}),
    }).spawn();
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${cmd}: command not found` };
    }
    throw e;
  }
}

/** Like {@link run}, but throws with the command's output when it exits with a non-zero code. */
export async function runChecked(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
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
export function which(cmd: string, extra: string[] = []): string | undefined {
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

/** The last `lines` lines of a text file, or `(no <path>)`. */
export function tail(path: string, lines = 30): string {
  try {
    const text = Deno.readTextFileSync(path);
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return `(no ${path})`;
  }
}

/** The command line of a process from /proc: undefined when gone or a zombie. */
export function procCmdline(pid: number): string | undefined {
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
 * import { isAlive } from "./mod.ts";
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

/** Reuses the saved port when it is free, else picks a new one. */
export function choosePort(saved: number | undefined, exclude: readonly number[] = []): number {
  if (saved !== undefined && !exclude.includes(saved) && isPortFree(saved)) return saved;
  return pickFreePort(exclude);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export async function tcpOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Whether `url` answers HTTP at all (any status). */
export async function httpAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 500 ms until it holds; throws on timeout or when the process exited. */
export async function waitUntil(
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
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
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
 * Starts `cmd` in its own session, detached from this process, with stdin from /dev/null and
 * stdout and stderr appended to `logFile`. Returns its pid (the shell execs the command).
 */
export function spawnDetached(
  cmd: string[],
  logFile: string,
  env?: Record<string, string>,
): number {
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

/**
 * Stops `pid` when it is alive and its command line contains `needle`: SIGTERM, then SIGKILL
 * after `timeoutMs`.
 */
export async function stopPid(
  pid: number,
  needle: string,
  what: string,
  timeoutMs: number,
): Promise<void> {
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

/** Unpacks `zip` into the folder `dest` with unzip, or python3's zipfile module. */
export async function unzip(zip: string, dest: string): Promise<void> {
  if (which("unzip")) {
    await runChecked("unzip", ["-q", "-o", zip, "-d", dest]);
  } else if (which("python3")) {
    await runChecked("python3", ["-m", "zipfile", "-e", zip, dest]);
  } else {
    throw new Error(`neither unzip nor python3 is available to unpack ${zip}`);
  }
}
