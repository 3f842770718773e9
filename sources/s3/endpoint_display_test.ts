import assert from "node:assert/strict";
import { redact } from "../../src/log/mod.ts";
import { createSource, standaloneContext } from "../../src/source/mod.ts";
import { S3DataSource } from "./mod.ts";

Deno.test("an S3 endpoint with user-info is printed without it, and its password is redacted", async () => {
  const source = createSource(S3DataSource as never, {
    buckets: { value: ["reports"] },
    endpoint_url: { value: "http://s3user:S3-Endpoint-Pw-9@127.0.0.1:1" },
    force_path_style: { value: true },
    aws_access_key_id: { value: "AKIAEXAMPLE" },
    aws_secret_access_key: { value: "S3-Secret-Key-9" },
    max_attempts: { value: 1 },
    connect_timeout: { value: 1 },
  }, standaloneContext());
  try {
    const error = await source.ping().then(
      () => assert.fail("expected a failure"),
      (e: Error) => e,
    );
    assert.match(error.message, /\(at http:\/\/127\.0\.0\.1:1\)/);
    assert.doesNotMatch(error.message, /S3-Endpoint-Pw-9|s3user/);
    assert.equal(redact("S3-Endpoint-Pw-9"), "*****");
  } finally {
    await source.close?.();
  }
});
