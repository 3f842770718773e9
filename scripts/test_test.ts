import assert from "node:assert/strict";
import { ES8_TESTS, neededServices, parseTestArgs, phaseServices, planPhases } from "./test.ts";

Deno.test("parseTestArgs: runner options, deno flags and paths", () => {
  assert.deepEqual(
    parseTestArgs(["--only", "unit", "--filter", "sync x", "tests/a_test.ts", "--fail-fast"]),
    {
      scope: "unit",
      keepServers: false,
      reuseStack: false,
      noEs8: false,
      denoFlags: ["--filter", "sync x", "--fail-fast"],
      paths: ["tests/a_test.ts"],
    },
  );
  assert.deepEqual(parseTestArgs(["--only=integration", "--keep-servers", "--", "--x", "y"]), {
    scope: "integration",
    keepServers: true,
    reuseStack: false,
    noEs8: false,
    denoFlags: ["--x", "y"],
    paths: [],
  });
  assert.equal(parseTestArgs(["-h"]), "help");
  assert.throws(() => parseTestArgs(["--only", "everything"]), /--only takes/);
});

Deno.test("parseTestArgs: --reuse-stack", () => {
  const opts = parseTestArgs(["--reuse-stack", "tests/"]);
  assert.ok(opts !== "help" && opts.reuseStack);
});

Deno.test("neededServices: servers from the selected files", () => {
  // The markers are built, not written out: the runner reads this file too.
  const call = (name: string) => `${name}()`;
  const repo = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${repo}/tests`);
    Deno.mkdirSync(`${repo}/src`);
    const write = (path: string, text: string) => Deno.writeTextFileSync(`${repo}/${path}`, text);
    write("tests/_helpers.ts", `${call("mongoUrl")} ${call("esSecureUrl")}`);
    write("tests/plain_test.ts", "// any test file in tests/ gets Elasticsearch");
    write("tests/mongo_test.ts", call("mongoUrl"));
    write("tests/secure_test.ts", call("esSecureUrl"));
    write("tests/both_test.ts", `${call("esSecureUrl")} ${call("esUrl")}`);
    write("src/unit_test.ts", call("s3Url"));
    write("src/module.ts", call("mongoUrl"));
    assert.deepEqual(neededServices(["tests/plain_test.ts"], repo), ["es"]);
    assert.deepEqual(neededServices(["tests/mongo_test.ts"], repo), ["es", "mongo"]);
    assert.deepEqual(neededServices(["tests/secure_test.ts"], repo), ["es-secure"]);
    assert.deepEqual(neededServices(["tests/both_test.ts"], repo), ["es", "es-secure"]);
    assert.deepEqual(neededServices(["tests/_helpers.ts"], repo), []);
    assert.deepEqual(neededServices(["src/"], repo), ["s3"]);
    assert.deepEqual(neededServices(["tests/", "src/"], repo), ["es", "mongo", "s3", "es-secure"]);
  } finally {
    Deno.removeSync(repo, { recursive: true });
  }
});

Deno.test("parseTestArgs: --only es8 and --no-es8", () => {
  const es8 = parseTestArgs(["--only", "es8"]);
  assert.ok(es8 !== "help" && es8.scope === "es8" && !es8.noEs8);
  const no = parseTestArgs(["--no-es8", "--filter", "x"]);
  assert.ok(no !== "help" && no.scope === "all" && no.noEs8);
  assert.deepEqual(no.denoFlags, ["--filter", "x"]);
});

Deno.test("planPhases: the es8 phase follows the whole suite and tests/, not chosen paths", () => {
  const plan = (...argv: string[]) => {
    const opts = parseTestArgs(argv);
    assert.ok(opts !== "help");
    return planPhases(opts, ["src", "sources", "scripts", "tests"]);
  };
  assert.deepEqual(plan(), [
    { name: "main", paths: ["src/", "sources/", "scripts/", "tests/"], doc: true },
    { name: "es8", paths: [...ES8_TESTS], doc: false },
  ]);
  assert.deepEqual(plan("--only", "integration").map((p) => [p.name, p.paths[0]]), [
    ["main", "tests/"],
    ["es8", ES8_TESTS[0]],
  ]);
  assert.deepEqual(plan("--only", "unit").map((p) => p.name), ["main"]);
  assert.deepEqual(plan("--no-es8").map((p) => p.name), ["main"]);
  assert.deepEqual(plan("tests/cli_test.ts"), [
    { name: "main", paths: ["tests/cli_test.ts"], doc: true },
  ]);
  assert.deepEqual(plan("--only", "es8"), [{ name: "es8", paths: [...ES8_TESTS], doc: false }]);
  assert.deepEqual(plan("--only=es8", "tests/x_test.ts"), [
    { name: "es8", paths: ["tests/x_test.ts"], doc: false },
  ]);
});

Deno.test("ES8_TESTS: existing integration test files", () => {
  assert.ok(ES8_TESTS.length > 0);
  for (const file of ES8_TESTS) {
    assert.match(file, /^tests\/[a-z0-9_]+_test\.ts$/);
    assert.ok(Deno.statSync(new URL(`../${file}`, import.meta.url)).isFile, file);
  }
});

Deno.test("phaseServices: the es8 phase runs the 8.19 node in place of es", () => {
  const call = (name: string) => `${name}()`;
  const repo = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${repo}/tests`);
    const write = (path: string, text: string) => Deno.writeTextFileSync(`${repo}/${path}`, text);
    write("tests/plain_test.ts", "// any test file in tests/ gets Elasticsearch");
    write("tests/mongo_test.ts", call("mongoUrl"));
    const es8 = (paths: string[]) => phaseServices({ name: "es8", paths, doc: false }, "es8", repo);
    const main = (paths: string[]) =>
      phaseServices({ name: "main", paths, doc: true }, "all", repo);
    assert.deepEqual(es8(["tests/plain_test.ts"]), ["es8"]);
    assert.deepEqual(es8(["tests/mongo_test.ts"]), ["es8", "mongo"]);
    assert.deepEqual(main(["tests/plain_test.ts"]), ["es"]);
    assert.deepEqual(
      phaseServices({ name: "main", paths: ["tests/"], doc: true }, "unit", repo),
      [],
    );
  } finally {
    Deno.removeSync(repo, { recursive: true });
  }
});
