// deno-lint-ignore-file no-console
/**
 * The one test command (`deno task test`): starts the servers the selected tests need, runs
 * `deno test` over unit tests, doc tests and integration tests, then runs the protocol and sync
 * subset of the integration tests ({@link ES8_TESTS}) a second time against Elasticsearch 8.19
 * (the `es8` phase), stops what it started and ends with the line
 * `N passed, N failed, N skipped` (both phases added up).
 *
 * ```sh
 * deno task test                          # everything: unit + integration, then the es8 phase
 * deno task test --only unit              # src/, sources/, scripts/ (+ doc tests); no servers
 * deno task test --only integration       # tests/, then the es8 phase
 * deno task test --only es8               # only the es8 phase: ES8_TESTS against 8.19
 * deno task test --only es8 tests/x.ts    # chosen files against 8.19
 * deno task test --no-es8                 # everything but the es8 phase
 * deno task test tests/cli_test.ts        # chosen files or folders (no es8 phase)
 * deno task test --filter "sync" tests/   # other flags go to deno test
 * deno task test -- --fail-fast           # everything after -- goes to deno test as is
 * deno task test --reuse-stack            # use what `deno task stack up` runs (faster)
 * ```
 *
 * The es8 phase starts the Elasticsearch 8.19 node (`es8`, see scripts/stack/elasticsearch8.ts)
 * only for itself, once the servers the main phase started and it does not need are stopped,
 * and stops it right after; its tests get `ES_URL` pointing at that node (and `ES8_URL`),
 * `ES_MAJOR=8`, and `CONNECTORS_TEST_STACK` without `es` (they must not restart the 9.x node).
 * The main phase gets `ES_MAJOR=9` when the stack runs its Elasticsearch. An `ES8_URL` in the
 * environment is used as is (and `ES_MAJOR` is left empty: the tests ask the node).
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
 * `TEST_TIMEOUT_MINUTES` (default 45) bounds each `deno test` run.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import {
  ES8_VERSION,
  ES_VERSION,
  newRunStateDir,
  serviceEnv,
  type ServiceName,
  sharedStateDir,
  stackStatus,
  startService,
  stopAll,
  stopService,
  URL_ENV,
  withStateDir,
} from "./stack.ts";
import {
  addCounts,
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

/**
 * The integration tests the es8 phase runs against Elasticsearch 8.19: together they send every
 * kind of request the product sends to a cluster without security (system indices and their
 * mappings, connector and job documents with claims on `if_seq_no`, check-in, scheduling,
 * cleanup, worker-mode ownership by service type, `_bulk` index/update/delete, the
 * point-in-time scan of stale documents, count/refresh, the pipeline and license checks,
 * access-control indices, the CLI's connector, job, index and status commands, the demo's
 * search). Checked by recording the product's requests of the whole 9.x integration suite and
 * of this subset on 8.19: the same endpoints, parameters and query shapes. The security tests
 * (API keys, TLS) stay on the 9.x secure node.
 */
export const ES8_TESTS: readonly string[] = [
  "tests/protocol_lifecycle_test.ts",
  "tests/protocol_concurrency_test.ts",
  "tests/sync_engine_test.ts",
  "tests/sync_incremental_test.ts",
  "tests/sync_rules_test.ts",
  "tests/sync_access_control_test.ts",
  "tests/cli_commands_test.ts",
  "tests/cli_status_test.ts",
  "tests/connector_document_test.ts",
  "tests/demo_test.ts",
  "tests/es_client_test.ts",
  "tests/job_runner_test.ts",
  "tests/service_actions_test.ts",
];
/** deno test flags that take their value as the next argument. */
const VALUE_FLAGS = new Set(["--filter", "--seed", "--reporter", "--env-file", "--location"]);

const USAGE = `usage: deno task test [--only unit|integration|es8|all] [--no-es8] [--reuse-stack]
                      [--keep-servers] [deno test flags] [paths]

  (default)            src/, sources/, scripts/ and tests/, then the es8 phase
  --only unit          src/, sources/ and scripts/ (with doc tests); starts no server
  --only integration   tests/, then the es8 phase
  --only es8           only the es8 phase: the protocol and sync subset of tests/ against
                       Elasticsearch ${ES8_VERSION} (with paths: those files instead)
  --no-es8             leave the es8 phase out
  --reuse-stack        use the services of the shared stack (deno task stack up) that run
  --keep-servers       leave the servers this run started running (their URLs are printed)
  paths                test files or folders instead of the defaults (no es8 phase, unless
                       --only es8)
  other flags          passed to deno test (e.g. --filter NAME, --fail-fast); or after --

es8 phase (in tests/): ${wrap(ES8_TESTS.map((f) => f.replace(/^tests\//, "")), 23)}`;

/** `words` joined with ", " in lines of at most 96 characters, the later ones indented. */
function wrap(words: readonly string[], indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const next = line ? `${line}, ${word}` : word;
    if (line && indent + next.length > 95) {
      lines.push(`${line},`);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

type Scope = "unit" | "integration" | "all" | "es8";

interface Options {
  scope: Scope;
  keepServers: boolean;
  reuseStack: boolean;
  /** `--no-es8`: leave the es8 phase out. */
  noEs8: boolean;
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
 *   scope: "unit", keepServers: false, reuseStack: false, noEs8: false,
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
    noEs8: false,
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
    } else if (arg === "--no-es8") {
      opts.noEs8 = true;
    } else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (value !== "unit" && value !== "integration" && value !== "all" && value !== "es8") {
        throw new Error(`--only takes unit, integration, es8 or all (got ${value ?? "nothing"})`);
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

/** One `deno test` run of a test command. */
export interface Phase {
  /** `main`: the selected tests against the 9.x stack; `es8`: against Elasticsearch 8.19. */
  name: "main" | "es8";
  /** Test files or folders, relative to the repository root. */
  paths: string[];
  /** Whether doc tests run too (`--doc`). */
  doc: boolean;
}

/**
 * The `deno test` runs of a command line: the main phase (unless `--only es8`), then the es8
 * phase over {@link ES8_TESTS} when the whole suite or `tests/` is selected (no paths, no
 * `--no-es8`), or over the given paths with `--only es8`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ES8_TESTS, parseTestArgs, planPhases } from "./test.ts";
 * const plan = (...argv: string[]) => {
 *   const opts = parseTestArgs(argv);
 *   return opts === "help" ? [] : planPhases(opts, ["src", "tests"]);
 * };
 * assert.deepEqual(plan().map((p) => p.name), ["main", "es8"]);
 * assert.deepEqual(plan()[1]?.paths, [...ES8_TESTS]);
 * assert.deepEqual(plan("tests/cli_test.ts").map((p) => p.name), ["main"]);
 * assert.deepEqual(plan("--only", "unit").map((p) => p.name), ["main"]);
 * assert.deepEqual(plan("--no-es8").map((p) => p.name), ["main"]);
 * assert.deepEqual(plan("--only", "es8", "tests/a_test.ts"), [
 *   { name: "es8", paths: ["tests/a_test.ts"], doc: false },
 * ]);
 * ```
 */
export function planPhases(opts: Options, existingDirs?: readonly string[]): Phase[] {
  const present = (d: string) => existingDirs ? existingDirs.includes(d) : exists(resolve(REPO, d));
  const es8: Phase = {
    name: "es8",
    paths: opts.paths.length > 0 ? [...opts.paths] : [...ES8_TESTS],
    doc: false,
  };
  if (opts.scope === "es8") return [es8];
  const dirs = opts.scope === "unit"
    ? UNIT_DIRS
    : opts.scope === "integration"
    ? INTEGRATION_DIRS
    : [...UNIT_DIRS, ...INTEGRATION_DIRS];
  const paths = opts.paths.length > 0 ? [...opts.paths] : dirs.filter(present).map((d) => `${d}/`);
  const phases: Phase[] = [{ name: "main", paths, doc: true }];
  if (opts.scope !== "unit" && opts.paths.length === 0 && !opts.noEs8) phases.push(es8);
  return phases;
}

/**
 * The servers a phase needs: for the main phase those of {@link neededServices}; for the es8
 * phase the 8.19 node in place of `es` (always), and the others the files name.
 *
 * @example
 * ```ts ignore
 * phaseServices({ name: "es8", paths: ["tests/sync_engine_test.ts"], doc: false }); // ["es8"]
 * ```
 */
export function phaseServices(phase: Phase, scope: Scope, repo = REPO): ServiceName[] {
  if (phase.name === "main") return scope === "unit" ? [] : neededServices(phase.paths, repo);
  const others = neededServices(phase.paths, repo).filter((s) => s !== "es");
  return ["es8", ...others];
}

/** The Elasticsearch major of a version string (`9.2.4` gives `9`). */
function majorOf(version: string): string {
  return version.split(".")[0] ?? "";
}

/** State shared by the phases of one run. */
interface RunContext {
  opts: Options;
  /** The private stack of this run, made when a phase first starts a server. */
  runDir: string | undefined;
  /** The services this run started in its private stack (and has not stopped yet). */
  started: Set<ServiceName>;
  /** The variables each service in use passes to the tests (its URL, CA files...). */
  serviceVars: Map<ServiceName, Record<string, string>>;
  /** Services run by the stack (private or shared) rather than given through the environment. */
  managed: Set<ServiceName>;
  /** The stack folder that holds each managed service. */
  stackDirOf: Map<ServiceName, string>;
  interrupted: boolean;
  child: Deno.ChildProcess | undefined;
}

/** Makes sure each of `services` runs (environment, shared stack with --reuse-stack, or start). */
async function provide(ctx: RunContext, services: readonly ServiceName[]): Promise<void> {
  const toStart: ServiceName[] = [];
  for (const service of services) {
    if (ctx.serviceVars.has(service)) continue;
    const fromEnv = Deno.env.get(URL_ENV[service]);
    if (fromEnv) {
      console.error(`[test] ${service}: using ${URL_ENV[service]}=${fromEnv}`);
      ctx.serviceVars.set(service, { [URL_ENV[service]]: fromEnv });
      continue;
    }
    const [shared] = ctx.opts.reuseStack
      ? await withStateDir(sharedStateDir(), () => stackStatus([service]))
      : [];
    if (shared?.running && shared.url) {
      console.error(`[test] ${service}: reusing the running stack at ${shared.url}`);
      ctx.serviceVars.set(service, serviceEnv(shared));
      ctx.managed.add(service);
      ctx.stackDirOf.set(service, sharedStateDir());
      continue;
    }
    toStart.push(service);
  }
  if (toStart.length === 0 || ctx.interrupted) return;
  if (ctx.runDir === undefined) {
    // A private stack for this run; the variable stays set until the run's cleanup.
    ctx.runDir = await newRunStateDir();
    Deno.env.set("CONNECTORS_STACK_DIR", ctx.runDir);
  }
  const runDir = ctx.runDir;
  const results = await Promise.allSettled(toStart.map((s) => startService(s)));
  const errors: string[] = [];
  results.forEach((r, i) => {
    const service = toStart[i] as ServiceName;
    if (r.status === "fulfilled") {
      ctx.serviceVars.set(service, serviceEnv(r.value));
      ctx.managed.add(service);
      ctx.started.add(service);
      ctx.stackDirOf.set(service, runDir);
    } else {
      errors.push(`${service}: ${r.reason instanceof Error ? r.reason.message : r.reason}`);
    }
  });
  if (errors.length > 0) throw new Error(errors.join("\n"));
}

/** Stops the services this run started that `keep` does not name (unless --keep-servers). */
async function release(ctx: RunContext, keep: readonly ServiceName[]): Promise<void> {
  if (ctx.opts.keepServers || ctx.runDir === undefined) return;
  for (const service of [...ctx.started]) {
    if (keep.includes(service)) continue;
    try {
      await stopService(service, { keepData: false });
    } catch (e) {
      console.error(`[test] could not stop ${service}: ${(e as Error).message}`);
    }
    ctx.started.delete(service);
    ctx.serviceVars.delete(service);
    ctx.managed.delete(service);
    ctx.stackDirOf.delete(service);
  }
}

/** The environment of a phase's `deno test`, from the services it uses. */
function phaseEnv(ctx: RunContext, phase: Phase, services: readonly ServiceName[]) {
  const env: Record<string, string> = {};
  for (const service of services) Object.assign(env, ctx.serviceVars.get(service) ?? {});
  const managed = services.filter((s) => ctx.managed.has(s));
  env["CONNECTORS_TEST_STACK"] = managed.join(",");
  if (phase.name === "es8") {
    const url = env[URL_ENV.es8];
    if (url) env[URL_ENV.es] = url;
    // the runner knows the major of the node it manages; else the tests ask the node
    env["ES_MAJOR"] = ctx.managed.has("es8") ? majorOf(ES8_VERSION) : "";
  } else if (ctx.managed.has("es") && services.includes("es")) {
    env["ES_MAJOR"] = majorOf(ES_VERSION);
  }
  const stackDir = ctx.stackDirOf.get(phase.name === "es8" ? "es8" : "es");
  if (stackDir) env["CONNECTORS_STACK_DIR"] = stackDir;
  return env;
}

/** Runs one phase's `deno test`; returns its counts (a failure when its servers did not start). */
async function runPhase(
  ctx: RunContext,
  phase: Phase,
  services: readonly ServiceName[],
): Promise<TestCounts & { problem?: string | undefined }> {
  const label = phase.name === "es8" ? `es8 phase (Elasticsearch ${ES8_VERSION})` : "main phase";
  try {
    await provide(ctx, services);
    if (ctx.interrupted) throw new Error("interrupted while starting the servers");
  } catch (e) {
    console.error(`[test] error: ${e instanceof Error ? e.message : String(e)}`);
    return {
      passed: 0,
      failed: 1,
      skipped: 0,
      problem: `${label}: the test servers did not start`,
    };
  }
  const env = phaseEnv(ctx, phase, services);
  const junitPath = await Deno.makeTempFile({ prefix: "deno-junit-", suffix: ".xml" });
  const args = [
    "test",
    "-A",
    ...(phase.doc ? ["--doc"] : []),
    "--permit-no-files",
    `--junit-path=${junitPath}`,
    ...ctx.opts.denoFlags,
    ...phase.paths,
  ];
  if (phase.name === "es8") console.error(`[test] ${label}: ES_URL=${env[URL_ENV.es] ?? ""}`);
  console.error(`[test] deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  ctx.child = child;
  const limitMin = Number(Deno.env.get("TEST_TIMEOUT_MINUTES") ?? "45");
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    console.error(`[test] deno test ran over ${limitMin} minutes: stopping it`);
    try {
      child.kill("SIGTERM");
      setTimeout(() => {
        try {
          child.kill("SIGKILL");
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
  ctx.child = undefined;

  let junit: TestCounts | undefined;
  try {
    const xml = await Deno.readTextFile(junitPath);
    if (xml.includes("<testsuites")) junit = countJunit(xml);
  } catch {
    // no report: the run broke before the tests
  }
  await Deno.remove(junitPath).catch(() => {});
  const summary: DenoSummary | undefined = parseDenoSummary(out.join(""));
  const counts: TestCounts & { problem?: string | undefined } = combineResults(
    junit,
    summary,
    status.code,
  );
  if (timedOut) counts.problem = `deno test was stopped after ${limitMin} minutes`;
  if (ctx.interrupted) counts.problem = "interrupted";
  if (counts.problem) counts.problem = `${label}: ${counts.problem}`;
  return counts;
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
  const phases = planPhases(opts);
  const ctx: RunContext = {
    opts,
    runDir: undefined,
    started: new Set(),
    serviceVars: new Map(),
    managed: new Set(),
    stackDirOf: new Map(),
    interrupted: false,
    child: undefined,
  };

  let interruptedAt = 0;
  const onSignal = () => {
    if (ctx.interrupted) {
      // `deno task` forwards the terminal's SIGINT, so the first one often arrives twice
      if (Date.now() - interruptedAt < 3000) return;
      console.error("[test] interrupted again: exiting without cleaning up");
      Deno.exit(130);
    }
    ctx.interrupted = true;
    interruptedAt = Date.now();
    console.error("[test] interrupted: stopping the tests and the servers…");
    try {
      ctx.child?.kill("SIGTERM");
    } catch {
      // already gone
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  let total: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  const problems: string[] = [];
  const started = Date.now();
  try {
    const services = phases.map((phase) => phaseServices(phase, opts.scope));
    for (const [i, phase] of phases.entries()) {
      if (ctx.interrupted) break;
      const phaseStarted = Date.now();
      const counts = await runPhase(ctx, phase, services[i] ?? []);
      if (counts.problem) problems.push(counts.problem);
      total = addCounts(total, counts);
      if (phases.length > 1) {
        const seconds = ((Date.now() - phaseStarted) / 1000).toFixed(1);
        console.error(`[test] ${phase.name} phase: ${formatCounts(counts)} (${seconds} s)`);
      }
      // stop what the next phase does not need (the es8 phase: right after it)
      await release(ctx, services[i + 1] ?? []);
    }
  } finally {
    if (ctx.runDir) {
      if (opts.keepServers) {
        console.error(`[test] servers left running (CONNECTORS_STACK_DIR=${ctx.runDir}):`);
        for (const s of ctx.managed) {
          for (const [name, value] of Object.entries(ctx.serviceVars.get(s) ?? {})) {
            console.error(`[test]   ${name}=${value}`);
          }
        }
      } else {
        try {
          await stopAll({ keepData: false });
          await Deno.remove(ctx.runDir, { recursive: true });
        } catch (e) {
          console.error(`[test] could not clean ${ctx.runDir}: ${(e as Error).message}`);
        }
      }
    }
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  if (ctx.interrupted && !problems.some((p) => p.endsWith("interrupted"))) {
    problems.push("interrupted");
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  for (const problem of problems) console.error(`[test] note: ${problem}`);
  console.error(`[test] finished in ${seconds} s`);
  console.log(formatCounts(total));
  return total.failed > 0 || total.passed === 0 || ctx.interrupted ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
