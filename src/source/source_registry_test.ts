import assert from "node:assert/strict";
import { DEFAULT_SOURCES } from "../config/defaults.ts";
import { FatalError } from "../errors/mod.ts";
import { createSource } from "./create_source.ts";
import { standaloneContext } from "./base_data_source.ts";
import { featuresOf } from "./features.ts";
import { splitDocItem, splitIncrementalItem } from "./items.ts";
import {
  parseFqn,
  REPOSITORY_ROOT,
  resolveModuleSpecifier,
  sourceClassProblem,
  SourceLoadError,
  SourceRegistry,
} from "./source_registry.ts";

const FIXTURES = decodeURIComponent(
  new URL("../../tests/fixtures/source_loading", import.meta.url).pathname,
);
const TESTS = decodeURIComponent(new URL("../../tests", import.meta.url).pathname);

async function loadError(registry: SourceRegistry, type: string): Promise<SourceLoadError> {
  try {
    await registry.load(type);
  } catch (error) {
    assert.ok(error instanceof SourceLoadError, `expected SourceLoadError, got ${error}`);
    assert.ok(error instanceof FatalError);
    assert.ok(!error.message.includes("\n"), `one line expected: ${error.message}`);
    return error;
  }
  throw new Error(`loading ${type} should have failed`);
}

Deno.test("parseFqn splits at the last colon and checks the export name", () => {
  assert.deepEqual(parseFqn("./a.ts:A"), { module: "./a.ts", exportName: "A" });
  assert.deepEqual(parseFqn("npm:pkg@1.2.3/sub/path:default"), {
    module: "npm:pkg@1.2.3/sub/path",
    exportName: "default",
  });
  assert.deepEqual(parseFqn("https://h:8443/x/mod.ts:Source"), {
    module: "https://h:8443/x/mod.ts",
    exportName: "Source",
  });
  assert.equal(parseFqn("./a.ts"), undefined);
  assert.equal(parseFqn("https://h:8443/x/mod.ts"), undefined);
  assert.equal(parseFqn(":A"), undefined);
});

Deno.test("resolveModuleSpecifier: paths become file URLs, specifiers pass through", () => {
  assert.equal(resolveModuleSpecifier("./x/mod.ts", "/etc/conn"), "file:///etc/conn/x/mod.ts");
  assert.equal(resolveModuleSpecifier("../mod.ts", "/etc/conn/"), "file:///etc/mod.ts");
  assert.equal(resolveModuleSpecifier("mod.ts", "/etc/conn"), "file:///etc/conn/mod.ts");
  assert.equal(resolveModuleSpecifier("/opt/s.ts", "/etc/conn"), "file:///opt/s.ts");
  assert.equal(resolveModuleSpecifier("./a b.ts", "/d"), "file:///d/a%20b.ts");
  assert.equal(resolveModuleSpecifier("file:///opt/s.ts", "/x"), "file:///opt/s.ts");
  assert.equal(resolveModuleSpecifier("https://h/s.ts", "/x"), "https://h/s.ts");
  assert.equal(resolveModuleSpecifier(`jsr:@scope/pkg`, "/x"), `jsr:@scope/pkg`);
  assert.equal(
    resolveModuleSpecifier("./s.ts", new URL("file:///base/dir")),
    "file:///base/dir/s.ts",
  );
});

Deno.test("sourceClassProblem checks the contract structurally", () => {
  class Good {
    static getDefaultConfiguration() {
      return {};
    }
    async ping() {}
    async *getDocs() {}
  }
  assert.equal(sourceClassProblem(Good, "Good"), undefined);
  assert.match(sourceClassProblem(42, "n")!, /export "n" is not a class \(it is a number\)/);
  assert.match(sourceClassProblem(null, "n")!, /is not a class \(it is null\)/);
  assert.match(
    sourceClassProblem(() => 1, "f")!,
    /is not a class \(it is an arrow or async function\)/,
  );
  assert.match(sourceClassProblem({}, "o")!, /is not a class \(it is an object\)/);
  assert.equal(
    sourceClassProblem(class {}, "Empty"),
    'export "Empty" is not a data source class: it lacks static getDefaultConfiguration(), getDocs(), ping()',
  );
  // Declaring document-level security takes getAccessControl(); a DLS class with it is fine.
  class DeclaresDls extends Good {
    static features = { documentLevelSecurity: true };
  }
  assert.equal(
    sourceClassProblem(DeclaresDls, "DeclaresDls"),
    'export "DeclaresDls" declares features.documentLevelSecurity but lacks getAccessControl()',
  );
  class ServesDls extends DeclaresDls {
    async *getAccessControl() {}
  }
  assert.equal(sourceClassProblem(ServesDls, "ServesDls"), undefined);
  // A plain function (like an npm package's default export) is no source either.
  assert.match(
    sourceClassProblem(function isNumber() {}, "default")!,
    /is not a data source class/,
  );
});

Deno.test("relative paths resolve against the config directory; absolute and file: URLs work", async () => {
  const registry = new SourceRegistry({
    relative: "./fixtures/source_loading/sources.ts:PlainSource",
    absolute: `${FIXTURES}/sources.ts:DerivedSource`,
    url: `${
      new URL("../../tests/fixtures/source_loading/sources.ts", import.meta.url).href
    }:PlainSource`,
  }, { baseDir: TESTS });
  const relative = await registry.load("relative");
  const absolute = await registry.load("absolute");
  const url = await registry.load("url");
  assert.equal(relative.name, "PlainSource");
  assert.equal(absolute.name, "DerivedSource");
  assert.equal(url, relative);
  // One evaluation of the module for the three loads.
  assert.equal((globalThis as { sourceFixtureEvaluations?: number }).sourceFixtureEvaluations, 1);
  const source = createSource(relative, { greeting: { value: "hi" } }, standaloneContext());
  const docs = [];
  for await (const item of source.getDocs()) docs.push(splitDocItem(item)[0]);
  assert.deepEqual(docs, [{ _id: "1", greeting: "hi" }]);
  assert.deepEqual(registry.serviceTypes(), ["absolute", "relative", "url"]);
  assert.equal(registry.fqn("relative"), "./fixtures/source_loading/sources.ts:PlainSource");
  assert.equal(registry.specifier("relative"), `file://${FIXTURES}/sources.ts`);
});

Deno.test("shipped defaults resolve against the repository root whatever the config directory", async () => {
  const registry = new SourceRegistry({ ...DEFAULT_SOURCES }, { baseDir: "/nonexistent/config" });
  assert.equal(registry.specifier("dir"), new URL("sources/dir/mod.ts", REPOSITORY_ROOT).href);
  const cls = await registry.load("dir");
  assert.equal(cls.name, "DirectoryDataSource");
  assert.equal(featuresOf(cls).incremental_sync?.enabled, true);
  // The same path written by the user in another config resolves against that config's directory.
  const custom = new SourceRegistry({ mydir: DEFAULT_SOURCES.dir! }, {
    baseDir: "/nonexistent/config",
  });
  assert.equal(custom.specifier("mydir"), "file:///nonexistent/config/sources/dir/mod.ts");
});

Deno.test("every failure is one line naming the service type, the FQN and the problem", async () => {
  const registry = new SourceRegistry({
    nofile: "./fixtures/source_loading/missing.ts:Missing",
    noexport: "./fixtures/source_loading/sources.ts:Nope",
    notclass: "./fixtures/source_loading/sources.ts:notAClass",
    arrow: "./fixtures/source_loading/sources.ts:arrowFunction",
    noping: "./fixtures/source_loading/sources.ts:NoPingSource",
    incomplete: "./fixtures/source_loading/sources.ts:IncompleteSource",
    broken: "./fixtures/source_loading/broken.ts:Anything",
    malformed: "./fixtures/source_loading/sources.ts",
  }, { baseDir: TESTS });
  const fixtures = `file://${FIXTURES}`;
  const cases: Record<string, string> = {
    unknown:
      'Cannot load source "unknown": unknown service type, add it to "sources" in the config (known: arrow, broken, incomplete, malformed, noexport, nofile, noping, notclass)',
    nofile:
      `Cannot load source "nofile" from ./fixtures/source_loading/missing.ts:Missing: module not found: ${fixtures}/missing.ts`,
    noexport:
      'Cannot load source "noexport" from ./fixtures/source_loading/sources.ts:Nope: module has no export "Nope" (exports: DerivedSource, IncompleteSource, NoPingSource, PlainSource, arrowFunction, notAClass)',
    notclass:
      'Cannot load source "notclass" from ./fixtures/source_loading/sources.ts:notAClass: export "notAClass" is not a class (it is a number)',
    arrow:
      'Cannot load source "arrow" from ./fixtures/source_loading/sources.ts:arrowFunction: export "arrowFunction" is not a class (it is an arrow or async function)',
    noping:
      'Cannot load source "noping" from ./fixtures/source_loading/sources.ts:NoPingSource: export "NoPingSource" is not a data source class: it lacks ping()',
    incomplete:
      'Cannot load source "incomplete" from ./fixtures/source_loading/sources.ts:IncompleteSource: export "IncompleteSource" is not a data source class: it lacks static getDefaultConfiguration(), getDocs()',
    broken:
      `Cannot load source "broken" from ./fixtures/source_loading/broken.ts:Anything: module ${fixtures}/broken.ts failed to load: Error: boom while evaluating the module`,
    malformed:
      'Cannot load source "malformed" from ./fixtures/source_loading/sources.ts: expected MODULE:ClassName',
  };
  for (const [type, message] of Object.entries(cases)) {
    const error = await loadError(registry, type);
    assert.equal(error.message, message);
    assert.equal(error.serviceType, type);
  }
});

Deno.test("createSource refuses instances that break the contract", () => {
  class Odd {
    static getDefaultConfiguration() {
      return {};
    }
    constructor() {
      return {} as Odd;
    }
    async ping() {}
    async *getDocs() {}
  }
  assert.throws(
    () => createSource(Odd as never, {}, standaloneContext()),
    /Source Odd is not usable: its instances lack ping\(\), getDocs\(\)/,
  );
});

Deno.test("splitDocItem and splitIncrementalItem accept every yield form", () => {
  const lazy = () => Promise.resolve({ _attachment: "" });
  assert.deepEqual(splitDocItem({ _id: 1 }), [{ _id: 1 }, undefined]);
  assert.deepEqual(splitDocItem([{ _id: 1 }, null]), [{ _id: 1 }, undefined]);
  assert.deepEqual(splitDocItem([{ _id: 1 }, lazy]), [{ _id: 1 }, lazy]);
  assert.throws(
    () => splitDocItem([{ _id: 1 }, "x" as never]),
    /lazy download that is not a function/,
  );
  assert.throws(() => splitDocItem("x" as never), /yielded string instead of a document/);
  assert.deepEqual(splitIncrementalItem([{ _id: 1 }, lazy, "update"]), [
    { _id: 1 },
    lazy,
    "update",
  ]);
  assert.deepEqual(splitIncrementalItem([{ _id: 1 }, undefined, "delete"]), [
    { _id: 1 },
    undefined,
    "delete",
  ]);
  assert.deepEqual(splitIncrementalItem([{ _id: 1 }, "delete"] as never), [
    { _id: 1 },
    undefined,
    "delete",
  ]);
  assert.deepEqual(splitIncrementalItem([{ _id: 1 }, lazy]), [{ _id: 1 }, lazy, "index"]);
  assert.deepEqual(splitIncrementalItem({ _id: 1 }), [{ _id: 1 }, undefined, "index"]);
  assert.throws(
    () => splitIncrementalItem([{ _id: 1 }, null, "upsert" as never]),
    /unknown operation "upsert"/,
  );
});

Deno.test("featuresOf builds Elastic's features object", () => {
  assert.deepEqual(featuresOf({}), {
    sync_rules: { basic: { enabled: true }, advanced: { enabled: false } },
    document_level_security: { enabled: false },
    incremental_sync: { enabled: false },
    native_connector_api_keys: { enabled: false },
  });
  assert.deepEqual(
    featuresOf({
      features: { basicRules: false, advancedRules: true, documentLevelSecurity: true },
    }).sync_rules,
    { basic: { enabled: false }, advanced: { enabled: true } },
  );
});

Deno.test("isBuiltin: a shipped service type with its shipped FQN only", () => {
  const registry = new SourceRegistry({
    ...DEFAULT_SOURCES,
    s3: "./my_s3.ts:S3DataSource",
    mydir: DEFAULT_SOURCES.dir!,
  }, { baseDir: "/etc/connectors" });
  assert.equal(registry.isBuiltin("dir"), true);
  assert.equal(registry.isBuiltin("mongodb"), true);
  // Replaced, or the shipped path under another name: the user's module, resolved as theirs.
  assert.equal(registry.isBuiltin("s3"), false);
  assert.equal(registry.isBuiltin("mydir"), false);
  assert.equal(registry.isBuiltin("nope"), false);
});

Deno.test("isSandboxed: URL, npm: and jsr: modules run sandboxed; paths, file: and built-ins do not", () => {
  const registry = new SourceRegistry({
    ...DEFAULT_SOURCES,
    path: "./mine.ts:Mine",
    file: "file:///srv/mine.ts:Mine",
    https: "https://sources.example/m.ts:M",
    http: "http://127.0.0.1:8000/m.ts:M",
    npm: "npm:@acme/src@1.0.0:Src",
    jsr: "jsr:@acme/src@1.0.0:Src",
  }, { baseDir: "/etc/connectors", grants: { npm: { read: ["/srv"], env: [] } } });
  for (const type of ["dir", "mongodb", "s3", "path", "file"]) {
    assert.equal(registry.isSandboxed(type), false, type);
  }
  for (const type of ["https", "http", "npm", "jsr"]) {
    assert.equal(registry.isSandboxed(type), true, type);
  }
  assert.deepEqual(registry.grant("npm")?.read, ["/srv"]);
  assert.equal(registry.grant("https"), undefined);
});

Deno.test("a sandboxed source is refused when the process cannot make a sandbox", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("export class M {}", { headers: { "content-type": "application/javascript" } }),
  );
  try {
    const fqn = `http://127.0.0.1:${server.addr.port}/m.js:M`;
    const registry = new SourceRegistry({ remote: fqn }, {
      baseDir: "/",
      sandboxSupport: () => "it runs sandboxed, which needs Deno's --unstable-worker-options flag",
    });
    const error = await loadError(registry, "remote");
    assert.equal(
      error.message,
      `Cannot load source "remote" from ${fqn}: it runs sandboxed, which needs Deno's --unstable-worker-options flag`,
    );
  } finally {
    await server.shutdown();
  }
});
