import assert from "node:assert/strict";
import { errors } from "@elastic/elasticsearch";
import { defaultConfig } from "../config/mod.ts";
import {
  httpsUrl,
  isTlsTrustFailure,
  mayBePlainToTls,
  speaksTls,
  tlsTrustHint,
  tlsWarnings,
} from "./tls.ts";

Deno.test("isTlsTrustFailure recognises the client's certificate errors only", () => {
  for (
    const message of [
      "unable to verify the first certificate",
      "self-signed certificate in certificate chain",
      "invalid peer certificate: UnknownIssuer",
      "Hostname/IP does not match certificate's altnames",
      "certificate has expired",
    ]
  ) {
    assert.ok(isTlsTrustFailure(new errors.ConnectionError(message)), message);
  }
  assert.ok(!isTlsTrustFailure(new errors.ConnectionError("connect ECONNREFUSED 127.0.0.1:9200")));
  assert.ok(!isTlsTrustFailure({ meta: { statusCode: 400 }, message: "bad certificate field" }));
});

Deno.test("tlsTrustHint names ca_certs; the plain-to-TLS hint needs an http host", () => {
  const es = { ...defaultConfig().elasticsearch, host: "https://u:pw@es:9200" };
  assert.match(tlsTrustHint(es), /set elasticsearch\.ca_certs/);
  assert.doesNotMatch(tlsTrustHint(es), /pw/);
  assert.match(tlsTrustHint({ ...es, ca_certs: "/etc/wrong.pem" }), /\(\/etc\/wrong\.pem\)/);
  assert.ok(mayBePlainToTls("http://es:9200", new Error("other side closed - Local: x")));
  assert.ok(!mayBePlainToTls("http://es:9200", new Error("connect ECONNREFUSED")));
  assert.equal(httpsUrl("http://es:9200/"), "https://es:9200");
});

Deno.test("speaksTls: a plain HTTP server and a closed port do not", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  try {
    assert.equal(await speaksTls(`http://127.0.0.1:${server.addr.port}`, 2_000), false);
    assert.equal(await speaksTls("http://127.0.0.1:1", 2_000), false);
    assert.equal(await speaksTls("not a url"), false);
  } finally {
    await server.shutdown();
  }
});

Deno.test("tlsWarnings: only verify_certs: false on an https host", () => {
  const es = { ...defaultConfig().elasticsearch, host: "https://es:9200" };
  assert.deepEqual(tlsWarnings(es), []);
  assert.equal(tlsWarnings({ ...es, verify_certs: false }).length, 1);
  assert.deepEqual(tlsWarnings({ ...es, host: "http://es:9200", verify_certs: false }), []);
});
