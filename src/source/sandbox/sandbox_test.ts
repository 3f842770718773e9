/**
 * The sandbox protocol end to end, in-process: the worker runtime (run from its source text, so
 * that it is proven self-contained) behind a fake port, a module served over loopback http and
 * pinned by integrity (so it runs from a `data:` URL and touches no lockfile). Deno's own
 * enforcement of the worker permissions is tested with real workers in
 * tests/source_sandbox_test.ts.
 */
import assert from "node:assert/strict";
import { classifyError, FatalError, SkippableError } from "../../errors/mod.ts";
import { createLogger, type LogRecord } from "../../log/mod.ts";
import { createSource } from "../create_source.ts";
import { sourceClassProblem } from "../source_registry.ts";
import { splitDocItem } from "../items.ts";
import type { SandboxPort, SpawnSandbox } from "./connection.ts";
import type { SandboxPermissions } from "./grants.ts";
import { loadSandboxedSource } from "./load.ts";
import { integrityOf } from "./module_fetch.ts";
import { sandboxRuntime } from "./_runtime.ts";

const MODULE = `
class Kinded extends Error {
  constructor(message, kind) { super(message); this.kind = kind; this.name = kind + "Thing"; }
}
export const notAClass = "text";
export class NoPing { static getDefaultConfiguration() { return {}; } async *getDocs() {} }
export class Probe {
  static displayName = "Probe";
  static features = { incrementalSync: true };
  static getDefaultConfiguration() { return { n: { label: "N", type: "int", value: 2 } }; }
  constructor(configuration, context) {
    if (configuration.n.value < 0) throw new RangeError("n must not be negative");
    this.n = configuration.n.value;
    this.context = context;
    this.done = 0;
  }
  async ping() {
    this.context.logger.child({ step: "ping" }).warning("pinging", { n: this.n });
    this.context.logger.debug("not sent: DEBUG is off");
    if (this.n === 13) throw new Kinded("unlucky", "retriable");
    if (this.n === 14) { const e = new Error("refused"); e.name = "ConnectionRefused"; throw e; }
  }
  async *getDocs() {
    try {
      for (let i = 0; i < this.n; i++) {
        if (i === 2 && this.n === 5) throw new TypeError("broken at 2");
        if (this.n === 77) { yield { _id: "f", call: () => 1 }; continue; }
        yield [{ _id: "d" + i, i }, async (doit) => {
          if (i === 1) throw new Kinded("cannot download d1", "skippable");
          if (i === 3) throw new Kinded("stop everything", "fatal");
          return doit ? { body: "content " + i } : undefined;
        }];
        this.done = i + 1;
      }
    } finally {
      this.context.logger.info("getDocs finished after " + this.done);
    }
  }
  async *getDocsIncrementally(cursor) { yield [{ _id: "x" }, null, "delete"]; yield [{ _id: "y", cursor }, null, "index"]; }
  async changed() { return this.context.signal.aborted ? "aborted" : false; }
  syncCursor() { return { done: this.done }; }
  async close() { this.context.logger.info("closed"); }
}
`;

interface Harness {
  spawn: SpawnSandbox;
  permissions: SandboxPermissions[];
  ports: { terminated: boolean }[];
}

/** Fake workers: the runtime from its text, messages structured-cloned across. */
function harness(): Harness {
  const runtime = new Function(`return (${sandboxRuntime.toString()});`)() as typeof sandboxRuntime;
  const h: Harness = { spawn: () => undefined as never, permissions: [], ports: [] };
  h.spawn = (permissions) => {
    h.permissions.push(permissions);
    const state = { terminated: false };
    h.ports.push(state);
    const scope = {
      onmessage: null as ((event: { data: unknown }) => void) | null,
      postMessage(message: unknown) {
        const data = structuredClone(message);
        queueMicrotask(() => !state.terminated && port.onmessage?.({ data } as MessageEvent));
      },
      addEventListener() {},
    };
    const port: SandboxPort = {
      onmessage: null,
      onerror: null,
      postMessage(message) {
        const data = structuredClone(message);
        queueMicrotask(() => !state.terminated && scope.onmessage?.({ data }));
      },
      terminate: () => (state.terminated = true),
    };
    runtime(scope);
    return port;
  };
  return h;
}

async function withServer<T>(fn: (url: string, integrity: string) => Promise<T>): Promise<T> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(MODULE, { headers: { "content-type": "application/javascript" } }),
  );
  try {
    const integrity = await integrityOf(new TextEncoder().encode(MODULE), "sha256");
    return await fn(`http://127.0.0.1:${server.addr.port}/probe.js`, integrity);
  } finally {
    await server.shutdown();
  }
}

function load(url: string, integrity: string, exportName: string, h = harness()) {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "INFO", sink: (r) => records.push(r) });
  const pending = loadSandboxedSource({
    serviceType: "probe",
    exportName,
    specifier: url,
    grant: { read: [], env: [], integrity },
    logger,
    importProblem: (e) => String(e),
    classProblem: sourceClassProblem,
    spawn: h.spawn,
    support: () => undefined,
  });
  return { pending, records, logger, h };
}

Deno.test({
  name: "a sandboxed class: statics, calls, batched streams with downloads, cursor, close",
  sanitizeResources: false,
  fn: () =>
    withServer(async (url, integrity) => {
      const { pending, records, logger, h } = load(url, integrity, "Probe");
      const cls = await pending;
      assert.equal(h.ports[0]?.terminated, true, "the inspecting worker is stopped");
      assert.deepEqual([cls.name, cls.displayName, cls.features], ["Probe", "Probe", {
        incrementalSync: true,
      }]);
      const schema = cls.getDefaultConfiguration();
      (schema.n as { value: unknown }).value = 99;
      assert.equal(cls.getDefaultConfiguration().n?.value, 2, "each call gets a copy");
      assert.equal(h.permissions[0]?.run, false);

      const signal = new AbortController();
      const context = { logger, maxFileSize: 1, signal: signal.signal };
      const source = createSource(cls, { n: { value: 600 } }, context);
      await source.ping();
      assert.ok(records.some((r) => r.message === "pinging" && r.fields?.step === "ping"));
      assert.ok(!records.some((r) => r.message.includes("DEBUG is off")));
      let count = 0;
      const errors: Error[] = [];
      for await (const item of source.getDocs()) {
        const [doc, download] = splitDocItem(item);
        count++;
        try {
          const data = await download!(true);
          if (doc._id === "d5") assert.deepEqual(data, { body: "content 5" });
        } catch (error) {
          errors.push(error as Error);
        }
      }
      assert.equal(count, 600, "600 documents across ten batches");
      assert.ok(errors[0] instanceof SkippableError && classifyError(errors[0]) === "skippable");
      assert.ok(errors[1] instanceof FatalError, "a fatal download error stays fatal");
      assert.deepEqual(source.syncCursor?.(), { done: 600 });
      const incremental = [];
      for await (const item of source.getDocsIncrementally!({ at: 1 })) incremental.push(item);
      assert.deepEqual(incremental.map((i) => [i[0], i[2]]), [[{ _id: "x" }, "delete"], [
        { _id: "y", cursor: { at: 1 } },
        "index",
      ]]);
      signal.abort(new Error("job canceled"));
      assert.equal(await source.changed!(), "aborted", "the signal crosses over");
      await source.close!();
      assert.ok(records.some((r) => r.message === "closed"), "the source's own close() ran");
      assert.equal(h.ports[1]?.terminated, true, "the instance's worker is stopped");
      await assert.rejects(source.ping(), /was closed/);
    }),
});

Deno.test({
  name: "a sandboxed stream: early stop, errors after yielded items, constructor errors",
  sanitizeResources: false,
  fn: () =>
    withServer(async (url, integrity) => {
      const { pending, records, logger } = load(url, integrity, "Probe");
      const cls = await pending;
      const context = { logger, maxFileSize: 1, signal: new AbortController().signal };
      const early = createSource(cls, { n: { value: 1000 } }, context);
      let seen = 0;
      for await (const _ of early.getDocs()) if (++seen === 3) break;
      await early.ping(); // the worker handled the stop before this answer
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(records.some((r) => /getDocs finished after \d+/.test(r.message)));
      await early.close!();

      const failing = createSource(cls, { n: { value: 5 } }, context);
      const ids: unknown[] = [];
      await assert.rejects(async () => {
        for await (const item of failing.getDocs()) ids.push(splitDocItem(item)[0]._id);
      }, (error: Error) => error.name === "TypeError" && classifyError(error) === "fatal");
      assert.deepEqual(ids, ["d0", "d1"], "what came before the failure is delivered");
      await failing.close!();

      const retriable = createSource(cls, { n: { value: 13 } }, context);
      await assert.rejects(retriable.ping(), (e: Error) => classifyError(e) === "retriable");
      await retriable.close!();
      const refused = createSource(cls, { n: { value: 14 } }, context);
      await assert.rejects(refused.ping(), (e: Error) => classifyError(e) === "retriable");
      await refused.close!();

      const uncloneable = createSource(cls, { n: { value: 77 } }, context);
      await assert.rejects(async () => {
        for await (const _ of uncloneable.getDocs()) { /* nothing arrives */ }
      }, /DataCloneError|a document cannot leave the sandbox/);
      await uncloneable.close!();

      const broken = createSource(cls, { n: { value: -1 } }, context);
      await assert.rejects(broken.ping(), /RangeError|n must not be negative/);
      await broken.close!();
    }),
});

Deno.test({
  name: "load problems read as for a module loaded in the service; integrity is checked",
  sanitizeResources: false,
  fn: () =>
    withServer(async (url, integrity) => {
      const problem = (exportName: string, pin = integrity) =>
        load(url, pin, exportName).pending.then(() => "loaded", (e: Error) => e.message);
      assert.equal(
        await problem("notAClass"),
        'export "notAClass" is not a class (it is a string)',
      );
      assert.equal(
        await problem("NoPing"),
        'export "NoPing" is not a data source class: it lacks ping()',
      );
      assert.match(await problem("Nope"), /^module has no export "Nope" \(exports: .*Probe/);
      const wrong = await integrityOf(new TextEncoder().encode("other"), "sha256");
      assert.match(await problem("Probe", wrong), /^integrity mismatch for http:\/\/127\.0\.0\.1/);
    }),
});

Deno.test({
  name: "a pinned module runs from the verified bytes, not from a second fetch",
  sanitizeResources: false,
  fn: async () => {
    // The first answer is the pinned text; every later one would be a swapped module.
    let requests = 0;
    const swapped = "export class Probe { static getDefaultConfiguration() { return {}; } }";
    const relative = 'import "./helper.ts";\nexport class Probe {}\n';
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const body = new URL(request.url).pathname === "/relative.js"
        ? relative
        : requests++ === 0
        ? MODULE
        : swapped;
      return new Response(body, { headers: { "content-type": "application/javascript" } });
    });
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const integrity = await integrityOf(new TextEncoder().encode(MODULE), "sha256");
      const { pending, logger } = load(`${base}/probe.js`, integrity, "Probe");
      const cls = await pending;
      const source = createSource(cls, { n: { value: 3 } }, {
        logger,
        maxFileSize: 1,
        signal: new AbortController().signal,
      });
      let count = 0;
      for await (const _ of source.getDocs()) count++;
      await source.close!();
      assert.equal(count, 3, "the instance ran the pinned module too");
      assert.equal(cls.displayName, "Probe");
      assert.equal(requests, 1, "fetched once, at load");

      const pin = await integrityOf(new TextEncoder().encode(relative), "sha256");
      const problem = await load(`${base}/relative.js`, pin, "Probe").pending.then(
        () => "loaded",
        (e: Error) => e.message,
      );
      assert.match(problem, /relative imports do not resolve/);
    } finally {
      await server.shutdown();
    }
  },
});
