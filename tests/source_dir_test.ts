/**
 * The `dir` source end to end against the real Elasticsearch: a generated tree of 10,000 files,
 * a full sync, then additions, changes and removals picked up by an incremental sync and by a
 * full sync, and an unchanged tree skipped through `changed()`.
 */
import assert from "node:assert/strict";
import type { Client } from "@elastic/elasticsearch";
import { DirectoryDataSource } from "../sources/dir/mod.ts";
import type { DirectoryCursor } from "../sources/dir/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import type { JobType } from "../src/protocol/types.ts";
import { createSource, WorkerPool } from "../src/source/mod.ts";
import { type ContentSyncResult, emptyStats, runContentSync } from "../src/sync/mod.ts";
import {
  dropIndex,
  makeJob,
  previousSyncOf,
  readIndex,
  testBulk,
  testClient,
  uniqueIndex,
} from "./_sync_harness.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const OLD = new Date("2020-06-01T12:00:00Z");
const DIRS = 100;
const PER_DIR = 100;
const TOTAL = DIRS * PER_DIR;

function pathOf(i: number): string {
  const name = i % 1000 === 999 ? `blob-${i}.bin` : `file-${i}.txt`;
  return `d${String(Math.floor(i / PER_DIR)).padStart(3, "0")}/${name}`;
}

function contentOf(i: number, version: number): string | Uint8Array {
  if (pathOf(i).endsWith(".bin")) return new Uint8Array([0, 1, 2, version, i % 256]);
  return `File number ${i}, version ${version}.\nSearchable words: alpha beta gamma ${i}.\n`;
}

async function writeFile(root: string, i: number, version: number, mtime: Date): Promise<void> {
  const full = `${root}/${pathOf(i)}`;
  const content = contentOf(i, version);
  if (typeof content === "string") await Deno.writeTextFile(full, content);
  else await Deno.writeFile(full, content);
  await Deno.utime(full, mtime, mtime);
}

/** Runs `tasks` with at most `limit` at once (file generation). */
async function inParallel(count: number, limit: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < count) await task(next++);
  }));
}

interface SyncOptions {
  client: Client;
  index: string;
  root: string;
  jobType: JobType;
  cursor?: unknown;
  workers?: WorkerPool;
  /** A completed earlier sync with the same inputs left this many documents. */
  previousCount?: number;
}

async function sync(options: SyncOptions): Promise<ContentSyncResult> {
  const logger = createLogger({ level: "ERROR", sink: () => {} });
  const signal = new AbortController().signal;
  const source = createSource(DirectoryDataSource, {
    directory: options.root,
  }, {
    logger,
    maxFileSize: 10485760,
    signal,
    syncCursor: options.cursor,
    ...(options.workers ? { workers: options.workers } : {}),
  });
  const job = makeJob(options.index, { jobType: options.jobType, cursor: options.cursor });
  job.doc.connector.service_type = "dir";
  job.doc.connector.configuration = { directory: { value: options.root } } as never;
  const previous = options.previousCount === undefined
    ? {}
    : { previousSync: previousSyncOf(job, options.previousCount) };
  try {
    return await runContentSync({
      job,
      source,
      sourceClass: DirectoryDataSource,
      client: options.client,
      bulk: testBulk(),
      maxFileSize: 10485760,
      logger,
      signal,
      stats: emptyStats(),
      ...previous,
    });
  } finally {
    await source.close?.();
  }
}

/** Checks the index holds exactly the files `expected` maps (index → version). */
async function assertIndexMatches(
  client: Client,
  index: string,
  root: string,
  expected: Map<number, number>,
) {
  const docs = await readIndex(client, index);
  assert.equal(docs.size, expected.size, "document count");
  for (const [i, version] of expected) {
    const id = pathOf(i);
    const doc = docs.get(id);
    assert.ok(doc, `${id} must be indexed`);
    assert.equal(doc.path, `${root}/${id}`);
    const content = contentOf(i, version);
    if (typeof content === "string") {
      assert.equal(doc.text, content, `${id} text`);
      assert.equal(doc.size, new TextEncoder().encode(content).length);
    } else {
      assert.equal(doc.text, undefined);
      assert.equal(doc.size, content.length);
    }
  }
}

Deno.test({
  name: "dir source: 10,000 files full sync, then incremental and full syncs converge",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("source-dir");
    const root = await Deno.makeTempDir({ prefix: "dir_e2e_" });
    using workers = new WorkerPool({ size: 2 });
    try {
      for (let d = 0; d < DIRS; d++) await Deno.mkdir(`${root}/d${String(d).padStart(3, "0")}`);
      await inParallel(TOTAL, 32, (i) => writeFile(root, i, 1, OLD));
      const expected = new Map<number, number>();
      for (let i = 0; i < TOTAL; i++) expected.set(i, 1);

      // 1. Full sync of the whole tree.
      const first = await sync({ client, index, root, jobType: "full", workers });
      assert.equal(first.stats.indexed_document_count, TOTAL);
      assert.equal(first.stats.deleted_document_count, 0);
      assert.equal(first.stats.failed_document_count, 0);
      assert.equal(first.totalDocumentCount, TOTAL);
      await assertIndexMatches(client, index, root, expected);
      const sample = (await readIndex(client, index)).get(pathOf(1234))!;
      assert.equal(sample.id, pathOf(1234));
      assert.equal(sample.title, "file-1234.txt");
      assert.equal(sample.name, "file-1234.txt");
      assert.equal(sample.extension, ".txt");
      assert.equal(sample._timestamp, OLD.toISOString());
      const cursor1 = first.syncCursor as DirectoryCursor;
      assert.equal(cursor1.file_count, TOTAL);
      assert.ok(cursor1.paths, "10,000 paths fit in the cursor");
      assert.ok(JSON.stringify(cursor1).length < 64 * 1024, "the cursor stays small");

      // 2. Nothing changed: changed() is false and the job completes without writing.
      const idle = await sync({
        client,
        index,
        root,
        jobType: "full",
        cursor: cursor1,
        previousCount: TOTAL,
      });
      assert.equal(idle.stats.indexed_document_count, 0);
      assert.equal(idle.stats.deleted_document_count, 0);
      assert.equal(idle.totalDocumentCount, TOTAL);

      // 3. 200 changed (new mtime), 250 removed, 150 added (half of them with an old mtime,
      //    as a copy preserving timestamps would leave them).
      const now = new Date();
      for (let i = 0; i < TOTAL; i += 50) {
        await writeFile(root, i, 2, now);
        expected.set(i, 2);
      }
      for (let i = 7; i < TOTAL; i += 40) {
        await Deno.remove(`${root}/${pathOf(i)}`);
        expected.delete(i);
      }
      for (let i = TOTAL; i < TOTAL + 150; i++) {
        await Deno.mkdir(`${root}/${pathOf(i).split("/")[0]}`, { recursive: true });
        await writeFile(root, i, 1, i % 2 === 0 ? OLD : now);
        expected.set(i, 1);
      }
      const second = await sync({
        client,
        index,
        root,
        jobType: "incremental",
        cursor: cursor1,
        workers,
      });
      assert.equal(second.stats.deleted_document_count, 250);
      assert.equal(second.stats.indexed_document_count, 200 + 150);
      assert.equal(second.stats.failed_document_count, 0);
      assert.equal(second.totalDocumentCount, TOTAL - 250 + 150);
      await assertIndexMatches(client, index, root, expected);
      const cursor2 = second.syncCursor as DirectoryCursor;
      assert.equal(cursor2.file_count, TOTAL - 250 + 150);

      // 4. More changes, picked up by a full sync this time.
      for (let i = 1; i < TOTAL; i += 100) {
        if (!expected.has(i)) continue;
        await writeFile(root, i, 3, OLD); // same mtime as before: only a full sync sees it
        expected.set(i, 3);
      }
      for (let i = 3; i < TOTAL; i += 500) {
        if (!expected.has(i)) continue;
        await Deno.remove(`${root}/${pathOf(i)}`);
        expected.delete(i);
      }
      const third = await sync({ client, index, root, jobType: "full", cursor: cursor2, workers });
      assert.equal(third.stats.failed_document_count, 0);
      assert.equal(third.stats.deleted_document_count, 20);
      assert.equal(third.totalDocumentCount, expected.size);
      await assertIndexMatches(client, index, root, expected);
    } finally {
      await Deno.remove(root, { recursive: true });
      await dropIndex(client, index).catch(() => {});
      await client.close();
    }
  },
});
