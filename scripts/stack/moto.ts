/**
 * The S3 emulator of the test stack (service `s3`): moto's server, installed once with pip into
 * a virtualenv in the cache, on `http://127.0.0.1:<port>`.
 *
 * @module
 */

import {
  choosePort,
  exists,
  httpAnswers,
  isAlive,
  log,
  mkdirp,
  run,
  runChecked,
  spawnDetached,
  stopPid,
  tail,
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

/** The moto version installed for the S3 emulator. */
export const MOTO_VERSION = "5.2.5";

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

/** What is known about moto in the current stack. */
export async function s3Info(): Promise<ServiceInfo> {
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
  return withLock("s3", async () => {
    const saved = readState("s3");
    if (saved.pid !== undefined) {
      await stopPid(saved.pid, "moto_server", "moto", opts.timeoutMs ?? 30_000);
    }
    forgetState("s3", motoPaths().dir, opts.keepData !== false);
  });
}
