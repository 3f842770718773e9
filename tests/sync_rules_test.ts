import assert from "node:assert/strict";
import { FatalError } from "../src/errors/mod.ts";
import type { BasicRule, DocItem, Filtering } from "../src/source/types.ts";
import {
  dropIndex,
  readIndex,
  runSync,
  sourceOf,
  testClient,
  uniqueIndex,
} from "./_sync_harness.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Item {
  _id: string;
  title: string;
  size: number;
  published: boolean;
  [key: string]: unknown;
}

const ITEMS: Item[] = Array.from({ length: 60 }, (_, i) => ({
  _id: `item-${i}`,
  title: `${i % 2 === 0 ? "Report" : "Memo"} ${i} ${i % 3 === 0 ? "final" : "draft"}`,
  size: i * 10,
  published: i % 4 === 0,
  ...(i % 5 === 0 ? {} : { lang: i % 2 === 0 ? "en" : "fr" }),
}));

function source() {
  return sourceOf(async function* (): AsyncGenerator<DocItem> {
    for (const item of ITEMS) yield { ...item };
  });
}

function filteringOf(rules: Omit<BasicRule, "order" | "id">[]): Filtering {
  return {
    rules: [
      ...rules.map((r, i) => ({ ...r, id: `rule-${i}`, order: i + 1 })),
      { id: "DEFAULT", policy: "include", field: "_", rule: "regex", value: ".*", order: 0 },
    ],
    advanced_snippet: {},
    validation: { state: "valid", errors: [] },
  };
}

const CASES: {
  name: string;
  rules: Omit<BasicRule, "order" | "id">[];
  keep: (item: Item) => boolean;
}[] = [
  {
    name: "equals (string)",
    rules: [{ policy: "exclude", field: "lang", rule: "equals", value: "fr" }],
    keep: (i) => i.lang !== "fr",
  },
  {
    name: "equals (number coerced)",
    rules: [{ policy: "exclude", field: "size", rule: "equals", value: "100" }],
    keep: (i) => i.size !== 100,
  },
  {
    name: "equals (boolean coerced)",
    rules: [{ policy: "exclude", field: "published", rule: "equals", value: "yes" }],
    keep: (i) => !i.published,
  },
  {
    name: "contains",
    rules: [{ policy: "exclude", field: "title", rule: "contains", value: "draft" }],
    keep: (i) => !i.title.includes("draft"),
  },
  {
    name: "starts_with",
    rules: [{ policy: "exclude", field: "title", rule: "starts_with", value: "Memo" }],
    keep: (i) => !i.title.startsWith("Memo"),
  },
  {
    name: "ends_with",
    rules: [{ policy: "exclude", field: "title", rule: "ends_with", value: "final" }],
    keep: (i) => !i.title.endsWith("final"),
  },
  {
    name: "regex (anchored at the start)",
    rules: [{ policy: "exclude", field: "title", rule: "regex", value: "Report [0-9]*0 " }],
    keep: (i) => !/^Report [0-9]*0 /.test(i.title),
  },
  {
    name: "> (number)",
    rules: [{ policy: "exclude", field: "size", rule: ">", value: "400" }],
    keep: (i) => !(i.size > 400),
  },
  {
    name: "< (number)",
    rules: [{ policy: "exclude", field: "size", rule: "<", value: "100" }],
    keep: (i) => !(i.size < 100),
  },
  {
    name: "include before exclude: first match decides",
    rules: [
      { policy: "include", field: "title", rule: "contains", value: "final" },
      { policy: "exclude", field: "size", rule: ">", value: "-1" },
    ],
    keep: (i) => i.title.includes("final"),
  },
  {
    name: "missing field never matches",
    rules: [{ policy: "exclude", field: "lang", rule: "regex", value: "[a-z]" }],
    keep: (i) => i.lang === undefined,
  },
];

Deno.test({
  name: "basic sync rules: each operator includes and excludes exactly the expected documents",
  ...opts,
  fn: async (t) => {
    const client = testClient();
    const index = uniqueIndex("sync-rules");
    try {
      // Start from everything: excluded documents must be deleted by the rule-filtered syncs.
      await runSync({ client, index, source: source() });
      for (const c of CASES) {
        await t.step(c.name, async () => {
          const result = await runSync({
            client,
            index,
            source: source(),
            filtering: filteringOf(c.rules),
          });
          const expected = ITEMS.filter(c.keep).map((i) => i._id).sort();
          assert.ok(expected.length > 0 && expected.length < ITEMS.length, "a meaningful case");
          const docs = await readIndex(client, index);
          assert.deepEqual([...docs.keys()].sort(), expected);
          assert.equal(result.stats.skipped_document_count, ITEMS.length - expected.length);
          assert.equal(result.stats.indexed_document_count, expected.length);
          assert.equal(result.totalDocumentCount, expected.length);
          // Restore everything for the next case.
          await runSync({ client, index, source: source() });
        });
      }
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name: "sync rules are not applied when the source disables basic rules",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-norules");
    try {
      const result = await runSync({
        client,
        index,
        source: source(),
        features: { basicRules: false },
        filtering: filteringOf([{ policy: "exclude", field: "lang", rule: "equals", value: "fr" }]),
      });
      assert.equal(result.stats.indexed_document_count, ITEMS.length);
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});

Deno.test({
  name:
    "invalid active rules fail the job before anything is written; advanced rules reach the source",
  ...opts,
  fn: async () => {
    const client = testClient();
    const index = uniqueIndex("sync-badrules");
    try {
      await assert.rejects(
        runSync({
          client,
          index,
          source: source(),
          filtering: filteringOf([{ policy: "exclude", field: "a", rule: "regex", value: ".*" }]),
        }),
        (e) => e instanceof FatalError && /Match all regexps/.test(e.message),
      );
      assert.equal(await client.indices.exists({ index }), false);

      let received: Filtering | undefined;
      const advanced = sourceOf(async function* (filtering) {
        received = filtering;
        yield { _id: "only" };
      }, {
        validateAdvancedRules: (snippet) =>
          Promise.resolve((snippet as { ok?: boolean }).ok ? [] : [{ message: "not ok" }]),
      });
      const filtering: Filtering = { rules: [], advanced_snippet: { value: { ok: true } } };
      const result = await runSync({
        client,
        index,
        source: advanced,
        features: { advancedRules: true },
        filtering,
      });
      assert.equal(result.stats.indexed_document_count, 1);
      assert.deepEqual(received?.advanced_snippet, { value: { ok: true } });
      await assert.rejects(
        runSync({
          client,
          index,
          source: advanced,
          features: { advancedRules: true },
          filtering: { rules: [], advanced_snippet: { value: { ok: false } } },
        }),
        /advanced_snippet.*not ok/,
      );
    } finally {
      await dropIndex(client, index);
      await client.close();
    }
  },
});
