/**
 * Remote sources run sandboxed: a source served over loopback http (tests/fixtures/sandbox) and
 * run by the service exactly as `deno task start` runs it (the task's own flags) against the real
 * Elasticsearch. Each thing the probe tries beyond its grant is denied and shows in the log or
 * the job's error; what its entry grants works; documents sync end to end; skippable and fatal
 * errors from another copy of the SDK keep their kind; `--action list` runs none of its code;
 * plain http from a host that is not loopback and an integrity mismatch are refused at start;
 * deno.lock is the same byte for byte afterwards.
 */
import assert from "node:assert/strict";
import { integrityOf } from "../src/source/sandbox/module_fetch.ts";
import {
  DENO_JSON,
  esUrl,
  MAIN_TS,
  REPO_ROOT,
  runDeno,
  startDeno,
  uniqueName,
  waitFor,
} from "./_helpers.ts";
import { createConnectorDoc, type Doc, Kibana } from "./fixtures/kibana.ts";
import { FAST_SERVICE } from "./fixtures/protocol_setup.ts";

const FIXTURES = `${REPO_ROOT}tests/fixtures/sandbox`;
const SECRET = "s3cr3t-sandbox-value";
const GRANTED_TOKEN = "granted-token-value";
const opts = { sanitizeResources: false, sanitizeOps: false };

/** `run` and the flags of `deno task start`: the service runs exactly as the task runs it. */
async function startTaskArgs(): Promise<string[]> {
  const task = JSON.parse(await Deno.readTextFile(DENO_JSON)).tasks.start.command as string;
  const words = task.trim().split(/\s+/);
  return words.slice(1, words.findIndex((word) => word.endsWith("main.ts")));
}

async function lockHash(): Promise<string> {
  return await integrityOf(await Deno.readFile(`${REPO_ROOT}deno.lock`), "sha256");
}

const ts = (text: string) =>
  new Response(text, { headers: { "content-type": "application/typescript" } });

/** The module server (the probe's granted host) and a server it must never reach. */
async function servers() {
  // Fresh URLs each run: Deno's module cache never answers for them.
  const run = `run-${crypto.randomUUID()}`;
  const pinned = await Deno.readTextFile(`${FIXTURES}/pinned_source.ts`);
  let hits = 0;
  const modules = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === `/${run}/hit`) hits++;
    if (path === `/${run}/hit` || path === `/${run}/granted`) return new Response("granted-ok");
    if (path === `/${run}/probe/source.ts`) {
      return ts(await Deno.readTextFile(`${FIXTURES}/probe_source.ts`));
    }
    // The SDK's errors as another copy: other classes than the service's, same `kind`.
    if (path === `/${run}/probe/sdk_errors.ts`) {
      return ts(await Deno.readTextFile(`${REPO_ROOT}src/errors/errors.ts`));
    }
    if (path === `/${run}/pinned/source.ts`) return ts(pinned);
    return new Response("not found", { status: 404 });
  });
  const reached: string[] = [];
  const other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    reached.push(new URL(request.url).pathname);
    return new Response("you reached the other host");
  });
  const host = `127.0.0.1:${modules.addr.port}`;
  return {
    host,
    base: `http://${host}/${run}`,
    otherBase: `http://127.0.0.1:${other.addr.port}`,
    pinned,
    hits: () => hits,
    reached,
    close: async () => {
      await modules.shutdown();
      await other.shutdown();
    },
  };
}

type Servers = Awaited<ReturnType<typeof servers>>;

/** A config file: `sources` lines as YAML (JSON flow mappings are YAML). */
async function writeConfig(
  dir: string,
  sources: Record<string, unknown>,
  extra: string[] = [],
  esHost = esUrl(),
): Promise<string> {
  const file = `${dir}/config-${crypto.randomUUID()}.yml`;
  const lines = [
    "elasticsearch:",
    `  host: ${esHost}`,
    "  max_wait_duration: 60",
    "  initial_backoff_duration: 0.5",
    "service:",
    ...Object.entries(FAST_SERVICE).map(([key, value]) => `  ${key}: ${value}`),
    ...extra,
    "sources:",
    ...Object.entries(sources).map(([type, entry]) => `  ${type}: ${JSON.stringify(entry)}`),
  ];
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  return file;
}

function probeSources(s: Servers, grantedFile: string): Record<string, unknown> {
  const fqn = `${s.base}/probe/source.ts:ProbeSource`;
  return {
    probe: {
      module: fqn,
      net: [s.host],
      read: [grantedFile],
      env: ["SANDBOX_GRANTED_TOKEN"],
    },
    plainprobe: fqn,
  };
}

Deno.test({
  name: "--action list runs no source code; --action config runs it in its sandbox",
  ...opts,
  fn: async () => {
    const before = await lockHash();
    const dir = await Deno.makeTempDir({ prefix: "sandbox_list_" });
    const s = await servers();
    try {
      const config = await writeConfig(dir, probeSources(s, `${dir}/granted.txt`));
      const args = await startTaskArgs();
      const list = await runDeno([...args, MAIN_TS, "--action", "list", "-c", config]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(
        list.stdout,
        new RegExp(
          `- probe: .*sandboxed: net ${s.host}; read ${dir}/granted\\.txt; env SANDBOX_GRANTED_TOKEN; import ${s.host}`,
        ),
      );
      assert.match(list.stdout, /- plainprobe: .*sandboxed: net the service's hosts; read none/);
      assert.match(list.stdout, /Least-privilege flags: --unstable-worker-options --no-prompt /);
      assert.equal(s.hits(), 0, "listing ran none of the module's code");

      const schema = await runDeno([
        ...args,
        MAIN_TS,
        "--action",
        "config",
        "--service-type",
        "probe",
        "-c",
        config,
      ]);
      assert.equal(schema.code, 0, schema.stderr);
      assert.equal((JSON.parse(schema.stdout) as Doc).mode.value, "sync");
      assert.equal(s.hits(), 1, "asking for the schema ran the module, once");
    } finally {
      await s.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(await lockHash(), before, "deno.lock is unchanged");
  },
});

const kibana = new Kibana();

async function finishedJob(id: string): Promise<Doc> {
  return await waitFor(async () => {
    const job = await kibana.getJob(id);
    return ["completed", "error", "canceled"].includes(job?.status) ? job : undefined;
  }, { timeoutMs: 120_000, message: `job ${id} ends` });
}

Deno.test({
  name: "a sandboxed source: denied beyond its grant, granted what its entry lists, syncs",
  ...opts,
  fn: async () => {
    const before = await lockHash();
    const dir = await Deno.makeTempDir({ prefix: "sandbox_service_" });
    const s = await servers();
    await kibana.ensureIndices();
    const narrow = { id: uniqueName("sandbox"), index: uniqueName("search-sandbox") };
    const plain = { id: uniqueName("sandbox-plain"), index: uniqueName("search-sandbox-plain") };
    const grantedFile = `${dir}/granted.txt`;
    const writePath = `${dir}/written-by-the-source.txt`;
    await Deno.writeTextFile(grantedFile, "a file the source may read");
    try {
      const config = await writeConfig(dir, probeSources(s, grantedFile), [
        "connectors:",
        `  - connector_id: ${narrow.id}`,
        "    service_type: probe",
        `  - connector_id: ${plain.id}`,
        "    service_type: plainprobe",
      ]);
      for (const [c, type] of [[narrow, "probe"], [plain, "plainprobe"]] as const) {
        await kibana.putConnector(
          c.id,
          createConnectorDoc({ indexName: c.index, serviceType: type }),
        );
      }
      const args = await startTaskArgs();
      await using service = startDeno([...args, MAIN_TS, "--action", "poll", "-c", config], {
        env: { SANDBOX_TEST_SECRET: SECRET, SANDBOX_GRANTED_TOKEN: GRANTED_TOKEN },
      });
      await service.waitForOutput(/Serving 2 connector/, { timeoutMs: 90_000 });
      // The check-in wrote the schema it read from the sandbox; then the user fills it in.
      for (const c of [narrow, plain]) {
        await waitFor(
          async () => (await kibana.getConnector(c.id))?.status === "needs_configuration",
          {
            message: `${c.id} got its schema`,
          },
        );
        await kibana.configureConnector(c.id, {
          label: c === narrow ? "narrow" : "plain",
          config_path: config,
          granted_file: grantedFile,
          granted_url: `${s.base}/granted`,
          denied_url: `${s.otherBase}/${c === narrow ? "narrow" : "plain"}-reached`,
          write_path: writePath,
          docs: 5,
        });
      }
      for (const c of [narrow, plain]) {
        await waitFor(async () => (await kibana.getConnector(c.id))?.status === "connected", {
          timeoutMs: 60_000,
          message: `${c.id} was pinged in its sandbox`,
        });
      }

      const synced = await finishedJob(await kibana.startSync(narrow.id));
      assert.equal(synced.status, "completed", synced.error);
      // Document 1's download threw the other SDK copy's SkippableError: it is skipped.
      assert.equal(await kibana.countDocs(narrow.index), 4);
      assert.equal(synced.indexed_document_count, 4);

      await kibana.configureConnector(narrow.id, { mode: "fatal" });
      const fatal = await finishedJob(await kibana.startSync(narrow.id));
      assert.equal(fatal.status, "error");
      assert.match(fatal.error, /FatalError: probe: the backend is gone/);

      await kibana.configureConnector(narrow.id, { mode: "leak" });
      const leak = await finishedJob(await kibana.startSync(narrow.id));
      assert.equal(leak.status, "error");
      assert.match(
        leak.error,
        /NotCapable: permission to read \/etc\/hostname refused by the sandbox of source "probe" \(not granted: list it under sources\.probe\.read/,
      );

      service.kill("SIGTERM");
      const { stderr } = await service.output();
      const line = (label: string, what: string, outcome: string) =>
        assert.match(
          stderr,
          new RegExp(`probe\\(${label}\\) ${what}: ${outcome}`),
          `${label} ${what}`,
        );
      for (const label of ["narrow", "plain"]) {
        line(label, "read /etc/hostname", "denied \\(NotCapable: Requires read access");
        line(label, "read the config file", "denied \\(NotCapable");
        line(label, "read /proc/self/environ", "denied \\(NotCapable");
        line(label, "env SANDBOX_TEST_SECRET", "denied \\(NotCapable: Requires env access");
        line(label, "env CONNECTORS_ES_PASSWORD", "denied \\(NotCapable");
        line(label, "env all", "denied \\(NotCapable");
        line(label, "import from the denied host", "denied \\(TypeError: Requires import access");
        line(label, "run id", "denied \\(NotCapable: Requires run access");
        line(label, "write a file", "denied \\(NotCapable: Requires write access");
        line(label, "ffi", "denied \\(NotCapable: Requires ffi access");
        line(label, "sys hostname", "denied \\(NotCapable: Requires sys access");
        line(label, "fetch the granted host", "allowed \\(granted-ok\\)");
      }
      // What the extended entry grants works; the plain form grants nothing of it.
      line("narrow", "read the granted file", "allowed \\(26 characters\\)");
      line(
        "narrow",
        "env SANDBOX_GRANTED_TOKEN",
        `allowed \\(${GRANTED_TOKEN.length} characters\\)`,
      );
      line("plain", "read the granted file", "denied \\(NotCapable");
      line("plain", "env SANDBOX_GRANTED_TOKEN", "denied \\(NotCapable");
      // A host typed into Kibana does not widen the narrow grant; the plain form has the network.
      line("narrow", "fetch the denied host", "denied \\(NotCapable: Requires net access");
      line("plain", "fetch the denied host", "allowed \\(you reached the other host\\)");
      assert.deepEqual(
        [...new Set(s.reached)],
        ["/plain-reached"],
        "the narrow probe never got out",
      );
      await assert.rejects(Deno.stat(writePath), Deno.errors.NotFound);
      assert.ok(!stderr.includes(SECRET) && !stderr.includes(GRANTED_TOKEN), "no secret leaked");
    } finally {
      await s.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(await lockHash(), before, "deno.lock is unchanged");
  },
});

Deno.test({
  name: "refused at start: plain http from elsewhere than loopback, an integrity mismatch",
  ...opts,
  fn: async () => {
    const before = await lockHash();
    const dir = await Deno.makeTempDir({ prefix: "sandbox_refused_" });
    const s = await servers();
    // A closed port: nothing may connect before the refusal.
    const closed = "http://127.0.0.1:9";
    const args = await startTaskArgs();
    const run = (config: string, ...action: string[]) =>
      runDeno([...args, MAIN_TS, ...action, "-c", config], { timeoutMs: 60_000 });
    try {
      const fqn = `${s.base}/pinned/source.ts:PinnedSource`;
      const http = await writeConfig(dir, { far: "http://sources.example.invalid/far.ts:Far" }, [
        "  service_types: [far]",
      ], closed);
      const refused = await run(http, "--action", "poll");
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /config-[\w-]+\.yml:\d+:\d+: sources\.far is refused: plain http: is allowed from loopback hosts only/,
      );

      const wrong = await integrityOf(
        new TextEncoder().encode(s.pinned + "\n// changed"),
        "sha384",
      );
      const mismatch = await writeConfig(dir, { pinned: { module: fqn, integrity: wrong } }, [
        "  service_types: [pinned]",
      ], closed);
      const tampered = await run(mismatch, "--action", "poll");
      assert.equal(tampered.code, 1, tampered.stderr);
      assert.match(
        tampered.stderr,
        /sources\.pinned: Cannot load source "pinned" .*integrity mismatch/,
      );
      assert.doesNotMatch(tampered.stderr, /Cannot reach|Connected to Elasticsearch/);

      const right = await integrityOf(new TextEncoder().encode(s.pinned), "sha384");
      const pinned = await writeConfig(
        dir,
        { pinned: { module: fqn, integrity: right } },
        [],
        closed,
      );
      const schema = await run(pinned, "--action", "config", "--service-type", "pinned");
      assert.equal(schema.code, 0, schema.stderr);
      assert.equal((JSON.parse(schema.stdout) as Doc).pinned.value, "yes");
    } finally {
      await s.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(await lockHash(), before, "deno.lock is unchanged");
  },
});
