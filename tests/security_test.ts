/**
 * Security that holds, against the TLS + security node (`es-secure`, {@link esSecureUrl}):
 * Elastic's documented connector privileges sync (one WARNING names the missing
 * `read_pipeline`), basic auth and both API key forms, secrets from files, refused credentials
 * stop the start at once with Elasticsearch's reason and the credential's name, TLS mistakes
 * name their fix, read-only credentials write nothing and back off, `status` checks the
 * privileges, and no output of any of these runs (text, JSON, `--debug`) shows a secret in its
 * raw, URL-encoded or base64 form.
 */
import assert from "node:assert/strict";
import {
  type CliResult,
  esSecureUrl,
  esSecureWrongCa,
  runCli,
  startCli,
  uniqueName,
  waitFor,
} from "./_helpers.ts";
import {
  assertNoSecrets,
  createApiKey,
  createDirConnector,
  createPipeline,
  createUser,
  type Doc,
  documentedRole,
  invalidateApiKey,
  logMessages,
  SCANNED,
  scanned,
  secretFile,
  secretForms,
  secrets,
  SecureKibana,
  startWithTaskFlags,
  textFolder,
  writeSecureConfig,
} from "./fixtures/security/secure_stack.ts";

const kibana = new SecureKibana();
/** The pipeline a new 9.x connector names; the test zip has none, so it is created empty. */
const PIPELINE = "search-default-ingestion";
/** Well under `max_wait_duration` (240 s in these configs): "at once". */
const AT_ONCE_MS = 30_000;
const TERMINAL = ["completed", "error", "canceled", "suspended"];

let ready: Promise<void> | undefined;
function setUp(): Promise<void> {
  ready ??= (async () => {
    await kibana.ensureIndices();
    await createPipeline(PIPELINE);
    secrets(Deno.env.get("ES_SECURE_PASSWORD") ?? "");
  })();
  return ready;
}

async function waitForJob(id: string, timeoutMs = 90_000): Promise<Doc> {
  return await waitFor(async () => {
    const job = await kibana.getJob(id);
    return job && TERMINAL.includes(job.status) ? job : undefined;
  }, { timeoutMs, intervalMs: 500, message: `job ${id} to end` });
}

async function timed(run: () => Promise<CliResult>): Promise<CliResult & { ms: number }> {
  const started = performance.now();
  const result = await run();
  return { ...result, ms: performance.now() - started };
}

Deno.test({
  name:
    "documented privileges: a full sync completes, one WARNING names read_pipeline; a refused connector key fails only its jobs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await setUp();
    const folder = await textFolder(5);
    const [ok, refused, outside] = ["sec-ok", "sec-key", "sec-out"].map((p) => uniqueName(p));
    const indices = [ok, refused, outside].map((id) => `search-${id}`);
    for (const [i, id] of [ok, refused, outside].entries()) {
      await createDirConnector(kibana, id!, indices[i]!, folder);
    }
    // The service's key covers the first two content indices, not the third one.
    const key = await createApiKey(documentedRole([indices[0]!, indices[1]!]));
    const connectorKey = await createApiKey(documentedRole([indices[1]!]));
    await invalidateApiKey(connectorKey.id);
    secrets(key.api_key, key.encoded, connectorKey.api_key, connectorKey.encoded);
    const config = await writeSecureConfig({ apiKey: key.encoded }, [
      { id: ok! },
      { id: refused!, apiKey: connectorKey.encoded },
      { id: outside! },
    ]);
    const jobs = [];
    for (const id of [ok!, refused!, outside!]) jobs.push(await kibana.startSync(id));
    // The flags users run the service with (`deno task start`), JSON logs, debug level.
    const service = await startWithTaskFlags(["-c", config, "--log-format", "json", "--debug"]);
    let result: CliResult;
    try {
      const ended = [];
      for (const id of jobs) ended.push(await waitForJob(id));
      service.kill("SIGTERM");
      result = scanned("the documented-privileges service", await service.output());
      assert.equal(result.code, 0, result.stderr.slice(-3000));

      const [done, denied, unauthorized] = ended;
      assert.equal(done!.status, "completed", JSON.stringify(done));
      assert.equal(done!.indexed_document_count, 5);
      assert.equal(await kibana.countDocs(indices[0]!), 5);

      // The connector's own key was invalidated: its job says so, naming the key by id.
      assert.equal(denied!.status, "error");
      assert.match(
        denied!.error,
        new RegExp(
          `^Cannot sync connector ${refused}: Elasticsearch refused the credentials, API key id ${connectorKey.id} \\(connectors\\[1\\]\\.api_key\\) \\(HTTP 401\\): .*api key \\[${connectorKey.id}\\] has been invalidated`,
        ),
      );
      // A 403 carries Elasticsearch's reason: the action, the index and the privileges.
      assert.equal(unauthorized!.status, "error");
      assert.match(
        unauthorized!.error,
        new RegExp(`^Cannot sync connector ${outside}: Elasticsearch denied API key id ${key.id}`),
      );
      assert.match(
        unauthorized!.error,
        /HTTP 403\): action \[indices:[^\]]+\] is unauthorized for API key id/,
      );
      assert.match(unauthorized!.error, new RegExp(`on indices \\[${indices[2]}\\]`));
      assert.match(unauthorized!.error, /this action is granted by the index privileges \[/);
      assert.doesNotMatch(unauthorized!.error, /regenerated/);

      const messages = logMessages(result.stderr);
      assert.ok(
        messages.some((m) =>
          m.message ===
            `Connected to Elasticsearch 9.2.4 at ${esSecureUrl()} as API key id ${key.id} (elasticsearch.api_key)`
        ),
        "the Connected line names the key by id",
      );
      const pipelineWarnings = messages.filter((m) =>
        m.level === "warning" && m.message.includes("read_pipeline")
      );
      assert.equal(pipelineWarnings.length, 1, JSON.stringify(pipelineWarnings));
      assert.match(
        pipelineWarnings[0]!.message,
        new RegExp(
          `^Cannot check that ingest pipeline ${PIPELINE} exists: the credentials lack the cluster privilege read_pipeline`,
        ),
      );
    } finally {
      service.kill("SIGKILL");
      await service.output();
      await Deno.remove(folder, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "basic auth and API keys in both forms, from the config or from files; a password in the host URL is never shown",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await setUp();
    const role = documentedRole([]);
    const user = await createUser(role);
    const key = await createApiKey(role);
    secrets(user.password, `${user.username}:${user.password}`, key.api_key, key.encoded);

    // A user with a role, its password in a container-style secret file (trailing newline).
    const passwordFile = await secretFile(user.password);
    const basic = await writeSecureConfig({ username: user.username, passwordFile });
    const status = scanned("status with password_file", await runCli(["status", "-c", basic]));
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^Elasticsearch: +https:\/\/127\.0\.0\.1:\d+ \(9\.2\.4/m);
    assert.doesNotMatch(status.stdout, /Privileges:/);

    // `id:secret`, in the config and (with verify_certs: false, which warns) in a file.
    const raw = `${key.id}:${key.api_key}`;
    const inline = await writeSecureConfig({ apiKey: raw });
    const list = scanned(
      "connector list with id:secret",
      await runCli(["connector", "list", "-c", inline, "--json"]),
    );
    assert.equal(list.code, 0, list.stderr);
    const keyFile = await secretFile(raw);
    const unverified = await writeSecureConfig({
      apiKeyFile: keyFile,
      caCerts: null,
      verifyCerts: false,
    });
    const service = startCli(["-c", unverified]);
    try {
      await service.waitForOutput(/No connectors configured/, { timeoutMs: 60_000 });
      service.kill("SIGTERM");
      const result = scanned(
        "service with api_key_file and verify_certs: false",
        await service.output(),
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /\[WARNING\] elasticsearch\.verify_certs is false: the certificate of https:\/\/127\.0\.0\.1:\d+ is not verified/,
      );
      assert.match(
        result.stderr,
        new RegExp(
          `Connected to Elasticsearch 9\\.2\\.4 at https://127\\.0\\.0\\.1:\\d+ as API key id ${key.id} \\(elasticsearch\\.api_key\\)`,
        ),
      );
    } finally {
      service.kill("SIGKILL");
      await service.output();
    }

    // The password in the host URL: used, never printed (logs, JSON logs, command output).
    const url = new URL(esSecureUrl());
    url.username = encodeURIComponent(user.username);
    url.password = encodeURIComponent(user.password);
    const inUrl = await writeSecureConfig({ host: url.toString().replace(/\/$/, "") });
    const fromUrl = startCli(["-c", inUrl, "--log-format", "json"]);
    try {
      await fromUrl.waitForOutput(/No connectors configured/, { timeoutMs: 60_000 });
      fromUrl.kill("SIGTERM");
      const result = scanned("service with the password in the host URL", await fromUrl.output());
      assert.equal(result.code, 0, result.stderr);
      const connected = logMessages(result.stderr).find((m) =>
        m.message.startsWith("Connected to")
      );
      assert.equal(
        connected?.message,
        `Connected to Elasticsearch 9.2.4 at ${esSecureUrl()} as user ${user.username} (from elasticsearch.host)`,
      );
    } finally {
      fromUrl.kill("SIGKILL");
      await fromUrl.output();
    }
    const listed = scanned(
      "--action list with the password in the host URL",
      await runCli(["--action", "list", "-c", inUrl]),
    );
    assert.equal(listed.code, 0, listed.stderr);
    const statusJson = scanned(
      "status --json with the password in the host URL",
      await runCli(["status", "-c", inUrl, "--json"]),
    );
    assert.equal(JSON.parse(statusJson.stdout).cluster.url, esSecureUrl());
    // A refused password in the URL: the errors of the CLI show the URL without it.
    url.password = encodeURIComponent(`${user.password}-wrong`);
    secrets(`${user.password}-wrong`);
    const wrongInUrl = await writeSecureConfig({ host: url.toString().replace(/\/$/, "") });
    for (
      const args of [["connector", "list"], ["job", "start", "-i", "nope", "-t", "full"], [
        "status",
      ]]
    ) {
      const failed = scanned(
        `${args.join(" ")} with a wrong password in the URL`,
        await runCli([...args, "-c", wrongInUrl]),
      );
      assert.equal(failed.code, 1, failed.stdout + failed.stderr);
      assert.match(
        failed.stderr,
        new RegExp(
          `user ${user.username} \\(from elasticsearch\\.host\\) \\(HTTP 401\\): unable to authenticate user \\[${user.username}\\]`,
        ),
      );
    }
  },
});

Deno.test({
  name:
    "refused credentials stop the start at once with Elasticsearch's reason: wrong password, expired and invalidated keys",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await setUp();
    const user = await createUser(documentedRole([]));
    const wrong = `${user.password}-but-wrong`;
    secrets(user.password, wrong);
    const badPassword = await writeSecureConfig({ username: user.username, password: wrong });
    const refused = scanned("a wrong password", await timed(() => runCli(["-c", badPassword])));
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.ms < AT_ONCE_MS, `took ${refused.ms} ms`);
    assert.match(
      refused.stderr,
      new RegExp(
        `elastic-ingest: error: Cannot start: Elasticsearch refused the credentials, user ${user.username} \\(elasticsearch\\.username\\) \\(HTTP 401\\): unable to authenticate user \\[${user.username}\\] for REST request \\[/_cluster/health\\] \\(at https://127\\.0\\.0\\.1:\\d+\\)`,
      ),
    );
    assert.doesNotMatch(refused.stderr, /not ready|Cannot reach/);

    const expiring = await createApiKey(documentedRole([]), "1s");
    const invalidated = await createApiKey(documentedRole([]));
    await invalidateApiKey(invalidated.id);
    secrets(expiring.api_key, expiring.encoded, invalidated.api_key, invalidated.encoded);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (
      const [key, reason] of [
        [expiring, "api key is expired"],
        [invalidated, `api key \\[${invalidated.id}\\] has been invalidated`],
      ] as const
    ) {
      const config = await writeSecureConfig({ apiKey: key.encoded });
      const result = scanned(reason, await timed(() => runCli(["-c", config, "--debug"])));
      assert.equal(result.code, 1, result.stderr);
      assert.ok(result.ms < AT_ONCE_MS, `took ${result.ms} ms`);
      assert.match(
        result.stderr,
        new RegExp(
          `Cannot start: Elasticsearch refused the credentials, API key id ${key.id} \\(elasticsearch\\.api_key\\) \\(HTTP 401\\): .*\\(API key: ${reason}\\)`,
        ),
      );
    }
  },
});

Deno.test({
  name: "TLS: the wrong CA names ca_certs, http:// to the TLS port says use https://",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await setUp();
    const key = await createApiKey(documentedRole([]));
    secrets(key.api_key, key.encoded);
    const wrongCa = await writeSecureConfig({ apiKey: key.encoded, caCerts: esSecureWrongCa() });
    const service = scanned("the wrong CA", await timed(() => runCli(["-c", wrongCa])));
    assert.equal(service.code, 1, service.stderr);
    assert.ok(service.ms < AT_ONCE_MS, `took ${service.ms} ms`);
    assert.match(
      service.stderr,
      new RegExp(
        `Cannot connect to Elasticsearch at https://127\\.0\\.0\\.1:\\d+: .*certificate.*: the certificate of https://127\\.0\\.0\\.1:\\d+ is not signed by the CA in elasticsearch\\.ca_certs \\(${
          esSecureWrongCa().replaceAll(".", "\\.")
        }\\); set elasticsearch\\.ca_certs to the PEM file of the CA that signed it`,
      ),
    );
    const list = scanned(
      "connector list with the wrong CA",
      await runCli(["connector", "list", "-c", wrongCa]),
    );
    assert.equal(list.code, 1);
    assert.match(list.stderr, /elasticsearch\.ca_certs/);

    const plain = await writeSecureConfig({
      apiKey: key.encoded,
      host: esSecureUrl().replace("https:", "http:"),
      caCerts: null,
    });
    const http = scanned("http:// to the TLS port", await timed(() => runCli(["-c", plain])));
    assert.equal(http.code, 1, http.stderr);
    assert.ok(http.ms < AT_ONCE_MS, `took ${http.ms} ms`);
    assert.match(
      http.stderr,
      new RegExp(
        `the server speaks TLS on that port .*; use https:// in elasticsearch\\.host \\(${esSecureUrl()}\\)`,
      ),
    );
    const status = scanned(
      "status with http:// to the TLS port",
      await runCli(["status", "-c", plain]),
    );
    assert.equal(status.code, 1);
    assert.match(status.stderr, /use https:\/\//);
  },
});

Deno.test({
  name:
    "read-only credentials: nothing written, one clear error per loop then backoff, status exits non-zero",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await setUp();
    const folder = await textFolder(2);
    const id = uniqueName("sec-ro");
    await createDirConnector(kibana, id, `search-${id}`, folder);
    const job = await kibana.startSync(id);
    const user = await createUser({
      cluster: ["monitor"],
      indices: [{ names: [".elastic-connectors*"], privileges: ["read", "view_index_metadata"] }],
    });
    secrets(user.password);
    const config = await writeSecureConfig({ username: user.username, password: user.password }, [
      { id },
    ]);
    const service = startCli(["-c", config, "--debug"]);
    try {
      await service.waitForOutput(/Serving 1 connector/, { timeoutMs: 60_000 });
      // ~10 s of 1-second rounds.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      service.kill("SIGTERM");
      const result = scanned("the read-only service", await service.output());
      assert.equal(result.code, 0, result.stderr);
      const all = logMessages(result.stderr).filter((m) => / loop cannot go on: /.test(m.message));
      // Repeats go to the debug log, each with a longer wait: the loop backs off.
      for (const loop of ["scheduling", "execution"]) {
        const waits = all.filter((m) => m.message.startsWith(`The ${loop} loop`)).map((m) =>
          Number(/next attempt in ([\d.]+)s/.exec(m.message)?.[1])
        );
        assert.ok(waits.length >= 3 && waits.length <= 8, `${loop}: ${waits.join(", ")}`);
        assert.ok(waits.at(-1)! >= 4 * waits[0]!, `${loop} waits grow: ${waits.join(", ")}`);
      }
      const denied = all.filter((m) => m.level !== "debug");
      const loops = new Set(denied.map((m) => /^The (\w+) loop/.exec(m.message)?.[1]));
      assert.ok(denied.length >= 1, result.stderr);
      assert.equal(
        denied.length,
        loops.size,
        `one line per loop:\n${denied.map((m) => m.message).join("\n")}`,
      );
      assert.ok(loops.has("scheduling"), [...loops].join());
      for (const line of denied) {
        assert.equal(line.level, "error");
        assert.match(
          line.message,
          new RegExp(
            `Elasticsearch denied user ${user.username} \\(elasticsearch\\.username\\) \\(HTTP 403\\): action \\[indices:data/write/[^\\]]+\\] is unauthorized for user \\[${user.username}\\]`,
          ),
        );
        assert.match(
          line.message,
          /nothing is written until the privileges are granted; next attempt in/,
        );
      }
      assert.doesNotMatch(
        result.stderr,
        /Check-in of connector .* failed|Cannot start job|loop failed/,
      );
    } finally {
      service.kill("SIGKILL");
      await service.output();
      await Deno.remove(folder, { recursive: true });
    }
    // Nothing was written.
    const connector = await kibana.getConnector(id);
    assert.equal(connector?.last_seen, null);
    assert.equal(connector?.status, "configured");
    assert.equal((await kibana.getJob(job))?.status, "pending");

    const status = scanned(
      "status of read-only credentials",
      await runCli(["status", "-c", config, "--json"]),
    );
    assert.equal(status.code, 3, status.stdout + status.stderr);
    const report = JSON.parse(status.stdout);
    assert.equal(report.privileges.can_write, false);
    assert.ok(report.privileges.missing.includes("index privilege write on .elastic-connectors"));
    assert.ok(
      report.problems.some((p: string) =>
        p.startsWith(
          `the service cannot write its system indices as user ${user.username} (elasticsearch.username)`,
        )
      ),
      report.problems.join("\n"),
    );
    const text = scanned(
      "status text of read-only credentials",
      await runCli(["status", "-c", config]),
    );
    assert.equal(text.code, 3);
    assert.match(text.stdout, /^Privileges: the service cannot write its system indices/m);
  },
});

Deno.test({
  name: "no output of these runs shows a secret, raw, URL-encoded or base64",
  sanitizeResources: false,
  sanitizeOps: false,
  fn() {
    assert.ok(SCANNED.outputs.length >= 20, `only ${SCANNED.outputs.length} outputs scanned`);
    assert.ok(SCANNED.secrets.size >= 10, `only ${SCANNED.secrets.size} secrets`);
    // Secrets made by later tests are looked for in the outputs of earlier ones too.
    const outputs = SCANNED.outputs.splice(0);
    for (const { what, text } of outputs) assertNoSecrets(what, text);
    for (const secret of SCANNED.secrets) assert.ok(secretForms(secret).length >= 2);
  },
});
