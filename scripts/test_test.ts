import assert from "node:assert/strict";
import { neededServices, parseTestArgs } from "./test.ts";

Deno.test("parseTestArgs: runner options, deno flags and paths", () => {
  assert.deepEqual(
    parseTestArgs(["--only", "unit", "--filter", "sync x", "tests/a_test.ts", "--fail-fast"]),
    {
      scope: "unit",
      keepServers: false,
      reuseStack: false,
      denoFlags: ["--filter", "sync x", "--fail-fast"],
      paths: ["tests/a_test.ts"],
    },
  );
  assert.deepEqual(parseTestArgs(["--only=integration", "--keep-servers", "--", "--x", "y"]), {
    scope: "integration",
    keepServers: true,
    reuseStack: false,
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
