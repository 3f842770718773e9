import assert from "node:assert/strict";
import { isAlive, isPortFree, pickFreePort, run, traversableByOthers } from "./_process.ts";

Deno.test("traversableByOthers: a 0700 parent blocks, a missing folder does not", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.chmodSync(dir, 0o755);
    assert.equal(traversableByOthers(`${dir}/missing/deeper`), traversableByOthers(dir));
    Deno.chmodSync(dir, 0o700);
    assert.equal(traversableByOthers(`${dir}/missing`), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("pickFreePort: a free loopback port below the ephemeral range", () => {
  const port = pickFreePort();
  assert.ok(port >= 20000 && port < 32000);
  assert.ok(isPortFree(port));
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    assert.equal(isPortFree(port), false);
  } finally {
    listener.close();
  }
});

Deno.test("isAlive: this process is, with a matching command line", () => {
  assert.ok(isAlive(Deno.pid));
  assert.ok(isAlive(Deno.pid, "deno"));
  assert.equal(isAlive(Deno.pid, "no-such-command-line"), false);
});

Deno.test("run: output, exit code, standard input, and 127 for a missing command", async () => {
  const cat = await run("/bin/sh", ["-c", "cat; exit 3"], { stdin: "hello" });
  assert.deepEqual(cat, { code: 3, stdout: "hello", stderr: "" });
  const missing = await run("no-such-command-connectors-deno", []);
  assert.equal(missing.code, 127);
});
