/**
 * The pipeline fallback of the sync: with no `read_pipeline`, the check cannot see the pipeline
 * (403) and says so once; the bulk requests send it, and when Elasticsearch answers that it does
 * not exist, the sink resends those items without it and warns once.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../config/mod.ts";
import { createEsClient } from "../es/mod.ts";
import { createLogger } from "../log/mod.ts";
import type { LogRecord } from "../log/mod.ts";
import { BoundedQueue } from "./bounded_queue.ts";
import { BulkSink, indexOperation } from "./bulk_sink.ts";
import type { BulkOperation } from "./bulk_sink.ts";
import { pipelineExists } from "./content_index.ts";
import { ErrorMonitor } from "./error_monitor.ts";
import { emptyStats } from "./types.ts";

const PRODUCT = { "x-elastic-product": "Elasticsearch" };
const DENIED =
  "action [cluster:admin/ingest/pipeline/get] is unauthorized for API key id [k] of user [u], this action is granted by the cluster privileges [read_pipeline,manage_ingest_pipelines,manage_pipeline,manage,all]";

/** A fake cluster without the pipeline `p` and without `read_pipeline` for the caller. */
function fakeCluster() {
  const bulks: { pipeline: string | null; items: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/_ingest/pipeline/")) {
      return Response.json({ error: { type: "security_exception", reason: DENIED }, status: 403 }, {
        status: 403,
        headers: PRODUCT,
      });
    }
    const lines = (await req.text()).split("\n").filter((l) => l !== "");
    const pipeline = url.searchParams.get("pipeline");
    const actions = lines.filter((_, i) => i % 2 === 0);
    bulks.push({ pipeline, items: actions.length });
    const items = actions.map(() =>
      pipeline
        ? {
          index: {
            status: 400,
            error: {
              type: "illegal_argument_exception",
              reason: `pipeline with id [${pipeline}] does not exist`,
            },
          },
        }
        : { index: { status: 201, result: "created" } }
    );
    return Response.json({ errors: pipeline !== null, items }, { headers: PRODUCT });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, bulks, close: () => server.shutdown() };
}

Deno.test("no read_pipeline: one warning naming it; a missing pipeline is dropped and the batch resent", async () => {
  const server = fakeCluster();
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "INFO", sink: (r) => records.push(r) });
  const config = defaultConfig();
  const client = createEsClient({ ...config.elasticsearch, host: server.url }, {
    logger,
    maxRetries: 0,
  });
  try {
    assert.equal(await pipelineExists(client, "p"), true);
    assert.equal(await pipelineExists(client, "p"), true);
    const warnings = records.filter((r) => r.level === "WARNING");
    assert.equal(warnings.length, 1, "one warning per client and pipeline");
    assert.match(
      warnings[0]!.message,
      /^Cannot check that ingest pipeline p exists: the credentials lack the cluster privilege read_pipeline/,
    );

    const stats = emptyStats();
    const signal = new AbortController().signal;
    const bulk = { ...config.elasticsearch.bulk, chunk_size: 4, max_concurrency: 1 };
    const sink = new BulkSink({
      client,
      index: "search-x",
      pipeline: "p",
      bulk,
      stats,
      monitor: new ErrorMonitor(bulk.error_monitor),
      logger,
      signal,
      idleFlushMs: 10,
    });
    const queue = new BoundedQueue<BulkOperation>({ maxItems: 100, maxBytes: 1 << 20, signal });
    const done = sink.run(queue);
    for (let i = 0; i < 6; i++) {
      const op = indexOperation(`d${i}`, JSON.stringify({ id: `d${i}` }));
      await queue.put(op, op.bytes);
    }
    queue.close();
    await done;
    assert.equal(stats.indexed_document_count, 6);
    assert.equal(stats.failed_document_count, 0);
    assert.equal(server.bulks[0]!.pipeline, "p");
    assert.ok(
      server.bulks.slice(1).every((b) => b.pipeline === null),
      JSON.stringify(server.bulks),
    );
    const dropped = records.filter((r) =>
      /does not exist: indexing into search-x without a pipeline/.test(r.message)
    );
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.level, "WARNING");
  } finally {
    await client.close();
    await server.close();
  }
});
