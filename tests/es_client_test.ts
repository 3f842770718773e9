import assert from "node:assert/strict";
import { defaultConfig } from "../src/config/mod.ts";
import type { ElasticsearchConfig } from "../src/config/mod.ts";
import {
  createEsClient,
  PRODUCT_ORIGIN_HEADER,
  readClusterInfo,
  waitForCluster,
} from "../src/es/mod.ts";
import { FatalError } from "../src/errors/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { esMajor, esUrl } from "./_helpers.ts";

function esConfig(host: string, overrides: Partial<ElasticsearchConfig> = {}): ElasticsearchConfig {
  return { ...defaultConfig().elasticsearch, host, ...overrides };
}

/** A recording proxy in front of the real node; `answer` may short-circuit a request. */
function startProxy(answer?: (req: Request, n: number) => Response | undefined) {
  const seen: Request[] = [];
  const target = new URL(esUrl());
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push(req.clone());
    const canned = answer?.(req, seen.length);
    if (canned) return canned;
    const url = new URL(req.url);
    url.host = target.host;
    return await fetch(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

Deno.test("the client reads the version of the real node without GET /", async () => {
  const client = createEsClient(esConfig(esUrl()));
  try {
    const info = await readClusterInfo(client);
    const major = await esMajor();
    assert.match(info.version, new RegExp(`^${major}\\.\\d+\\.\\d+`));
    assert.equal(info.major, major);
    const waited = await waitForCluster(client, esConfig(esUrl(), { max_wait_duration: 5 }));
    assert.equal(waited.version, info.version);
  } finally {
    await client.close();
  }
});

Deno.test("every request carries the product-origin header and compatible-with=8", async () => {
  const proxy = startProxy();
  const client = createEsClient(esConfig(proxy.url));
  try {
    await client.cluster.health();
    await client.indices.exists({ index: "does-not-exist" });
    assert.equal(proxy.seen.length, 2);
    for (const req of proxy.seen) {
      assert.equal(req.headers.get(PRODUCT_ORIGIN_HEADER), "connectors");
      assert.match(req.headers.get("accept") ?? "", /compatible-with=8/);
      assert.match(req.headers.get("user-agent") ?? "", /^connectors-deno\//);
    }
  } finally {
    await client.close();
    await proxy.close();
  }
});

Deno.test("429 and 503 answers are retried with backoff, then the request succeeds", async () => {
  const proxy = startProxy((_req, n) =>
    n === 1
      ? new Response('{"error":"busy"}', { status: 429 })
      : n === 2
      ? new Response('{"error":"down"}', { status: 503 })
      : undefined
  );
  const warnings: string[] = [];
  const logger = createLogger({ level: "INFO", sink: (r) => warnings.push(r.message) });
  const client = createEsClient(
    esConfig(proxy.url, { retry_interval: 0.05, initial_backoff_duration: 0.05 }),
    {
      logger,
    },
  );
  try {
    const health = await client.cluster.health();
    assert.ok(health.cluster_name);
    assert.equal(proxy.seen.length, 3);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /\(HTTP 429\); retry 1\/5/);
  } finally {
    await client.close();
    await proxy.close();
  }
});

Deno.test("a 400 answer is not retried", async () => {
  const proxy = startProxy(() => new Response('{"error":"bad"}', { status: 400 }));
  const client = createEsClient(esConfig(proxy.url, { retry_interval: 0.05 }));
  try {
    await assert.rejects(client.cluster.health());
    assert.equal(proxy.seen.length, 1);
  } finally {
    await client.close();
    await proxy.close();
  }
});

Deno.test("preflight against a closed port fails with a clear message within the wait", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const config = esConfig(`http://127.0.0.1:${port}`, {
    max_wait_duration: 1.5,
    initial_backoff_duration: 0.1,
  });
  const client = createEsClient(config, { maxRetries: 0 });
  const started = Date.now();
  try {
    await assert.rejects(waitForCluster(client, config), (error: Error) => {
      assert.ok(error instanceof FatalError);
      assert.match(
        error.message,
        new RegExp(
          `^Cannot reach Elasticsearch at http://127\\.0\\.0\\.1:${port} within 1\\.5s \\(elasticsearch\\.max_wait_duration\\): connection refused`,
        ),
      );
      return true;
    });
    // Generous bound: the wait must stop near max_wait_duration, not run to the 240 s default.
    assert.ok(Date.now() - started < 20_000);
  } finally {
    await client.close();
  }
});

Deno.test("basic auth and API keys are sent as Authorization headers", async () => {
  const proxy = startProxy();
  const basic = createEsClient(esConfig(proxy.url, { username: "elastic", password: "pw-1234" }));
  const keyed = createEsClient(esConfig(proxy.url, { api_key: "a2V5OnNlY3JldA==" }));
  try {
    await basic.cluster.health();
    await keyed.cluster.health();
    assert.equal(proxy.seen[0]!.headers.get("authorization"), `Basic ${btoa("elastic:pw-1234")}`);
    assert.equal(proxy.seen[1]!.headers.get("authorization"), "ApiKey a2V5OnNlY3JldA==");
  } finally {
    await basic.close();
    await keyed.close();
    await proxy.close();
  }
});

Deno.test("TLS: a custom CA is trusted, an unknown one is refused unless verify_certs is off", async () => {
  const dir = await Deno.makeTempDir();
  const openssl = new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    stdout: "null",
    stderr: "null",
  });
  assert.equal((await openssl.output()).code, 0);
  const cert = await Deno.readTextFile(`${dir}/cert.pem`);
  const key = await Deno.readTextFile(`${dir}/key.pem`);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    () =>
      Response.json({ cluster_name: "tls", status: "green" }, {
        headers: { "x-elastic-product": "Elasticsearch" },
      }),
  );
  const host = `https://127.0.0.1:${server.addr.port}`;
  const trusted = createEsClient(esConfig(host, { ca_certs: `${dir}/cert.pem` }), {
    maxRetries: 0,
  });
  const untrusted = createEsClient(esConfig(host), { maxRetries: 0 });
  const unverified = createEsClient(esConfig(host, { verify_certs: false }), { maxRetries: 0 });
  try {
    assert.equal((await trusted.cluster.health()).cluster_name, "tls");
    await assert.rejects(untrusted.cluster.health());
    assert.equal((await unverified.cluster.health()).cluster_name, "tls");
  } finally {
    await Promise.all([trusted.close(), untrusted.close(), unverified.close()]);
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
