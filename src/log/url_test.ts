import assert from "node:assert/strict";
import { redact, redactValue, registerSecret, registerUrlSecrets } from "./logger.ts";
import { displayUrl, maskUserinfo, urlPasswords, urlUsername } from "./url.ts";

Deno.test("displayUrl drops user-info, keeps scheme, host, port and path", () => {
  assert.equal(
    displayUrl("https://elastic:s3cret@es.example.com:9243/"),
    "https://es.example.com:9243",
  );
  assert.equal(displayUrl("http://u:p@h:9200"), "http://h:9200");
  assert.equal(displayUrl("https://h"), "https://h");
  assert.equal(displayUrl("https://h:9200/"), "https://h:9200");
  assert.equal(displayUrl("https://only-user@h:9200/base"), "https://h:9200/base");
  // A password with an unescaped @ is cut at the last @ of the authority.
  assert.equal(displayUrl("https://u:p@ss@h:9200"), "https://h:9200");
  assert.equal(
    displayUrl("mongodb://bob:pw@db1:27017,db2:27017/shop?tls=true"),
    "mongodb://db1:27017,db2:27017/shop?tls=true",
  );
  assert.equal(
    displayUrl("mongodb+srv://bob:pw@cluster.example.com"),
    "mongodb+srv://cluster.example.com",
  );
  assert.equal(displayUrl("not a url"), "not a url");
});

Deno.test("maskUserinfo masks every URL's user-info in a text, idempotently", () => {
  const text = "a https://u:pw@h:1/x and mongodb://m:pw2@d1,d2/db?x=1 and http://plain:9200";
  const masked = maskUserinfo(text);
  assert.equal(masked, "a https://***@h:1/x and mongodb://***@d1,d2/db?x=1 and http://plain:9200");
  assert.equal(maskUserinfo(masked), masked);
  assert.equal(maskUserinfo("no urls here"), "no urls here");
});

Deno.test("urlPasswords and urlUsername read the user-info", () => {
  assert.deepEqual(urlPasswords("https://bob:p%2Fw%40rd@h"), ["p%2Fw%40rd", "p/w@rd"]);
  assert.deepEqual(urlPasswords("https://bob@h"), []);
  assert.deepEqual(urlPasswords("https://h"), []);
  assert.equal(urlUsername("https://bob:x@h"), "bob");
  assert.equal(urlUsername("https://h"), undefined);
});

Deno.test("redact masks registered secrets in raw, URL-encoded and base64 forms, and URL user-info", () => {
  registerSecret("Url-Test-Secret/9");
  assert.equal(redact("x Url-Test-Secret/9 y"), "x ***** y");
  assert.equal(redact(`x ${encodeURIComponent("Url-Test-Secret/9")} y`), "x ***** y");
  assert.equal(redact(`x ${btoa("Url-Test-Secret/9")} y`), "x ***** y");
  registerUrlSecrets("https://bob:Pw%24InUrl-77@es:9200");
  assert.equal(redact("the password Pw$InUrl-77 leaked"), "the password ***** leaked");
  assert.equal(
    redact("GET https://bob:Pw%24InUrl-77@es:9200/_bulk"),
    "GET https://***@es:9200/_bulk",
  );
  assert.deepEqual(redactValue({ url: "https://a:b@c" }), { url: "https://***@c" });
  // Shorter than MIN_SECRET_LENGTH: ignored.
  registerSecret("abc");
  assert.equal(redact("abc"), "abc");
});
