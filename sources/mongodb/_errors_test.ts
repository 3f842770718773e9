import assert from "node:assert/strict";
import { FatalError, RetriableError } from "../../src/errors/mod.ts";
import { registerSecret } from "../../src/log/mod.ts";
import { describeMongoError, redactUri } from "./_errors.ts";

const facts = { hosts: "db.internal:27017", user: "reader", tls: false };

function selectionError(serverError: Error): Error {
  return Object.assign(new Error(serverError.message), {
    name: "MongoServerSelectionError",
    reason: { servers: new Map([["db.internal:27017", { error: serverError }]]) },
  });
}

Deno.test("redactUri hides user info, also with unescaped characters in the password", () => {
  assert.equal(
    redactUri("failed mongodb://u:p@ss/w0rd@h1:27017,h2/db?x=1 and mongodb+srv://a:b@c.net"),
    "failed mongodb://***@h1:27017,h2/db?x=1 and mongodb+srv://***@c.net",
  );
  registerSecret("VeryDistinct-Secret-42");
  assert.equal(redactUri("said VeryDistinct-Secret-42"), "said *****");
});

Deno.test("describeMongoError names the failure without credentials", () => {
  const auth = describeMongoError(
    Object.assign(new Error("Authentication failed."), { name: "MongoServerError", code: 18 }),
    facts,
    "ping MongoDB",
  );
  assert.ok(auth instanceof FatalError);
  assert.match(auth.message, /refused the credentials of user 'reader'/);

  const refused = describeMongoError(
    selectionError(
      Object.assign(new Error("connect ECONNREFUSED 192.0.2.1:27017"), { code: "ECONNREFUSED" }),
    ),
    facts,
    "ping MongoDB",
  );
  assert.ok(refused instanceof RetriableError);
  assert.match(refused.message, /connection to MongoDB at db.internal:27017 refused/);

  const dns = describeMongoError(
    selectionError(new Error("getaddrinfo ENOTFOUND db.internal")),
    facts,
    "ping MongoDB",
  );
  assert.ok(dns instanceof FatalError);
  assert.match(dns.message, /cannot be resolved \(DNS lookup failed: ENOTFOUND\)/);

  const cert = describeMongoError(
    selectionError(
      Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
    ),
    { ...facts, tls: true },
    "ping MongoDB",
  );
  assert.match(cert.message, /TLS connection to MongoDB at db.internal:27017 failed/);

  const timeout = describeMongoError(
    Object.assign(new Error("Server selection timed out after 500 ms"), {
      name: "MongoServerSelectionError",
    }),
    { ...facts, tls: true },
    "ping MongoDB",
  );
  assert.ok(timeout instanceof RetriableError);
  assert.match(timeout.message, /did not answer .*TLS is enabled/);

  const parse = describeMongoError(
    Object.assign(new Error("Invalid scheme in mongodb://bob:hunter2@x"), {
      name: "MongoParseError",
    }),
    facts,
    "connect",
  );
  assert.ok(!parse.message.includes("hunter2"), parse.message);
  assert.match(parse.message, /invalid MongoDB host or option/);

  const denied = describeMongoError(
    Object.assign(new Error("not authorized on shop"), { name: "MongoServerError", code: 13 }),
    facts,
    "read",
  );
  assert.match(denied.message, /user 'reader' lacks a privilege/);
});

Deno.test("describeMongoError names the permission flag when Deno refused the network access", () => {
  // As the driver reports it: a server selection error whose per-server error is Deno's refusal.
  const refusal = Object.assign(
    new Error('Requires net access to "db.internal:27017", run again with the --allow-net flag'),
    { name: "NotCapable" },
  );
  const selection = Object.assign(new Error(refusal.message), {
    name: "MongoServerSelectionError",
    reason: { servers: new Map([["db.internal:27017", { error: refusal }]]) },
  });
  const out = describeMongoError(selection, facts, "ping");
  assert.ok(out instanceof FatalError, "a refused permission is not worth retrying");
  assert.equal(
    out.message,
    "Cannot ping: network access to db.internal:27017 refused (run with --allow-net=db.internal:27017)",
  );
});
