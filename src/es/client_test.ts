import assert from "node:assert/strict";
import { defaultConfig } from "../config/mod.ts";
import type { ElasticsearchConfig } from "../config/mod.ts";
import { createEsClient } from "./client.ts";

/** A local server answering 503 once, then a cluster health; records when each request came. */
function flakyServer() {
  const times: number[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    times.push(performance.now());
    if (times.length === 1) return new Response('{"error":"starting"}', { status: 503 });
    return Response.json({ cluster_name: "local", status: "green" }, {
      headers: { "x-elastic-product": "Elasticsearch" },
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, times, close: () => server.shutdown() };
}

function config(host: string, overrides: Partial<ElasticsearchConfig>): ElasticsearchConfig {
  return { ...defaultConfig().elasticsearch, host, max_retries: 1, ...overrides };
}

Deno.test("elasticsearch.retry_interval is the first wait of a request retry", async () => {
  const server = flakyServer();
  // A short startup backoff must not shorten the request retries (it did before).
  const client = createEsClient(
    config(server.url, { retry_interval: 0.4, initial_backoff_duration: 0.05 }),
  );
  try {
    await client.cluster.health();
    assert.equal(server.times.length, 2);
    const gap = server.times[1]! - server.times[0]!;
    // Full jitter between half and all of the interval.
    assert.ok(gap >= 190 && gap < 1500, `retried after ${gap.toFixed(0)} ms`);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("the retryInterval option overrides retry_interval", async () => {
  const server = flakyServer();
  const client = createEsClient(config(server.url, { retry_interval: 30 }), {
    retryInterval: 0.01,
  });
  try {
    await client.cluster.health();
    const gap = server.times[1]! - server.times[0]!;
    assert.ok(gap < 1000, `retried after ${gap.toFixed(0)} ms`);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a request's retryInterval option overrides the client's (bulk.retry_interval)", async () => {
  const server = flakyServer();
  const client = createEsClient(config(server.url, { retry_interval: 30 }));
  try {
    await client.transport.request(
      { method: "GET", path: "/_cluster/health" },
      { retryInterval: 0.01 } as never,
    );
    const gap = server.times[1]! - server.times[0]!;
    assert.ok(gap < 1000, `retried after ${gap.toFixed(0)} ms`);
  } finally {
    await client.close();
    await server.close();
  }
});
