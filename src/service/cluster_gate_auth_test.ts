import assert from "node:assert/strict";
import { nullLogger } from "../log/mod.ts";
import { ClusterGate } from "./cluster_gate.ts";

Deno.test("a probe answered 401/403 opens the gate: the cluster is up, the credentials are refused", async () => {
  const controller = new AbortController();
  const gate = new ClusterGate(
    () => Promise.reject({ meta: { statusCode: 401, body: { error: { reason: "expired" } } } }),
    nullLogger,
    { initial: 0.01, multiplier: 1, signal: controller.signal, host: "https://es:9200" },
  );
  try {
    gate.reportFailure(
      Object.assign(new Error("connect ECONNREFUSED"), { name: "ConnectionError" }),
    );
    assert.equal(gate.state, "down");
    await gate.ready();
    assert.equal(gate.state, "recovering");
  } finally {
    controller.abort();
  }
});
