import assert from "node:assert/strict";
import { FatalError, RetriableError, SkippableError } from "../../src/errors/mod.ts";
import { registerSecret } from "../../src/log/mod.ts";
import { describeS3Error } from "./_errors.ts";

const endpoint = "http://127.0.0.1:9000";

function sdkError(name: string, message: string, status?: number): Error {
  return Object.assign(new Error(message), {
    name,
    ...(status ? { $metadata: { httpStatusCode: status } } : {}),
  });
}

Deno.test("missing buckets and denied access name the bucket", () => {
  const missing = describeS3Error(
    sdkError("NoSuchBucket", "The specified bucket does not exist", 404),
    { bucket: "reports", endpoint },
    "list",
  );
  assert.ok(missing instanceof FatalError);
  assert.equal(missing.message, `Cannot list bucket 'reports': it does not exist (at ${endpoint})`);

  // HeadBucket answers 404 without a body: the SDK names it NotFound.
  const head = describeS3Error(sdkError("NotFound", "UnknownError", 404), {
    bucket: "r2",
    endpoint,
  }, "access");
  assert.match(head.message, /bucket 'r2': it does not exist/);

  for (
    const error of [
      sdkError("AccessDenied", "Access Denied", 403),
      sdkError("Forbidden", "UnknownError", 403),
    ]
  ) {
    const denied = describeS3Error(error, { bucket: "secret-stuff", endpoint }, "list");
    assert.ok(denied instanceof FatalError);
    assert.match(denied.message, /^Cannot list bucket 'secret-stuff': access denied/);
  }
});

Deno.test("credentials, network and object failures get their own kind", () => {
  registerSecret("Distinct-Secret-Key-007");
  const creds = describeS3Error(
    sdkError("SignatureDoesNotMatch", "signature mismatch for Distinct-Secret-Key-007", 403),
    { bucket: "b1", endpoint },
    "list",
  );
  assert.ok(creds instanceof FatalError);
  assert.match(creds.message, /refused the credentials \(SignatureDoesNotMatch\)/);
  assert.ok(!creds.message.includes("Distinct-Secret-Key-007"));

  const refused = describeS3Error(
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    { bucket: "b1", endpoint },
    "access",
  );
  assert.ok(refused instanceof RetriableError);
  assert.match(refused.message, /cannot reach S3 \(ECONNREFUSED\)/);

  const dns = describeS3Error(
    Object.assign(new Error("getaddrinfo ENOTFOUND s3.nowhere"), { code: "ENOTFOUND" }),
    { endpoint },
    "list",
  );
  assert.ok(dns instanceof FatalError);
  assert.match(dns.message, /Cannot list the bucket list: the endpoint host cannot be resolved/);

  const gone = describeS3Error(
    sdkError("NoSuchKey", "The specified key does not exist.", 404),
    { bucket: "b1", key: "a/b.txt", endpoint },
    "download",
  );
  assert.ok(gone instanceof SkippableError);
  assert.match(gone.message, /object 'a\/b.txt' of bucket 'b1': the object no longer exists/);

  const busy = describeS3Error(sdkError("SlowDown", "Please reduce your request rate", 503), {
    bucket: "b1",
    endpoint,
  }, "list");
  assert.ok(busy instanceof RetriableError);

  const archived = describeS3Error(sdkError("InvalidObjectState", "archived", 403), {
    bucket: "b1",
    key: "old.pdf",
    endpoint,
  }, "download");
  assert.ok(archived instanceof SkippableError);
});

Deno.test("describeS3Error names the permission flag when Deno refused the network access", () => {
  const refused = describeS3Error(
    Object.assign(
      new Error('Requires net access to "127.0.0.1:9000", run again with the --allow-net flag'),
      { name: "NotCapable" },
    ),
    { bucket: "b1", endpoint: "http://127.0.0.1:9000" },
    "list",
  );
  assert.ok(refused instanceof FatalError);
  assert.match(
    refused.message,
    /Cannot list bucket 'b1': network access to 127\.0\.0\.1:9000 refused \(run with --allow-net=127\.0\.0\.1:9000\)/,
  );
});
