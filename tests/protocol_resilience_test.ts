/**
 * Elasticsearch stopped and restarted while the service polls. Stopping the shared test
 * cluster would break every other test, so this test starts a dedicated single-node cluster of
 * its own (scripts/stack.ts with a private state folder), stops and restarts it on the same port,
 * and removes it at the end.
 */
import assert from "node:assert/strict";
import {
  stackRoot,
  startElasticsearch,
  stopElasticsearch,
  withStateDir,
} from "../scripts/stack.ts";
import { uniqueName, waitFor } from "./_helpers.ts";
import { Kibana } from "./fixtures/kibana.ts";
import {
  createTestConnector,
  startService,
  stopService,
  writeServiceConfig,
} from "./fixtures/protocol_setup.ts";

Deno.test({
  name:
    "Elasticsearch stopped and restarted while the service polls: the service recovers without restart",
  // The stack module keeps a lock file open between calls.
  sanitizeResources: false,
  fn: async () => {
    const dir = `${stackRoot()}/protocol-resilience-${Deno.pid}`;
    await Deno.mkdir(dir, { recursive: true });
    try {
      const es = await withStateDir(dir, () => startElasticsearch());
      const kibana = new Kibana(es.url);
      await kibana.ensureIndices();
      const c = { id: uniqueName("resil"), index: uniqueName("search-resil") };
      await createTestConnector(kibana, c.id, c.index, { doc_count: 5 });
      const config = await writeServiceConfig({ connectors: [{ id: c.id }], esHost: es.url });
      await using service = await startService(config);

      const first = await kibana.startSync(c.id);
      await waitFor(async () => (await kibana.getJob(first))?.status === "completed", {
        message: "first job completed",
        timeoutMs: 60_000,
      });

      await withStateDir(dir, () => stopElasticsearch());
      const stoppedAt = Date.now();
      await service.waitForOutput(/is unreachable \(/, { timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 3000));
      const restarted = await withStateDir(dir, () => startElasticsearch());
      assert.equal(restarted.url, es.url, "restarted on the same port");
      await service.waitForOutput(/is reachable again/, { timeoutMs: 120_000 });
      const outage = (Date.now() - stoppedAt) / 1000;

      const second = await kibana.startSync(c.id);
      const job = await waitFor(async () => {
        const doc = await kibana.getJob(second);
        return doc?.status === "completed" ? doc : undefined;
      }, { message: "job after the restart completed", timeoutMs: 90_000 });
      assert.equal(job.indexed_document_count, 5);

      const { stderr } = await stopService(service);
      // One process all along: connected once, and one line per backoff step, not per loop.
      assert.equal(stderr.match(/Connected to Elasticsearch/g)?.length, 1);
      const outageLines = stderr.match(/Elasticsearch at \S+ is (still )?unreachable/g) ?? [];
      assert.ok(outageLines.length >= 1);
      assert.ok(
        outageLines.length <= Math.ceil(outage / 0.5) + 2,
        `${outageLines.length} outage lines in ${outage.toFixed(0)}s`,
      );
      assert.ok(!/loop failed/.test(stderr), "an outage is not a loop failure");
    } finally {
      await withStateDir(dir, () => stopElasticsearch({ keepData: false }));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
