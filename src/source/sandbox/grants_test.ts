import assert from "node:assert/strict";
import { classifyError, FatalError, RetriableError, SkippableError } from "../../errors/mod.ts";
import {
  describeGrant,
  importHosts,
  integrityProblem,
  isLoopbackHost,
  isSandboxedSpecifier,
  moduleUrlProblem,
  parseSourceEntry,
  SourceEntryError,
  workerPermissions,
} from "./grants.ts";
import { decodeItem, refusalMessage, sandboxError, standInFor } from "./protocol.ts";
import { sandboxSupportProblem } from "./support.ts";

function entryError(value: unknown): { path: readonly (string | number)[]; message: string } {
  try {
    parseSourceEntry(value);
  } catch (error) {
    assert.ok(error instanceof SourceEntryError, String(error));
    return { path: error.path, message: error.message };
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

Deno.test("which modules run sandboxed, and plain http only from loopback", () => {
  for (const s of ["https://h/m.ts", "http://127.0.0.1:8000/m.ts", "npm:p@1", "jsr:@s/p"]) {
    assert.ok(isSandboxedSpecifier(s), s);
  }
  for (const s of ["file:///srv/m.ts", "/srv/m.ts", "./m.ts", "node:fs"]) {
    assert.ok(!isSandboxedSpecifier(s), s);
  }
  assert.ok(isLoopbackHost("localhost") && isLoopbackHost("127.1.2.3") && isLoopbackHost("[::1]"));
  assert.ok(!isLoopbackHost("127.0.0.1.example.com") && !isLoopbackHost("192.168.1.1"));
  assert.equal(moduleUrlProblem("https://sources.example/m.ts"), undefined);
  assert.equal(moduleUrlProblem("http://localhost:8000/m.ts"), undefined);
  assert.match(moduleUrlProblem("http://sources.example/m.ts")!, /loopback hosts only/);
  assert.match(entryError("http://10.0.0.1/m.ts:S").message, /^is refused: plain http:/);
});

Deno.test("the extended entry: each grant checked, the plain form grants nothing", () => {
  assert.deepEqual(parseSourceEntry("npm:p@1:S"), { fqn: "npm:p@1:S" });
  const { fqn, grant } = parseSourceEntry({
    module: "https://s.example/m.ts:S",
    net: ["api.example:443", "10.0.0.5", "[::1]:8080"],
    read: ["/srv/data"],
    env: ["TOKEN"],
    import: ["jsr.io"],
    integrity: `sha384-${btoa("x".repeat(48))}`,
  });
  assert.equal(fqn, "https://s.example/m.ts:S");
  assert.deepEqual(grant?.net, ["api.example:443", "10.0.0.5", "[::1]:8080"]);
  assert.deepEqual([grant?.read, grant?.env, grant?.import], [["/srv/data"], ["TOKEN"], [
    "jsr.io",
  ]]);
  const cases: [unknown, (string | number)[], RegExp][] = [
    [{ module: "https://s/m.ts:S", nett: [] }, ["nett"], /is not a key/],
    [{ module: "https://s/m.ts:S", net: "a" }, ["net"], /must be a list/],
    [{ module: "https://s/m.ts:S", net: ["https://a"] }, ["net", 0], /host or host:port/],
    [{ module: "https://s/m.ts:S", net: ["a:70000"] }, ["net", 0], /out of 1-65535/],
    [{ module: "https://s/m.ts:S", read: ["data"] }, ["read", 0], /absolute path/],
    [{ module: "https://s/m.ts:S", env: ["A-B"] }, ["env", 0], /variable name/],
    [{ module: "https://s/m.ts:S", integrity: "md5-x" }, ["integrity"], /sha256-/],
    [{ module: "npm:p@1:S", integrity: `sha256-${btoa("x".repeat(32))}` }, ["integrity"], /https/],
    [{ module: "./local.ts:S", read: ["/x"] }, ["read"], /sandboxed modules only/],
    [{ net: [] }, ["module"], /is required/],
    [{ module: "nocolon" }, ["module"], /MODULE:ClassName/],
    [42, [], /MODULE:ClassName or a mapping/],
  ];
  for (const [value, path, message] of cases) {
    const error = entryError(value);
    assert.deepEqual(error.path, path, JSON.stringify(value));
    assert.match(error.message, message, JSON.stringify(value));
  }
  assert.equal(integrityProblem(`sha512-${btoa("x".repeat(64))}`), undefined);
  assert.ok(integrityProblem(`sha512-${btoa("x".repeat(63))}`), "a digest of the wrong length");
});

Deno.test("worker permissions: granted items only; never run, write, ffi or sys", () => {
  const plain = workerPermissions("https://s.example:8443/m.ts");
  assert.deepEqual(plain, {
    net: "inherit",
    read: false,
    env: false,
    import: ["s.example:8443"],
    run: false,
    write: false,
    ffi: false,
    sys: false,
  });
  const granted = workerPermissions("npm:p@1", { net: ["api:443"], read: ["/srv"], env: ["T"] });
  assert.deepEqual(
    [granted.net, granted.read, granted.env, granted.import],
    [["api:443"], ["/srv"], ["T"], false],
  );
  assert.equal(workerPermissions("npm:p@1", { net: [], read: [], env: [] }).net, false);
  assert.deepEqual(importHosts("jsr:@s/p@1"), ["jsr.io"]);
  assert.deepEqual(importHosts("https://a/m.ts", { read: [], env: [], import: ["b"] }), ["b"]);
  assert.equal(
    describeGrant("npm:p@1", { net: [], read: ["/srv"], env: [] }),
    "sandboxed: net none; read /srv; env none; import none",
  );
});

Deno.test("errors from a sandbox keep their kind; refusals name the key that grants more", () => {
  const cases = [
    [{ kind: "fatal", name: "FatalError", message: "f" }, FatalError, "fatal"],
    [{ kind: "retriable", name: "Later", message: "r" }, RetriableError, "retriable"],
    [{ kind: "skippable", name: "SkippableError", message: "s" }, SkippableError, "skippable"],
  ] as const;
  for (const [remote, Class, kind] of cases) {
    const error = sandboxError(remote, "probe");
    assert.ok(error instanceof Class, remote.name);
    assert.equal(error.name, remote.name);
    assert.equal(classifyError(error), kind);
  }
  assert.equal(
    classifyError(sandboxError({ name: "ConnectionRefused", message: "x" }, "p")),
    "retriable",
  );
  assert.ok(!(sandboxError({ name: "TypeError", message: "x" }, "p") instanceof FatalError));
  assert.equal(sandboxError({ name: "E", message: "x".repeat(10_000) }, "p").message.length, 4096);

  const denied = (access: string, target: string) =>
    `Requires ${access} access to "${target}", run again with the --allow-${access} flag`;
  assert.equal(
    refusalMessage(denied("env", "CONNECTORS_ES_PASSWORD"), "probe"),
    'permission to read the environment variable CONNECTORS_ES_PASSWORD refused by the sandbox of source "probe" (not granted: list it under sources.probe.env to allow it)',
  );
  assert.match(refusalMessage(denied("run", "id"), "probe")!, /may never run programs/);
  assert.match(refusalMessage(denied("write", "/tmp/x"), "probe")!, /may never write files/);
  assert.match(
    refusalMessage(denied("net", "127.0.0.1:9"), "probe", { net: ["a:1"], read: [], env: [] })!,
    /not granted: list it under sources\.probe\.net/,
  );
  assert.match(refusalMessage(denied("net", "h:1"), "probe")!, /add it to --allow-net/);
  assert.equal(refusalMessage("other", "probe"), undefined);
  const refused = sandboxError(
    { name: "NotCapable", message: denied("read", "/etc/hostname") },
    "p",
  );
  assert.match(refused.message, /^permission to read \/etc\/hostname refused by the sandbox/);
});

Deno.test("streamed items decode back to documents, pairs and incremental triples", () => {
  const lazy = (ref: number) => () => Promise.resolve({ ref });
  assert.deepEqual(decodeItem({ _id: "a" }, "getDocs", lazy), { _id: "a" });
  const [doc, , op] = decodeItem([{ _id: "b" }, 3, "delete"], "getDocsIncrementally", lazy) as [
    unknown,
    unknown,
    unknown,
  ];
  assert.deepEqual([doc, op], [{ _id: "b" }, "delete"]);
  const user = [{ _id: "u" }];
  assert.equal(decodeItem(user, "getAccessControl", lazy), user);
  assert.equal(standInFor({ found: true, exports: [], kind: "other", type: "null" }), null);
});

Deno.test("sandbox support: --unstable-worker-options, and --no-prompt in a terminal", () => {
  const facts = { standalone: false, interactive: false, noPromptEnv: false };
  const run = (...flags: string[]) => ["deno", "run", ...flags, "main.ts", "--action", "poll"];
  assert.match(sandboxSupportProblem({ ...facts, commandLine: run("-A") })!, /unstable-worker/);
  assert.equal(
    sandboxSupportProblem({ ...facts, commandLine: run("--unstable-worker-options") }),
    undefined,
  );
  const interactive = { ...facts, interactive: true };
  assert.match(
    sandboxSupportProblem({ ...interactive, commandLine: run("--unstable-worker-options") })!,
    /--no-prompt/,
  );
  assert.equal(
    sandboxSupportProblem({
      ...interactive,
      noPromptEnv: true,
      commandLine: run("--unstable-worker-options"),
    }),
    undefined,
  );
  // The script's own arguments do not count.
  const late = ["deno", "run", "-A", "main.ts", "--unstable-worker-options"];
  assert.ok(sandboxSupportProblem({ ...facts, commandLine: late }));
  // An executable has its flags baked in; an unreadable command line is not a refusal.
  assert.equal(
    sandboxSupportProblem({ ...facts, standalone: true, commandLine: run() }),
    undefined,
  );
  assert.equal(sandboxSupportProblem({ ...facts, commandLine: undefined }), undefined);
});
