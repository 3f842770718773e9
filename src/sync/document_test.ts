import assert from "node:assert/strict";
import {
  documentId,
  ES_ID_SIZE_LIMIT,
  hashId,
  resolvePipelineSettings,
  serializeBody,
  utf8Length,
} from "./document.ts";

Deno.test("ids are strings, hashed with MD5 past 512 UTF-8 bytes", () => {
  assert.equal(documentId(12), "12");
  assert.equal(documentId("a".repeat(ES_ID_SIZE_LIMIT)), "a".repeat(512));
  const long = "a".repeat(513);
  assert.equal(documentId(long), hashId(long));
  assert.match(documentId(long)!, /^[0-9a-f]{32}$/);
  // 171 three-byte characters = 513 bytes: hashed although only 171 UTF-16 units long.
  const wide = "€".repeat(171);
  assert.equal(documentId(wide), hashId(wide));
  assert.equal(documentId("€".repeat(170)), "€".repeat(170));
  assert.equal(hashId("hello"), "5d41402abc4b2a76b9719d911017c592");
  assert.equal(documentId(undefined), undefined);
  assert.equal(documentId(""), undefined);
});

Deno.test("pipeline settings default as Elastic's", () => {
  assert.deepEqual(resolvePipelineSettings(null), {
    name: "search-default-ingestion",
    extract_binary_content: true,
    reduce_whitespace: true,
    run_ml_inference: true,
  });
  assert.equal(
    resolvePipelineSettings({ name: "", extract_binary_content: false }).name,
    "search-default-ingestion",
  );
  assert.equal(
    resolvePipelineSettings({ extract_binary_content: false }).extract_binary_content,
    false,
  );
});

Deno.test("bodies serialise dates as ISO strings and bigints as numbers", () => {
  const text = serializeBody({ d: new Date("2026-01-01T00:00:00Z"), big: 2n ** 70n, small: 3n });
  assert.deepEqual(JSON.parse(text), {
    d: "2026-01-01T00:00:00.000Z",
    big: "1180591620717411303424",
    small: 3,
  });
});

Deno.test("utf8Length agrees with the encoder, surrogates included", () => {
  const encoder = new TextEncoder();
  for (const text of ["", "ascii", "é", "€uro", "😀", "a😀b", "\ud800", "x\udc00y", "日本語"]) {
    assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
  }
});
