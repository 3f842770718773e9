/**
 * {@linkcode JobRunner} driven directly against a real cluster, with the sync engine replaced by
 * a scripted one so that the ordering of heartbeats and termination can be controlled.
 */
import assert from "node:assert/strict";
import { esUrl, uniqueName } from "./_helpers.ts";
import { Kibana } from "./fixtures/kibana.ts";
import { createTestConnector } from "./fixtures/protocol_setup.ts";
import { TestDataSource } from "./fixtures/sources/test_source.ts";
import { defaultConfig } from "../src/config/mod.ts";
import type { Config } from "../src/config/mod.ts";
import { sleep } from "../src/async/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import type { Client } from "../src/es/mod.ts";
import { nullLogger } from "../src/log/mod.ts";
import { ConnectorRepository, SyncJobRepository } from "../src/protocol/mod.ts";
import type { JobCounters } from "../src/protocol/mod.ts";
import { JobRunner } from "../src/service/job_runner.ts";
import type { JobRunnerDeps } from "../src/service/job_runner.ts";
import { WorkerPool } from "../src/source/mod.ts";
import type { DataSourceClass, SourceContext } from "../src/source/mod.ts";

const kibana = new Kibana();
await kibana.ensureIndices();

/** The runner's dependencies over one client; `jobs` may slow its heartbeats. */
function runnerDeps(
  config: Config,
  client: Client,
  sourceClass: unknown,
  jobs: SyncJobRepository,
  durableJobs: SyncJobRepository,
): JobRunnerDeps {
  const connectors = new ConnectorRepository(client);
  return {
    config,
    logger: nullLogger,
    hostname: "runner-test",
    registry: { load: () => Promise.resolve(sourceClass as DataSourceClass) },
    connectors,
    jobs,
    durableConnectors: connectors,
    durableJobs,
    contentClient: client,
  };
}

/** Job heartbeats whose write reaches Elasticsearch only `delayMs` after it was sent. */
class SlowHeartbeatJobs extends SyncJobRepository {
  started = Promise.withResolvers<void>();
  constructor(
    client: ConstructorParameters<typeof SyncJobRepository>[0],
    readonly delayMs: number,
  ) {
    super(client);
  }
  override async updateStats(id: string, counters: JobCounters): Promise<void> {
    this.started.resolve();
    await sleep(this.delayMs);
    await super.updateStats(id, counters);
  }
}

Deno.test("a heartbeat in flight when the sync ends does not overwrite the final counters", async () => {
  const connectorId = uniqueName("conn");
  const index = uniqueName("search-runner");
  await createTestConnector(kibana, connectorId, index, {}, { status: "connected" });
  const jobId = await kibana.startSync(connectorId);

  const config = defaultConfig();
  config.elasticsearch.host = esUrl();
  config.service.job_heartbeat_interval = 0.02;
  config.service.job_check_interval = 60;
  const client = createEsClient(config.elasticsearch, { maxRetries: 2 });
  try {
    const jobs = new SlowHeartbeatJobs(client, 500);
    const durableJobs = new SyncJobRepository(client);
    const job = await durableJobs.get(jobId);
    assert.ok(job, "the job exists");
    const runner = new JobRunner(job, {
      ...runnerDeps(config, client, TestDataSource, jobs, durableJobs),
      // Ends right after the first heartbeat was sent (with zero counters) and before it lands.
      runContentSync: async ({ stats }) => {
        await jobs.started.promise;
        stats.indexed_document_count = 7;
        stats.deleted_document_count = 2;
        return { stats, totalDocumentCount: 7 };
      },
    });
    assert.equal(await runner.run(), "completed");
    await sleep(jobs.delayMs + 300); // Time for a late heartbeat to land, were one still out.
    const doc = await kibana.getJob(jobId);
    assert.equal(doc?.status, "completed");
    assert.equal(doc?.indexed_document_count, 7);
    assert.equal(doc?.deleted_document_count, 2);
    assert.equal(doc?.total_document_count, 7);
    const connector = await kibana.getConnector(connectorId);
    assert.equal(connector?.last_sync_status, "completed");
    assert.equal(connector?.last_indexed_document_count, 7);
  } finally {
    await client.close();
  }
});

Deno.test("the runner hands sources the process's Worker pool and the connector's stored cursor", async () => {
  const connectorId = uniqueName("conn");
  const index = uniqueName("search-runner");
  await createTestConnector(kibana, connectorId, index, {}, {
    status: "connected",
    sync_cursor: { marker: 42 },
  });
  const jobId = await kibana.startSync(connectorId);
  const config = defaultConfig();
  config.elasticsearch.host = esUrl();
  const client = createEsClient(config.elasticsearch, { maxRetries: 2 });
  const workers = new WorkerPool({ size: 1 });
  try {
    const jobs = new SyncJobRepository(client);
    const job = await jobs.get(jobId);
    assert.ok(job, "the job exists");
    let seen: { workers: unknown; cursor: unknown } | undefined;
    const Recording = class extends (TestDataSource as unknown as new (
      c: unknown,
      ctx: SourceContext,
    ) => object) {
      constructor(c: unknown, ctx: SourceContext) {
        super(c, ctx);
        seen = { workers: ctx.workers, cursor: ctx.syncCursor };
      }
    };
    const runner = new JobRunner(job, {
      ...runnerDeps(config, client, Recording, jobs, jobs),
      workers,
      runContentSync: ({ stats }) => Promise.resolve({ stats, totalDocumentCount: 0 }),
    });
    assert.equal(await runner.run(), "completed");
    assert.equal(seen?.workers, workers);
    assert.deepEqual(seen?.cursor, { marker: 42 });
  } finally {
    workers.close();
    await client.close();
  }
});

Deno.test("a cancel requested before the job's final write wins over completed", async () => {
  const connectorId = uniqueName("conn");
  const index = uniqueName("search-runner");
  await createTestConnector(kibana, connectorId, index, {}, { status: "connected" });
  const jobId = await kibana.startSync(connectorId);
  const config = defaultConfig();
  config.elasticsearch.host = esUrl();
  config.service.job_check_interval = 60; // the runner's own check never sees the cancel
  const client = createEsClient(config.elasticsearch, { maxRetries: 2 });
  try {
    const jobs = new SyncJobRepository(client);
    const job = await jobs.get(jobId);
    assert.ok(job, "the job exists");
    const runner = new JobRunner(job, {
      ...runnerDeps(config, client, TestDataSource, jobs, jobs),
      // The user cancels while the last batch is acknowledged; the sync itself completes.
      runContentSync: async ({ stats }) => {
        await kibana.cancelJob(jobId);
        return { stats, totalDocumentCount: 0 };
      },
    });
    assert.equal(await runner.run(), "canceled");
    const doc = await kibana.getJob(jobId);
    assert.equal(doc?.status, "canceled");
    assert.ok(doc?.canceled_at, "canceled_at is set");
    const connector = await kibana.getConnector(connectorId);
    assert.equal(connector?.last_sync_status, "canceled");
  } finally {
    await client.close();
  }
});
