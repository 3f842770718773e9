import assert from "node:assert/strict";
import { esUrl } from "./_helpers.ts";
import {
  dropIndex,
  generate,
  generatedDoc,
  readIndex,
  recordingLogger,
  runSync,
  sourceOf,
  testClient,
  uniqueIndex,
} from "./_sync_harness.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
/** Answers from the proxy itself must pass the client's product check. */
const ES_HEADERS = { "x-elastic-product": "Elasticsearch" };

/**
 * A throttling proxy in front of the real node. Of the `_bulk` requests it answers every 3rd with
 * a 429 and every 7th with a 503 (each body only once, so retries get through), and for every
 * 4th it rejects every 5th operation with a per-item 429 (each id only once), forwarding the rest
 * to Elasticsearch and merging the answers in order.
 */
function startThrottlingProxy() {
  const target = esUrl();
  const counts = { bulk: 0, status429: 0, status503: 0, item429: 0 };
  const rejectedBodies = new Set<string>();
  const rejectedIds = new Set<string>();
  const forward = (req: Request, url: URL, body?: string) => {
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.delete("content-length");
    return fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      ...(body !== undefined ? { body } : req.body ? { body: req.body } : {}),
    });
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (!url.pathname.endsWith("/_bulk")) return await forward(req, url);
    const n = ++counts.bulk;
    const body = await req.text();
    const key = `${body.length}:${body.slice(0, 300)}:${body.slice(-300)}`;
    if (n % 3 === 0 && !rejectedBodies.has(key)) {
      rejectedBodies.add(key);
      counts.status429++;
      return Response.json({
        error: { type: "es_rejected_execution_exception", reason: "rejected by test proxy" },
        status: 429,
      }, { status: 429, headers: ES_HEADERS });
    }
    if (n % 7 === 0 && !rejectedBodies.has(key)) {
      rejectedBodies.add(key);
      counts.status503++;
      return Response.json({ error: { type: "unavailable", reason: "test" }, status: 503 }, {
        status: 503,
        headers: ES_HEADERS,
      });
    }
    if (n % 4 !== 1) return await forward(req, url, body);
    // Per-item rejections: split the NDJSON into operations.
    const lines = body.split("\n").filter((l) => l !== "");
    const ops: { action: string; id: string; lines: string[] }[] = [];
    for (let i = 0; i < lines.length; i++) {
      const meta = JSON.parse(lines[i]!) as Record<string, { _id: string }>;
      const action = Object.keys(meta)[0]!;
      const op = { action, id: meta[action]!._id, lines: [lines[i]!] };
      if (action !== "delete") op.lines.push(lines[++i]!);
      ops.push(op);
    }
    const rejected = ops.map((op, i) => i % 5 === 2 && !rejectedIds.has(op.id));
    const kept = ops.filter((_, i) => !rejected[i]);
    for (const [i, op] of ops.entries()) if (rejected[i]) rejectedIds.add(op.id);
    let forwarded: { items: unknown[] } = { items: [] };
    if (kept.length > 0) {
      const response = await forward(
        req,
        url,
        kept.map((op) => op.lines.join("\n")).join("\n") + "\n",
      );
      if (response.status !== 200) return response;
      forwarded = await response.json();
    }
    const items: unknown[] = [];
    let next = 0;
    for (const [i, op] of ops.entries()) {
      if (rejected[i]) {
        counts.item429++;
        items.push({
          [op.action]: {
            status: 429,
            error: { type: "es_rejected_execution_exception", reason: "item rejected by proxy" },
          },
        });
      } else {
        items.push(forwarded.items[next++]);
      }
    }
    return Response.json({ errors: true, items }, { headers: ES_HEADERS });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    counts,
    close: () => server.shutdown(),
  };
}

Deno.test({
  name: "429 and 503 answers and per-item 429s slow the sync down but lose and duplicate nothing",
  ...opts,
  fn: async () => {
    const proxy = startThrottlingProxy();
    const direct = testClient();
    const throttled = testClient(proxy.url);
    const index = uniqueIndex("sync-429");
    try {
      const bulk = { chunk_size: 100, max_concurrency: 3 };
      const { logger, records } = recordingLogger();
      const first = await runSync({
        client: throttled,
        index,
        bulk,
        logger,
        source: sourceOf(() => generate(3000)),
      });
      assert.ok(proxy.counts.status429 >= 5, JSON.stringify(proxy.counts));
      assert.ok(proxy.counts.status503 >= 1, JSON.stringify(proxy.counts));
      assert.ok(proxy.counts.item429 >= 50, JSON.stringify(proxy.counts));
      assert.equal(first.stats.indexed_document_count, 3000);
      assert.equal(first.stats.failed_document_count, 0);
      assert.equal(first.totalDocumentCount, 3000);
      assert.ok(records.some((r) => /rejected \d+ of \d+ bulk items with 429/.test(r.message)));
      let docs = await readIndex(direct, index);
      assert.equal(docs.size, 3000);
      for (let i = 0; i < 3000; i++) {
        assert.equal(docs.get(`doc-${i}`)?.title, generatedDoc(i).title);
      }

      const before = { ...proxy.counts };
      const second = await runSync({
        client: throttled,
        index,
        bulk,
        source: sourceOf(() =>
          generate(3000, { skip: (i) => i % 30 === 0, version: (i) => (i % 30 === 1 ? 2 : 1) })
        ),
      });
      assert.ok(proxy.counts.item429 > before.item429);
      assert.equal(second.stats.indexed_document_count, 2900);
      assert.equal(second.stats.deleted_document_count, 100);
      assert.equal(second.stats.failed_document_count, 0);
      assert.equal(second.totalDocumentCount, 2900);
      docs = await readIndex(direct, index);
      assert.equal(docs.size, 2900);
      for (let i = 0; i < 3000; i++) {
        const doc = docs.get(`doc-${i}`);
        if (i % 30 === 0) assert.equal(doc, undefined);
        else assert.equal(doc?.version, i % 30 === 1 ? 2 : 1);
      }
    } finally {
      await dropIndex(direct, index);
      await direct.close();
      await throttled.close();
      await proxy.close();
    }
  },
});

Deno.test({
  name: "per-item 429s beyond bulk.max_retries count as failures",
  ...opts,
  fn: async () => {
    const target = esUrl();
    // Rejects every item of every bulk request.
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      if (url.pathname.endsWith("/_bulk")) {
        const body = await req.text();
        const n = body.split("\n").filter((l) => l.startsWith('{"index"')).length;
        const item = { index: { status: 429, error: { type: "es_rejected_execution_exception" } } };
        return Response.json({ errors: true, items: Array(n).fill(item) }, { headers: ES_HEADERS });
      }
      const headers = new Headers(req.headers);
      headers.delete("host");
      return await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        ...(req.body ? { body: req.body } : {}),
      });
    });
    const client = testClient(`http://127.0.0.1:${server.addr.port}`);
    const index = uniqueIndex("sync-429-budget");
    try {
      await assert.rejects(
        runSync({
          client,
          index,
          bulk: { max_retries: 2, retry_interval: 0.01 },
          source: sourceOf(() => generate(20)),
        }),
        /Exceeded maximum consecutive errors.*es_rejected_execution_exception/,
      );
    } finally {
      await dropIndex(client, index);
      await client.close();
      await server.shutdown();
    }
  },
});
