import assert from "node:assert/strict";
import { esUrl, runCli } from "./_helpers.ts";

async function configFile(text: string): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "cfg-", suffix: ".yml" });
  await Deno.writeTextFile(file, text);
  return file;
}

Deno.test("--help prints the usage block and exits 0", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^usage: elastic-ingest/);
  assert.match(
    stdout,
    /--action \{poll,schedule,sync_content,sync_access_control,cleanup,list,config\}/,
  );
  assert.match(stdout, /--service-type SERVICE_TYPE/);
  assert.match(stdout, /-c, --config-file CONFIG_FILE/);
});

Deno.test("--version prints the version", async () => {
  const { code, stdout } = await runCli(["--version"]);
  assert.equal(code, 0);
  assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
});

Deno.test("usage errors exit 2 and name the flag or value", async () => {
  const bad = await runCli(["--action", "explode"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--action: invalid choice: 'explode'/);
  const unknown = await runCli(["--frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option --frobnicate/);
  const level = await runCli(["--log-level", "LOUD", "--action", "list"]);
  assert.equal(level.code, 2);
  assert.match(level.stderr, /--log-level: invalid choice: 'LOUD'/);
});

Deno.test("config errors exit 1 with the file, position and key path", async () => {
  const cases: [string, RegExp][] = [
    ["service:\n  idling: [1, 2\n", /:\d+:\d+: invalid YAML/],
    [
      "service:\n  idling: soon\n",
      /:2:11: service\.idling must be a number of seconds, got string "soon"/,
    ],
    [
      "elasticsearch:\n  username: elastic\n  password: changeme\n",
      /elasticsearch\.password is still the placeholder "changeme"/,
    ],
    ["connectors:\n  - service_type: dir\n", /connectors\[0\]\.connector_id is required/],
    [
      "service:\n  service_types: dir\n",
      /:2:18: service\.service_types must be a list of strings, got string "dir"/,
    ],
    [
      "service:\n  service_types: [dir, 3]\n",
      /service\.service_types\[1\] must be a string, got number 3/,
    ],
    [
      "service:\n  worker_mode: true\n",
      /service\.worker_mode is true but service\.service_types is empty/,
    ],
  ];
  for (const [text, expected] of cases) {
    const file = await configFile(text);
    const { code, stderr } = await runCli(["--action", "list", "-c", file]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, expected);
    assert.ok(stderr.includes(file), `the message names the file: ${stderr}`);
  }
  const missing = await runCli(["--action", "list", "-c", "/nonexistent/c.yml"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot read config file \/nonexistent\/c\.yml: no such file/);
});

Deno.test("unknown keys are errors with a suggestion; Elastic-only keys warn and list exits 0", async () => {
  const typo = await runCli(["--action", "list", "-c", await configFile("service:\n  idlin: 3\n")]);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /:2:3: unknown key service\.idlin; did you mean service\.idling\?/);
  const file = await configFile("elasticsearch:\n  log_level: info\n");
  const { code, stderr, stdout } = await runCli(["--action", "list", "-c", file]);
  assert.equal(code, 0);
  assert.match(stderr, /WARNING.*elasticsearch\.log_level is a key of Elastic's framework/);
  assert.match(stdout, /- dir: /);
});

Deno.test("secrets never reach the output, also with --debug", async () => {
  const file = await configFile(
    [
      "elasticsearch:",
      "  host: http://127.0.0.1:1",
      "  username: elastic",
      "  password: Pa55-word-xyz",
      "  max_wait_duration: 0.5",
      "  initial_backoff_duration: 0.1",
      "connectors:",
      "  - connector_id: c1",
      "    api_key: key-Abcdef123",
    ].join("\n"),
  );
  for (const action of ["list", "poll"]) {
    const { stdout, stderr } = await runCli(["--action", action, "-c", file, "--debug"]);
    for (const secret of ["Pa55-word-xyz", "key-Abcdef123"]) {
      assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `${action} leaked ${secret}`);
    }
  }
});

Deno.test("poll against a closed port exits 1 within max_wait_duration", async () => {
  const file = await configFile(
    "elasticsearch:\n  host: http://127.0.0.1:1\n  max_wait_duration: 1\n  initial_backoff_duration: 0.2\n",
  );
  const { code, stderr } = await runCli(["--action", "poll", "-c", file]);
  assert.equal(code, 1);
  assert.match(stderr, /Cannot reach Elasticsearch at http:\/\/127\.0\.0\.1:1 within 1s/);
});

Deno.test("list shows sources and the configured connectors from the real cluster", async () => {
  const file = await configFile(
    `elasticsearch:\n  host: ${esUrl()}\nconnectors:\n  - connector_id: cli-test-absent\n    service_type: dir\n`,
  );
  const { code, stdout } = await runCli(["--action", "list", "-c", file]);
  assert.equal(code, 0);
  assert.match(stdout, /- dir: \.\/sources\/dir\/mod\.ts:DirectoryDataSource/);
  assert.match(stdout, /cli-test-absent/);
});
