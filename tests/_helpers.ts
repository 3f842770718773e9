/**
 * Helpers for the integration tests in tests/. Run them with `deno task test`, which starts the
 * servers and sets `ES_URL`, `MONGO_URL`, `S3_URL`, `ES_MAJOR`, `CONNECTORS_TEST_STACK` and
 * `CONNECTORS_STACK_DIR` (see scripts/test.ts).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root (absolute, with a trailing slash). */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url));
/** The CLI entry point run by {@link runCli}. */
export const MAIN_TS: string = fileURLToPath(new URL("../main.ts", import.meta.url));
/** The project configuration passed to the CLI, whatever its working folder. */
export const DENO_JSON: string = fileURLToPath(new URL("../deno.json", import.meta.url));

function requiredEnv(name: string, service: string): string {
  const value = Deno.env.get(name);
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests with \`deno task test\`, which starts ${service}, ` +
        `or set ${name} to a running ${service}`,
    );
  }
  return value.replace(/\/+$/, "");
}

/** The Elasticsearch URL (`ES_URL`, no trailing slash); throws a clear error when missing. */
export function esUrl(): string {
  return requiredEnv("ES_URL", "Elasticsearch");
}

/** The MongoDB wire-protocol URL (`MONGO_URL`, e.g. `mongodb://127.0.0.1:27017`). */
export function mongoUrl(): string {
  return requiredEnv("MONGO_URL", "FerretDB (MongoDB)");
}

/** The S3 endpoint (`S3_URL`, e.g. `http://127.0.0.1:5000`). */
export function s3Url(): string {
  return requiredEnv("S3_URL", "moto (S3)");
}

let majorOfNode: Promise<number> | undefined;

/**
 * The major version of the Elasticsearch node at `ES_URL` (9 or 8): `ES_MAJOR` when set (the
 * test runner sets it per phase for the nodes it manages: 9 for the main phase, 8 for the
 * Elasticsearch 8.19 phase), else asked once from `_nodes/_local`; `whenNoNode` when given and
 * `ES_URL` is unset (a run with only the secure node). Tests that hold a fact of one major (the
 * default pipeline name, a version in a log line) read it here.
 */
export function esMajor(whenNoNode?: number): Promise<number> {
  const fromEnv = Number.parseInt(Deno.env.get("ES_MAJOR") ?? "", 10);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return Promise.resolve(fromEnv);
  if (whenNoNode !== undefined && !Deno.env.get("ES_URL")) return Promise.resolve(whenNoNode);
  majorOfNode ??= esJson<{ nodes: Record<string, { version: string }> }>(
    "GET",
    "_nodes/_local?filter_path=nodes.*.version",
  ).then((response) => {
    const version = Object.values(response.nodes ?? {})[0]?.version ?? "";
    const major = Number.parseInt(version, 10);
    if (!Number.isInteger(major)) throw new Error(`no version in _nodes/_local: ${version}`);
    return major;
  }).catch((error) => {
    majorOfNode = undefined; // ask again next time
    throw error;
  });
  return majorOfNode;
}

/**
 * Whether the test runner's stack manages `service` (so a test may stop and restart it with
 * scripts/stack.ts), rather than a server given through the environment.
 */
export function stackManaged(service: "es" | "mongo" | "s3"): boolean {
  return (Deno.env.get("CONNECTORS_TEST_STACK") ?? "").split(",").includes(service);
}

/**
 * Sends a request to Elasticsearch and returns the parsed JSON body; throws with the status and
 * body when the answer is not 2xx. `body` is sent as JSON unless it is a string (e.g. NDJSON).
 */
export async function esJson<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  let payload: string | undefined;
  if (typeof body === "string") {
    payload = body;
    headers["content-type"] = "application/x-ndjson";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`${esUrl()}${path.startsWith("/") ? "" : "/"}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** The result of a finished process. */
export interface CliResult {
  code: number;
  /** The signal that ended the process, if one did. */
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** True when {@link RunOptions.timeoutMs} ran out and the process was killed. */
  timedOut: boolean;
}

/** Options for {@link runCli} and {@link startCli}. */
export interface RunOptions {
  /** Extra environment variables (on top of this process's environment). */
  env?: Record<string, string>;
  /** Working folder (default: the repository root). */
  cwd?: string;
  /** Kill the process (SIGKILL) after this long; default 120 s for runCli, none for startCli. */
  timeoutMs?: number;
  /** Text written to the process's standard input, which is then closed. */
  stdin?: string;
}

/** A process started by {@link startCli} or {@link startDeno}. */
export interface CliHandle {
  process: Deno.ChildProcess;
  pid: number;
  /** Standard output so far. */
  stdout(): string;
  /** Standard error so far. */
  stderr(): string;
  /**
   * Waits until stdout or stderr (or the one named) matches `pattern`; returns that stream's
   * text. Throws when the process exits first or after `timeoutMs` (default 60 s).
   */
  waitForOutput(
    pattern: string | RegExp,
    opts?: { timeoutMs?: number; stream?: "stdout" | "stderr" | "both" },
  ): Promise<string>;
  /** Sends a signal (default SIGTERM); does nothing when the process has already exited. */
  kill(signal?: Deno.Signal): void;
  /** Waits for the process to exit and for all its output. */
  output(): Promise<CliResult>;
  /** Kills the process (SIGKILL) if it still runs and waits for it, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  append: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
  append(decoder.decode());
}

/** Starts `deno <args>` (any deno subcommand) with piped output. See {@link startCli}. */
export function startDeno(args: string[], opts: RunOptions = {}): CliHandle {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    cwd: opts.cwd ?? REPO_ROOT,
    ...(opts.env ? { env: opts.env } : {}),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  let exited = false;
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = process.status.then((s) => {
    exited = true;
    clearTimeout(timer);
    return s;
  });
  const streams = Promise.all([
    collect(process.stdout, (t) => out += t),
    collect(process.stderr, (t) => err += t),
  ]);
  const stdinDone = opts.stdin === undefined ? Promise.resolve() : (async () => {
    const writer = process.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    } catch {
      // the process closed its input early
    }
  })();
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      if (exited) return;
      timedOut = true;
      try {
        process.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, opts.timeoutMs);
  }
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (exited) return;
    try {
      process.kill(signal);
    } catch {
      // exited meanwhile
    }
  };
  const output = async (): Promise<CliResult> => {
    const [s] = await Promise.all([status, streams, stdinDone]);
    return { code: s.code, signal: s.signal, stdout: out, stderr: err, timedOut };
  };
  return {
    process,
    pid: process.pid,
    stdout: () => out,
    stderr: () => err,
    async waitForOutput(pattern, o = {}) {
      const timeoutMs = o.timeoutMs ?? 60_000;
      const which = o.stream ?? "both";
      const text = () => which === "stdout" ? out : which === "stderr" ? err : `${out}\n${err}`;
      const matches = () =>
        typeof pattern === "string" ? text().includes(pattern) : pattern.test(text());
      const deadline = Date.now() + timeoutMs;
      while (!matches()) {
        if (exited) {
          await streams;
          if (matches()) break;
          throw new Error(
            `process exited before printing ${pattern}\n--- stdout\n${out}\n--- stderr\n${err}`,
          );
        }
        if (Date.now() > deadline) {
          throw new Error(
            `no ${pattern} after ${timeoutMs} ms\n--- stdout\n${out}\n--- stderr\n${err}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return text();
    },
    kill,
    output,
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await output();
    },
  };
}

/** Runs `deno <args>` to completion. See {@link runCli}. */
export function runDeno(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return startDeno(args, { ...opts, timeoutMs: opts.timeoutMs ?? 120_000 }).output();
}

function cliArgs(args: string[]): string[] {
  return ["run", "-A", `--config=${DENO_JSON}`, MAIN_TS, ...args];
}

/**
 * Runs the CLI (`deno run -A main.ts ...args`) to completion and returns its exit code and
 * output. The repository's deno.json is passed explicitly, so `cwd` may be any folder.
 */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return runDeno(cliArgs(args), opts);
}

/**
 * Starts the CLI (`deno run -A main.ts ...args`) for a long-running command such as
 * `--action poll`; stop it with `kill()` and collect the result with `output()`.
 */
export function startCli(args: string[], opts: RunOptions = {}): CliHandle {
  return startDeno(cliArgs(args), opts);
}

let uniqueCounter = 0;

/**
 * A unique lowercase name for an index, connector or collection: `prefix-<time>-<n>-<random>`,
 * valid as an Elasticsearch index name.
 */
export function uniqueName(prefix = "test"): string {
  const random = (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0).toString(36);
  const raw = `${prefix}-${Date.now().toString(36)}-${++uniqueCounter}-${random}`;
  return raw.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[-_.+]+/, "");
}

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between tries (default 250 ms). */
  intervalMs?: number;
  /** What is awaited, for the error message. */
  message?: string;
}

/**
 * Calls `fn` until it returns a truthy value (errors count as "not yet") and returns that value;
 * throws after `timeoutMs` with `message` and the last error.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined
        ? ""
        : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`${opts.message ?? "condition"}: timed out after ${timeoutMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The URL of the TLS + security Elasticsearch node (`ES_SECURE_URL`, `https://127.0.0.1:PORT`,
 * no trailing slash). `deno task test` starts that node only for test files that call this.
 */
export function esSecureUrl(): string {
  return requiredEnv("ES_SECURE_URL", "the TLS + security Elasticsearch node");
}

/** The PEM file of the CA that signed the secure node's certificate (`ES_SECURE_CA`). */
export function esSecureCa(): string {
  return requiredEnv("ES_SECURE_CA", "the TLS + security Elasticsearch node");
}

/** The PEM file of a CA unrelated to the secure node, for "wrong CA" tests. */
export function esSecureWrongCa(): string {
  return requiredEnv("ES_SECURE_WRONG_CA", "the TLS + security Elasticsearch node");
}

/** The password of the secure node's `elastic` superuser (`ES_SECURE_PASSWORD`). */
export function esSecurePassword(): string {
  // not requiredEnv: a password keeps its trailing slashes
  const value = Deno.env.get("ES_SECURE_PASSWORD");
  return value || requiredEnv("ES_SECURE_PASSWORD", "the TLS + security Elasticsearch node");
}

/**
 * How {@link esSecureJson} authenticates: a user and password (basic auth), an encoded API key
 * (`Authorization: ApiKey <encoded>`), a whole `Authorization` header value, or `null` for none.
 */
export type EsSecureAuth =
  | { username: string; password: string }
  | { apiKey: string }
  | { header: string }
  | null;

/**
 * Like {@link esJson}, against the secure node: over https trusting {@link esSecureCa} (a
 * `Deno.createHttpClient` closed after the call), as `elastic:<esSecurePassword()>` unless `auth`
 * says otherwise. Throws with the status and body when the answer is not 2xx.
 */
export async function esSecureJson<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  auth?: EsSecureAuth,
): Promise<T> {
  const headers: Record<string, string> = {};
  const who = auth === undefined ? { username: "elastic", password: esSecurePassword() } : auth;
  if (who && "username" in who) {
    headers["authorization"] = `Basic ${btoa(`${who.username}:${who.password}`)}`;
  } else if (who && "apiKey" in who) headers["authorization"] = `ApiKey ${who.apiKey}`;
  else if (who) headers["authorization"] = who.header;
  let payload: string | undefined;
  if (typeof body === "string") {
    payload = body;
    headers["content-type"] = "application/x-ndjson";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(esSecureCa())] });
  try {
    const res = await fetch(`${esSecureUrl()}${path.startsWith("/") ? "" : "/"}${path}`, {
      method,
      headers,
      client,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  } finally {
    client.close();
  }
}
