import assert from "node:assert/strict";
import type { BasicRule, DataSource } from "../source/types.ts";
import { pyStr, SyncRulesEngine, validateFiltering } from "./sync_rules.ts";

function rule(
  id: string,
  policy: "include" | "exclude",
  field: string,
  op: string,
  value: string,
  order = 1,
): BasicRule {
  return { id, policy, field, rule: op as BasicRule["rule"], value, order };
}

/** Does a single rule of `policy` match `value` under `field`? (include → true if matched). */
function matchOne(op: string, ruleValue: string, docValue: unknown): boolean {
  // An exclude rule that matches returns false; no match returns true (default include).
  const engine = new SyncRulesEngine([rule("r", "exclude", "f", op, ruleValue)]);
  return !engine.shouldIngest({ f: docValue });
}

const source: DataSource = { ping: () => Promise.resolve(), getDocs: async function* () {} };

Deno.test("equals coerces the rule value to the document value's type", () => {
  assert.equal(matchOne("equals", "abc", "abc"), true);
  assert.equal(matchOne("equals", "abc", "ABC"), false);
  assert.equal(matchOne("equals", "10", 10), true);
  assert.equal(matchOne("equals", "10.0", 10), true);
  assert.equal(matchOne("equals", "1e1", 10), true);
  assert.equal(matchOne("equals", "ten", 10), false);
  assert.equal(matchOne("equals", "10", "10"), true);
  assert.equal(matchOne("equals", "yes", true), true);
  assert.equal(matchOne("equals", "off", false), true);
  assert.equal(matchOne("equals", "", false), true);
  assert.equal(matchOne("equals", "true", false), false);
  assert.equal(matchOne("equals", "2026-01-02", new Date("2026-01-02T00:00:00Z")), true);
  assert.equal(matchOne("equals", "2026-01-03", new Date("2026-01-02T00:00:00Z")), false);
  assert.equal(matchOne("equals", "None", null), false);
});

Deno.test("string operators compare Python's str() of the value, case-sensitively", () => {
  assert.equal(matchOne("starts_with", "Doc", "Document"), true);
  assert.equal(matchOne("starts_with", "doc", "Document"), false);
  assert.equal(matchOne("ends_with", "ment", "Document"), true);
  assert.equal(matchOne("ends_with", "Doc", "Document"), false);
  assert.equal(matchOne("contains", "cum", "Document"), true);
  assert.equal(matchOne("contains", "xyz", "Document"), false);
  assert.equal(matchOne("starts_with", "12", 123), true);
  assert.equal(matchOne("contains", "True", true), true);
  assert.equal(matchOne("contains", "'b'", ["a", "b"]), true);
  assert.equal(matchOne("starts_with", "None", null), true);
});

Deno.test("regex matches anchored at the start only", () => {
  assert.equal(matchOne("regex", "Doc", "Document"), true);
  assert.equal(matchOne("regex", "cument", "Document"), false);
  assert.equal(matchOne("regex", ".*ment$", "Document"), true);
  assert.equal(matchOne("regex", "[0-9]+", "123abc"), true);
  assert.equal(matchOne("regex", "[0-9]+", "abc123"), false);
  // The compiled regex is sticky: repeated use must not depend on lastIndex.
  const engine = new SyncRulesEngine([rule("r", "exclude", "f", "regex", "a")]);
  for (let i = 0; i < 3; i++) assert.equal(engine.shouldIngest({ f: "abc" }), false);
  // An invalid regex matches nothing.
  assert.equal(matchOne("regex", "(", "("), false);
});

Deno.test("< and > compare numbers, strings and dates; mismatched types never match", () => {
  assert.equal(matchOne(">", "10", 11), true);
  assert.equal(matchOne(">", "10", 10), false);
  assert.equal(matchOne("<", "10", 9.5), true);
  assert.equal(matchOne("<", "10", 10), false);
  assert.equal(matchOne(">", "abc", "abd"), true);
  assert.equal(matchOne("<", "b", "a"), true);
  assert.equal(matchOne(">", "2026-01-01", new Date("2026-06-01T00:00:00Z")), true);
  assert.equal(matchOne("<", "2026-01-01", new Date("2026-06-01T00:00:00Z")), false);
  assert.equal(matchOne(">", "ten", 11), false);
  assert.equal(matchOne(">", "1", [2]), false);
});

Deno.test("rule and policy names are case-insensitive", () => {
  const engine = new SyncRulesEngine([
    { ...rule("r", "exclude", "f", "EQUALS", "x"), policy: "EXCLUDE" as "exclude" },
  ]);
  assert.equal(engine.shouldIngest({ f: "x" }), false);
});

Deno.test("rules apply in order, the first match decides, no match includes", () => {
  const engine = new SyncRulesEngine([
    rule("late", "include", "kind", "equals", "post", 3),
    rule("early", "exclude", "title", "starts_with", "Draft", 1),
    rule("DEFAULT", "include", "_", "regex", ".*", 0),
    rule("mid", "exclude", "kind", "equals", "post", 2),
  ]);
  assert.equal(engine.shouldIngest({ title: "Draft one", kind: "page" }), false);
  assert.equal(engine.shouldIngest({ title: "Final", kind: "post" }), false); // "mid" before "late"
  assert.equal(engine.shouldIngest({ title: "Final", kind: "page" }), true);
  assert.equal(engine.shouldIngest({}), true); // missing field never matches
  assert.equal(engine.matchCounts.get("early"), 1);
  assert.equal(engine.matchCounts.get("mid"), 1);
  assert.equal(engine.matchCounts.get("DEFAULT"), 2);
  assert.equal(engine.matchCounts.has("late"), false);
});

Deno.test("the DEFAULT rule is ignored and an empty rule set includes everything", () => {
  const engine = new SyncRulesEngine([rule("DEFAULT", "exclude", "_", "regex", ".*", 0)]);
  assert.equal(engine.empty, true);
  assert.equal(engine.shouldIngest({ _: "x" }), true);
  assert.equal(new SyncRulesEngine(null).shouldIngest({ a: 1 }), true);
});

Deno.test("include rules followed by no match still include (Elastic's default)", () => {
  const engine = new SyncRulesEngine([rule("r", "include", "lang", "equals", "en")]);
  assert.equal(engine.shouldIngest({ lang: "en" }), true);
  assert.equal(engine.shouldIngest({ lang: "fr" }), true);
});

Deno.test("pyStr renders values as Python's str()", () => {
  assert.equal(pyStr("a"), "a");
  assert.equal(pyStr(true), "True");
  assert.equal(pyStr(null), "None");
  assert.equal(pyStr(1.5), "1.5");
  assert.equal(pyStr({ k: ["it's", 1] }), `{'k': ["it's", 1]}`);
});

Deno.test("validation accepts a well-formed rule set with the DEFAULT rule", async () => {
  const result = await validateFiltering({
    rules: [
      rule("DEFAULT", "include", "_", "regex", ".*", 0),
      rule("a", "exclude", "title", "contains", "draft", 1),
      rule("b", "include", "size", ">", "10", 2),
    ],
    advanced_snippet: {},
  }, source);
  assert.deepEqual(result, { state: "valid", errors: [] });
});

Deno.test("validation flags schema problems per rule", async () => {
  const result = await validateFiltering({
    rules: [
      { id: "r1", policy: "include", field: "", rule: "equals", value: "x", order: 1 },
      { id: "r2", policy: "maybe", field: "f", rule: "like", value: "x", order: 2 },
      { id: "r3", policy: "include", field: "f", rule: "equals", order: 3 },
      { id: "r4", policy: "include", field: "f", rule: "equals", value: "x", order: "1" },
    ] as unknown as BasicRule[],
    advanced_snippet: {},
  }, source);
  assert.equal(result.state, "invalid");
  const byId = new Map(result.errors.map((e) => [e.ids[0], e.messages]));
  assert.deepEqual(byId.get("r1"), ["data.field must be longer than or equal to 1 characters"]);
  assert.equal(byId.get("r2")?.length, 2);
  assert.match(byId.get("r2")![0]!, /unknown value for the enum Policy/);
  assert.match(byId.get("r2")![1]!, /unknown value for the enum Rule/);
  assert.match(byId.get("r3")![0]!, /must contain/);
  assert.deepEqual(byId.get("r4"), ["data.order must be number"]);
});

Deno.test("validation refuses match-all regexes outside DEFAULT and invalid regexes", async () => {
  const result = await validateFiltering({
    rules: [
      rule("m1", "include", "f", "regex", ".*", 1),
      rule("m2", "exclude", "g", "regex", "(.*)", 2),
      rule("bad", "exclude", "h", "regex", "(", 3),
      rule("ok", "exclude", "h", "regex", ".*x", 4),
    ],
    advanced_snippet: {},
  }, source);
  assert.equal(result.state, "invalid");
  assert.deepEqual(result.errors.map((e) => e.ids[0]), ["m1", "m2", "bad"]);
  assert.match(result.errors[0]!.messages[0]!, /Match all regexps/);
});

Deno.test("validation flags both rules of a semantic duplicate", async () => {
  const result = await validateFiltering({
    rules: [
      rule("a", "include", "f", "equals", "x", 1),
      rule("b", "exclude", "f", "equals", "x", 2),
      rule("c", "exclude", "f", "equals", "y", 3),
    ],
    advanced_snippet: {},
  }, source);
  assert.equal(result.state, "invalid");
  assert.deepEqual(result.errors, [
    { ids: ["b"], messages: ["Rule with id 'b' is semantically equal to rule with id 'a'"] },
    { ids: ["a"], messages: ["Rule with id 'a' is semantically equal to rule with id 'b'"] },
  ]);
});

Deno.test("advanced rules go to the source's validator, only when not empty", async () => {
  const seen: unknown[] = [];
  const validating: DataSource = {
    ...source,
    validateAdvancedRules: (snippet) => {
      seen.push(snippet);
      return Promise.resolve(
        (snippet as { bad?: boolean }).bad
          ? [{ message: "bad query" }, { message: "and more" }]
          : [],
      );
    },
  };
  assert.equal(
    (await validateFiltering({ rules: [], advanced_snippet: { value: {} } }, validating)).state,
    "valid",
  );
  assert.equal(seen.length, 0);
  const ok = await validateFiltering(
    { rules: [], advanced_snippet: { value: { good: true } } },
    validating,
  );
  assert.equal(ok.state, "valid");
  const bad = await validateFiltering(
    { rules: [], advanced_snippet: { value: { bad: true } } },
    validating,
  );
  assert.deepEqual(bad, {
    state: "invalid",
    errors: [{ ids: ["advanced_snippet"], messages: ["bad query", "and more"] }],
  });
  assert.equal(seen.length, 2);
});
