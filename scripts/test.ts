// deno-lint-ignore-file no-console
/**
 * The one test command (`deno task test`): starts the servers the selected tests need, runs
 * `deno test` over unit tests, doc tests and integration tests, stops what it started and ends
 * with the line `N passed, N failed, N skipped`.
 *
 * ```sh
 * deno task test                          # everything
 * deno task test --only unit              # src/, sources/, scripts/ (+ doc tests); no servers
 * deno task test --only integration       # tests/
 * deno task test tests/cli_test.ts        # chosen files or folders
 * deno task test --filter "sync" tests/   # other flags go to deno test
 * deno task test -- --fail-fast           # everything after -- goes to deno test as is
 * deno task test --reuse-stack            # use what `deno task stack up` runs (faster)
 * ```
 *
 * Servers, from the selected test files (`*_test.ts`) and the modules in tests/: Elasticsearch
 * for any test file in tests/ (or one that mentions `esUrl(` / `ES_URL`), FerretDB for files
 * that mention `mongoUrl(` / `MONGO_URL`, moto for `s3Url(` / `S3_URL`, and the TLS + security
 * Elasticsearch node (`es-secure`) for files that mention `esSecureUrl(` / `ES_SECURE_URL`; a
 * test file in tests/ that uses the secure node gets the plain one only when it also mentions
 * `esUrl(` / `ES_URL`, so the secure node's own tests start one Elasticsearch, not two.
 * A URL already in the environment (`ES_URL`, `MONGO_URL`, `S3_URL`, `ES_SECURE_URL`) is used
 * as is. With
 * `--reuse-stack`, a service running in the shared stack (`deno task stack up`) is reused and
 * left running. Anything else is started in a private stack for this run (its own ports and
 * data, so concurrent runs and a developer's shared stack do not disturb each other), and
 * stopped and removed at the end.
 *
 * The tests get `ES_URL`, `MONGO_URL`, `S3_URL`, for the secure node `ES_SECURE_URL`,
 * `ES_SECURE_CA`, `ES_SECURE_WRONG_CA` (PEM files) and `ES_SECURE_PASSWORD` (the `elastic`
 * user's), `CONNECTORS_TEST_STACK` (the services the stack manages, e.g. `es,mongo`) and
 * `CONNECTORS_STACK_DIR` (where Elasticsearch's stack state lives, so a test can restart it with
 * the functions of scripts/stack.ts).
 *
 * `TEST_TIMEOUT_MINUTES` (default 45) bounds the `deno test` run.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import {
  newRunStateDir,
  serviceEnv,
  type ServiceName,
  sharedStateDir,
  stackStatus,
  startService,
  stopAll,
  URL_ENV,
  withStateDir,
} from "./stack.ts";
import {
  combineResults,
  countJunit,
  type DenoSummary,
  formatCounts,
  parseDenoSummary,
  type TestCounts,
} from "./test_report.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const UNIT_DIRS = ["src", "sources", "scripts"];
const INTEGRATION_DIRS = ["tests"];
const HELPERS = resolve(REPO, "tests/_helpers.ts");
/** deno test flags that take their value as the next argument. */
const VALUE_FLAGS = new Set(["--filter", "--seed", "--reporter", "--env-file", "--location"]);

const USAGE = `usage: deno task test [--only unit|integration|all] [--reuse-stack] [--keep-servers]
                      [deno test flags] [paths]

  --only unit          src/, sources/ and scripts/ (with doc tests); starts no server
  --only integration   tests/
  --reuse-stack        use the services of the shared stack (deno task stack up) that run
  --keep-servers       leave the servers this run started running (their URLs are printed)
  paths                test files or folders instead of the defaults
  other flags          passed to deno test (e.g. --filter NAME, --fail-fast); or after --`;

type Scope = "unit" | "integration" | "all";

interface Options {
  scope: Scope;
  keepServers: boolean;
  reuseStack: boolean;
  denoFlags: string[];
  paths: string[];
}

/**
 * Splits the command line into the runner's options, deno test flags and paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTestArgs } from "./test.ts";
 * assert.deepEqual(parseTestArgs(["--only", "unit", "--filter", "sync", "src/sync/"]), {
 *   scope: "unit", keepServers: false, reuseStack: false,
 *   denoFlags: ["--filter", "sync"], paths: ["src/sync/"],
 * });
 * assert.equal(parseTestArgs(["--help"]), "help");
 * ```
 */
export function parseTestArgs(argv: readonly string[]): Options | "help" {
  const opts: Options = {
    scope: "all",
    keepServers: false,
    reuseStack: false,
    denoFlags: [],
    paths: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      opts.denoFlags.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "--keep-servers") {
      opts.keepServers = true;
    } else if (arg === "--reuse-stack") {
      opts.reuseStack = true;
    } else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (value !== "unit" && value !== "integration" && value !== "all") {
        throw new Error(`--only takes unit, integration or all (got ${value ?? "nothing"})`);
      }
      opts.scope = value;
    } else if (arg.startsWith("-")) {
      opts.denoFlags.push(arg);
      if (VALUE_FLAGS.has(arg) && i + 1 < argv.length) opts.denoFlags.push(argv[++i] as string);
    } else {
      opts.paths.push(arg);
    }
  }
  return opts;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every .ts/.tsx/.js/.mjs file below `path` (or `path` itself). */
function sourceFiles(path: string): string[] {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch {
    return [];
  }
  if (st.isFile) return [path];
  const out: string[] = [];
  for (const entry of Deno.readDirSync(path)) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const child = join(path, entry.name);
    if (entry.isDirectory) out.push(...sourceFiles(child));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry.name)) out.push(child);
  }
  return out;
}

/**
 * Which servers the selected files need (`paths` relative to `repo`, the repository root).
 *
 * @example
 * ```ts ignore
 * neededServices(["tests/"]); // e.g. ["es", "mongo", "s3", "es-secure"]
 * ```
 */
export function neededServices(paths: readonly string[], repo = REPO): ServiceName[] {
  const files = paths.flatMap((p) => sourceFiles(resolve(repo, p)));
  const testsDir = resolve(repo, "tests") + "/";
  const helpers = repo === REPO ? HELPERS : resolve(repo, "tests/_helpers.ts");
  let es = false;
  let mongo = false;
  let s3 = false;
  let esSecure = false;
  for (const file of files) {
    if (file === helpers) continue;
    const isTest = /_test\.(ts|tsx|mts|js|mjs)$/.test(file) || /\.test\.\w+$/.test(file);
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    const inTests = file.startsWith(testsDir);
    // test files, and the harness modules beside them in tests/
    if (!isTest && !inTests) continue;
    const secure = /\besSecureUrl\(|\bES_SECURE_URL\b/.test(text);
    if ((isTest && inTests && !secure) || /\besUrl\(|\bES_URL\b/.test(text)) es = true;
    if (/\bmongoUrl\(|\bMONGO_URL\b/.test(text)) mongo = true;
    if (/\bs3Url\(|\bS3_URL\b/.test(text)) s3 = true;
    if (secure) esSecure = true;
  }
  const out: ServiceName[] = [];
  if (es) out.push("es");
  if (mongo) out.push("mongo");
  if (s3) out.push("s3");
  if (esSecure) out.push("es-secure");
  return out;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  sink: { writeSync(p: Uint8Array): number },
  keep: string[],
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    let written = 0;
    while (written < chunk.length) written += sink.writeSync(chunk.subarray(written));
    keep.push(decoder.decode(chunk, { stream: true }));
  }
  keep.push(decoder.decode());
}

async function main(): Promise<number> {
  let parsed: Options | "help";
  try {
    parsed = parseTestArgs(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const opts = parsed;
  const dirs = opts.scope === "unit"
    ? UNIT_DIRS
    : opts.scope === "integration"
    ? INTEGRATION_DIRS
    : [...UNIT_DIRS, ...INTEGRATION_DIRS];
  const paths = opts.paths.length > 0
    ? opts.paths
    : dirs.filter((d) => exists(resolve(REPO, d))).map((d) => `${d}/`);

  let interrupted = false;
  let interruptedAt = 0;
  let child: Deno.ChildProcess | undefined;
  const onSignal = () => {
    if (interrupted) {
      // `deno task` forwards the terminal's SIGINT, so the first one often arrives twice
      if (Date.now() - interruptedAt < 3000) return;
      console.error("[test] interrupted again: exiting without cleaning up");
      Deno.exit(130);
    }
    interrupted = true;
    interruptedAt = Date.now();
    console.error("[test] interrupted: stopping the tests and the servers…");
    try {
      child?.kill("SIGTERM");
    } catch {
      // already gone
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const env: Record<string, string> = {};
  const managed: ServiceName[] = [];
  /** The variables each managed service passes to the tests (its URL, CA files...). */
  const serviceVars = new Map<ServiceName, Record<string, string>>();
  let runDir: string | undefined;
  let esStackDir: string | undefined;
  let counts: TestCounts & { problem?: string | undefined } = {
    passed: 0,
    failed: 1,
    skipped: 0,
  };
  const started = Date.now();

  try {
    const services = opts.scope === "unit" ? [] : neededServices(paths);
    const toStart: ServiceName[] = [];
    for (const service of services) {
      const fromEnv = Deno.env.get(URL_ENV[service]);
      if (fromEnv) {
        console.error(`[test] ${service}: using ${URL_ENV[service]}=${fromEnv}`);
        continue;
      }
      const [shared] = opts.reuseStack
        ? await withStateDir(sharedStateDir(), () => stackStatus([service]))
        : [];
      if (shared?.running && shared.url) {
        console.error(`[test] ${service}: reusing the running stack at ${shared.url}`);
        serviceVars.set(service, serviceEnv(shared));
        managed.push(service);
        if (service === "es") esStackDir = sharedStateDir();
        continue;
      }
      toStart.push(service);
    }
    if (toStart.length > 0 && !interrupted) {
      // A private stack for this run; the variable stays set until the run's cleanup.
      runDir = await newRunStateDir();
      Deno.env.set("CONNECTORS_STACK_DIR", runDir);
      const results = await Promise.allSettled(toStart.map((s) => startService(s)));
      const errors: string[] = [];
      results.forEach((r, i) => {
        const service = toStart[i] as ServiceName;
        if (r.status === "fulfilled") {
          serviceVars.set(service, serviceEnv(r.value));
          managed.push(service);
          if (service === "es") esStackDir = runDir;
        } else {
          errors.push(`${service}: ${r.reason instanceof Error ? r.reason.message : r.reason}`);
        }
      });
      if (errors.length > 0) throw new Error(errors.join("\n"));
    }
    if (interrupted) throw new Error("interrupted while starting the servers");
    for (const vars of serviceVars.values()) Object.assign(env, vars);
    env["CONNECTORS_TEST_STACK"] = managed.join(",");
    if (esStackDir) env["CONNECTORS_STACK_DIR"] = esStackDir;

    const junitPath = await Deno.makeTempFile({ prefix: "deno-junit-", suffix: ".xml" });
    const args = [
      "test",
      "-A",
      "--doc",
      "--permit-no-files",
      `--junit-path=${junitPath}`,
      ...opts.denoFlags,
      ...paths,
    ];
    console.error(`[test] deno ${args.join(" ")}`);
    child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const limitMin = Number(Deno.env.get("TEST_TIMEOUT_MINUTES") ?? "45");
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      console.error(`[test] deno test ran over ${limitMin} minutes: stopping it`);
      try {
        child?.kill("SIGTERM");
        setTimeout(() => {
          try {
            child?.kill("SIGKILL");
          } catch {
            // gone
          }
        }, 10_000);
      } catch {
        // gone
      }
    }, limitMin * 60_000);
    const out: string[] = [];
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, Deno.stdout, out),
      pump(child.stderr, Deno.stderr, out),
    ]);
    clearTimeout(watchdog);

    let junit: TestCounts | undefined;
    try {
      const xml = await Deno.readTextFile(junitPath);
      if (xml.includes("<testsuites")) junit = countJunit(xml);
    } catch {
      // no report: the run broke before the tests
    }
    await Deno.remove(junitPath).catch(() => {});
    const summary: DenoSummary | undefined = parseDenoSummary(out.join(""));
    counts = combineResults(junit, summary, status.code);
    if (timedOut) counts.problem = `deno test was stopped after ${limitMin} minutes`;
    if (interrupted) counts.problem = "interrupted";
  } catch (e) {
    console.error(`[test] error: ${e instanceof Error ? e.message : String(e)}`);
    counts = { passed: 0, failed: 1, skipped: 0, problem: "the test servers did not start" };
  } finally {
    if (runDir) {
      if (opts.keepServers) {
        console.error(`[test] servers left running (CONNECTORS_STACK_DIR=${runDir}):`);
        for (const s of managed) {
          for (const [name, value] of Object.entries(serviceVars.get(s) ?? {})) {
            console.error(`[test]   ${name}=${value}`);
          }
        }
      } else {
        try {
          await stopAll({ keepData: false });
          await Deno.remove(runDir, { recursive: true });
        } catch (e) {
          console.error(`[test] could not clean ${runDir}: ${(e as Error).message}`);
        }
      }
    }
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (counts.problem) console.error(`[test] note: ${counts.problem}`);
  console.error(`[test] finished in ${seconds} s`);
  console.log(formatCounts(counts));
  return counts.failed > 0 || counts.passed === 0 || interrupted ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
