import assert from "node:assert/strict";
import { parseTestArgs } from "./test.ts";

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
