import assert from "node:assert/strict";
import { defaultConfig } from "../config/mod.ts";
import type { ElasticsearchConfig } from "../config/mod.ts";
import { createLogger } from "../log/mod.ts";
import type { LogRecord } from "../log/mod.ts";
import { createEsClient } from "./client.ts";
import { waitForCluster } from "./preflight.ts";

const PRODUCT = { "x-elastic-product": "Elasticsearch" };

/** A fake cluster: `answer` decides each response; the paths asked are recorded. */
function fakeCluster(answer: (path: string) => Response) {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    paths.push(path);
    return answer(path);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, paths, close: () => server.shutdown() };
}

function securityError(status: number, reason: string, extra: Record<string, unknown> = {}) {
  return Response.json(
    { error: { type: "security_exception", reason, ...extra }, status },
    { status, headers: PRODUCT },
  );
}

function nodes() {
  return Response.json({ nodes: { n1: { version: "9.2.4" } } }, { headers: PRODUCT });
}

function config(host: string, extra: Partial<ElasticsearchConfig>): ElasticsearchConfig {
  return {
    ...defaultConfig().elasticsearch,
    host,
    max_wait_duration: 30,
    initial_backoff_duration: 0.05,
    ...extra,
  };
}

function recorder() {
  const records: LogRecord[] = [];
  return { records, logger: createLogger({ level: "DEBUG", sink: (r) => records.push(r) }) };
}

Deno.test("a wrong password stops the start at once with the reason and the user", async () => {
  const server = fakeCluster(() =>
    securityError(401, "unable to authenticate user [bob] for REST request [/_cluster/health]")
  );
  const es = config(server.url, { username: "bob", password: "Preflight-Pw-1" });
  const client = createEsClient(es, { maxRetries: 0 });
  const { logger, records } = recorder();
  const started = performance.now();
  try {
    const error = await waitForCluster(client, es, { logger }).then(
      () => assert.fail("expected a failure"),
      (e: Error) => e,
    );
    assert.ok(performance.now() - started < 5_000);
    assert.match(
      error.message,
      /^Cannot start: Elasticsearch refused the credentials, user bob \(elasticsearch\.username\) \(HTTP 401\): unable to authenticate user \[bob\]/,
    );
    assert.doesNotMatch(error.message, /Preflight-Pw-1/);
    assert.equal(server.paths.length, 1, "no retry");
    assert.equal(records.filter((r) => /not ready/.test(r.message)).length, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an expired API key stops the start with Elasticsearch's detail and the key id", async () => {
  const server = fakeCluster(() =>
    securityError(401, "unable to authenticate with provided credentials", {
      additional_unsuccessful_credentials: "API key: api key is expired",
    })
  );
  const es = config(server.url, { api_key: "PreflightKey:PreflightSecret-1" });
  const client = createEsClient(es, { maxRetries: 0 });
  try {
    const error = await waitForCluster(client, es).catch((e: Error) => e);
    assert.ok(error instanceof Error);
    assert.match(error.message, /API key id PreflightKey \(elasticsearch\.api_key\)/);
    assert.match(error.message, /api key is expired/);
    assert.doesNotMatch(error.message, /PreflightSecret-1/);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a cluster health refused with 403 is one warning naming monitor; the start goes on", async () => {
  const server = fakeCluster((path) =>
    path.startsWith("/_nodes") ? nodes() : securityError(
      403,
      "action [cluster:monitor/health] is unauthorized for API key id [k], this action is granted by the cluster privileges [monitor,manage,all]",
    )
  );
  const es = config(server.url, { api_key: "k:secret-403" });
  const client = createEsClient(es, { maxRetries: 0 });
  const { logger, records } = recorder();
  try {
    const info = await waitForCluster(client, es, { logger });
    assert.equal(info.version, "9.2.4");
    assert.equal(info.status, "unknown");
    const warnings = records.filter((r) => r.level === "WARNING");
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!.message,
      /Cannot read the cluster health: the credentials lack the cluster privilege monitor/,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("unreachable is still waited for, and the URL is printed without its password", async () => {
  const es = config("http://bob:Url-Pw-77@127.0.0.1:1", { max_wait_duration: 0.3 });
  const client = createEsClient(es, { maxRetries: 0 });
  const { logger, records } = recorder();
  try {
    const error = await waitForCluster(client, es, { logger }).catch((e: Error) => e);
    assert.ok(error instanceof Error);
    assert.match(
      error.message,
      /^Cannot reach Elasticsearch at http:\/\/127\.0\.0\.1:1 within 0\.3s/,
    );
    assert.ok(records.some((r) => /is not ready \(connection refused\)/.test(r.message)));
    for (const text of [error.message, ...records.map((r) => r.message)]) {
      assert.doesNotMatch(text, /Url-Pw-77|bob:/);
    }
  } finally {
    await client.close();
  }
});

Deno.test("verify_certs: false is a warning at start", async () => {
  const es = config("https://127.0.0.1:1", { verify_certs: false, max_wait_duration: 0 });
  const client = createEsClient(es, { maxRetries: 0 });
  const { logger, records } = recorder();
  try {
    await waitForCluster(client, es, { logger }).catch(() => {});
    assert.match(records[0]!.message, /^elasticsearch\.verify_certs is false/);
    assert.equal(records[0]!.level, "WARNING");
  } finally {
    await client.close();
  }
});

Deno.test("credentials without monitor (403 on _nodes) stop the start at once, naming the privilege", async () => {
  const server = fakeCluster(() =>
    securityError(
      403,
      "action [cluster:monitor/nodes/info] is unauthorized for user [bob], this action is granted by the cluster privileges [monitor,manage,all]",
    )
  );
  const es = config(server.url, { username: "bob", password: "Preflight-Pw-2" });
  const client = createEsClient(es, { maxRetries: 0 });
  try {
    const error = await waitForCluster(client, es).catch((e: Error) => e);
    assert.ok(error instanceof Error);
    assert.match(
      error.message,
      /^Cannot start: Elasticsearch denied user bob \(elasticsearch\.username\) \(HTTP 403\): action \[cluster:monitor\/nodes\/info\] is unauthorized .*\[monitor,manage,all\]/,
    );
    assert.equal(server.paths.length, 2, "health, then nodes; no retry");
  } finally {
    await client.close();
    await server.close();
  }
});
