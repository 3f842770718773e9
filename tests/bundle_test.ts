/**
 * One file to ship: `deno task bundle` builds a JavaScript file that `deno run` executes with the
 * permission flags of `deno task start` (checked: `--help`, and a `dir` sync against the real
 * Elasticsearch, run outside the repository so nothing resolves against the source tree);
 * `deno task compile` builds an executable where Deno's `denort` runtime is available
 * (`DENORT_BIN`), and otherwise says plainly why it cannot.
 */
import assert from "node:assert/strict";
import { startPermissionFlags } from "../scripts/_build.ts";
import { esUrl, MAIN_TS, REPO_ROOT, runDeno, uniqueName } from "./_helpers.ts";
import type { CliResult } from "./_helpers.ts";

async function sampleFileCount(dir = `${REPO_ROOT}sources/dir/sample`): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) n += await sampleFileCount(`${dir}/${entry.name}`);
    else if (entry.isFile) n++;
  }
  return n;
}

async function configIn(dir: string): Promise<string> {
  const file = `${dir}/config.yml`;
  await Deno.writeTextFile(
    file,
    `elasticsearch:\n  host: ${esUrl()}\n  max_wait_duration: 30\nconnectors: []\n`,
  );
  return file;
}

/** Fails with the reason when the start task's flags cannot even run the sources. */
function explainPermissionFailure(result: CliResult, what: string): string {
  const denied = /NotCapable: (Requires [^\n]*)/.exec(result.stderr)?.[1];
  if (!denied) return `${what}:\n${result.stdout}\n--- stderr\n${result.stderr}`;
  return `${what} failed with the permission flags of 'deno task start' (${denied}). ` +
    "These are the flags the single-file build must run with; fix the start task in deno.json.";
}

async function runWithStartFlags(
  flags: string[],
  target: string,
  args: string[],
  cwd: string,
): Promise<CliResult> {
  return await runDeno(["run", ...flags, target, ...args], { cwd, timeoutMs: 300_000 });
}

Deno.test({
  name: "deno task bundle: one file that deno run executes with the flags of deno task start",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const flags = await startPermissionFlags();
    const dir = await Deno.makeTempDir({ prefix: "bundle-test-" });
    const output = `${dir}/elastic-ingest.js`;
    const built = await runDeno(
      ["run", "-A", `${REPO_ROOT}scripts/bundle.ts`, "--output", output],
      {
        timeoutMs: 300_000,
      },
    );
    assert.equal(built.code, 0, built.stderr);
    assert.ok((await Deno.stat(output)).isFile);
    assert.ok((await Deno.stat(`${dir}/sample`)).isDirectory, "the sample folder is copied beside");
    assert.ok(
      built.stdout.includes(`deno run ${flags.join(" ")} ${output}`),
      `prints the run command:\n${built.stdout}`,
    );
    const generated = [];
    for await (const entry of Deno.readDir(`${REPO_ROOT}dist`)) {
      if (entry.name.startsWith("_entry_")) generated.push(entry.name);
    }
    assert.deepEqual(generated, [], "the generated entry is removed");

    // The sources themselves, with the same flags: tells a bad start task from a bad bundle.
    const fromSource = await runWithStartFlags(flags, MAIN_TS, ["--version"], REPO_ROOT);
    assert.equal(fromSource.code, 0, explainPermissionFailure(fromSource, "main.ts --version"));

    const help = await runWithStartFlags(flags, output, ["--help"], dir);
    assert.equal(help.code, 0, explainPermissionFailure(help, "bundle --help"));
    assert.match(help.stdout, /^usage: elastic-ingest/);

    const config = await configIn(dir);
    const id = uniqueName("bundle-dir");
    const index = uniqueName("search-bundle");
    const sync = await runWithStartFlags(
      flags,
      output,
      ["-c", config, "demo", "--connector-id", id, "--index-name", index, "--json"],
      dir,
    );
    assert.equal(sync.code, 0, explainPermissionFailure(sync, "bundle demo (dir sync)"));
    const report = JSON.parse(sync.stdout) as Record<string, unknown>;
    assert.equal(report.job_status, "completed");
    assert.equal(report.directory, `${dir}/sample`, "the bundled dir source finds its sample");
    assert.equal(report.document_count, await sampleFileCount());
    await Deno.remove(dir, { recursive: true });
  },
});

const denort = Deno.env.get("DENORT_BIN");

Deno.test({
  name: denort
    ? "deno task compile: a standalone executable that syncs the sample folder"
    : "deno task compile: a standalone executable (skipped: DENORT_BIN not set, and deno compile cannot download the denort runtime here)",
  ignore: !denort,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "compile-test-" });
    const output = `${dir}/elastic-ingest`;
    const built = await runDeno(
      ["run", "-A", `${REPO_ROOT}scripts/compile.ts`, "--output", output],
      {
        timeoutMs: 600_000,
      },
    );
    assert.equal(built.code, 0, built.stderr);
    const help = await new Deno.Command(output, { args: ["--help"], cwd: dir }).output();
    assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
    assert.match(new TextDecoder().decode(help.stdout), /^usage: elastic-ingest/);
    const config = await configIn(dir);
    const sync = await new Deno.Command(output, {
      args: [
        "-c",
        config,
        "demo",
        "--connector-id",
        uniqueName("compiled-dir"),
        "--index-name",
        uniqueName("search-compiled"),
        "--json",
      ],
      cwd: dir,
    }).output();
    const stderr = new TextDecoder().decode(sync.stderr);
    assert.equal(sync.code, 0, stderr);
    const report = JSON.parse(new TextDecoder().decode(sync.stdout)) as Record<string, unknown>;
    assert.equal(report.job_status, "completed");
    assert.equal(report.document_count, await sampleFileCount());
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "deno task compile without DENORT_BIN: builds where the runtime downloads, else says why",
  ignore: denort !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "compile-offline-" });
    const output = `${dir}/elastic-ingest`;
    const result = await runDeno(
      ["run", "-A", `${REPO_ROOT}scripts/compile.ts`, "--no-check", "--output", output],
      { timeoutMs: 600_000 },
    );
    if (result.code === 0) {
      assert.ok((await Deno.stat(output)).isFile, "the download worked: the executable exists");
    } else {
      assert.equal(result.code, 1);
      assert.match(result.stderr, /deno compile needs Deno's "denort" runtime/);
      assert.match(result.stderr, /DENORT_BIN=\/path\/to\/denort deno task compile/);
      assert.match(result.stderr, /deno task bundle/);
    }
    await Deno.remove(dir, { recursive: true });
  },
});
