/**
 * The MongoDB wire-protocol server of the test stack (service `mongo`): FerretDB v1 with its
 * SQLite backend, built once with go into the cache, on `mongodb://127.0.0.1:<port>/`.
 *
 * @module
 */

import {
  choosePort,
  exists,
  home,
  isAlive,
  log,
  mkdirp,
  run,
  runChecked,
  spawnDetached,
  stopPid,
  tail,
  tcpOpen,
  waitUntil,
  which,
} from "./_process.ts";
import {
  cacheDir,
  forgetState,
  readState,
  type ServiceInfo,
  type StartedService,
  type StartOptions,
  stateDir,
  type StopOptions,
  withInstallLock,
  withLock,
  writeState,
} from "./_state.ts";

/** The FerretDB version built for the MongoDB wire protocol. */
export const FERRETDB_VERSION = "v1.24.2";
const FERRETDB_MODULE = "github.com/FerretDB/FerretDB";

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

/** What is known about FerretDB in the current stack. */
export async function mongoInfo(): Promise<ServiceInfo> {
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
  return withLock("mongo", async () => {
    const saved = readState("mongo");
    if (saved.pid !== undefined) {
      await stopPid(saved.pid, "ferretdb", "FerretDB", opts.timeoutMs ?? 30_000);
    }
    forgetState("mongo", ferretPaths().dir, opts.keepData !== false);
  });
}
