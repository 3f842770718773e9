/**
 * Wrong or changed input never destroys data (issue "Trust"): each case of the opening
 * list, played as Kibana or an admin would against a real node and a real `dir` folder served by
 * one service process. Each failing case asserts the job's status and error (naming the field),
 * the connector's `error`, and the content index unchanged (ids and a `_source` hash).
 */
import assert from "node:assert/strict";
import { DirectoryDataSource } from "../sources/dir/mod.ts";
import { defaultConfigurationSchema } from "../src/source/mod.ts";
import { type CliHandle, esJson, esUrl, startCli, uniqueName, waitFor } from "./_helpers.ts";
import { createConnectorDoc, createSyncJobDoc, type Doc, JOBS, Kibana } from "./fixtures/kibana.ts";

const kibana = new Kibana();
const TERMINAL = ["completed", "error", "canceled", "suspended"];
const CONNECTORS = 20;
const ids = Array.from({ length: CONNECTORS }, () => uniqueName("safety"));
let nextId = 0;
/** Connector ids whose `connectors:` entry sets the guard's overrides. */
const RATIO_ID = ids[CONNECTORS - 1]!;
const ALLOW_EMPTY_ID = ids[CONNECTORS - 2]!;

function serviceConfig(): string {
  return [
    "elasticsearch:",
    `  host: ${esUrl()}`,
    "  max_wait_duration: 60",
    "service:",
    "  idling: 0.5",
    "  heartbeat: 300",
    "  job_heartbeat_interval: 1",
    "  job_check_interval: 0.5",
    "  max_concurrent_content_syncs: 4",
    "connectors:",
    ...ids.flatMap((id) => [
      `  - connector_id: ${id}`,
      "    service_type: dir",
      ...(id === RATIO_ID ? ["    max_deletion_ratio: 0.5"] : []),
      ...(id === ALLOW_EMPTY_ID ? ["    allow_empty_full_sync: true"] : []),
    ]),
  ].join("\n") + "\n";
}

/** Index content as ids and a hash of every `_source`, to prove an index untouched. */
async function snapshotIndex(index: string): Promise<{ ids: string[]; hash: string }> {
  await esJson("POST", `/${index}/_refresh`);
  const found = await esJson<{ hits: { hits: { _id: string; _source: unknown }[] } }>(
    "POST",
    `/${index}/_search`,
    { size: 1000, sort: [{ id: "asc" }] },
  );
  const hits = found.hits.hits;
  const bytes = new TextEncoder().encode(JSON.stringify(hits.map((h) => [h._id, h._source])));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return {
    ids: hits.map((h) => h._id),
    hash: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
}

async function waitForJob(jobId: string): Promise<Doc> {
  return await waitFor(async () => {
    const job = await kibana.getJob(jobId);
    return job && TERMINAL.includes(job.status) ? job : undefined;
  }, { timeoutMs: 60_000, message: `job ${jobId} to end` });
}

/** The `last_sync_status` written for `jobId`'s end: the connector's update follows the job's. */
async function connectorAfter(id: string): Promise<Doc> {
  return await waitFor(async () => {
    const connector = await kibana.getConnector(id);
    return connector && connector.last_sync_status !== "in_progress" ? connector : undefined;
  }, { message: `connector ${id} to record the end of its job` });
}

interface Seeded {
  id: string;
  index: string;
  root: string;
  before: { ids: string[]; hash: string };
}

/** A configured dir connector over a folder of 5 text files, synced once (5 documents). */
async function seeded(values: Record<string, unknown> = {}, id = ids[nextId++]!): Promise<Seeded> {
  const root = await Deno.makeTempDir({ prefix: "safety_" });
  for (const name of ["a", "b", "c", "d", "e"]) {
    await Deno.writeTextFile(`${root}/${name}.txt`, `file ${name}`);
  }
  const index = uniqueName("search-safety");
  const configuration: Doc = structuredClone(defaultConfigurationSchema(DirectoryDataSource));
  for (const [key, value] of Object.entries({ directory: root, ...values })) {
    configuration[key] = { ...configuration[key], value };
  }
  await kibana.putConnector(id, {
    ...createConnectorDoc({ indexName: index, name: id, serviceType: "dir", configuration }),
    status: "configured",
  });
  const first = await waitForJob(await kibana.startSync(id));
  assert.equal(first.status, "completed", `seed sync of ${id}: ${first.error}`);
  assert.equal(first.indexed_document_count, 5);
  await connectorAfter(id);
  return { id, index, root, before: await snapshotIndex(index) };
}

/** Changes a configuration value as Kibana's form does. */
async function setValue(id: string, key: string, value: unknown): Promise<void> {
  const connector = (await kibana.getConnector(id))!;
  const configuration = structuredClone(connector.configuration);
  configuration[key] = { ...configuration[key], value };
  await kibana.updateConnector(id, { configuration });
}

/**
 * Runs a job of `seed`'s connector and asserts it failed naming `field`, index untouched. The
 * connector's `error` says so too unless `configurationOk` (then check-in, which finds nothing
 * wrong with the connector itself, sets it connected again; `last_sync_error` keeps the reason).
 */
async function expectRefused(
  seed: Seeded,
  jobId: string,
  field: RegExp,
  configurationOk = false,
): Promise<void> {
  const job = await waitForJob(jobId);
  assert.equal(job.status, "error", `job ${jobId} should fail, got ${job.status}`);
  assert.match(String(job.error), field);
  const connector = await connectorAfter(seed.id);
  assert.equal(connector.last_sync_status, "error");
  assert.match(String(connector.last_sync_error), field);
  if (!configurationOk) {
    assert.equal(connector.status, "error");
    assert.match(String(connector.error), field);
  }
  assert.deepEqual(await snapshotIndex(seed.index), seed.before, "the index is untouched");
}

/** Sets the active (and draft) basic rules of a connector as Kibana does once they are valid. */
async function activateRules(id: string, rules: Doc[]): Promise<void> {
  const connector = (await kibana.getConnector(id))!;
  const filtering = structuredClone(connector.filtering);
  const now = new Date().toISOString();
  const full = [
    ...rules.map((rule, order) => ({ created_at: now, updated_at: now, order, ...rule })),
    {
      id: "DEFAULT",
      field: "_",
      policy: "include",
      rule: "regex",
      value: ".*",
      order: rules.length,
      created_at: now,
      updated_at: now,
    },
  ];
  filtering[0].active.rules = full;
  filtering[0].draft.rules = full;
  await kibana.updateConnector(id, { filtering });
}

Deno.test({
  name: "input safety: wrong or changed input never destroys or ignores data",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await kibana.ensureIndices();
    const file = await Deno.makeTempFile({ prefix: "safety-", suffix: ".yml" });
    await Deno.writeTextFile(file, serviceConfig());
    const service: CliHandle = startCli(["--action", "poll", "-c", file]);
    try {
      await service.waitForOutput(/Serving \d+ connector/, { timeoutMs: 90_000 });

      await t.step(
        "a configuration without its directory key needs configuration, nothing is synced",
        async () => {
          const seed = await seeded();
          const connector = (await kibana.getConnector(seed.id))!;
          delete connector.configuration.directory;
          await kibana.putConnector(seed.id, { ...connector, status: "connected" });
          const after = await waitFor(async () => {
            const doc = await kibana.getConnector(seed.id);
            return doc?.status === "needs_configuration" ? doc : undefined;
          }, { message: "check-in to mark the connector needs_configuration" });
          assert.equal(after.configuration.directory.value, "", "never the sample folder");
          const job = await waitForJob(await kibana.startSync(seed.id));
          assert.equal(job.status, "error");
          assert.match(
            job.error,
            /needs configuration.*'Directory path' \(directory\) cannot be empty/,
          );
          assert.equal((await kibana.getConnector(seed.id))?.status, "needs_configuration");
          assert.deepEqual(await snapshotIndex(seed.index), seed.before, "the index is untouched");
        },
      );

      await t.step("a job snapshot without the directory key fails naming it", async () => {
        const seed = await seeded();
        const doc = createSyncJobDoc(seed.id, (await kibana.getConnector(seed.id))!);
        delete doc.connector.configuration.directory;
        const { _id } = await kibana.json("POST", `/${JOBS}/_doc?refresh=true`, doc);
        await expectRefused(seed, _id, /'Directory path' \(directory\) cannot be empty/, true);
      });

      await t.step("a job whose snapshot has no configuration fails", async () => {
        const seed = await seeded();
        const doc = createSyncJobDoc(seed.id, (await kibana.getConnector(seed.id))!);
        delete doc.connector.configuration;
        const { _id } = await kibana.json("POST", `/${JOBS}/_doc?refresh=true`, doc);
        await expectRefused(seed, _id, /has no configuration/, true);
      });

      await t.step("an invalid glob fails naming the pattern", async () => {
        const seed = await seeded();
        await setValue(seed.id, "pattern", "[unclosed");
        await expectRefused(
          seed,
          await kibana.startSync(seed.id),
          /\(pattern\) is not a valid glob/,
        );
      });

      await t.step("a list or a number as directory fails naming the directory", async () => {
        for (const value of [["/tmp", "/etc"], 5]) {
          const seed = await seeded();
          await setValue(seed.id, "directory", value);
          await expectRefused(seed, await kibana.startSync(seed.id), /\(directory\)/);
        }
      });

      await t.step(
        "an exclude rule activated over an unchanged folder removes the excluded",
        async () => {
          const seed = await seeded();
          await activateRules(seed.id, [
            { id: "no-a", field: "name", policy: "exclude", rule: "equals", value: "a.txt" },
          ]);
          const job = await waitForJob(await kibana.startSync(seed.id));
          assert.equal(job.status, "completed", String(job.error));
          assert.deepEqual((await snapshotIndex(seed.index)).ids, [
            "b.txt",
            "c.txt",
            "d.txt",
            "e.txt",
          ]);
        },
      );

      await t.step("invalid active rules fail whether or not the source changed", async () => {
        for (
          const rule of [
            { id: "bad-regex", field: "name", policy: "include", rule: "regex", value: "([" },
            { id: "bad-policy", field: "name", policy: "maybe", rule: "equals", value: "a.txt" },
          ]
        ) {
          const seed = await seeded();
          await activateRules(seed.id, [rule]);
          // Check-in validates only a draft, so the connector itself is connected again.
          await expectRefused(seed, await kibana.startSync(seed.id), /Filtering|rule/i, true);
        }
      });

      await t.step(
        "a deleted content index is restored by a sync of an unchanged folder",
        async () => {
          const seed = await seeded();
          await esJson("DELETE", `/${seed.index}`);
          const job = await waitForJob(await kibana.startSync(seed.id));
          assert.equal(job.status, "completed", String(job.error));
          assert.equal(await kibana.countDocs(seed.index), 5);
        },
      );

      await t.step("a configuration change the source does not track still syncs", async () => {
        const seed = await seeded();
        // dir's own changed() compares folder and pattern only; text size is another input.
        await setValue(seed.id, "max_text_size", 0);
        const job = await waitForJob(await kibana.startSync(seed.id));
        assert.equal(job.status, "completed", String(job.error));
        const doc = await esJson<{ _source: Doc }>("GET", `/${seed.index}/_doc/a.txt`);
        assert.equal(doc._source.text, undefined, "re-indexed with the new configuration");
      });

      await t.step(
        "a pipeline settings change over an unchanged folder rewrites the documents",
        async () => {
          const seed = await seeded();
          const connector = (await kibana.getConnector(seed.id))!;
          await kibana.updateConnector(seed.id, {
            pipeline: { ...connector.pipeline, reduce_whitespace: false },
          });
          const job = await waitForJob(await kibana.startSync(seed.id));
          assert.equal(job.status, "completed", String(job.error));
          const doc = await esJson<{ _source: Doc }>("GET", `/${seed.index}/_doc/a.txt`);
          assert.equal(doc._source._reduce_whitespace, false);
        },
      );

      await t.step("a job without job_type runs as a full sync", async () => {
        const seed = await seeded();
        await Deno.writeTextFile(`${seed.root}/f.txt`, "file f");
        const doc = createSyncJobDoc(seed.id, (await kibana.getConnector(seed.id))!);
        delete doc.job_type;
        const { _id } = await kibana.json("POST", `/${JOBS}/_doc?refresh=true`, doc);
        const job = await waitForJob(_id);
        assert.equal(job.status, "completed", String(job.error));
        assert.equal(await kibana.countDocs(seed.index), 6);
      });

      await t.step(
        "a job with an unknown job_type ends error instead of waiting forever",
        async () => {
          const seed = await seeded();
          const doc = createSyncJobDoc(seed.id, (await kibana.getConnector(seed.id))!);
          doc.job_type = "bogus";
          const { _id } = await kibana.json("POST", `/${JOBS}/_doc?refresh=true`, doc);
          await expectRefused(seed, _id, /unknown job type "bogus"/, true);
        },
      );

      await t.step("mass-deletion guard: an empty folder deletes nothing and fails", async () => {
        const seed = await seeded();
        for (const name of ["a", "b", "c", "d", "e"]) await Deno.remove(`${seed.root}/${name}.txt`);
        await expectRefused(
          seed,
          await kibana.startSync(seed.id),
          /yielded no document while \S+ holds 5.*allow_empty_full_sync: true/,
          true,
        );
      });

      await t.step(
        "mass-deletion guard: allow_empty_full_sync on the entry empties the index",
        async () => {
          const seed = await seeded({}, ALLOW_EMPTY_ID);
          for (const name of ["a", "b", "c", "d", "e"]) {
            await Deno.remove(`${seed.root}/${name}.txt`);
          }
          const job = await waitForJob(await kibana.startSync(seed.id));
          assert.equal(job.status, "completed", String(job.error));
          assert.equal(await kibana.countDocs(seed.index), 0);
        },
      );

      await t.step("mass-deletion guard: above max_deletion_ratio nothing is deleted", async () => {
        const seed = await seeded({}, RATIO_ID);
        for (const name of ["a", "b", "c"]) await Deno.remove(`${seed.root}/${name}.txt`);
        const jobId = await kibana.startSync(seed.id);
        const job = await waitForJob(jobId);
        assert.equal(job.status, "error");
        assert.match(String(job.error), /delete 3 of the 5 documents .*max_deletion_ratio 0\.5/);
        assert.deepEqual((await snapshotIndex(seed.index)).ids, seed.before.ids, "nothing deleted");
        await connectorAfter(seed.id);
        // Below the ratio (1 of 5 once a file comes back) the sync completes.
        await Deno.writeTextFile(`${seed.root}/a.txt`, "file a");
        await Deno.writeTextFile(`${seed.root}/b.txt`, "file b");
        const next = await waitForJob(await kibana.startSync(seed.id));
        assert.equal(next.status, "completed", String(next.error));
        assert.deepEqual((await snapshotIndex(seed.index)).ids, [
          "a.txt",
          "b.txt",
          "d.txt",
          "e.txt",
        ]);
      });
    } finally {
      service.kill("SIGTERM");
      await service.output();
    }
  },
});
