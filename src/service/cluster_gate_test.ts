import assert from "node:assert/strict";
import { createLogger } from "../log/mod.ts";
import type { LogRecord } from "../log/mod.ts";
import { ClusterGate, describeOutage } from "./cluster_gate.ts";

const unavailable = () => Object.assign(new Error("unavailable"), { meta: { statusCode: 503 } });
const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { name: "ConnectionError" });

function gateWith(probe: () => Promise<void>, reminder?: number) {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "DEBUG", sink: (record) => records.push(record) });
  const controller = new AbortController();
  const gate = new ClusterGate(probe, logger, {
    initial: 0.005,
    multiplier: 1,
    signal: controller.signal,
    host: "es",
    ...(reminder === undefined ? {} : { reminder }),
  });
  const lines = (level: string) => records.filter((r) => r.level === level).map((r) => r.message);
  return { gate, lines, stop: () => controller.abort(new Error("stop")) };
}

Deno.test("a starting cluster answering 503 after the probe: one warning, one recovery line", async () => {
  let probes = 0;
  const { gate, lines, stop } = gateWith(() => Promise.resolve(void probes++));
  try {
    gate.reportFailure(refused(), "scheduling");
    assert.equal(gate.state, "down");
    // The probe passes, but the loops' requests keep failing with 503 for a few rounds.
    for (let round = 0; round < 4; round++) {
      await gate.ready();
      assert.equal(gate.state, "recovering");
      gate.reportFailure(unavailable(), "execution");
      assert.equal(gate.state, "down");
    }
    await gate.ready();
    gate.reportSuccess();
    assert.equal(gate.state, "up");
    assert.equal(probes, 5);
    const warnings = lines("WARNING");
    // The reason changed once (refused, then 503): two warnings, never "reachable" in between.
    assert.deepEqual(warnings.map((w) => w.replace(/ \(.*$/, "")), [
      "Elasticsearch at es is unreachable",
      "Elasticsearch at es is not ready",
    ]);
    assert.equal(lines("INFO").filter((l) => /reachable again/.test(l)).length, 1);
    assert.ok(
      lines("DEBUG").some((l) => /answered the probe but the execution loop failed/.test(l)),
    );
  } finally {
    stop();
  }
});

Deno.test("a failing probe warns once per reason, then at the reminder interval", async () => {
  let failures = 3;
  const { gate, lines, stop } = gateWith(() => {
    if (failures-- > 0) return Promise.reject(refused());
    return Promise.resolve();
  });
  try {
    gate.reportFailure(refused());
    await gate.ready();
    gate.reportSuccess();
    assert.equal(lines("WARNING").length, 1);
    assert.equal(lines("DEBUG").filter((l) => /is still unreachable/.test(l)).length, 3);
  } finally {
    stop();
  }
  let more = 3;
  const chatty = gateWith(() => more-- > 0 ? Promise.reject(refused()) : Promise.resolve(), 0);
  try {
    chatty.gate.reportFailure(refused());
    await chatty.gate.ready();
    assert.equal(chatty.lines("WARNING").length, 4, "reminder 0: every step warns");
  } finally {
    chatty.stop();
  }
});

Deno.test("successes and failures outside an outage, and shutdown", async () => {
  const { gate, lines, stop } = gateWith(() => Promise.reject(refused()));
  gate.reportSuccess();
  assert.equal(gate.state, "up");
  gate.reportFailure(refused());
  gate.reportFailure(refused(), "cleanup");
  assert.equal(gate.state, "down");
  const waiting = gate.ready();
  stop();
  await waiting;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(gate.state, "up", "shutdown releases the gate");
  assert.equal(lines("INFO").length, 0);
  assert.equal(describeOutage(refused()), "unreachable");
  assert.equal(describeOutage(unavailable()), "not ready");
});
