import assert from "node:assert/strict";
import { FatalError } from "../src/errors/mod.ts";
import type { DocItem, IncrementalItem, LazyDownload } from "../src/source/types.ts";
import { SYNC_JOB_STAMP_FIELD } from "../src/sync/mod.ts";
import {
  dropIndex,
  generate,
  generatedDoc,
  readIndex,
  runSync,
  sourceOf,
  testClient,
  uniqueIndex,
} from "./_sync_harness.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "incremental: the source's index/update/delete ops only, and the new cursor returned",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-incr");
    try {
      const full = await runSync({
        client,
        index,
        features: { incrementalSync: true },
        source: sourceOf(() => generate(100), { syncCursor: () => ({ version: 1 }) }),
      });
      assert.deepEqual(full.syncCursor, { version: 1 });
      const firstStamp = (await readIndex(client, index)).get("doc-50")![SYNC_JOB_STAMP_FIELD];

      const cursors: unknown[] = [];
      let cursor: unknown;
      const result = await runSync({
        client,
        index,
        jobType: "incremental",
        cursor: { version: 1 },
        features: { incrementalSync: true },
        source: sourceOf(() => generate(0), {
          getDocsIncrementally: async function* (from): AsyncGenerator<IncrementalItem> {
            cursors.push(from);
            yield [generatedDoc(100, 2), null, "index"];
            yield [{ _id: "doc-5", title: "patched" }, null, "update"];
            yield [{ _id: "doc-7" }, null, "delete"];
            yield [{ _id: "never-existed" }, null, "delete"];
            yield [{ _id: "upserted", title: "new via update" }, null, "update"];
            cursor = { version: 2 };
          },
          syncCursor: () => cursor,
        }),
      });
      assert.deepEqual(cursors, [{ version: 1 }]);
      assert.deepEqual(result.syncCursor, { version: 2 });
      assert.equal(result.stats.indexed_document_count, 3);
      assert.equal(result.stats.deleted_document_count, 1, "a missing doc is not counted");
      assert.equal(result.stats.failed_document_count, 0);
      assert.equal(result.totalDocumentCount, 101);
      const docs = await readIndex(client, index);
      assert.equal(docs.size, 101);
      assert.equal(docs.get("doc-7"), undefined);
      assert.equal(docs.get("doc-100")!.version, 2);
      const patched = docs.get("doc-5")!;
      assert.equal(patched.title, "patched");
      assert.equal(patched.body, generatedDoc(5).body, "update merges into the stored document");
      assert.equal(docs.get("upserted")!.title, "new via update");
      assert.equal(docs.get("upserted")!.id, "upserted");
      // No scan: untouched documents keep the full sync's stamp and stay.
      assert.equal(docs.get("doc-50")![SYNC_JOB_STAMP_FIELD], firstStamp);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "incremental ops on the same _id keep their order across batches and downloads",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-order");
    try {
      const slow: LazyDownload = async () => {
        await new Promise((r) => setTimeout(r, 30));
        return { _attachment: "aGVsbG8=" };
      };
      const result = await runSync({
        client,
        index,
        jobType: "incremental",
        features: { incrementalSync: true },
        bulk: { chunk_size: 4, max_concurrency: 5 },
        source: sourceOf(() => generate(0), {
          getDocsIncrementally: async function* (): AsyncGenerator<IncrementalItem> {
            for (let round = 0; round < 20; round++) {
              yield [{ _id: "x", round }, round % 3 === 0 ? slow : null, "index"];
              yield [{ _id: `filler-${round}` }, null, "index"];
              if (round % 5 === 4) yield [{ _id: "x" }, null, "delete"];
            }
            yield [{ _id: "x", round: 999 }, slow, "update"];
          },
        }),
      });
      assert.equal(result.stats.failed_document_count, 0);
      const docs = await readIndex(client, index);
      assert.equal(docs.get("x")?.round, 999);
      assert.equal(docs.get("x")?._attachment, "aGVsbG8=");
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "incremental fallback: unchanged _timestamp skipped (no download), deletions still happen",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-tsskip");
    try {
      const calls: boolean[] = [];
      const lazy: LazyDownload = (doit) => {
        calls.push(doit);
        return Promise.resolve(doit ? { _attachment: "Y29udGVudA==" } : null);
      };
      const docs = (version: (i: number) => number, skip?: (i: number) => boolean) =>
        sourceOf(async function* (): AsyncGenerator<DocItem> {
          for await (const item of generate(1200, { version, ...(skip ? { skip } : {}) })) {
            yield [item as never, lazy];
          }
          yield { _id: "no-timestamp", title: "always re-indexed" };
        });
      const features = { incrementalSync: true };
      await runSync({ client, index, features, source: docs(() => 1) });
      assert.equal(calls.length, 1200);
      calls.length = 0;
      const changed = (i: number) => i % 100 === 0;
      const removed = (i: number) => i % 100 === 1;
      const result = await runSync({
        client,
        index,
        features,
        jobType: "incremental",
        source: docs((i) => (changed(i) ? 2 : 1), removed),
      });
      assert.equal(result.stats.indexed_document_count, 13, "12 changed + 1 without _timestamp");
      assert.equal(result.stats.deleted_document_count, 12);
      assert.equal(result.totalDocumentCount, 1200 + 1 - 12);
      assert.equal(calls.filter((doit) => doit).length, 12);
      assert.equal(calls.filter((doit) => !doit).length, 1200 - 24, "unchanged: download canceled");
      const stored = await readIndex(client, index);
      assert.equal(stored.size, 1189);
      for (let i = 0; i < 1200; i++) {
        const doc = stored.get(`doc-${i}`);
        if (removed(i)) assert.equal(doc, undefined);
        else assert.equal(doc?.version, changed(i) ? 2 : 1);
      }
      // A third (full) sync still converges and deletes nothing more.
      const full = await runSync({
        client,
        index,
        features,
        source: docs((i) => (changed(i) ? 2 : 1), removed),
      });
      assert.equal(full.stats.deleted_document_count, 0);
      assert.equal(full.totalDocumentCount, 1189);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "an incremental job for a source without incremental support fails",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-noincr");
    try {
      await assert.rejects(
        runSync({ client, index, jobType: "incremental", source: sourceOf(() => generate(3)) }),
        (e) => e instanceof FatalError && /does not support incremental sync/.test(e.message),
      );
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});
