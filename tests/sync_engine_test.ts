import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { DocItem, LazyDownload } from "../src/source/types.ts";
import { emptyStats, hashId, SYNC_JOB_STAMP_FIELD, TooManyErrorsError } from "../src/sync/mod.ts";
import {
  countIndex,
  dropIndex,
  generate,
  generatedDoc,
  makeJob,
  previousSyncOf,
  readIndex,
  recordingLogger,
  runSync,
  sourceOf,
  testClient,
  uniqueIndex,
} from "./_sync_harness.ts";
import { waitFor } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "full sync: 5000 docs, then 50 removed and 50 changed → exact contents and counts",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-full");
    try {
      const first = await runSync({ client, index, source: sourceOf(() => generate(5000)) });
      assert.equal(first.stats.indexed_document_count, 5000);
      assert.equal(first.stats.deleted_document_count, 0);
      assert.equal(first.stats.failed_document_count, 0);
      assert.equal(first.totalDocumentCount, 5000);
      assert.ok(first.stats.indexed_document_volume_bytes > 5000 * 200);
      let docs = await readIndex(client, index);
      assert.equal(docs.size, 5000);
      const sample = docs.get("doc-42")!;
      const expected = generatedDoc(42);
      assert.equal(sample.id, "doc-42");
      assert.equal(sample.title, expected.title);
      assert.equal(sample.body, expected.body);
      assert.equal(sample._timestamp, expected._timestamp);
      assert.equal(sample._extract_binary_content, true);
      assert.equal(sample._reduce_whitespace, true);
      assert.equal(sample._run_ml_inference, true);
      assert.equal(typeof sample[SYNC_JOB_STAMP_FIELD], "string");
      assert.equal("_id" in sample, false);

      const removed = (i: number) => i % 100 === 3;
      const changed = (i: number) => i % 100 === 50;
      const stats = emptyStats();
      const second = await runSync({
        client,
        index,
        stats,
        source: sourceOf(() =>
          generate(5000, { skip: removed, version: (i) => changed(i) ? 2 : 1 })
        ),
      });
      assert.equal(second.stats, stats, "the request's stats object is the result's");
      assert.equal(stats.indexed_document_count, 4950);
      assert.equal(stats.deleted_document_count, 50);
      assert.equal(stats.yielded_document_count, 4950);
      assert.equal(second.totalDocumentCount, 4950);
      docs = await readIndex(client, index);
      assert.equal(docs.size, 4950);
      for (let i = 0; i < 5000; i++) {
        const doc = docs.get(`doc-${i}`);
        if (removed(i)) {
          assert.equal(doc, undefined, `doc-${i} must be deleted`);
          continue;
        }
        assert.ok(doc, `doc-${i} must exist`);
        const want = generatedDoc(i, changed(i) ? 2 : 1);
        assert.equal(doc.title, want.title);
        assert.equal(doc.version, want.version);
        assert.equal(doc._timestamp, want._timestamp);
      }
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "a job failing half-way deletes nothing, and the next full sync converges",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-fail");
    try {
      await runSync({ client, index, source: sourceOf(() => generate(1000)) });
      const failing = sourceOf(async function* () {
        for await (const item of generate(1000, { version: () => 2 })) {
          if ((item as unknown as { n: number }).n === 400) throw new Error("backend went away");
          yield item;
        }
      });
      const stats = emptyStats();
      await assert.rejects(runSync({ client, index, source: failing, stats }), /backend went away/);
      assert.equal(stats.deleted_document_count, 0);
      let docs = await readIndex(client, index);
      assert.equal(docs.size, 1000, "previous documents stay");
      assert.ok(stats.indexed_document_count <= 400);
      // The next complete run converges: 700 docs, all version 3.
      const last = await runSync({
        client,
        index,
        source: sourceOf(() => generate(700, { version: () => 3 })),
      });
      assert.equal(last.stats.indexed_document_count, 700);
      assert.equal(last.stats.deleted_document_count, 300);
      assert.equal(last.totalDocumentCount, 700);
      docs = await readIndex(client, index);
      assert.equal(docs.size, 700);
      for (const doc of docs.values()) assert.equal(doc.version, 3);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "abort stops a sync promptly with the signal's reason, even while the source hangs",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-abort");
    try {
      const controller = new AbortController();
      const stats = emptyStats();
      let closed = false;
      const source = sourceOf(async function* () {
        try {
          yield* generate(100);
          await new Promise(() => {}); // hangs forever
        } finally {
          closed = true;
        }
      });
      const running = runSync({
        client,
        index,
        source,
        stats,
        signal: controller.signal,
        bulk: { chunk_size: 50 },
      });
      await waitFor(() => stats.indexed_document_count === 100, { intervalMs: 20 });
      const reason = new Error("canceled by test");
      controller.abort(reason);
      await assert.rejects(running, (e) => e === reason);
      assert.equal(await countIndex(client, index), 100);
      assert.equal(stats.deleted_document_count, 0);
      // A generator stuck in an await cannot run its finally; only its next step would.
      assert.equal(closed, false);
      // An already aborted signal fails at once.
      await assert.rejects(
        runSync({ client, index, source, signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "abort during a slow but busy source stops before the next batch",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-abort2");
    try {
      const controller = new AbortController();
      const stats = emptyStats();
      let pulls = 0;
      // A hand-written iterator, to count the engine's next() calls (not generator resumptions).
      const source = sourceOf(() => ({
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<DocItem>> => {
            const i = pulls++;
            if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
            return { done: false, value: generatedDoc(i) };
          },
        }),
      }));
      const running = runSync({ client, index, source, stats, signal: controller.signal });
      await waitFor(() => stats.indexed_document_count >= 500, { intervalMs: 20 });
      controller.abort(new Error("stop"));
      await assert.rejects(running, /stop/);
      const seen = pulls;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(pulls, seen, "the source is not pulled after the abort");
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "changed() false completes at once with zero counts and writes nothing",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-unchanged");
    try {
      await runSync({ client, index, source: sourceOf(() => generate(10)) });
      let pulled = false;
      const source = sourceOf(async function* () {
        pulled = true;
        yield* generate(10);
      }, { changed: () => Promise.resolve(false), syncCursor: () => ({ at: 1 }) });
      const previousSync = previousSyncOf(makeJob(index, { filtering: null }), 10);
      const result = await runSync({ client, index, source, previousSync });
      assert.equal(pulled, false);
      assert.deepEqual(result.stats, emptyStats());
      assert.equal(result.totalDocumentCount, 10);
      assert.deepEqual(result.syncCursor, { at: 1 });
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "changed() false does not skip when anything else changed since the last sync",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-unchanged-inputs");
    try {
      const unchanged = () => {
        const state = { pulled: false };
        const source = sourceOf(async function* () {
          state.pulled = true;
          yield* generate(10);
        }, { changed: () => Promise.resolve(false) });
        return { state, source };
      };
      const same = makeJob(index, { filtering: null });
      const cases: [string, () => Promise<unknown>, Parameters<typeof previousSyncOf>][] = [
        ["no earlier completed sync", () => Promise.resolve(), [same, 10]],
        ["the index was deleted", () => dropIndex(client, index), [same, 10]],
        ["the index holds another count", () => Promise.resolve(), [same, 7]],
        ["the configuration changed", () => Promise.resolve(), [
          (() => {
            const job = makeJob(index, { filtering: null });
            job.doc.connector.configuration = { folder: { value: "/old" } } as never;
            return job;
          })(),
          10,
        ]],
        ["the pipeline settings changed", () => Promise.resolve(), [
          makeJob(index, {
            filtering: null,
            pipeline: {
              name: "search-default-ingestion",
              extract_binary_content: true,
              reduce_whitespace: false,
              run_ml_inference: true,
            },
          }),
          10,
        ]],
      ];
      for (const [name, before, [job, count]] of cases) {
        await runSync({ client, index, source: sourceOf(() => generate(10)) });
        await before();
        const { state, source } = unchanged();
        const previousSync = name === "no earlier completed sync"
          ? undefined
          : previousSyncOf(job, count);
        const result = await runSync({
          client,
          index,
          source,
          ...(previousSync ? { previousSync } : {}),
        });
        assert.equal(state.pulled, true, name);
        assert.equal(result.totalDocumentCount, 10, name);
      }
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "document shape: long ids hashed, numeric ids stringified, missing _timestamp set",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-shape");
    try {
      const longId = "x".repeat(600);
      const before = Date.now();
      const result = await runSync({
        client,
        index,
        pipeline: null,
        source: sourceOf(async function* () {
          yield { _id: longId, title: "long" };
          yield { _id: 7, title: "numeric" };
          yield { title: "no id" } as never;
          yield { _id: "d", title: "dated", when: new Date("2026-02-03T04:05:06Z") };
        }),
      });
      assert.equal(result.stats.indexed_document_count, 3);
      assert.equal(result.stats.skipped_document_count, 1);
      const docs = await readIndex(client, index);
      const hashed = docs.get(hashId(longId))!;
      assert.equal(hashed.id, hashId(longId));
      assert.equal(hashed.title, "long");
      assert.equal(docs.get("7")!.id, "7");
      const stamp = Date.parse(docs.get("7")!._timestamp as string);
      assert.ok(stamp >= before - 1000 && stamp <= Date.now() + 1000);
      assert.equal(docs.get("d")!.when, "2026-02-03T04:05:06.000Z");
      // No pipeline snapshot: Elastic's defaults.
      assert.equal(docs.get("d")!._reduce_whitespace, true);
      const mapping = await client.indices.getMapping({ index });
      const props = mapping[index]!.mappings.properties!;
      assert.equal(props.id?.type, "keyword");
      assert.equal(props._timestamp?.type, "date");
      assert.equal(props[SYNC_JOB_STAMP_FIELD]?.type, "keyword");
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "an existing index is kept as is (never recreated); an alias is resolved",
  ...opts,
  fn: async () => {
    const client = testClient();
    const real = uniqueIndex("sync-real");
    const alias = `${real}-alias`;
    try {
      await client.indices.create({
        index: real,
        mappings: { properties: { n: { type: "long" }, tag: { type: "keyword" } } },
        aliases: { [alias]: {} },
      });
      await client.index({ index: real, id: "foreign", document: { tag: "old" }, refresh: true });
      const uuid = (await client.indices.getSettings({ index: real }))[real]!.settings!.index!.uuid;
      const result = await runSync({ client, index: alias, source: sourceOf(() => generate(30)) });
      assert.equal(result.stats.indexed_document_count, 30);
      assert.equal(result.stats.deleted_document_count, 1, "the unstamped foreign doc is deleted");
      assert.equal(result.totalDocumentCount, 30);
      const after =
        (await client.indices.getSettings({ index: real }))[real]!.settings!.index!.uuid;
      assert.equal(after, uuid);
      const mapping = await client.indices.getMapping({ index: real });
      assert.equal(mapping[real]!.mappings.properties!.tag?.type, "keyword");
      assert.equal(mapping[real]!.mappings.properties![SYNC_JOB_STAMP_FIELD]?.type, "keyword");
      const second = await runSync({ client, index: alias, source: sourceOf(() => generate(20)) });
      assert.equal(second.stats.deleted_document_count, 10);
      assert.equal((await readIndex(client, real)).size, 20);
    } finally {
      await dropIndex(client, real);
      await client.close();
    }
  },
});

Deno.test({
  name: "the bulk pipeline parameter is sent only when the pipeline exists (warned once otherwise)",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-pipe");
    const pipeline = uniqueIndex("test-pipeline");
    try {
      const { logger, records } = recordingLogger();
      await runSync({
        client,
        index,
        logger,
        pipeline: {
          name: pipeline,
          extract_binary_content: false,
          reduce_whitespace: false,
          run_ml_inference: false,
        },
        bulk: { chunk_size: 20 },
        source: sourceOf(() => generate(50)),
      });
      const warnings = records.filter((r) => r.message.includes(`pipeline ${pipeline}`));
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]!.level, "WARNING");
      const doc = (await readIndex(client, index)).get("doc-1")!;
      assert.equal(doc._extract_binary_content, false);
      assert.equal(doc._reduce_whitespace, false);
      assert.equal(doc._run_ml_inference, false);

      await client.ingest.putPipeline({ id: pipeline, processors: [] });
      const { logger: logger2, records: records2 } = recordingLogger();
      await runSync({
        client,
        index,
        logger: logger2,
        pipeline: {
          name: pipeline,
          extract_binary_content: true,
          reduce_whitespace: true,
          run_ml_inference: true,
        },
        source: sourceOf(() => generate(50)),
      });
      assert.equal(records2.filter((r) => r.level === "WARNING").length, 0);
      const stats = await client.nodes.stats({ metric: "ingest" });
      const node = Object.values(stats.nodes)[0]!;
      // A pipeline without processors counts no documents, only bytes.
      const used = node.ingest?.pipelines?.[pipeline] as
        | { ingested_as_first_pipeline_in_bytes?: number }
        | undefined;
      assert.ok(
        (used?.ingested_as_first_pipeline_in_bytes ?? 0) > 50 * 200,
        "the pipeline was used",
      );
    } finally {
      await dropIndex(client, index);
      await client.ingest.deletePipeline({ id: pipeline }).catch(() => {});
      await client.close();
    }
  },
});

function attachmentDoc(
  i: number,
  size: number,
  hooks: { start: (doit: boolean) => void; end: () => void },
): DocItem {
  const lazy: LazyDownload = async (doit) => {
    hooks.start(doit);
    try {
      await new Promise((r) => setTimeout(r, 5));
      if (!doit) return null;
      return {
        _id: "ignored",
        _attachment: Buffer.alloc(size, i % 256).toString("base64"),
        _original_filename: `file-${i}.bin`,
      };
    } finally {
      hooks.end();
    }
  };
  return [{ _id: `file-${i}`, name: `file-${i}.bin` }, lazy];
}

Deno.test({
  name: "lazy downloads: merged when extraction is on (bounded concurrency), skipped when off",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-lazy");
    try {
      let running = 0;
      let peak = 0;
      let calls = 0;
      const source = sourceOf(async function* () {
        for (let i = 0; i < 40; i++) {
          yield attachmentDoc(i, i === 39 ? 4096 : 100, {
            start: () => {
              calls++;
              peak = Math.max(peak, ++running);
            },
            end: () => running--,
          });
        }
      });
      const result = await runSync({
        client,
        index,
        source,
        bulk: { concurrent_downloads: 3 },
        maxFileSize: 1000,
      });
      assert.equal(result.stats.indexed_document_count, 40);
      assert.equal(calls, 40);
      assert.ok(peak <= 3, `peak ${peak}`);
      assert.ok(peak >= 2, `downloads ran concurrently (peak ${peak})`);
      const docs = await readIndex(client, index);
      const doc = docs.get("file-5")!;
      assert.equal(doc._attachment, Buffer.alloc(100, 5).toString("base64"));
      assert.equal("_original_filename" in doc, false);
      assert.equal(doc.id, "file-5");
      assert.equal("_attachment" in docs.get("file-39")!, false, "over max_file_download_size");

      calls = 0;
      const off = await runSync({
        client,
        index,
        source,
        pipeline: {
          name: "none",
          extract_binary_content: false,
          reduce_whitespace: true,
          run_ml_inference: true,
        },
      });
      assert.equal(off.stats.indexed_document_count, 40);
      assert.equal(calls, 0);
      assert.equal("_attachment" in (await readIndex(client, index)).get("file-5")!, false);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "max_text_document_size drops big text documents, keeps their previous version",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-cap");
    try {
      await runSync({ client, index, source: sourceOf(() => generate(5)) });
      const result = await runSync({
        client,
        index,
        bulk: { max_text_document_size: 0.002 }, // ~2 KiB
        source: sourceOf(async function* () {
          yield* generate(4, { version: () => 2 });
          yield { ...generatedDoc(4, 2), body: "x".repeat(5000) };
          yield { _id: "big-attachment", _attachment: "y".repeat(5000) };
        }),
      });
      assert.equal(result.stats.indexed_document_count, 5);
      assert.equal(result.stats.skipped_document_count, 1);
      assert.equal(result.stats.deleted_document_count, 0);
      const docs = await readIndex(client, index);
      assert.equal(docs.size, 6);
      assert.equal(docs.get("doc-4")!.version, 1, "previous version kept");
      assert.equal(docs.get("doc-3")!.version, 2);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "bulk item errors are counted, logged once per kind, and keep the previous version",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-itemerr");
    try {
      await client.indices.create({ index, mappings: { properties: { n: { type: "long" } } } });
      await runSync({ client, index, source: sourceOf(() => generate(200)) });
      const bad = (i: number) => i % 40 === 7; // 5 bad docs, never consecutive
      const { logger, records } = recordingLogger();
      const result = await runSync({
        client,
        index,
        logger,
        source: sourceOf(async function* () {
          for (let i = 0; i < 200; i++) {
            const doc = generatedDoc(i, 2);
            yield bad(i) ? { ...doc, n: `not a number ${i}` } : doc;
          }
        }),
      });
      assert.equal(result.stats.indexed_document_count, 195);
      assert.equal(result.stats.failed_document_count, 5);
      assert.equal(result.stats.deleted_document_count, 0);
      assert.equal(result.totalDocumentCount, 200);
      const errors = records.filter((r) => r.level === "ERROR");
      assert.equal(errors.length, 1, errors.map((e) => e.message).join("\n"));
      assert.match(errors[0]!.message, /document_parsing_exception|mapper_parsing_exception/);
      assert.match(errors[0]!.message, /doc-7/);
      const docs = await readIndex(client, index);
      assert.equal(docs.get("doc-7")!.version, 1, "failed re-index keeps the previous version");
      assert.equal(docs.get("doc-8")!.version, 2);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "past the error budget the job fails naming the first failing documents",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-budget");
    try {
      await client.indices.create({ index, mappings: { properties: { n: { type: "long" } } } });
      const source = sourceOf(async function* () {
        for (let i = 0; i < 300; i++) {
          const doc = generatedDoc(i);
          yield i >= 100 && i < 150 ? { ...doc, n: "bad" } : doc;
        }
      });
      const stats = emptyStats();
      await assert.rejects(
        runSync({ client, index, source, stats, bulk: { chunk_size: 40, max_concurrency: 1 } }),
        (e) =>
          e instanceof TooManyErrorsError &&
          /Exceeded maximum consecutive errors - saw 11 errors in a row/.test(e.message) &&
          /First failing documents: doc-100, doc-101, doc-102/.test(e.message),
      );
      assert.ok(stats.failed_document_count >= 11);
      assert.equal(stats.deleted_document_count, 0);
      // A disabled monitor only counts.
      const counted = await runSync({
        client,
        index,
        source,
        bulk: {
          error_monitor: {
            enabled: false,
            max_total_errors: 0,
            max_consecutive_errors: 0,
            max_error_rate: 0,
            error_window_size: 100,
            error_queue_size: 10,
          },
        },
      });
      assert.equal(counted.stats.failed_document_count, 50);
      assert.equal(counted.stats.indexed_document_count, 250);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "a failing lazy download drops that document (previous version kept), the job goes on",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-dlfail");
    try {
      const source = (version: number, failing?: string) =>
        sourceOf(async function* (): AsyncGenerator<DocItem> {
          for (let i = 0; i < 10; i++) {
            const id = `f-${i}`;
            const lazy: LazyDownload = (doit) => {
              if (id === failing) return Promise.reject(new Deno.errors.NotFound(`${id} vanished`));
              return Promise.resolve(doit ? { _attachment: btoa(`v${version}`) } : null);
            };
            yield [{ _id: id, version }, lazy];
          }
        });
      await runSync({ client, index, source: source(1) });
      const { logger, records } = recordingLogger();
      const result = await runSync({ client, index, logger, source: source(2, "f-3") });
      assert.equal(result.stats.indexed_document_count, 9);
      assert.equal(result.stats.failed_document_count, 1);
      assert.equal(result.stats.deleted_document_count, 0);
      const docs = await readIndex(client, index);
      assert.equal(docs.size, 10);
      assert.equal(docs.get("f-3")!.version, 1);
      assert.equal(docs.get("f-4")!._attachment, btoa("v2"));
      assert.ok(records.some((r) => r.level === "ERROR" && /f-3 vanished/.test(r.message)));
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "mass-deletion guard: content and access-control syncs delete nothing past it",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-guard");
    const acl = `.search-acl-filter-${index}`;
    const users = (count: number) =>
      async function* () {
        for (let i = 0; i < count; i++) yield { _id: `user-${i}`, identity: { email: `u${i}@x` } };
      };
    try {
      await runSync({ client, index, source: sourceOf(() => generate(10)) });
      // An empty source is refused, then allowed by the override.
      await assert.rejects(
        runSync({ client, index, source: sourceOf(() => generate(0)) }),
        /yielded no document while \S+ holds 10.*allow_empty_full_sync/,
      );
      assert.equal(await countIndex(client, index), 10, "nothing deleted");
      // Above the ratio: 4 of 10 would go, 30% allowed.
      const guard = { allowEmptyFullSync: false, maxDeletionRatio: 0.3 };
      await assert.rejects(
        runSync({ client, index, source: sourceOf(() => generate(6)), deletionGuard: guard }),
        /delete 4 of the 10 documents .*max_deletion_ratio 0\.3/,
      );
      assert.equal(await countIndex(client, index), 10, "nothing deleted");
      const below = await runSync({
        client,
        index,
        source: sourceOf(() => generate(8)),
        deletionGuard: guard,
      });
      assert.equal(below.stats.deleted_document_count, 2);
      const allowed = await runSync({
        client,
        index,
        source: sourceOf(() => generate(0)),
        deletionGuard: { allowEmptyFullSync: true, maxDeletionRatio: null },
      });
      assert.equal(allowed.totalDocumentCount, 0);

      // The same guard protects the access-control index.
      const aclSource = (count: number) =>
        sourceOf(() => generate(0), { getAccessControl: users(count) } as never);
      await runSync({ client, index: acl, jobType: "access_control", source: aclSource(5) });
      await assert.rejects(
        runSync({ client, index: acl, jobType: "access_control", source: aclSource(0) }),
        /yielded no document while \S+ holds 5/,
      );
      assert.equal(await countIndex(client, acl), 5, "no user deleted");
    } finally {
      await dropIndex(client, index);
      await dropIndex(client, acl);
      await client.close();
    }
  },
});
