// deno-lint-ignore-file no-console
/**
 * Which way of sending `_bulk` costs the client less CPU: `client.bulk({ operations })` (the
 * client serialises every line) or `client.transport.request({ bulkBody })` with NDJSON bytes
 * built by the caller (what the sync engine does, since it serialises each document once anyway
 * to measure it). Runs against ES_URL (or `--es`), or, with `--fake`, against an in-process
 * server that answers every bulk item with success, to isolate the client's cost.
 *
 * ```sh
 * deno run -A bench/bulk_api_bench.ts --fake --docs 100000
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { defaultConfig } from "../src/config/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import { syntheticDoc } from "./sync_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    docs: { type: "string", default: "100000" },
    batch: { type: "string", default: "500" },
    es: { type: "string" },
    fake: { type: "boolean" },
  },
});
const docs = Number(values.docs);
const batch = Number(values.batch);

let server: Deno.HttpServer<Deno.NetAddr> | undefined;
let url = values.es ?? Deno.env.get("ES_URL") ?? "";
if (values.fake) {
  const headers = { "x-elastic-product": "Elasticsearch", "content-type": "application/json" };
  server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    let n = 0;
    for (let at = body.indexOf('{"index"'); at >= 0; at = body.indexOf('{"index"', at + 1)) n++;
    const item = '{"index":{"status":201,"result":"created"}}';
    return new Response(`{"errors":false,"items":[${Array(n).fill(item).join(",")}]}`, {
      headers,
    });
  });
  url = `http://127.0.0.1:${server.addr.port}`;
}
if (!url) throw new Error("Give --es, ES_URL or --fake");
const client = createEsClient({ ...defaultConfig().elasticsearch, host: url });
const encoder = new TextEncoder();

async function timed(name: string, index: string, send: (from: number) => Promise<void>) {
  const started = performance.now();
  for (let from = 0; from < docs; from += batch) await send(from);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${Math.round(docs / seconds).toLocaleString("en")} docs/s`);
  if (!values.fake) await client.indices.delete({ index, ignore_unavailable: true });
}

const stamp = Date.now().toString(36);
await timed("client.bulk({ operations })", `bulkapi-a-${stamp}`, async (from) => {
  const operations: unknown[] = [];
  for (let i = from; i < Math.min(docs, from + batch); i++) {
    const { _id, ...doc } = syntheticDoc(i);
    operations.push({ index: { _id } }, { ...doc, id: _id });
  }
  await client.bulk({ index: `bulkapi-a-${stamp}`, operations, filter_path: "errors" });
});
await timed("transport.request({ bulkBody: NDJSON bytes })", `bulkapi-b-${stamp}`, async (from) => {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = from; i < Math.min(docs, from + batch); i++) {
    const { _id, ...doc } = syntheticDoc(i);
    const data = encoder.encode(
      `{"index":{"_id":${JSON.stringify(_id)}}}\n${JSON.stringify({ ...doc, id: _id })}\n`,
    );
    parts.push(data);
    size += data.length;
  }
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  await client.transport.request({
    method: "POST",
    path: `/bulkapi-b-${stamp}/_bulk`,
    querystring: { filter_path: "errors" },
    bulkBody: body,
  });
});
await client.close();
await server?.shutdown();
