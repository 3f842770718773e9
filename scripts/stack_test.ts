import assert from "node:assert/strict";
import {
  isAlive,
  isPortFree,
  parseJavaRelease,
  pickFreePort,
  pickJdk,
  privateStateDir,
  stateDir,
  traversableByOthers,
  withStateDir,
} from "./stack.ts";

Deno.test("parseJavaRelease: feature version from a JDK release file", () => {
  assert.equal(parseJavaRelease('IMPLEMENTOR="x"\nJAVA_VERSION="25.0.3"\n'), 25);
  assert.equal(parseJavaRelease('JAVA_VERSION="17.0.15"'), 17);
  assert.equal(parseJavaRelease('JAVA_VERSION="1.8.0_402"'), 8);
  assert.equal(parseJavaRelease("JAVA_VERSION=21"), 21);
  assert.equal(parseJavaRelease('JAVA_VERSION_DATE="2025-04-15"'), undefined);
});

Deno.test("pickJdk: the highest feature version at or above the minimum", () => {
  const jdks = [
    { home: "/j/17", major: 17 },
    { home: "/j/25", major: 25 },
    { home: "/j/21", major: 21 },
  ];
  assert.equal(pickJdk(jdks)?.home, "/j/25");
  assert.equal(pickJdk(jdks.filter((j) => j.major < 25))?.home, "/j/21");
  assert.equal(pickJdk([{ home: "/j/17", major: 17 }]), undefined);
});

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
