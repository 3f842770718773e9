/**
 * Every bad config key fails the service actions at start: exit 1, one line naming
 * `file:line:col` and the key path, before anything connects (the cluster named is a closed
 * port, and the message is never "Cannot reach"). `--action list` and `--action config` run no
 * source module's code.
 *
 * Needs no Elasticsearch.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, runCli } from "./_helpers.ts";

/** A closed port: connecting would fail, slowly (the startup waits up to 60 s for it). */
const HOST = "http://127.0.0.1:9";
const FIXTURES = `${REPO_ROOT}tests/fixtures`;
const PLAIN = `${FIXTURES}/source_loading/sources.ts`;
const TEST_SOURCE = `${FIXTURES}/sources/test_source.ts:TestDataSource`;

let dir: string | undefined;

/** A config file (after the cluster settings) in a temporary folder, and that folder. */
async function configFile(text: string, name = "config.yml"): Promise<string> {
  dir ??= await Deno.makeTempDir({ prefix: "config_startup_" });
  // A module whose code must never run unless a service action uses it.
  await Deno.writeTextFile(`${dir}/boom.ts`, 'throw new Error("boom.ts ran");\nexport {};\n');
  const file = `${dir}/${name}`;
  const head = `elasticsearch:\n  host: ${HOST}\n  max_wait_duration: 60\n`;
  await Deno.writeTextFile(file, head + text);
  return file;
}

globalThis.addEventListener("unload", () => {
  if (dir) Deno.removeSync(dir, { recursive: true });
});

interface Case {
  name: string;
  /** Config text after the three `elasticsearch` lines (which take lines 1-3). */
  text: string;
  /** The `--action` values (default `poll`). */
  actions?: string[];
  /** The message after `FILE:`. */
  expected: string | RegExp;
}

const CASES: Case[] = [
  {
    name: "unknown service_type in connectors",
    text: "connectors:\n  - connector_id: a\n    service_type: nope\n",
    expected:
      ':6:19: connectors[0].service_type "nope" is not defined in sources (defined: dir, mongodb, s3)',
  },
  {
    name: "unknown type in service.service_types",
    text: "service:\n  service_types: [dir, mongo]\n",
    actions: ["schedule", "cleanup"],
    expected:
      ':5:24: service.service_types[1] "mongo" is not defined in sources (defined: dir, mongodb, s3); did you mean "mongodb"?',
  },
  {
    name: "sources module missing",
    text:
      "sources:\n  mine: ./missing.ts:Mine\nconnectors:\n  - connector_id: a\n    service_type: mine\n",
    actions: ["sync_content"],
    expected:
      /^:5:9: sources\.mine: Cannot load source "mine" from \.\/missing\.ts:Mine: module not found: file:\/\/\/.*\/missing\.ts$/,
  },
  {
    name: "sources class missing",
    text: `sources:\n  mine: ${PLAIN}:Nope\nservice.service_types: [mine]\n`,
    actions: ["sync_access_control"],
    expected:
      /^:5:9: sources\.mine: Cannot load source "mine" from .*sources\.ts:Nope: module has no export "Nope" \(exports: .*PlainSource.*\)$/,
  },
  {
    name: "sources module whose code throws",
    text: "sources:\n  boom: ./boom.ts:Boom\nservice.service_types: [boom]\n",
    expected: /^:5:9: sources\.boom: Cannot load source "boom" .*boom\.ts ran$/,
  },
  {
    name: "unreachable remote module",
    text: "sources:\n  far: http://127.0.0.1:9/far.ts:Far\nservice.service_types: [far]\n",
    expected:
      /^:5:8: sources\.far: Cannot load source "far" from http:\/\/127\.0\.0\.1:9\/far\.ts:Far: cannot fetch module http:\/\/127\.0\.0\.1:9\/far\.ts: .+/,
  },
  {
    name: "max_error_rate: 7",
    text: "elasticsearch.bulk.error_monitor.max_error_rate: 7\n",
    expected:
      ":4:50: elasticsearch.bulk.error_monitor.max_error_rate must be between 0 and 1, got 7",
  },
  {
    name: "negative timeout",
    text: "service:\n  idle_job_timeout: -30\n",
    expected: ":5:21: service.idle_job_timeout must be more than 0, got -30",
  },
  {
    name: "max_deletion_ratio out of range",
    text: "connectors:\n  - connector_id: a\n    max_deletion_ratio: 1.2\n",
    expected: ":6:25: connectors[0].max_deletion_ratio must be between 0 and 1, got 1.2",
  },
  {
    name: "typo key with suggestion",
    text: "service:\n  heartbaet: 60\n",
    expected: ":5:3: unknown key service.heartbaet; did you mean service.heartbeat?",
  },
];

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("elastic-ingest: error:"));
}

Deno.test("every bad config key fails the service actions at start, before connecting", async () => {
  const files = await Promise.all(CASES.map((c, i) => configFile(c.text, `case${i}.yml`)));
  const started = Date.now();
  const results = await Promise.all(
    CASES.map((c, i) =>
      runCli([...(c.actions ?? ["poll"]).flatMap((a) => ["--action", a]), "-c", files[i]!], {
        timeoutMs: 50_000,
      })
    ),
  );
  for (const [i, c] of CASES.entries()) {
    const { code, stderr, timedOut } = results[i]!;
    assert.ok(!timedOut, `${c.name}: timed out`);
    assert.equal(code, 1, `${c.name}: ${stderr}`);
    const lines = errorLines(stderr);
    assert.equal(lines.length, 1, `${c.name}: one error line: ${stderr}`);
    const prefix = `elastic-ingest: error: ${files[i]}`;
    assert.ok(lines[0]!.startsWith(prefix), `${c.name}: names the file: ${lines[0]}`);
    const rest = lines[0]!.slice(prefix.length);
    if (typeof c.expected === "string") assert.equal(rest, c.expected, c.name);
    else assert.match(rest, c.expected, c.name);
    assert.doesNotMatch(stderr, /Cannot reach|Connected to Elasticsearch/, c.name);
  }
  // A connection attempt would wait up to max_wait_duration (60 s) on the closed port.
  assert.ok(Date.now() - started < 45_000, `took ${Date.now() - started} ms`);
});

Deno.test("custom sources in use load at start; built-in ones stay lazy", async () => {
  const file = await configFile(
    [
      "sources:",
      `  test: ${TEST_SOURCE}`,
      `  bad: ${PLAIN}:Nope`,
      "connectors:",
      "  - connector_id: a",
      "    service_type: dir",
      "  - connector_id: b",
      "    service_type: test",
      "service.service_types: [bad]",
      "",
    ].join("\n"),
  );
  const { code, stderr } = await runCli(["--action", "poll", "-c", file, "--debug"]);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /Loading source module file:\/\/.*\/test_source\.ts/);
  assert.doesNotMatch(stderr, /Loading source module .*sources\/dir\/mod\.ts/);
  assert.match(errorLines(stderr)[0]!, /:6:8: sources\.bad: Cannot load source "bad"/);
});

Deno.test("a key of Elastic's framework that is not implemented warns once", async () => {
  const file = await configFile(
    "  log_level: info\nextraction_service:\n  host: http://tika:9998\n" +
      "connectors:\n  - connector_id: a\n    service_type: nope\n",
  );
  const poll = await runCli(["--action", "poll", "-c", file]);
  assert.equal(poll.code, 1, poll.stderr);
  const warnings = poll.stderr.split("\n").filter((line) => line.includes("does not implement"));
  assert.equal(warnings.length, 2, poll.stderr);
  assert.match(
    warnings[0]!,
    /WARNING.*:4:3: elasticsearch\.log_level is a key of Elastic's framework that this service does not implement; ignored/,
  );
  assert.match(warnings[1]!, /:5:1: extraction_service is a key of Elastic's framework/);
  assert.match(errorLines(poll.stderr)[0]!, /connectors\[0\]\.service_type "nope" is not defined/);
});

Deno.test("list and config run no source module's code", async () => {
  const file = await configFile(
    "  log_level: info\nsources:\n  boom: ./boom.ts:Boom\n  gone: ./gone.ts:Gone\n",
  );
  const list = await runCli(["--action", "list", "-c", file]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /- boom: \.\/boom\.ts:Boom \(module found: .*\/boom\.ts\)/);
  assert.match(list.stdout, /- gone: \.\/gone\.ts:Gone \(module not found: .*\/gone\.ts\)/);
  assert.match(list.stdout, /- dir: \.\/sources\/dir\/mod\.ts:DirectoryDataSource \(built-in\)/);
  assert.equal(list.stderr.split("\n").filter((l) => l.includes("does not implement")).length, 1);
  const config = await runCli(["--action", "config", "--service-type", "dir", "-c", file]);
  assert.equal(config.code, 0, config.stderr);
  assert.ok(JSON.parse(config.stdout).directory, config.stdout);
  for (const { stdout, stderr } of [list, config]) {
    assert.ok(!`${stdout}${stderr}`.includes("boom.ts ran"), "boom.ts must not run");
  }
});
