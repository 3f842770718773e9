import assert from "node:assert/strict";
import { ObjectId } from "mongodb";
import { parseAdvancedRules } from "./_rules.ts";

Deno.test("empty snippets mean no advanced rules", () => {
  for (const snippet of [undefined, null, {}, []]) {
    assert.deepEqual(parseAdvancedRules(snippet), { rule: undefined, problems: [] });
  }
});

Deno.test("a find rule maps Elastic's keys to driver options and reads Extended JSON", () => {
  const { rule, problems } = parseAdvancedRules({
    find: {
      filter: {
        _id: { $gt: { $oid: "64b7f0a2c2a4e3a1b2c3d4e5" } },
        at: { $date: "2024-01-01T00:00:00Z" },
      },
      projection: ["title", "kind"],
      sort: { at: -1 },
      skip: 5,
      limit: 10,
      batch_size: 50,
      max_time_ms: 1000,
      no_cursor_timeout: false,
    },
  });
  assert.deepEqual(problems, []);
  assert.equal(rule?.kind, "find");
  if (rule?.kind !== "find") return;
  assert.ok((rule.filter._id as { $gt: unknown }).$gt instanceof ObjectId);
  assert.ok(rule.filter.at instanceof Date);
  assert.deepEqual(rule.options, {
    projection: { title: 1, kind: 1 },
    sort: { at: -1 },
    skip: 5,
    limit: 10,
    batchSize: 50,
    maxTimeMS: 1000,
    noCursorTimeout: false,
  });
});

Deno.test("sort accepts a list of [field, direction] pairs", () => {
  const { rule, problems } = parseAdvancedRules({ find: { sort: [["a", 1], ["b", "desc"]] } });
  assert.deepEqual(problems, []);
  assert.deepEqual(rule?.kind === "find" && rule.options.sort, [["a", 1], ["b", -1]]);
});

Deno.test("an aggregate rule keeps its pipeline and options", () => {
  const { rule, problems } = parseAdvancedRules({
    aggregate: {
      pipeline: [{ $match: { n: { $lt: 5 } } }, { $project: { title: 1 } }],
      allowDiskUse: true,
    },
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(rule, {
    kind: "aggregate",
    pipeline: [{ $match: { n: { $lt: 5 } } }, { $project: { title: 1 } }],
    options: { allowDiskUse: true },
  });
});

Deno.test("invalid snippets are rejected with a message each", () => {
  const cases: [unknown, RegExp][] = [
    ["find everything", /must be an object with either "find" or "aggregate"/],
    [[{ find: {} }], /got a list/],
    [
      { find: {}, aggregate: { pipeline: [{ $match: {} }] } },
      /either "find" or "aggregate", not both/,
    ],
    [{ query: {} }, /Unknown key 'query'/],
    [{ find: { filter: [] } }, /'find.filter' must be an object/],
    [{ find: { filter: "x" } }, /'find.filter' must be an object/],
    [{ find: { where: {} } }, /Unknown key 'find.where'/],
    [{ find: { limit: -1 } }, /'find.limit' must be a non-negative integer/],
    [{ find: { limit: "10" } }, /'find.limit' must be a non-negative integer/],
    [{ find: { no_cursor_timeout: "yes" } }, /must be true or false/],
    [{ find: { projection: [] } }, /'find.projection'/],
    [{ find: { projection: {} } }, /'find.projection' must name at least one field/],
    [{ find: { sort: { a: 2 } } }, /'find.sort.a' must be 1, -1/],
    [{ find: { sort: "a" } }, /'find.sort' must be an object/],
    [{ find: "all" }, /'find' must be an object/],
    [{ aggregate: { pipeline: [] } }, /non-empty list of stages/],
    [{ aggregate: {} }, /non-empty list of stages/],
    [{ aggregate: { pipeline: [{ $match: {}, $limit: 1 }] } }, /exactly one stage operator/],
    [{ aggregate: { pipeline: [{ match: {} }] } }, /exactly one stage operator/],
    [{ aggregate: { pipeline: [{ $match: {} }, { $out: "copy" }] } }, /\$out, which writes/],
    [{ aggregate: { pipeline: [{ $merge: { into: "x" } }] } }, /\$merge, which writes/],
    [{ aggregate: { pipeline: [{ $match: {} }], cursor: {} } }, /Unknown key 'aggregate.cursor'/],
    [{ aggregate: { pipeline: [{ $match: {} }], let: 3 } }, /'aggregate.let' must be an object/],
    [{ find: { filter: { _id: { $oid: "not-hex" } } } }, /invalid Extended JSON/],
  ];
  for (const [snippet, expected] of cases) {
    const { rule, problems } = parseAdvancedRules(snippet);
    assert.equal(rule, undefined, JSON.stringify(snippet));
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${JSON.stringify(snippet)} → ${JSON.stringify(problems)}`,
    );
  }
});
