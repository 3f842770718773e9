import assert from "node:assert/strict";
import { ConfigError } from "../errors/mod.ts";
import { redact } from "../log/mod.ts";
import { DEFAULT_CHUNK_SIZE, DEFAULT_IDLING, DEFAULT_SOURCES } from "./defaults.ts";
import { loadConfig, parseConfig } from "./config.ts";

const noEnv = { env: () => undefined };

function configError(text: string, env: Record<string, string> = {}): string {
  try {
    parseConfig(text, "cfg.yml", { env: (n) => env[n] });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.message;
  }
  throw new Error("expected a ConfigError");
}

Deno.test("parseConfig merges over the DEFAULT_* constants", () => {
  const config = parseConfig("elasticsearch:\n  bulk:\n    max_concurrency: 2\n", "c.yml", noEnv);
  assert.equal(config.service.idling, DEFAULT_IDLING);
  assert.equal(config.elasticsearch.bulk.chunk_size, DEFAULT_CHUNK_SIZE);
  assert.equal(config.elasticsearch.bulk.max_concurrency, 2);
  assert.equal(config.elasticsearch.bulk.error_monitor.max_total_errors, 1000);
  assert.deepEqual(config.sources, { ...DEFAULT_SOURCES });
  assert.deepEqual(config.connectors, []);
});

Deno.test("parseConfig accepts dotted keys and numbers of seconds as strings", () => {
  const config = parseConfig(
    "elasticsearch.bulk.chunk_size: 100\nservice.idling: '2.5'\n",
    "c.yml",
    noEnv,
  );
  assert.equal(config.elasticsearch.bulk.chunk_size, 100);
  assert.equal(config.service.idling, 2.5);
});

Deno.test("parseConfig reads the connectors list and the single-connector form", () => {
  const config = parseConfig(
    [
      "connectors:",
      "  - connector_id: a",
      "    service_type: dir",
      "    api_key: key-aaaa",
      "connector_id: b",
      "service_type: mongodb",
    ].join("\n"),
    "c.yml",
    noEnv,
  );
  assert.deepEqual(config.connectors, [
    { connector_id: "a", service_type: "dir", api_key: "key-aaaa" },
    { connector_id: "b", service_type: "mongodb" },
  ]);
  assert.equal(redact("uses key-aaaa"), "uses *****");
});

Deno.test("YAML syntax errors give file:line:column", () => {
  const message = configError("service:\n  idling: 1\n  bad: [1, 2\n");
  assert.match(message, /^cfg\.yml:\d+:\d+: invalid YAML/);
});

Deno.test("wrong types name the file, position and key path", () => {
  assert.match(
    configError("service:\n  idling: soon\n"),
    /^cfg\.yml:2:11: service\.idling must be a number of seconds, got string "soon"$/,
  );
  assert.match(
    configError("elasticsearch:\n  verify_certs: 'yes'\n"),
    /elasticsearch\.verify_certs must be true or false/,
  );
  assert.match(configError("service: 3\n"), /service must be a mapping/);
  assert.match(
    configError("elasticsearch:\n  bulk:\n    chunk_size: 1.5\n"),
    /elasticsearch\.bulk\.chunk_size must be a whole number/,
  );
  assert.match(configError("service:\n  log_level: LOUD\n"), /service\.log_level must be one of/);
  assert.match(
    configError("connectors:\n  - service_type: dir\n"),
    /connectors\[0\]\.connector_id is required/,
  );
  assert.match(configError("connectors: yes\n"), /connectors must be a list/);
  assert.match(configError("sources:\n  x: nocolon\n"), /sources\.x must be MODULE:ClassName/);
  assert.match(
    configError("elasticsearch:\n  host: localhost:9200\n"),
    /elasticsearch\.host must be an http/,
  );
});

Deno.test("changeme placeholders are errors and the secret is not echoed", () => {
  const message = configError("elasticsearch:\n  username: elastic\n  password: changeme\n");
  assert.match(message, /elasticsearch\.password is still the placeholder "changeme"/);
  assert.match(
    configError("connectors:\n  - connector_id: changeme\n"),
    /connector_id is still the placeholder/,
  );
});

Deno.test("unknown keys are warnings, not errors", () => {
  const config = parseConfig("service:\n  idlin: 3\nextra: 1\n", "c.yml", noEnv);
  assert.equal(config.warnings.length, 2);
  assert.match(config.warnings[0]!, /c\.yml:2:3: unknown key service\.idlin is ignored/);
  assert.match(config.warnings[1]!, /unknown key extra is ignored/);
});

Deno.test("environment interpolation and overrides", () => {
  const env: Record<string, string> = {
    MY_HOST: "http://es.example.test:9200",
    CONNECTORS_ES_PASSWORD: "s3cr3t-pass",
  };
  const config = parseConfig(
    "elasticsearch:\n  host: ${MY_HOST}\n  username: ${USER_NAME|elastic}\n",
    "c.yml",
    { env: (n) => env[n] },
  );
  assert.equal(config.elasticsearch.host, "http://es.example.test:9200");
  assert.equal(config.elasticsearch.username, "elastic");
  assert.equal(config.elasticsearch.password, "s3cr3t-pass");
  assert.equal(redact("pw s3cr3t-pass"), "pw *****");
  assert.match(
    configError("elasticsearch:\n  host: ${NOPE}\n"),
    /elasticsearch\.host uses \$\{NOPE\}, which is not set/,
  );
});

Deno.test("loadConfig names a missing file", async () => {
  await assert.rejects(loadConfig("/nonexistent/config.yml"), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, "Cannot read config file /nonexistent/config.yml: no such file");
    return true;
  });
});

Deno.test("a password YAML reads as a number is a string and a registered secret", () => {
  const config = parseConfig(
    "elasticsearch:\n  host: http://localhost:9200\n  username: elastic\n  password: 86420975\n",
    "/etc/c.yml",
    { env: () => undefined },
  );
  assert.equal(config.elasticsearch.password, "86420975");
  assert.equal(redact("auth failed for 86420975"), "auth failed for *****");
});
