import assert from "node:assert/strict";
import { ANALYSIS_PLUGIN, analysisPluginZip, pluginDescriptor } from "./_es_plugin.ts";
import { ES_VERSION } from "./_es_node.ts";
import { esHomeDir } from "./elasticsearch.ts";
import { esSecureHealthy, esSecureHomeDir, secureSettings } from "./elasticsearch_secure.ts";

Deno.test("secureSettings: security and TLS on for http, api keys on, transport TLS off", () => {
  const lines = secureSettings();
  for (const key of ["enabled", "http.ssl.enabled", "authc.api_key.enabled"]) {
    assert.ok(lines.includes(`xpack.security.${key}: true`), key);
  }
  assert.ok(lines.includes("xpack.security.transport.ssl.enabled: false"));
  assert.ok(lines.some((l) => l.startsWith("xpack.security.http.ssl.certificate_authorities:")));
});

Deno.test("the secure node has a home of its own", () => {
  assert.notEqual(esSecureHomeDir(), esHomeDir());
  assert.ok(esSecureHomeDir().endsWith(`/elasticsearch-${ES_VERSION}-secure`));
});

Deno.test("pluginDescriptor: the exact server version, Java 21, the plugin class", () => {
  const text = pluginDescriptor(ES_VERSION);
  const props = Object.fromEntries(
    text.trim().split("\n").map((l) => l.split("=", 2) as [string, string]),
  );
  assert.equal(props["name"], ANALYSIS_PLUGIN);
  assert.equal(props["elasticsearch.version"], ES_VERSION);
  assert.equal(props["java.version"], "21");
  assert.match(props["classname"] ?? "", /^[a-z.]+\.SecurityAnalysisPlugin$/);
});

Deno.test("analysisPluginZip: cached by ES version, named after a hash of the source", async () => {
  const zip = await analysisPluginZip();
  assert.match(zip, new RegExp(`/es-plugins/${ES_VERSION}/${ANALYSIS_PLUGIN}-[0-9a-f]{12}\\.zip$`));
  assert.equal(await analysisPluginZip(), zip);
});

Deno.test("esSecureHealthy: false when nothing answers or the CA file is missing", async () => {
  assert.equal(await esSecureHealthy("https://127.0.0.1:1", "/nonexistent/ca.crt", "pw", 0), false);
});
