/**
 * The TLS + security node of the test stack (`es-secure`): https with its own CA, basic auth as
 * `elastic`, the security APIs (which need the stack's analysis plugin: the security index uses
 * filters the integ-test-zip lacks), users with roles and API keys.
 */
import assert from "node:assert/strict";
import {
  esSecureCa,
  esSecureJson,
  esSecurePassword,
  esSecureUrl,
  esSecureWrongCa,
  uniqueName,
} from "./_helpers.ts";

Deno.test("es-secure: _cluster/health answers over https with the CA and the password", async () => {
  assert.match(esSecureUrl(), /^https:\/\/127\.0\.0\.1:\d+$/);
  const health = await esSecureJson<{ status: string }>(
    "GET",
    "/_cluster/health?wait_for_status=yellow&timeout=30s",
  );
  assert.ok(["yellow", "green"].includes(health.status), `status ${health.status}`);
  const me = await esSecureJson<{ username: string; roles: string[] }>(
    "GET",
    "/_security/_authenticate",
  );
  assert.equal(me.username, "elastic");
  assert.ok(me.roles.includes("superuser"));
});

Deno.test("es-secure: a wrong password gets 401, no credentials get 401", async () => {
  await assert.rejects(
    esSecureJson("GET", "/_cluster/health", undefined, {
      username: "elastic",
      password: `${esSecurePassword()}-wrong`,
    }),
    /HTTP 401/,
  );
  await assert.rejects(esSecureJson("GET", "/_cluster/health", undefined, null), /HTTP 401/);
});

Deno.test("es-secure: the wrong CA fails the TLS handshake, plain http is refused", async () => {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(esSecureWrongCa())] });
  try {
    await assert.rejects(
      fetch(`${esSecureUrl()}/_cluster/health`, { client }),
      (e: Error) => /certificate|UnknownIssuer|tls|handshake/i.test(`${e.message} ${e.cause}`),
    );
  } finally {
    client.close();
  }
  assert.notEqual(
    await Deno.readTextFile(esSecureCa()),
    await Deno.readTextFile(esSecureWrongCa()),
  );
  // the node speaks only TLS: an http request gets no HTTP answer
  await assert.rejects(async () => {
    const res = await fetch(esSecureUrl().replace("https:", "http:") + "/_cluster/health", {
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
  });
});

Deno.test("es-secure: roles, users and API keys (the security index can be created)", async () => {
  const index = uniqueName("secure");
  const role = uniqueName("role");
  const user = uniqueName("user");
  const password = `pw-${crypto.randomUUID()}`;
  await esSecureJson("PUT", `/_security/role/${role}`, {
    cluster: ["monitor"],
    indices: [{
      names: [index],
      privileges: ["read", "write", "create_index", "view_index_metadata"],
    }],
  });
  await esSecureJson("PUT", `/_security/user/${user}`, { password, roles: [role] });
  try {
    const asUser = { username: user, password };
    const me = await esSecureJson<{ username: string; roles: string[] }>(
      "GET",
      "/_security/_authenticate",
      undefined,
      asUser,
    );
    assert.equal(me.username, user);
    assert.deepEqual(me.roles, [role]);
    await esSecureJson("PUT", `/${index}/_doc/1?refresh=true`, { title: "hello" }, asUser);
    // the role does not reach other indices
    await assert.rejects(
      esSecureJson("PUT", `/${index}-other/_doc/1`, { title: "no" }, asUser),
      /HTTP 403/,
    );

    const key = await esSecureJson<{ id: string; encoded: string }>(
      "POST",
      "/_security/api_key",
      {
        name: uniqueName("key"),
        role_descriptors: {
          reader: { cluster: ["monitor"], indices: [{ names: [index], privileges: ["read"] }] },
        },
      },
    );
    const asKey = { apiKey: key.encoded };
    const viaKey = await esSecureJson<{ authentication_type: string; api_key?: { id: string } }>(
      "GET",
      "/_security/_authenticate",
      undefined,
      asKey,
    );
    assert.equal(viaKey.authentication_type, "api_key");
    assert.equal(viaKey.api_key?.id, key.id);
    const found = await esSecureJson<{ hits: { total: { value: number } } }>(
      "POST",
      `/${index}/_search`,
      { query: { match_all: {} } },
      asKey,
    );
    assert.equal(found.hits.total.value, 1);
    await assert.rejects(
      esSecureJson("PUT", `/${index}/_doc/2`, { title: "read only" }, asKey),
      /HTTP 403/,
    );
    await esSecureJson("DELETE", "/_security/api_key", { ids: [key.id] });
    await assert.rejects(
      esSecureJson("GET", "/_security/_authenticate", undefined, asKey),
      /HTTP 401/,
    );
  } finally {
    await esSecureJson("DELETE", `/${index}`).catch(() => {});
    await esSecureJson("DELETE", `/_security/user/${user}`);
    await esSecureJson("DELETE", `/_security/role/${role}`);
  }
});
