import assert from "node:assert/strict";
import {
  forgetState,
  privateStateDir,
  readState,
  stateDir,
  stateFile,
  withStateDir,
  writeState,
} from "./_state.ts";

Deno.test("withStateDir: sets and restores CONNECTORS_STACK_DIR", async () => {
  const before = Deno.env.get("CONNECTORS_STACK_DIR");
  const seen = await withStateDir("/tmp/some-stack", () => Promise.resolve(stateDir()));
  assert.equal(seen, "/tmp/some-stack");
  assert.equal(Deno.env.get("CONNECTORS_STACK_DIR"), before);
});

Deno.test("privateStateDir: below runs/, named after this process", () => {
  const dir = privateStateDir("unit test");
  try {
    assert.ok(dir.endsWith(`/runs/${Deno.pid}-unit-test`), dir);
    assert.ok(Deno.statSync(dir).isDirectory);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("state files: written, read, pid forgotten, then removed with the data", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await withStateDir(dir, () => {
      assert.deepEqual(readState("es-secure"), {});
      writeState("es-secure", { port: 25000, pid: 42, url: "https://127.0.0.1:25000" });
      assert.equal(stateFile("es-secure"), `${dir}/es-secure.json`);
      assert.equal(readState("es-secure").pid, 42);
      Deno.mkdirSync(`${dir}/es-secure`);
      forgetState("es-secure", `${dir}/es-secure`, true);
      assert.deepEqual(readState("es-secure"), { port: 25000, url: "https://127.0.0.1:25000" });
      forgetState("es-secure", `${dir}/es-secure`, false);
      assert.deepEqual(readState("es-secure"), {});
      assert.throws(() => Deno.statSync(`${dir}/es-secure`), Deno.errors.NotFound);
      return Promise.resolve();
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
