/**
 * The MongoDB source against a real MongoDB wire-protocol server (FerretDB, `MONGO_URL`) and a
 * real Elasticsearch (`ES_URL`): ping, full and incremental syncs, advanced rules, and that
 * credentials never reach logs or job errors.
 */
import assert from "node:assert/strict";
import { Binary, Long, MongoClient, ObjectId, Timestamp, UUID } from "mongodb";
import { errorMessage, FatalError, RetriableError } from "../src/errors/mod.ts";
import type { Logger, LogRecord } from "../src/log/mod.ts";
import type { JobType } from "../src/protocol/types.ts";
import {
  createSource,
  type DataSource,
  type Filtering,
  standaloneContext,
} from "../src/source/mod.ts";
import { type ContentSyncResult, emptyStats, runContentSync } from "../src/sync/mod.ts";
import { MongoDataSource, type MongoSyncCursor } from "../sources/mongodb/mod.ts";
import { mongoUrl, uniqueName } from "./_helpers.ts";
import {
  dropIndex,
  makeJob,
  readIndex,
  recordingLogger,
  testBulk,
  testClient,
} from "./_sync_harness.ts";

const SEEDED = 2000;
const BASE_TIME = Date.UTC(2024, 0, 1);
const PASSWORD = "Mongo-Pw-9f3b1c-Distinct";
const URI_PASSWORD = "Uri-Pw-77ad-Distinct";

/** A seeded document as the tests write it. */
interface Item {
  _id: string | number | ObjectId;
  [field: string]: unknown;
}

function objectIdOf(n: number): ObjectId {
  return new ObjectId(n.toString(16).padStart(24, "0"));
}

/** The `_id` of seeded document `i`: strings, numbers and ObjectIds mixed. */
function rawId(i: number): string | number | ObjectId {
  if (i % 10 === 0) return `str-${i}`;
  if (i % 10 === 5) return i;
  return objectIdOf(i);
}

/** The Elasticsearch id document `i` becomes. */
function expectedId(i: number): string {
  const id = rawId(i);
  return id instanceof ObjectId ? id.toHexString() : String(id);
}

/** Seeded document `i`, with most BSON types FerretDB stores (it lacks Decimal128). */
function seedDoc(i: number): Item {
  return {
    _id: rawId(i),
    title: `Document ${i}`,
    kind: i % 4 === 0 ? "alpha" : "beta",
    n: i,
    ratio: i / 8,
    big: Long.fromString("9007199254740993").add(i),
    created: new Date(BASE_TIME + i * 60_000),
    updated_at: new Date(BASE_TIME + i * 60_000),
    bin: new Binary(new TextEncoder().encode(`bytes-${i}`)),
    uuid: new UUID(`00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`),
    ts: new Timestamp({ t: 1700000000 + i, i: 1 }),
    re: new RegExp(`^doc${i}$`, "i"),
    tags: ["t", `n${i % 3}`],
    nested: {
      level: { deep: i, ref: objectIdOf(i + 1_000_000) },
      list: [{ a: i }, { a: i + 1 }],
    },
    flag: i % 2 === 0,
    nothing: null,
  };
}

/** What the index must hold for seeded document `i` (a subset of its fields). */
function expectedFields(i: number): Record<string, unknown> {
  return {
    id: expectedId(i),
    title: `Document ${i}`,
    kind: i % 4 === 0 ? "alpha" : "beta",
    n: i,
    ratio: i / 8,
    big: (9007199254740993n + BigInt(i)).toString(),
    created: new Date(BASE_TIME + i * 60_000).toISOString(),
    _timestamp: new Date(BASE_TIME + i * 60_000).toISOString(),
    bin: btoa(`bytes-${i}`),
    uuid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
    ts: new Date((1700000000 + i) * 1000).toISOString(),
    re: `/^doc${i}$/i`,
    tags: ["t", `n${i % 3}`],
    nested: {
      level: { deep: i, ref: objectIdOf(i + 1_000_000).toHexString() },
      list: [{ a: i }, { a: i + 1 }],
    },
    flag: i % 2 === 0,
    nothing: null,
  };
}

function pick(doc: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, doc?.[k]]));
}

function mongoSource(
  config: Record<string, unknown>,
  logger?: Logger,
): MongoDataSource {
  return createSource(
    MongoDataSource,
    config,
    standaloneContext(logger ? { logger } : {}),
  ) as MongoDataSource;
}

function advanced(value: unknown): Filtering {
  return { rules: [], advanced_snippet: { value } };
}

/** Runs a content sync of `source` into `index` as the job runner would. */
function sync(
  source: DataSource,
  index: string,
  options: { jobType?: JobType; cursor?: unknown; filtering?: Filtering; logger?: Logger } = {},
): Promise<ContentSyncResult> {
  return runContentSync({
    job: makeJob(index, {
      jobType: options.jobType ?? "full",
      filtering: options.filtering ?? null,
      cursor: options.cursor,
    }),
    source,
    sourceClass: MongoDataSource,
    client: testClient(),
    bulk: testBulk(),
    maxFileSize: 10485760,
    logger: options.logger ?? recordingLogger().logger,
    signal: new AbortController().signal,
    stats: emptyStats(),
  });
}

async function withMongo<T>(run: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(mongoUrl());
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

Deno.test("MongoDB source: ping fails clearly for refused ports, TLS and DNS", async () => {
  const refused = mongoSource({
    host: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500",
    database: "db",
    collection: "c",
  });
  await assert.rejects(refused.ping(), (error: Error) => {
    assert.ok(error instanceof RetriableError, error.name);
    assert.match(
      error.message,
      /Cannot ping MongoDB: connection to MongoDB at 127\.0\.0\.1:1 refused/,
    );
    return true;
  });
  await refused.close();

  // TLS towards a plain-text server: the handshake never completes.
  const tls = mongoSource({
    host: `${mongoUrl()}/?serverSelectionTimeoutMS=1000`,
    database: "db",
    collection: "c",
    ssl_enabled: true,
  });
  await assert.rejects(
    tls.ping(),
    /did not answer .*TLS is enabled: check that the server accepts TLS/,
  );
  await tls.close();

  const dns = mongoSource({
    host: "mongodb://no-such-host.invalid:27017/?serverSelectionTimeoutMS=3000",
    database: "db",
    collection: "c",
  });
  await assert.rejects(dns.ping(), (error: Error) => {
    assert.ok(error instanceof FatalError, error.name);
    assert.match(error.message, /the host name in no-such-host\.invalid:27017 cannot be resolved/);
    return true;
  });
  await dns.close();
});

Deno.test("MongoDB source: credentials never reach job errors or logs", async () => {
  const index = uniqueName("mongo-secrets");
  const { logger, records } = recordingLogger();
  const configs = [
    { host: mongoUrl(), user: "connector-user", password: PASSWORD },
    {
      host: mongoUrl().replace(
        /^mongodb:\/\//,
        `mongodb://uri-user:${encodeURIComponent(URI_PASSWORD)}@`,
      ),
    },
  ];
  const messages: string[] = [];
  try {
    for (const config of configs) {
      const source = mongoSource({ ...config, database: "db", collection: "c" }, logger);
      // FerretDB refuses every credential: the sync fails at the first read.
      await assert.rejects(sync(source, index, { logger }), (error: Error) => {
        messages.push(errorMessage(error));
        assert.match(error.message, /refused the credentials of user '(connector|uri)-user'/);
        return true;
      });
      await assert.rejects(source.ping(), (error: Error) => {
        messages.push(errorMessage(error));
        return true;
      });
      await source.close();
    }
  } finally {
    await dropIndex(testClient(), index);
  }
  const logText = records.map((r: LogRecord) => JSON.stringify(r)).join("\n");
  assert.ok(records.length > 0, "the sync logged something");
  for (const secret of [PASSWORD, URI_PASSWORD, encodeURIComponent(URI_PASSWORD)]) {
    for (const message of messages) assert.ok(!message.includes(secret), message);
    assert.ok(!logText.includes(secret), "a secret reached the log");
  }
  assert.ok(messages.some((m) => m.includes("uri-user")), "the URI user is named");
  assert.ok(messages.every((m) => !m.includes(":" + encodeURIComponent(URI_PASSWORD))));
});

Deno.test("MongoDB source: full, changed and incremental syncs of 2,000 documents", async (t) => {
  const database = uniqueName("srcmongo").replace(/[^a-z0-9_-]/g, "_");
  const collectionName = "items";
  const client = testClient();
  const indices: string[] = [];
  const newIndex = (prefix: string) => {
    const name = uniqueName(prefix);
    indices.push(name);
    return name;
  };
  const config = {
    host: mongoUrl(),
    database,
    collection: collectionName,
    timestamp_field: "updated_at",
    incremental_field: "updated_at",
    batch_size: 150,
  };
  await withMongo(async (mongo) => {
    const collection = mongo.db(database).collection<Item>(collectionName);
    try {
      for (let start = 0; start < SEEDED; start += 500) {
        await collection.insertMany(
          Array.from({ length: Math.min(500, SEEDED - start) }, (_, k) => seedDoc(start + k)),
        );
      }
      const source = mongoSource(config);

      await t.step("ping and validateConfig accept the seeded collection", async () => {
        await source.ping();
        await source.validateConfig();
        const missing = mongoSource({ ...config, collection: "nope" });
        await assert.rejects(
          missing.validateConfig(),
          new RegExp(
            `Collection 'nope' does not exist in database '${database}'. Existing collections: ${collectionName}`,
          ),
        );
        await missing.close();
      });

      const index = newIndex("mongo-full");
      let cursor: unknown;
      await t.step("a full sync indexes exactly the seeded documents", async () => {
        const result = await sync(source, index);
        assert.equal(result.stats.indexed_document_count, SEEDED);
        assert.equal(result.totalDocumentCount, SEEDED);
        const docs = await readIndex(client, index);
        const expectedIds = Array.from({ length: SEEDED }, (_, i) => expectedId(i)).sort();
        assert.deepEqual([...docs.keys()].sort(), expectedIds);
        for (const i of [0, 1, 5, 17, 1234, 1999]) {
          const expected = expectedFields(i);
          assert.deepEqual(pick(docs.get(expectedId(i)), Object.keys(expected)), expected);
        }
        cursor = result.syncCursor;
        const stored = cursor as MongoSyncCursor;
        assert.equal(stored.field, "updated_at");
        assert.equal(stored.count, SEEDED);
        assert.deepEqual(stored.last_value, {
          type: "date",
          value: new Date(BASE_TIME + (SEEDED - 1) * 60_000).toISOString(),
        });
        // The cursor must survive the trip through the connector document.
        assert.deepEqual(JSON.parse(JSON.stringify(cursor)), cursor);
      });

      await t.step("changed() compares count and newest value with the cursor", async () => {
        assert.equal(await source.changed(cursor), false);
        assert.equal(await source.changed(undefined), true);
        assert.equal(await source.changed({ ...(cursor as object), collection: "other" }), true);
        await collection.updateOne({ _id: rawId(3) }, {
          $set: { updated_at: new Date(BASE_TIME + SEEDED * 60_000) },
        });
        assert.equal(await source.changed(cursor), true);
        await collection.updateOne({ _id: rawId(3) }, {
          $set: { updated_at: new Date(BASE_TIME + 3 * 60_000) },
        });
        await collection.deleteOne({ _id: rawId(4) });
        assert.equal(await source.changed(cursor), true, "a delete changes the count");
        await collection.insertOne(seedDoc(4));
        assert.equal(await source.changed(cursor), false);
      });

      const changedAt = new Date(BASE_TIME + 10 * SEEDED * 60_000);
      await t.step("deletes, updates and inserts converge on the next full sync", async () => {
        const deleted = Array.from({ length: 10 }, (_, k) => k + 100);
        const updated = Array.from({ length: 10 }, (_, k) => k + 200);
        const inserted = Array.from({ length: 5 }, (_, k) => k + SEEDED);
        await collection.deleteMany({ _id: { $in: deleted.map(rawId) } });
        for (const i of updated) {
          await collection.updateOne({ _id: rawId(i) }, {
            $set: { title: `Document ${i} v2`, updated_at: changedAt },
            $unset: { tags: "" },
          });
        }
        await collection.insertMany(inserted.map(seedDoc));
        const result = await sync(source, index);
        assert.equal(result.stats.deleted_document_count, deleted.length);
        assert.equal(result.totalDocumentCount, SEEDED - deleted.length + inserted.length);
        const docs = await readIndex(client, index);
        assert.equal(docs.size, SEEDED - deleted.length + inserted.length);
        for (const i of deleted) assert.ok(!docs.has(expectedId(i)), `deleted ${i}`);
        for (const i of updated) {
          const doc = docs.get(expectedId(i));
          assert.equal(doc?.title, `Document ${i} v2`);
          assert.equal(doc?._timestamp, changedAt.toISOString());
          assert.ok(!("tags" in doc!), "a removed field is gone");
        }
        for (const i of inserted) assert.deepEqual(docs.get(expectedId(i))?.n, i);
        cursor = result.syncCursor;
        assert.deepEqual((cursor as MongoSyncCursor).last_value, {
          type: "date",
          value: changedAt.toISOString(),
        });
      });

      await t.step("an incremental sync indexes only what changed since the cursor", async () => {
        const later = new Date(changedAt.getTime() + 3_600_000);
        for (const i of [300, 301, 302]) {
          await collection.updateOne({ _id: rawId(i) }, {
            $set: { title: `Document ${i} v3`, updated_at: later },
          });
        }
        await collection.insertMany([SEEDED + 5, SEEDED + 6].map((i) => ({
          ...seedDoc(i),
          updated_at: later,
        })));
        await collection.deleteOne({ _id: rawId(400) });
        const result = await sync(source, index, { jobType: "incremental", cursor });
        // 3 updates + 2 inserts + the 10 documents sitting on the previous cursor value.
        assert.equal(result.stats.indexed_document_count, 15);
        assert.equal(result.stats.deleted_document_count, 0);
        const docs = await readIndex(client, index);
        for (const i of [300, 301, 302]) {
          assert.equal(docs.get(expectedId(i))?.title, `Document ${i} v3`);
        }
        assert.equal(docs.get(expectedId(SEEDED + 6))?.n, SEEDED + 6);
        assert.ok(docs.has(expectedId(400)), "incremental syncs do not see deletes");
        assert.deepEqual((result.syncCursor as MongoSyncCursor).last_value, {
          type: "date",
          value: later.toISOString(),
        });
        const full = await sync(source, index);
        assert.equal(full.stats.deleted_document_count, 1);
        assert.ok(!(await readIndex(client, index)).has(expectedId(400)));
      });

      await t.step("a find rule filters and projects", async () => {
        const ruled = newIndex("mongo-find");
        const result = await sync(source, ruled, {
          filtering: advanced({
            find: { filter: { kind: "alpha", n: { $lt: SEEDED } }, projection: ["title", "kind"] },
          }),
        });
        const docs = await readIndex(client, ruled);
        const expected = Array.from({ length: SEEDED }, (_, i) => i)
          .filter((i) => i % 4 === 0 && ![100, 104, 108, 400].includes(i));
        assert.equal(result.stats.indexed_document_count, expected.length);
        assert.deepEqual([...docs.keys()].sort(), expected.map(expectedId).sort());
        const sample = docs.get(expectedId(8))!;
        assert.equal(sample.kind, "alpha");
        assert.equal(sample.title, "Document 8");
        assert.ok(!("n" in sample) && !("ratio" in sample), "projected away");
      });

      await t.step("an aggregate rule runs its pipeline", async () => {
        const ruled = newIndex("mongo-agg");
        await sync(source, ruled, {
          filtering: advanced({
            aggregate: {
              pipeline: [
                { $match: { n: { $gte: 1000, $lt: 1050 } } },
                { $project: { title: 1, n: 1 } },
              ],
            },
          }),
        });
        const docs = await readIndex(client, ruled);
        assert.deepEqual(
          [...docs.keys()].sort(),
          Array.from({ length: 50 }, (_, k) => expectedId(1000 + k)).sort(),
        );
        assert.deepEqual(pick(docs.get(expectedId(1001)), ["title", "n", "kind"]), {
          title: "Document 1001",
          n: 1001,
          kind: undefined,
        });
      });

      await t.step("an aborted sync stops reading at once", async () => {
        const controller = new AbortController();
        const aborting = createSource(
          MongoDataSource,
          config,
          standaloneContext({ signal: controller.signal }),
        );
        const docs = aborting.getDocs()[Symbol.asyncIterator]();
        for (let k = 0; k < 10; k++) assert.equal((await docs.next()).done, false);
        controller.abort(new Error("job canceled"));
        await assert.rejects(docs.next(), /job canceled/);
        await aborting.close?.();
      });

      await t.step("invalid advanced rules are rejected with a message", async () => {
        assert.deepEqual(
          (await source.validateAdvancedRules({ find: { filter: [] } })).map((e) => e.message),
          ["'find.filter' must be an object, got []"],
        );
        assert.equal((await source.validateAdvancedRules({ find: {}, aggregate: {} })).length, 1);
        assert.deepEqual(await source.validateAdvancedRules({ find: { filter: { n: 1 } } }), []);
        const ruled = newIndex("mongo-invalid");
        await assert.rejects(
          sync(source, ruled, {
            filtering: advanced({ aggregate: { pipeline: [{ $out: "copy" }] } }),
          }),
          /Filtering in state invalid.*\$out, which writes to the database/,
        );
      });

      await source.close();
    } finally {
      await mongo.db(database).dropDatabase().catch(() => {});
      for (const index of indices) await dropIndex(client, index);
    }
  });
});
