/**
 * Every way of naming a source module in `sources:`, loaded in a fresh `deno run` with explicit
 * permission flags (so that refusals can be tested): a path relative to the config directory,
 * an absolute path, a `file:` URL (those run in the service), an `https:` module from a local TLS
 * server (its CA given with `--cert`), an `http:` module from 127.0.0.1, and an `npm:` package
 * that exports no source class (those run sandboxed: `--unstable-worker-options`, and the service
 * fetches a URL module itself first, so it needs `--allow-net` to its host). Each failure must be
 * one line naming the service type, the FQN and what is wrong.
 *
 * The subprocesses use a temporary copy of deno.lock (`--lock=`): a dynamic `npm:` or remote
 * import adds entries to the lockfile, and the repository's must stay untouched.
 *
 * No Elasticsearch needed.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../src/config/mod.ts";
import { permissionFlagsFor } from "../src/source/permissions.ts";
import { REPO_ROOT, runDeno } from "./_helpers.ts";

const FIXTURES = `${REPO_ROOT}tests/fixtures/source_loading`;
const LOADER = `${FIXTURES}/load.ts`;
/** What a process needs to run sandboxed sources. */
const SANDBOX = ["--unstable-worker-options"];
const opts = { sanitizeResources: false, sanitizeOps: false };

interface LoadResult {
  ok: boolean;
  name: string;
  message?: string;
  fields?: string[];
  features?: { incremental_sync?: { enabled: boolean } };
}

let lockCopy: string | undefined;
let remoteCache: string | undefined;
globalThis.addEventListener("unload", () => {
  if (lockCopy) Deno.removeSync(lockCopy.slice(0, lockCopy.lastIndexOf("/")), { recursive: true });
  if (remoteCache) Deno.removeSync(remoteCache, { recursive: true });
});

/** A private copy of deno.lock for the subprocesses. */
async function lockFile(): Promise<string> {
  if (!lockCopy) {
    const dir = await Deno.makeTempDir({ prefix: "source_loading_lock_" });
    lockCopy = `${dir}/deno.lock`;
    await Deno.copyFile(`${REPO_ROOT}deno.lock`, lockCopy);
  }
  return lockCopy;
}

async function load(
  flags: string[],
  fqn: string,
  options: { baseDir?: string; type?: string; env?: Record<string, string> } = {},
): Promise<LoadResult> {
  const args = [
    "run",
    "--no-prompt",
    "--no-check",
    `--lock=${await lockFile()}`,
    ...flags,
    LOADER,
    options.baseDir ?? FIXTURES,
    options.type ?? "custom",
    fqn,
  ];
  // Modules from the test servers go to a throw-away cache, not the user's DENO_DIR.
  if (/^https?:/.test(fqn)) {
    remoteCache ??= await Deno.makeTempDir({ prefix: "source_loading_cache_" });
  }
  const env = { ...(/^https?:/.test(fqn) ? { DENO_DIR: remoteCache! } : {}), ...options.env };
  const result = await runDeno(args, { timeoutMs: 120_000, env });
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as LoadResult;
  } catch {
    throw new Error(
      `loader printed no result (code ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

function assertFailure(result: LoadResult, message: string | RegExp) {
  assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
  assert.equal(result.name, "SourceLoadError");
  assert.ok(!result.message!.includes("\n"), "one line");
  if (typeof message === "string") assert.equal(result.message, message);
  else assert.match(result.message!, message);
}

const SOURCE_MODULE = `
export class RemoteSource {
  static displayName = "Remote";
  static features = { incrementalSync: true };
  static getDefaultConfiguration() {
    return { endpoint: { label: "Endpoint", value: "" } };
  }
  async ping() {}
  async *getDocs() {
    yield { _id: "1" };
  }
}
export const notAClass = "just a string";
`;

/** Serves SOURCE_MODULE at /<tag>/source.ts (404 elsewhere) over HTTPS (with `tls`) or HTTP. */
function moduleServer(tls?: { cert: string; key: string }) {
  const handler = (request: Request) => {
    const path = new URL(request.url).pathname;
    // Any /<tag>/source.ts: each load uses its own URL, so Deno's module cache never answers.
    if (!/^\/[\w-]+\/source\.ts$/.test(path)) return new Response("not found", { status: 404 });
    return new Response(SOURCE_MODULE, { headers: { "content-type": "application/typescript" } });
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    ...(tls ?? {}),
  }, handler);
  return { server, host: `127.0.0.1:${server.addr.port}` };
}

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it (openssl). */
async function makeCertificates(): Promise<{ dir: string; ca: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "source_loading_tls_" });
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await openssl(
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  );
  return {
    dir,
    ca: `${dir}/ca.pem`,
    cert: await Deno.readTextFile(`${dir}/server.pem`),
    key: await Deno.readTextFile(`${dir}/server.key`),
  };
}

Deno.test({
  name: "paths: relative to the config directory, absolute, file: URL",
  ...opts,
  fn: async () => {
    const read = `--allow-read=${FIXTURES}`;
    const relative = await load([read], "./sources.ts:PlainSource");
    assert.deepEqual([relative.ok, relative.name, relative.fields], [true, "PlainSource", [
      "greeting",
    ]]);
    const parent = await load([read], "./source_loading/sources.ts:DerivedSource", {
      baseDir: `${REPO_ROOT}tests/fixtures`,
    });
    assert.deepEqual([parent.ok, parent.name], [true, "DerivedSource"]);
    const absolute = await load([read], `${FIXTURES}/sources.ts:PlainSource`, { baseDir: "/" });
    assert.deepEqual([absolute.ok, absolute.name], [true, "PlainSource"]);
    const url = await load([read], `file://${FIXTURES}/sources.ts:DerivedSource`, { baseDir: "/" });
    assert.deepEqual([url.ok, url.name], [true, "DerivedSource"]);
  },
});

Deno.test({
  name: "path failures: not found, no export, not a class, not a source, refused read",
  ...opts,
  fn: async () => {
    const read = `--allow-read=${FIXTURES}`;
    assertFailure(
      await load([read], "./missing.ts:Missing", { type: "gone" }),
      `Cannot load source "gone" from ./missing.ts:Missing: module not found: file://${FIXTURES}/missing.ts`,
    );
    assertFailure(
      await load([read], "./sources.ts:Nope"),
      /^Cannot load source "custom" from \.\/sources\.ts:Nope: module has no export "Nope" \(exports: .*PlainSource/,
    );
    assertFailure(
      await load([read], "./sources.ts:notAClass"),
      'Cannot load source "custom" from ./sources.ts:notAClass: export "notAClass" is not a class (it is a number)',
    );
    assertFailure(
      await load([read], "./sources.ts:IncompleteSource"),
      'Cannot load source "custom" from ./sources.ts:IncompleteSource: export "IncompleteSource" is not a data source class: it lacks static getDefaultConfiguration(), getDocs()',
    );
    // No --allow-read: the exact flag to add.
    assertFailure(
      await load([], "./sources.ts:PlainSource"),
      `Cannot load source "custom" from ./sources.ts:PlainSource: permission to read ${FIXTURES}/sources.ts refused (run with --allow-read=${FIXTURES}/sources.ts)`,
    );
    // A module that needs more than it was given while it is evaluated.
    assertFailure(
      await load([read], "./env_source.ts:EnvSource"),
      'Cannot load source "custom" from ./env_source.ts:EnvSource: permission to read the environment variable SOURCE_FIXTURE_TOKEN refused (run with --allow-env=SOURCE_FIXTURE_TOKEN)',
    );
    const granted = await load(
      [read, "--allow-env=SOURCE_FIXTURE_TOKEN"],
      "./env_source.ts:EnvSource",
    );
    assert.equal(granted.ok, true, JSON.stringify(granted));
  },
});

Deno.test({
  name: "https: module from a local TLS server; refused import and untrusted certificate",
  ...opts,
  fn: async () => {
    const tls = await makeCertificates();
    const { server, host } = moduleServer({ cert: tls.cert, key: tls.key });
    try {
      const url = (tag: string) => `https://${host}/${tag}-${crypto.randomUUID()}/source.ts`;
      const cert = `--cert=${tls.ca}`;
      const allow = `--allow-import=${host}`;
      const net = `--allow-net=${host}`;
      const ok = await load([...SANDBOX, cert, allow, net], `${url("ok")}:RemoteSource`);
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.equal(ok.name, "RemoteSource");
      assert.deepEqual(ok.fields, ["endpoint"]);
      assert.equal(ok.features?.incremental_sync?.enabled, true);
      // DENO_CERT works as well as --cert.
      const viaEnv = await load([...SANDBOX, allow, net], `${url("env")}:RemoteSource`, {
        env: { DENO_CERT: tls.ca },
      });
      assert.equal(viaEnv.ok, true, JSON.stringify(viaEnv));
      const refused = `${url("refused")}:RemoteSource`;
      // The sandbox may import from the module's host only if the service itself may.
      assertFailure(
        await load([...SANDBOX, cert, net], refused),
        `Cannot load source "custom" from ${refused}: its grant includes import access to ${host}, which the service itself lacks (run with --allow-import=${host})`,
      );
      assertFailure(
        await load([...SANDBOX, cert, allow], refused),
        `Cannot load source "custom" from ${refused}: network access to ${host} refused (run with --allow-net=${host})`,
      );
      const untrusted = url("untrusted");
      assertFailure(
        await load([...SANDBOX, allow, net], `${untrusted}:RemoteSource`),
        `Cannot load source "custom" from ${untrusted}:RemoteSource: cannot fetch module ${untrusted}: its server's TLS certificate is not trusted (UnknownIssuer); pass its CA with --cert=<ca.pem> or DENO_CERT`,
      );
      const missing = `https://${host}/missing.ts`;
      assertFailure(
        await load([...SANDBOX, cert, allow, net], `${missing}:RemoteSource`),
        `Cannot load source "custom" from ${missing}:RemoteSource: module not found: ${missing}`,
      );
      const notClass = `${url("notclass")}:notAClass`;
      assertFailure(
        await load([...SANDBOX, cert, allow, net], notClass),
        `Cannot load source "custom" from ${notClass}: export "notAClass" is not a class (it is a string)`,
      );
    } finally {
      await server.shutdown();
      await Deno.remove(tls.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "http: module from 127.0.0.1 (plain http only from loopback), sandboxed",
  ...opts,
  fn: async () => {
    const { server, host } = moduleServer();
    try {
      const fqn = `http://${host}/plain-${crypto.randomUUID()}/source.ts:RemoteSource`;
      const flags = [`--allow-import=${host}`, `--allow-net=${host}`];
      const ok = await load([...SANDBOX, ...flags], fqn);
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assertFailure(
        await load(SANDBOX, fqn),
        `Cannot load source "custom" from ${fqn}: network access to ${host} refused (run with --allow-net=${host})`,
      );
      // Without Deno's worker options a sandbox cannot be made: refused, never run unsandboxed
      // (-A: the service reads its own command line; narrower flags: Deno itself stops it).
      assertFailure(
        await load(["-A"], fqn),
        /^Cannot load source "custom" from .*: it runs sandboxed, which needs Deno's --unstable-worker-options flag/,
      );
      const stopped = await runDeno([
        "run",
        "--no-lock",
        ...flags,
        LOADER,
        FIXTURES,
        "custom",
        fqn,
      ]);
      assert.equal(stopped.code, 70, stopped.stderr);
      assert.match(stopped.stderr, /The `--unstable-worker-options` flag must be provided/);
      const elsewhere = "http://sources.example.invalid/source.ts:RemoteSource";
      assertFailure(
        await load([...SANDBOX, ...flags], elsewhere),
        `Cannot load source "custom" from ${elsewhere}: plain http: is allowed from loopback hosts only (localhost, 127.0.0.1, [::1]); serve sources.example.invalid over https:`,
      );
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "npm: specifier of a real package that exports no source class",
  ...opts,
  fn: async () => {
    // The loader imports it dynamically; nothing is added to deno.json.
    assertFailure(
      await load(SANDBOX, "npm:is-number@7.0.0:default", { type: "isnum" }),
      'Cannot load source "isnum" from npm:is-number@7.0.0:default: export "default" is not a data source class: it lacks static getDefaultConfiguration(), getDocs(), ping()',
    );
    assertFailure(
      await load(SANDBOX, "npm:is-number@7.0.0:IsNumber", { type: "isnum" }),
      /^Cannot load source "isnum" from npm:is-number@7\.0\.0:IsNumber: module has no export "IsNumber" \(exports: default\)$/,
    );
    assertFailure(
      await load(SANDBOX, "npm:is-number@7.0.1:default", { type: "isnum" }),
      `Cannot load source "isnum" from npm:is-number@7.0.1:default: cannot load npm module npm:is-number@7.0.1: Could not find npm package 'is-number' matching '7.0.1'.`,
    );
    // With --frozen the lockfile must already list the package.
    const frozenDir = await Deno.makeTempDir({ prefix: "source_loading_frozen_" });
    try {
      await Deno.copyFile(`${REPO_ROOT}deno.lock`, `${frozenDir}/deno.lock`);
      const result = await runDeno([
        "run",
        "--no-check",
        "--frozen",
        ...SANDBOX,
        `--lock=${frozenDir}/deno.lock`,
        LOADER,
        FIXTURES,
        "isnum",
        "npm:is-number@7.0.0:default",
      ]);
      const line = JSON.parse(result.stdout.trim()) as LoadResult;
      assertFailure(
        line,
        /^Cannot load source "isnum" from npm:is-number@7\.0\.0:default: cannot load npm module npm:is-number@7\.0\.0: The lockfile is out of date/,
      );
    } finally {
      await Deno.remove(frozenDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the flags permissionFlagsFor computes are enough for the shipped dir source and workers",
  ...opts,
  fn: async () => {
    const config = parseConfig("", "/etc/connectors/config.yml", { env: () => undefined });
    const flags = permissionFlagsFor(config);
    const script = `${FIXTURES}/run_dir.ts`;
    const run = (granted: string[]) =>
      runDeno([
        "run",
        "--no-prompt",
        "--no-check",
        `--lock=${lockCopy}`,
        ...granted,
        script,
        "/etc/connectors",
      ]);
    await lockFile();
    const ok = await run(flags);
    assert.match(ok.stdout.trim(), /^ok \d+ AQID$/, ok.stdout + ok.stderr);
    // Without them, the first refusal names its flag.
    const refused = await run(flags.filter((f) => !f.startsWith("--allow-read")));
    assert.match(
      refused.stdout.trim(),
      new RegExp(
        `^SourceLoadError: Cannot load source "dir" from \\./sources/dir/mod\\.ts:DirectoryDataSource: permission to read ${REPO_ROOT}sources/dir/mod\\.ts refused \\(run with --allow-read=${REPO_ROOT}sources/dir/mod\\.ts\\)$`,
      ),
    );
  },
});
