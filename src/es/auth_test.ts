import assert from "node:assert/strict";
import { errors } from "@elastic/elasticsearch";
import { defaultConfig } from "../config/mod.ts";
import { redact } from "../log/mod.ts";
import {
  decodeApiKey,
  describeAuthFailure,
  describeCredentials,
  esReason,
  isAuthFailure,
  missingPrivilege,
  normalizeApiKey,
} from "./auth.ts";

function responseError(statusCode: number, error: unknown) {
  return new errors.ResponseError({
    body: { error, status: statusCode },
    statusCode,
    headers: {},
    warnings: null,
    meta: {} as never,
  });
}

Deno.test("normalizeApiKey: id:secret is encoded, the encoded form kept; all forms redacted", () => {
  const raw = "AuthTestId-1:AuthTestSecret-1";
  const encoded = btoa(raw);
  assert.equal(normalizeApiKey(raw), encoded);
  assert.equal(normalizeApiKey(`${encoded}\n`), encoded);
  assert.deepEqual(decodeApiKey(encoded), { id: "AuthTestId-1", secret: "AuthTestSecret-1" });
  assert.equal(redact(`a ${raw} b ${encoded} c AuthTestSecret-1`), "a ***** b ***** c *****");
  assert.equal(decodeApiKey("%%%"), undefined);
  assert.equal(decodeApiKey(btoa("no-colon")), undefined);
});

Deno.test("describeCredentials names the credential, never the secret", () => {
  const es = defaultConfig().elasticsearch;
  assert.equal(describeCredentials(es), "no credentials");
  assert.equal(
    describeCredentials({ ...es, username: "bob", password: "pw-secret-1" }),
    "user bob (elasticsearch.username)",
  );
  assert.equal(
    describeCredentials({ ...es, api_key: "kid:ksecret-1" }),
    "API key id kid (elasticsearch.api_key)",
  );
  assert.equal(
    describeCredentials({ ...es, host: "https://alice:pw-2@h:9200" }),
    "user alice (from elasticsearch.host)",
  );
  assert.equal(
    describeCredentials({ ...es, api_key: "garbage!!" }),
    "an API key that is not valid base64 (elasticsearch.api_key)",
  );
});

Deno.test("esReason keeps Elasticsearch's reason and the API-key detail", () => {
  const expired = responseError(401, {
    type: "security_exception",
    reason:
      "unable to authenticate with provided credentials and anonymous access is not allowed for this request",
    additional_unsuccessful_credentials: "API key: api key is expired",
  });
  assert.equal(
    esReason(expired),
    "unable to authenticate with provided credentials and anonymous access is not allowed for this request (API key: api key is expired)",
  );
  assert.ok(isAuthFailure(expired));
  assert.equal(esReason(new Error("x")), undefined);
  assert.equal(esReason({ meta: { body: { error: { root_cause: [{ reason: "rc" }] } } } }), "rc");
  assert.equal(
    describeAuthFailure(expired, "API key id k (elasticsearch.api_key)"),
    "Elasticsearch refused the credentials, API key id k (elasticsearch.api_key) (HTTP 401): unable to authenticate with provided credentials and anonymous access is not allowed for this request (API key: api key is expired)",
  );
});

Deno.test("missingPrivilege reads the privilege a 403 names", () => {
  const reason =
    "action [indices:data/write/bulk[s]] is unauthorized for user [reader] with effective roles [reader] on indices [.elastic-connectors-v1], this action is granted by the index privileges [create_doc,create,index,write,all]";
  assert.deepEqual(missingPrivilege(reason), {
    scope: "index",
    privilege: "create_doc",
    all: ["create_doc", "create", "index", "write", "all"],
    action: "indices:data/write/bulk[s]",
  });
  assert.equal(missingPrivilege("something else"), undefined);
  assert.equal(missingPrivilege(undefined), undefined);
});
