import assert from "node:assert/strict";
import { ConfigError } from "../errors/mod.ts";
import { redact } from "../log/mod.ts";
import { DEFAULT_CHUNK_SIZE, DEFAULT_IDLING, DEFAULT_SOURCES } from "./defaults.ts";
import { loadConfig, parseConfig } from "./config.ts";
import { configLocation } from "./locations.ts";
import { checkServiceTypes, serviceTypeProblems } from "./service_types.ts";
import { CONFIG_KEYS, ELASTIC_ONLY_KEYS, keySpec } from "./_schema.ts";
import { sourceGrantOf } from "../source/sandbox/grants.ts";

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

/** Each bad key or value and the whole message it gives (`cfg.yml:line:col: ...`). */
const BAD_VALUES: [string, string][] = [
  [
    "elasticsearch:\n  bulk:\n    error_monitor:\n      max_error_rate: 7\n",
    "cfg.yml:4:23: elasticsearch.bulk.error_monitor.max_error_rate must be between 0 and 1, got 7",
  ],
  [
    "elasticsearch.bulk.error_monitor.max_error_rate: -0.1\n",
    "cfg.yml:1:50: elasticsearch.bulk.error_monitor.max_error_rate must be between 0 and 1, got -0.1",
  ],
  [
    "service:\n  max_deletion_ratio: 1.5\n",
    "cfg.yml:2:23: service.max_deletion_ratio must be between 0 and 1, got 1.5",
  ],
  [
    "service:\n  max_deletion_ratio: lots\n",
    'cfg.yml:2:23: service.max_deletion_ratio must be a number or null, got string "lots"',
  ],
  [
    "connectors:\n  - connector_id: a\n    max_deletion_ratio: 2\n",
    "cfg.yml:3:25: connectors[0].max_deletion_ratio must be between 0 and 1, got 2",
  ],
  [
    "connectors:\n  - connector_id: a\n    allow_empty_full_sync: maybe\n",
    'cfg.yml:3:28: connectors[0].allow_empty_full_sync must be true or false, got string "maybe"',
  ],
  [
    "elasticsearch:\n  request_timeout: -5\n",
    "cfg.yml:2:20: elasticsearch.request_timeout must be more than 0, got -5",
  ],
  ["service:\n  idling: 0\n", "cfg.yml:2:11: service.idling must be more than 0, got 0"],
  [
    "service.job_heartbeat_interval: 0\n",
    "cfg.yml:1:33: service.job_heartbeat_interval must be more than 0, got 0",
  ],
  ["service:\n  heartbeat: -1\n", "cfg.yml:2:14: service.heartbeat must be more than 0, got -1"],
  [
    "elasticsearch:\n  bulk:\n    chunk_size: 0\n",
    "cfg.yml:3:17: elasticsearch.bulk.chunk_size must be 1 or more, got 0",
  ],
  [
    "elasticsearch.bulk.max_concurrency: 0\n",
    "cfg.yml:1:37: elasticsearch.bulk.max_concurrency must be 1 or more, got 0",
  ],
  [
    "elasticsearch.bulk.queue_max_size: -3\n",
    "cfg.yml:1:36: elasticsearch.bulk.queue_max_size must be 1 or more, got -3",
  ],
  [
    "elasticsearch.bulk.concurrent_downloads: 0\n",
    "cfg.yml:1:42: elasticsearch.bulk.concurrent_downloads must be 1 or more, got 0",
  ],
  [
    "elasticsearch.bulk.max_text_document_size: -1\n",
    "cfg.yml:1:44: elasticsearch.bulk.max_text_document_size must be 0 or more, got -1",
  ],
  [
    "service:\n  max_concurrent_content_syncs: 0\n",
    "cfg.yml:2:33: service.max_concurrent_content_syncs must be 1 or more, got 0",
  ],
  [
    "service:\n  preflight_max_attempts: 0\n",
    "cfg.yml:2:27: service.preflight_max_attempts must be 1 or more, got 0",
  ],
  [
    "elasticsearch:\n  backoff_multiplier: 0.5\n",
    "cfg.yml:2:23: elasticsearch.backoff_multiplier must be 1 or more, got 0.5",
  ],
  [
    "service:\n  idlin: 3\n",
    "cfg.yml:2:3: unknown key service.idlin; did you mean service.idling?",
  ],
  [
    "service.haertbeat: 3\n",
    "cfg.yml:1:1: unknown key service.haertbeat; did you mean service.heartbeat?",
  ],
  [
    "service:\n  chunk_size: 3\n",
    "cfg.yml:2:3: unknown key service.chunk_size; did you mean elasticsearch.bulk.chunk_size?",
  ],
  [
    "elasticsearch:\n  bulk:\n    error_monitor:\n      max_eror_rate: 0.1\n",
    "cfg.yml:4:7: unknown key elasticsearch.bulk.error_monitor.max_eror_rate; did you mean elasticsearch.bulk.error_monitor.max_error_rate?",
  ],
  [
    "elasticserch:\n  host: http://h:9200\n",
    "cfg.yml:1:1: unknown key elasticserch; did you mean elasticsearch?",
  ],
  ["extra: 1\n", "cfg.yml:1:1: unknown key extra"],
  [
    "connectors:\n  - connector_id: a\n    service_typ: dir\n",
    "cfg.yml:3:5: unknown key connectors[0].service_typ; did you mean connectors[0].service_type?",
  ],
  [
    "elasticsearch:\n  bulk_chunk_size: 100\n",
    "cfg.yml:2:3: elasticsearch.bulk_chunk_size is an old key name; did you mean elasticsearch.bulk.chunk_size?",
  ],
  [
    "sources:\n  x: nocolon\n",
    'cfg.yml:2:6: sources.x must be MODULE:ClassName, got "nocolon"',
  ],
  [
    "elasticsearch:\n  headers:\n    X-Trace: 3\n",
    "cfg.yml:3:14: elasticsearch.headers.X-Trace must be a string, got number 3",
  ],
];

Deno.test("every bad value or key names file:line:col and the key path", () => {
  for (const [text, expected] of BAD_VALUES) {
    assert.equal(configError(text), expected, text);
  }
});

Deno.test("values at their bounds are accepted", () => {
  const config = parseConfig(
    [
      "elasticsearch.bulk.error_monitor.max_error_rate: 1",
      "elasticsearch.bulk.error_monitor.error_window_size: 0",
      "elasticsearch.bulk.max_text_document_size: 0",
      "elasticsearch.max_wait_duration: 0",
      "service.max_deletion_ratio: 0",
      "service.idling: 0.01",
      "connectors:",
      "  - connector_id: a",
      "    max_deletion_ratio: null",
      "    allow_empty_full_sync: true",
    ].join("\n"),
    "c.yml",
    noEnv,
  );
  assert.equal(config.elasticsearch.bulk.error_monitor.max_error_rate, 1);
  assert.equal(config.service.max_deletion_ratio, 0);
  assert.equal(config.service.allow_empty_full_sync, false);
  assert.deepEqual(config.connectors, [
    { connector_id: "a", max_deletion_ratio: null, allow_empty_full_sync: true },
  ]);
  assert.equal(
    parseConfig("service.max_deletion_ratio: ~\n", "c.yml", noEnv).service.max_deletion_ratio,
    null,
  );
});

Deno.test("keys of Elastic's framework that are not implemented warn once each", () => {
  const config = parseConfig(
    [
      "elasticsearch:",
      "  log_level: info",
      "  ssl: true",
      "elasticsearch.feature_use_connectors_api: true",
      "extraction_service:",
      "  host: http://tika:9998",
      "  timeout: 30",
      "service.fips_mode: false",
    ].join("\n"),
    "c.yml",
    noEnv,
  );
  assert.deepEqual(config.warnings, [
    "c.yml:2:3: elasticsearch.log_level is a key of Elastic's framework that this service does not implement; ignored",
    "c.yml:3:3: elasticsearch.ssl is a key of Elastic's framework that this service does not implement; ignored",
    "c.yml:4:1: elasticsearch.feature_use_connectors_api is a key of Elastic's framework that this service does not implement; ignored",
    "c.yml:5:1: extraction_service is a key of Elastic's framework that this service does not implement; ignored",
    "c.yml:8:1: service.fips_mode is a key of Elastic's framework that this service does not implement; ignored",
  ]);
  for (const key of ELASTIC_ONLY_KEYS) assert.equal(keySpec(key), undefined, key);
});

/** Service types used but not defined in `sources:`, with the position of each use. */
const UNDEFINED_TYPES: [string, string][] = [
  [
    "connectors:\n  - connector_id: a\n    service_type: nope\n",
    'cfg.yml:3:19: connectors[0].service_type "nope" is not defined in sources (defined: dir, mongodb, s3)',
  ],
  [
    "service:\n  service_types: [dir, dir, mongo]\n",
    'cfg.yml:2:29: service.service_types[2] "mongo" is not defined in sources (defined: dir, mongodb, s3); did you mean "mongodb"?',
  ],
  [
    "connector_id: a\nservice_type: s4\n",
    'cfg.yml:2:15: service_type "s4" is not defined in sources (defined: dir, mongodb, s3); did you mean "s3"?',
  ],
  [
    "sources:\n  mine: ./m.ts:Mine\nservice.service_types: [mine, yours]\n",
    'cfg.yml:3:31: service.service_types[1] "yours" is not defined in sources (defined: dir, mine, mongodb, s3)',
  ],
];

Deno.test("service types not defined in sources name their entry", () => {
  for (const [text, expected] of UNDEFINED_TYPES) {
    const config = parseConfig(text, "cfg.yml", noEnv);
    assert.deepEqual(serviceTypeProblems(config), [expected], text);
    assert.throws(() => checkServiceTypes(config), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, expected);
      return true;
    });
  }
  const fine = parseConfig(
    "sources:\n  mine: ./m.ts:Mine\nconnectors:\n  - connector_id: a\n    service_type: mine\n  - connector_id: b\nservice.service_types: [dir]\n",
    "cfg.yml",
    noEnv,
  );
  assert.deepEqual(serviceTypeProblems(fine), []);
  assert.equal(configLocation(fine, ["sources", "mine"]), "cfg.yml:2:9");
});

Deno.test("every schema key has its default in defaultConfig, and nothing else is there", () => {
  const config = parseConfig("", "c.yml", noEnv) as unknown as Record<string, unknown>;
  const leaves: string[] = [];
  const walk = (node: unknown, prefix: string) => {
    if (prefix === "elasticsearch.headers") return leaves.push(prefix);
    if (typeof node !== "object" || node === null || Array.isArray(node)) {
      return leaves.push(prefix);
    }
    for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(config.elasticsearch, "elasticsearch");
  walk(config.service, "service");
  const withDefault = CONFIG_KEYS.filter((k) => /^(elasticsearch|service)\./.test(k.path))
    .filter((k) => k.default !== undefined).map((k) => k.path);
  assert.deepEqual(leaves.sort(), withDefault.sort());
});

Deno.test("password_file and api_key_file: read at start, trailing newline trimmed, redacted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/pw`, "File-Secret-Pw-1\n");
    await Deno.writeTextFile(`${dir}/key`, "filekeyid:File-Key-Secret-2\r\n");
    const config = parseConfig(
      [
        "elasticsearch:",
        "  username: bot",
        `  password_file: ${dir}/pw`,
        "connectors:",
        "  - connector_id: c1",
        `    api_key_file: ${dir}/key`,
      ].join("\n"),
      "c.yml",
      noEnv,
    );
    assert.equal(config.elasticsearch.password, "File-Secret-Pw-1");
    assert.equal(config.connectors[0]!.api_key, "filekeyid:File-Key-Secret-2");
    assert.equal(
      redact("pw File-Secret-Pw-1 key filekeyid:File-Key-Secret-2"),
      "pw ***** key *****",
    );
    const keyOnly = parseConfig(`elasticsearch.api_key_file: ${dir}/key\n`, "c.yml", noEnv);
    assert.equal(keyOnly.elasticsearch.api_key, "filekeyid:File-Key-Secret-2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing, empty or doubled secret file is a config error with file:line:col", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/empty`, "\n");
    assert.equal(
      configError(`elasticsearch:\n  username: bot\n  password_file: ${dir}/nope\n`),
      `cfg.yml:3:18: elasticsearch.password_file: cannot read ${dir}/nope: no such file`,
    );
    assert.equal(
      configError(`elasticsearch:\n  api_key_file: ${dir}/empty\n`),
      `cfg.yml:2:17: elasticsearch.api_key_file: ${dir}/empty is empty`,
    );
    assert.match(
      configError(`connectors:\n  - connector_id: c1\n    api_key_file: ${dir}/nope\n`),
      /^cfg\.yml:3:19: connectors\[0\]\.api_key_file: cannot read .*: no such file$/,
    );
    assert.match(
      configError(`elasticsearch:\n  api_key: k:s1234\n  api_key_file: ${dir}/empty\n`),
      /^cfg\.yml:3:17: elasticsearch\.api_key_file and elasticsearch\.api_key are both set/,
    );
    assert.match(
      configError(`elasticsearch:\n  password_file: ${dir}/empty\n`),
      /password_file needs elasticsearch\.username/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a password in elasticsearch.host is registered and never echoed", () => {
  const config = parseConfig(
    "elasticsearch.host: https://bot:Host-Pw%2D3@es:9200\n",
    "c.yml",
    noEnv,
  );
  assert.equal(config.elasticsearch.host, "https://bot:Host-Pw%2D3@es:9200");
  assert.equal(redact("Host-Pw-3 and Host-Pw%2D3"), "***** and *****");
  assert.doesNotMatch(configError("elasticsearch.host: ftp://bot:Echo-Pw-4@es\n"), /Echo-Pw-4/);
});

Deno.test("sources: the extended entry of a sandboxed source, checked with file:line:col", () => {
  const config = parseConfig(
    [
      "sources:",
      "  crm:",
      "    module: https://sources.example/crm.ts:Crm",
      "    net: [api.example:443]",
      "    read: [/srv/crm]",
      "    env: [CRM_TOKEN]",
      "  plain: npm:@acme/src@1.0.0:Src",
    ].join("\n"),
    "cfg.yml",
    noEnv,
  );
  assert.equal(config.sources.crm, "https://sources.example/crm.ts:Crm");
  assert.equal(config.sources.plain, "npm:@acme/src@1.0.0:Src");
  assert.deepEqual(sourceGrantOf(config.sources, "crm"), {
    net: ["api.example:443"],
    read: ["/srv/crm"],
    env: ["CRM_TOKEN"],
  });
  assert.equal(sourceGrantOf(config.sources, "plain"), undefined, "the plain form grants nothing");
  const entry = (lines: string[]) =>
    configError(
      ["sources:", "  crm:", "    module: https://s.example/m.ts:M", ...lines].join("\n"),
    );
  assert.equal(
    entry(["    nett: [a]"]),
    "cfg.yml:4:5: unknown key sources.crm.nett; did you mean sources.crm.net?",
  );
  assert.equal(
    entry(['    net: ["https://api.example"]']),
    'cfg.yml:4:11: sources.crm.net[0] must be a host or host:port (no scheme, no path), got "https://api.example"',
  );
  assert.equal(
    entry(["    read: [data]"]),
    'cfg.yml:4:12: sources.crm.read[0] must be an absolute path, got "data"',
  );
  assert.equal(
    entry(["    integrity: sha1-abc"]),
    "cfg.yml:4:16: sources.crm.integrity must be sha256-, sha384- or sha512- and the base64 digest of the module's text",
  );
  assert.match(
    configError("sources:\n  mine:\n    module: ./mine.ts:Mine\n    read: [/srv]\n"),
    /^cfg\.yml:4:11: sources\.mine\.read applies to sandboxed modules only .*a local module runs with all of the service's permissions$/,
  );
  assert.equal(
    configError("sources:\n  far: http://sources.example/far.ts:Far\n"),
    "cfg.yml:2:8: sources.far is refused: plain http: is allowed from loopback hosts only (localhost, 127.0.0.1, [::1]); serve sources.example over https:",
  );
  assert.match(
    configError("sources:\n  far:\n    module: http://10.1.2.3/far.ts:Far\n"),
    /^cfg\.yml:3:13: sources\.far\.module is refused: plain http:/,
  );
  assert.equal(
    configError("sources:\n  crm:\n    net: []\n"),
    "cfg.yml:3:5: sources.crm.module is required (MODULE:ClassName)",
  );
});
