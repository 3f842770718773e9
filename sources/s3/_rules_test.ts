import assert from "node:assert/strict";
import { extensionOf, normaliseExtension, parseS3Rules, scopeKey } from "./_rules.ts";

Deno.test("extensions are normalised and read from the last path segment", () => {
  assert.equal(normaliseExtension(" PDF "), ".pdf");
  assert.equal(extensionOf("a/b.c/file.TXT"), ".txt");
  assert.equal(extensionOf("a/b.c/README"), "");
  assert.equal(extensionOf(".hidden"), "");
  assert.equal(extensionOf("archive.tar.gz"), ".gz");
});

Deno.test("valid rules parse, with Elastic's 'extension' and our 'extensions'", () => {
  assert.deepEqual(parseS3Rules(undefined), { rules: undefined, problems: [] });
  assert.deepEqual(parseS3Rules([]), { rules: undefined, problems: [] });
  assert.deepEqual(parseS3Rules({}), { rules: undefined, problems: [] });
  const { rules, problems } = parseS3Rules([
    { bucket: "docs-a", prefix: "2024/", extension: [".TXT", "md", ".txt"] },
    { bucket: "docs-b", extensions: ["pdf"] },
    { bucket: "docs-c" },
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(rules, [
    { bucket: "docs-a", prefix: "2024/", extensions: [".txt", ".md"] },
    { bucket: "docs-b", prefix: "", extensions: [".pdf"] },
    { bucket: "docs-c", prefix: "", extensions: [] },
  ]);
  assert.equal(scopeKey(rules![2]!), "docs-c");
  assert.equal(scopeKey(rules![0]!), '["docs-a","2024/",[".md",".txt"]]');
});

Deno.test("invalid rules are rejected with a message naming the rule", () => {
  const cases: [unknown, RegExp][] = [
    [{ bucket: "x" }, /must be a list/],
    ["docs", /must be a list/],
    [[1], /Rule 1 must be an object/],
    [[{ prefix: "a/" }], /Rule 1 needs a "bucket"/],
    [[{ bucket: "" }], /needs a "bucket"/],
    [[{ bucket: "Not_A_Bucket" }], /not a valid bucket name/],
    [[{ bucket: "docs", prefix: 3 }], /"prefix" must be a string/],
    [[{ bucket: "docs", extension: ".txt" }], /"extension" must be a list/],
    [[{ bucket: "docs", extension: [""] }], /"extension" must be a list/],
    [[{ bucket: "docs", extension: [".txt"], extensions: [".md"] }], /not both/],
    [
      [{ bucket: "docs" }, { bucket: "docs", suffix: ".txt" }],
      /Rule 2 has an unknown key 'suffix'/,
    ],
  ];
  for (const [snippet, expected] of cases) {
    const { rules, problems } = parseS3Rules(snippet);
    assert.equal(rules, undefined, JSON.stringify(snippet));
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${JSON.stringify(snippet)} → ${JSON.stringify(problems)}`,
    );
  }
});
