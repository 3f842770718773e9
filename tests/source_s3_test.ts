/**
 * The S3 source against a real S3 emulator (moto, `S3_URL`) and a real Elasticsearch
 * (`ES_URL`): ping, full and incremental syncs of 2,000 objects over many pages, advanced rules,
 * lazy downloads, and that the secret key never reaches logs or job errors.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { errorMessage, FatalError, RetriableError } from "../src/errors/mod.ts";
import type { Logger, LogRecord } from "../src/log/mod.ts";
import type { JobType } from "../src/protocol/types.ts";
import {
  createSource,
  type DataSource,
  type Filtering,
  splitDocItem,
  standaloneContext,
} from "../src/source/mod.ts";
import { type ContentSyncResult, emptyStats, runContentSync } from "../src/sync/mod.ts";
import { S3DataSource, type S3SyncCursor } from "../sources/s3/mod.ts";
import { s3Url, uniqueName } from "./_helpers.ts";
import {
  dropIndex,
  makeJob,
  readIndex,
  recordingLogger,
  testBulk,
  testClient,
} from "./_sync_harness.ts";

const SEEDED = 2000;
const SMALL = 20;
const ACCESS_KEY = "AKIATESTCONNECTORS01";
const SECRET_KEY = "S3-Secret-Key-5e7d1a-Distinct";

/** The source with no cursor overlap, so incremental syncs can be measured to the second. */
class ExactCursorS3 extends S3DataSource {
  static override cursorOverlapSeconds = 0;
}

/** A client for seeding, configured as the emulator needs. */
function seeder(): S3Client {
  return new S3Client({
    region: "us-east-1",
    endpoint: s3Url(),
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

interface Seed {
  key: string;
  body: Uint8Array;
  contentType: string;
  text: boolean;
}

const encoder = new TextEncoder();

/** Object `i` of the main bucket: text notes and markdown inline, PDFs and blobs as attachments. */
function seed(i: number, version = 1): Seed {
  const p = i % 4;
  switch (i % 5) {
    case 0:
      return {
        key: `bin/${p}/blob-${i}.bin`,
        body: Uint8Array.from({ length: 64 + (i % 7) }, (_, k) => (k * 31 + i + version) % 256),
        contentType: "application/octet-stream",
        text: false,
      };
    case 1:
      return {
        key: `docs/${p}/report-${i}.pdf`,
        body: encoder.encode(`%PDF-1.4\n% report ${i} v${version}\n%%EOF\n`),
        contentType: "application/pdf",
        text: false,
      };
    case 2:
      return {
        key: `notes/${p}/readme-${i}.md`,
        body: encoder.encode(`# Readme ${i}\n\nversion ${version}, naïve café\n`),
        contentType: "text/markdown",
        text: true,
      };
    default:
      return {
        key: `docs/${p}/note-${i}.txt`,
        body: encoder.encode(`Note number ${i}, version ${version}: ünïcödé ✓\n`),
        contentType: "text/plain; charset=utf-8",
        text: true,
      };
  }
}

function md5(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

async function put(client: S3Client, bucket: string, object: Seed): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: object.key,
      Body: object.body,
      ContentLength: object.body.byteLength,
      ContentType: object.contentType,
    }),
  );
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function s3Source(
  config: Record<string, unknown>,
  options: {
    logger?: Logger;
    cls?: typeof S3DataSource;
    maxFileSize?: number;
    signal?: AbortSignal;
  } = {},
): S3DataSource {
  return createSource(
    options.cls ?? ExactCursorS3,
    {
      aws_access_key_id: ACCESS_KEY,
      aws_secret_access_key: SECRET_KEY,
      endpoint_url: s3Url(),
      force_path_style: true,
      max_attempts: 1,
      ...config,
    },
    standaloneContext({
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.maxFileSize ? { maxFileSize: options.maxFileSize } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  ) as S3DataSource;
}

function sync(
  source: DataSource,
  index: string,
  options: {
    jobType?: JobType;
    cursor?: unknown;
    filtering?: Filtering;
    logger?: Logger;
    jobId?: string;
  } = {},
): Promise<ContentSyncResult> {
  return runContentSync({
    job: makeJob(index, {
      jobType: options.jobType ?? "full",
      filtering: options.filtering ?? null,
      cursor: options.cursor,
      ...(options.jobId ? { id: options.jobId } : {}),
    }),
    source,
    sourceClass: S3DataSource,
    client: testClient(),
    bulk: testBulk(),
    maxFileSize: 10485760,
    logger: options.logger ?? recordingLogger().logger,
    signal: new AbortController().signal,
    stats: emptyStats(),
  });
}

function rules(value: unknown): Filtering {
  return { rules: [], advanced_snippet: { value } };
}

Deno.test("S3 source: ping fails clearly for a missing bucket and an unreachable endpoint", async () => {
  const bucket = uniqueName("s3ping");
  const client = seeder();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();

  const good = s3Source({ buckets: bucket });
  await good.ping();
  await good.close();
  const all = s3Source({ buckets: "*" });
  await all.ping();
  await all.close();

  const missing = s3Source({ buckets: `${bucket},no-such-bucket-${bucket}` });
  await assert.rejects(missing.ping(), (error: Error) => {
    assert.ok(error instanceof FatalError, error.name);
    assert.equal(
      error.message,
      `Cannot access bucket 'no-such-bucket-${bucket}': it does not exist (at ${s3Url()})`,
    );
    return true;
  });
  await missing.close();

  const refused = s3Source({ buckets: bucket, endpoint_url: "http://127.0.0.1:1" });
  await assert.rejects(refused.ping(), (error: Error) => {
    assert.ok(error instanceof RetriableError, error.name);
    assert.match(
      error.message,
      new RegExp(`Cannot access bucket '${bucket}': cannot reach S3 \\(ECONNREFUSED\\)`),
    );
    return true;
  });
  await refused.close();
});

Deno.test("S3 source: the secret key never reaches job errors or logs", async () => {
  const bucket = uniqueName("s3secret");
  const client = seeder();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await put(client, bucket, seed(3));
  client.destroy();
  const index = uniqueName("s3-secrets");
  const { logger, records } = recordingLogger();
  const messages: string[] = [];
  try {
    const source = s3Source({ buckets: `${bucket},gone-${bucket}` }, { logger });
    await assert.rejects(sync(source, index, { logger }), (error: Error) => {
      messages.push(errorMessage(error));
      assert.match(error.message, new RegExp(`bucket 'gone-${bucket}': it does not exist`));
      return true;
    });
    await assert.rejects(source.ping(), (error: Error) => {
      messages.push(errorMessage(error));
      return true;
    });
    await source.close();
    const unreachable = s3Source({ buckets: bucket, endpoint_url: "http://127.0.0.1:1" }, {
      logger,
    });
    await assert.rejects(sync(unreachable, index, { logger }), (error: Error) => {
      messages.push(errorMessage(error));
      return true;
    });
    await unreachable.close();
  } finally {
    await dropIndex(testClient(), index);
  }
  assert.equal(messages.length, 3);
  const logText = records.map((r: LogRecord) => JSON.stringify(r)).join("\n");
  assert.ok(records.length > 0);
  for (const text of [...messages, logText]) assert.ok(!text.includes(SECRET_KEY), text);
});

Deno.test("S3 source: full, incremental and rule-driven syncs of 2,000 objects", async (t) => {
  const main = uniqueName("s3main");
  const small = uniqueName("s3small");
  const client = seeder();
  const es = testClient();
  const indices: string[] = [];
  const newIndex = (prefix: string) => {
    const name = uniqueName(prefix);
    indices.push(name);
    return name;
  };
  try {
    await client.send(new CreateBucketCommand({ Bucket: main }));
    await client.send(new CreateBucketCommand({ Bucket: small }));
    const seeded = new Map<string, Seed>();
    // Object 0 first, a second ahead of the rest, so an incremental sync can tell it apart.
    await put(client, main, seed(0));
    seeded.set(`${main}/${seed(0).key}`, seed(0));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const rest = Array.from({ length: SEEDED - 1 }, (_, k) => seed(k + 1));
    await pool(rest, 16, async (object) => {
      await put(client, main, object);
      seeded.set(`${main}/${object.key}`, object);
    });
    // A folder marker: listed by S3, not a document.
    await put(client, main, { key: "docs/", body: new Uint8Array(), contentType: "", text: false });
    for (let i = 0; i < SMALL; i++) {
      const object = i % 2
        ? { ...seed(3), key: `misc/item-${i}.md` }
        : { ...seed(0), key: `misc/item-${i}.dat` };
      await put(client, small, object);
      seeded.set(`${small}/${object.key}`, object);
    }
    const started = Date.now();
    const source = s3Source({ buckets: `${main}, ${small}`, page_size: 100 });

    await t.step("ping accepts both buckets", () => source.ping());

    const index = newIndex("s3-full");
    let cursor: unknown;
    await t.step("a full sync indexes exactly the seeded objects", async () => {
      const result = await sync(source, index, { jobId: "s3-full-1" });
      assert.equal(result.stats.indexed_document_count, SEEDED + SMALL);
      const docs = await readIndex(es, index);
      assert.deepEqual([...docs.keys()].sort(), [...seeded.keys()].sort());
      for (const i of [0, 1, 2, 3, 4, 1234, 1999]) {
        const object = seed(i);
        const doc = docs.get(`${main}/${object.key}`)!;
        assert.equal(doc.bucket, main);
        assert.equal(doc.key, object.key);
        assert.equal(doc.filename, object.key.slice(object.key.lastIndexOf("/") + 1));
        assert.equal(doc.size, object.body.byteLength);
        assert.equal(doc.etag, md5(object.body));
        assert.equal(doc.storage_class, "STANDARD");
        const timestamp = Date.parse(doc._timestamp as string);
        assert.ok(
          timestamp > started - 120_000 && timestamp <= Date.now() + 1000,
          doc._timestamp as string,
        );
        assert.equal(doc.content_type, object.contentType);
        if (object.text) {
          assert.equal(doc.text, new TextDecoder().decode(object.body));
          assert.ok(!("_attachment" in doc));
        } else {
          assert.equal(doc._attachment, btoa(String.fromCharCode(...object.body)));
          assert.ok(!("text" in doc));
        }
      }
      cursor = result.syncCursor;
      const stored = cursor as S3SyncCursor;
      assert.deepEqual(Object.keys(stored.last_modified).sort(), [main, small].sort());
      assert.deepEqual(JSON.parse(JSON.stringify(cursor)), cursor);
    });

    await t.step("rules select per-bucket prefixes and extensions", async () => {
      const ruled = newIndex("s3-rules");
      await sync(source, ruled, {
        filtering: rules([
          { bucket: main, prefix: "docs/1/", extension: [".txt"] },
          { bucket: small, extensions: ["md"] },
        ]),
      });
      const docs = await readIndex(es, ruled);
      const expected = [...seeded.keys()].filter((id) =>
        (id.startsWith(`${main}/docs/1/`) && id.endsWith(".txt")) ||
        (id.startsWith(`${small}/`) && id.endsWith(".md"))
      );
      assert.ok(expected.length > 100);
      assert.deepEqual([...docs.keys()].sort(), expected.sort());
    });

    await t.step("invalid rules are rejected with a message", async () => {
      assert.deepEqual(
        (await source.validateAdvancedRules([{ prefix: "docs/" }])).map((e) => e.message),
        ['Rule 1 needs a "bucket" name'],
      );
      assert.deepEqual(
        await source.validateAdvancedRules([{ bucket: main, extension: [".pdf"] }]),
        [],
      );
      await assert.rejects(
        sync(source, newIndex("s3-invalid"), { filtering: rules({ bucket: main }) }),
        /Filtering in state invalid.*Advanced rules must be a list/,
      );
    });

    await t.step("lazy downloads honour the size cap and the abort signal", async () => {
      const capped = s3Source({ buckets: main, page_size: 5 }, { maxFileSize: 16 });
      let checked = 0;
      for await (const item of capped.getDocs(rules([{ bucket: main, prefix: "bin/1/" }]))) {
        const [doc, lazy] = splitDocItem(item);
        assert.ok(lazy, `${doc._id} has a lazy download`);
        assert.equal(await lazy(true), undefined, "larger than max_file_download_size");
        if (++checked === 3) break;
      }
      assert.equal(checked, 3);
      await capped.close();

      const controller = new AbortController();
      const aborted = s3Source({ buckets: main }, { signal: controller.signal });
      const first = await aborted.getDocs(rules([{ bucket: main, prefix: "docs/0/report" }]))
        [Symbol.asyncIterator]().next();
      const [, lazy] = splitDocItem(first.value!);
      controller.abort(new Error("job canceled"));
      await assert.rejects(lazy!(true), /job canceled/);
      await aborted.close();
    });

    await t.step("deletes, overwrites and new objects converge on the next full sync", async () => {
      const deleted = Array.from({ length: 20 }, (_, k) => seed(k + 10));
      const changed = Array.from({ length: 20 }, (_, k) => seed(5 * k + 503, 2));
      const added = Array.from({ length: 10 }, (_, k) => seed(SEEDED + k));
      for (const object of deleted) {
        await client.send(new DeleteObjectCommand({ Bucket: main, Key: object.key }));
        seeded.delete(`${main}/${object.key}`);
      }
      for (const object of [...changed, ...added]) {
        await put(client, main, object);
        seeded.set(`${main}/${object.key}`, object);
      }
      const result = await sync(source, index, { jobId: "s3-full-2" });
      assert.equal(result.stats.deleted_document_count, deleted.length);
      const docs = await readIndex(es, index);
      assert.deepEqual([...docs.keys()].sort(), [...seeded.keys()].sort());
      for (const object of changed) {
        const doc = docs.get(`${main}/${object.key}`)!;
        assert.equal(doc.text, new TextDecoder().decode(object.body));
        assert.equal(doc.etag, md5(object.body));
      }
      cursor = result.syncCursor;
    });

    await t.step("an incremental sync indexes only objects modified since the cursor", async () => {
      // LastModified has whole seconds: step past the cursor's second.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const modified = Array.from({ length: 5 }, (_, k) => seed(5 * k + 1003, 3));
      const added = Array.from({ length: 3 }, (_, k) => seed(SEEDED + 100 + k));
      for (const object of [...modified, ...added]) await put(client, main, object);
      const gone = seed(1501);
      await client.send(new DeleteObjectCommand({ Bucket: main, Key: gone.key }));
      const result = await sync(source, index, {
        jobType: "incremental",
        cursor,
        jobId: "s3-incremental-1",
      });
      const count = result.stats.indexed_document_count;
      // The 8 changes, plus the objects written in each bucket's cursor second (at most the
      // 30 last written to the main bucket and the 20 of the small one).
      assert.ok(count >= 8 && count <= 58, `indexed ${count}`);
      assert.equal(result.stats.deleted_document_count, 0);
      const docs = await readIndex(es, index);
      const since = (cursor as S3SyncCursor).last_modified;
      const touched = [...docs.values()].filter((d) => d._sync_job_id === "s3-incremental-1");
      assert.equal(touched.length, count);
      for (const doc of touched) {
        const bound = Date.parse(since[doc.bucket as string]!);
        assert.ok(Date.parse(doc._timestamp as string) >= bound, `${doc.id} predates the cursor`);
      }
      for (const object of modified) {
        const doc = docs.get(`${main}/${object.key}`)!;
        assert.equal(doc.text, new TextDecoder().decode(object.body));
        assert.equal(doc._sync_job_id, "s3-incremental-1");
      }
      for (const object of added) assert.ok(docs.has(`${main}/${object.key}`));
      assert.ok(docs.has(`${main}/${gone.key}`), "incremental syncs do not see deletes");
      assert.equal(docs.get(`${main}/${seed(0).key}`)?._sync_job_id, "s3-full-2");
      const newCursor = result.syncCursor as S3SyncCursor;
      assert.ok(
        Date.parse(newCursor.last_modified[main]!) >
          Date.parse((cursor as S3SyncCursor).last_modified[main]!),
      );
    });

    await source.close();
  } finally {
    client.destroy();
    for (const index of indices) await dropIndex(es, index);
  }
});
