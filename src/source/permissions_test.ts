import assert from "node:assert/strict";
import { parseConfig } from "../config/mod.ts";
import { describePermissionError, permissionFlagsFor, permissionHint } from "./permissions.ts";

const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

function configOf(text: string, file = "/etc/connectors/config.yml") {
  return parseConfig(text, file, {
    env: (name) => (name === "ES_PASSWORD" ? "pw-from-env" : undefined),
  });
}

Deno.test("defaults: Elasticsearch on localhost, the config file, the repository's code", () => {
  const flags = permissionFlagsFor(configOf(""));
  assert.deepEqual(flags, [
    "--allow-net=localhost:9200",
    // Sorted like the flag itself: where the checkout lives decides the order.
    `--allow-read=${
      ["/etc/connectors/config.yml", `${REPO}/sources`, `${REPO}/src`].sort().join(",")
    }`,
    "--allow-env",
    "--allow-sys=hostname,osRelease,uid",
  ]);
});

Deno.test("ES host with default ports, CA file, module hosts and folders", () => {
  const text = [
    "elasticsearch:",
    "  host: https://es.example.test",
    "  api_key: ${ES_PASSWORD}",
    "  ca_certs: /etc/ssl/es-ca.pem",
    "  # username: $COMMENTED_OUT",
    "sources:",
    "  remote: https://mods.example.test:8443/src/mod.ts:Remote",
    "  plain: http://127.0.0.1:8000/mod.ts:Plain",
    "  local: ./custom/my_source.ts:Mine",
    "  absolute: /opt/sources/other.ts:Other",
    "  url: file:///srv/s/mod.ts:Url",
    "  pkg: npm:some-source@1.0.0:Source",
  ].join("\n");
  const flags = permissionFlagsFor(configOf(text), {
    net: ["db.example.test:27017"],
    read: ["/data/docs"],
  });
  assert.deepEqual(flags, [
    // Sandboxed sources (https:, http:, npm:) need these two; the service fetches URL modules.
    "--unstable-worker-options",
    "--no-prompt",
    "--allow-net=127.0.0.1:8000,db.example.test:27017,es.example.test:443,mods.example.test:8443",
    `--allow-read=${
      [
        "/data/docs",
        "/etc/connectors/config.yml",
        "/etc/connectors/custom",
        "/etc/ssl/es-ca.pem",
        "/opt/sources",
        "/srv/s",
        `${REPO}/sources`,
        `${REPO}/src`,
      ].sort().join(",")
    }`,
    "--allow-env",
    "--allow-sys=hostname,osRelease,uid",
    "--allow-import=127.0.0.1:8000,mods.example.test:8443",
  ]);
});

Deno.test("sandboxed grants widen the flags: the worker can only get what the service has", () => {
  const text = [
    "sources:",
    "  remote:",
    "    module: https://mods.example.test/mod.ts:Remote",
    "    net: [api.example.test:443]",
    "    read: [/srv/remote-data]",
    "    env: [REMOTE_TOKEN]",
    "    import: [jsr.io, mods.example.test]",
    "  pkg:",
    "    module: npm:@acme/source@1.0.0:Source",
    "    net: []",
    "    read: [/srv/pkg]",
    "  registry: jsr:@acme/source@1.0.0:Source",
  ].join("\n");
  const flags = permissionFlagsFor(configOf(text));
  assert.deepEqual(flags.slice(0, 2), ["--unstable-worker-options", "--no-prompt"]);
  assert.ok(
    flags.includes("--allow-net=api.example.test:443,localhost:9200,mods.example.test:443"),
    flags.join(" "),
  );
  const read = flags.find((f) => f.startsWith("--allow-read="))!.split("=")[1]!.split(",");
  assert.ok(read.includes("/srv/remote-data") && read.includes("/srv/pkg"), read.join());
  assert.ok(flags.includes("--allow-import=jsr.io,mods.example.test"), flags.join(" "));
  // Only local sources: no sandbox flags.
  assert.equal(permissionFlagsFor(configOf("")).includes("--unstable-worker-options"), false);
});

Deno.test("permission refusals name the exact flag", () => {
  const cases: [string, string][] = [
    ['Requires read access to "/data", run again with the --allow-read flag', "--allow-read=/data"],
    [
      'Requires net access to "db:27017", run again with the --allow-net flag',
      "--allow-net=db:27017",
    ],
    ['Requires env access to "TOKEN", run again with the --allow-env flag', "--allow-env=TOKEN"],
    [
      'Requires import access to "h:1", run again with the --allow-import flag',
      "--allow-import=h:1",
    ],
    [
      'Requires sys access to "hostname", run again with the --allow-sys flag',
      "--allow-sys=hostname",
    ],
  ];
  for (const [message, flag] of cases) {
    assert.equal(permissionHint(new Deno.errors.NotCapable(message))?.flag, flag);
  }
  assert.equal(permissionHint(new Error("other")), undefined);
  assert.equal(
    describePermissionError(
      new Error('Requires net access to "db:27017", run again with the --allow-net flag'),
    ),
    "network access to db:27017 refused (run with --allow-net=db:27017)",
  );
  assert.equal(describePermissionError(new Error("first\nsecond")), "first");
});

Deno.test("a real refusal from Deno is recognised", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-lock", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(
    "try { Deno.readTextFileSync('/etc/hostname'); } catch (e) { console.log(e.message); }",
  ));
  await writer.close();
  const text = new TextDecoder().decode((await child.output()).stdout).trim();
  assert.equal(permissionHint(new Error(text))?.flag, "--allow-read=/etc/hostname", text);
});
