import assert from "node:assert/strict";
import { UsageError } from "../errors/mod.ts";
import { parseCliArgs } from "./args.ts";

Deno.test("parseCliArgs: defaults", () => {
  const o = parseCliArgs([]);
  assert.equal(o.action, "poll");
  assert.deepEqual(o.services, ["schedule", "sync_content", "sync_access_control", "cleanup"]);
  assert.equal(o.serviceType, undefined);
  assert.equal(o.configFile, "config.yml");
  assert.equal(o.configFileGiven, false);
  assert.equal(o.logFormat, "text");
  assert.equal(o.logLevel, undefined);
});

Deno.test("parseCliArgs: flags of the classic CLI", () => {
  const o = parseCliArgs(["--action", "list", "-c", "x.yml", "--debug", "--filebeat"]);
  assert.equal(o.action, "list");
  assert.equal(o.configFile, "x.yml");
  assert.equal(o.logLevel, "DEBUG");
  assert.equal(o.logFormat, "json");
  assert.equal(parseCliArgs(["--log-level", "warning"]).logLevel, "WARNING");
  assert.equal(parseCliArgs(["--config-file=y.yml"]).configFile, "y.yml");
});

Deno.test("parseCliArgs: usage errors name the flag and value", () => {
  assert.throws(() => parseCliArgs(["--action", "run"]), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /--action: invalid choice: 'run'/);
    return true;
  });
  assert.throws(() => parseCliArgs(["--log-level", "LOUD"]), /--log-level: invalid choice: 'LOUD'/);
  assert.throws(() => parseCliArgs(["--bogus"]), /unknown option --bogus/);
  assert.throws(() => parseCliArgs(["-c"]), /--config-file needs a value/);
  assert.throws(() => parseCliArgs(["--log-format", "xml"]), /--log-format: invalid choice: 'xml'/);
});

Deno.test("parseCliArgs: management commands keep their own flags", () => {
  const o = parseCliArgs(["job", "start", "-i", "abc", "--type", "full", "-c", "k.yml", "--json"]);
  assert.deepEqual(o.command, ["job", "start"]);
  assert.deepEqual(o.rest, ["-i", "abc", "--type", "full", "--json"]);
  assert.equal(o.configFile, "k.yml");
});

const ALL = ["schedule", "sync_content", "sync_access_control", "cleanup"];

Deno.test("parseCliArgs: --action may be repeated to pick services (8.14+ style)", () => {
  const two = parseCliArgs(["--action", "schedule", "--action", "cleanup"]);
  assert.equal(two.action, "poll");
  assert.deepEqual(two.services, ["schedule", "cleanup"]);
  // Order and repeats do not matter; the services come in their fixed order.
  assert.deepEqual(
    parseCliArgs([
      "--action=sync_access_control",
      "--action",
      "sync_content",
      "--action",
      "sync_content",
    ])
      .services,
    ["sync_content", "sync_access_control"],
  );
  assert.deepEqual(parseCliArgs(["--action", "sync_content"]).services, ["sync_content"]);
  assert.deepEqual(parseCliArgs(["--action", "SCHEDULE"]).services, ["schedule"]);
  assert.deepEqual(parseCliArgs(["--action", "poll"]).services, ALL);
  assert.deepEqual(parseCliArgs(["--action", "poll", "--action", "cleanup"]).services, ALL);
  assert.deepEqual(parseCliArgs(["--action", "list", "--action", "list"]).action, "list");
  assert.deepEqual(parseCliArgs(["--action", "list"]).services, []);
});

Deno.test("parseCliArgs: several values after one --action (8.12-8.13 style)", () => {
  const o = parseCliArgs(["--action", "schedule", "cleanup", "-c", "x.yml"]);
  assert.deepEqual(o.services, ["schedule", "cleanup"]);
  assert.deepEqual(o.command, []);
  assert.equal(o.configFile, "x.yml");
});

Deno.test("parseCliArgs: --action config --service-type", () => {
  const o = parseCliArgs(["--action", "config", "--service-type", "dir"]);
  assert.equal(o.action, "config");
  assert.equal(o.serviceType, "dir");
  assert.deepEqual(o.services, []);
  assert.equal(parseCliArgs(["--service-type=s3", "--action", "config"]).serviceType, "s3");
  // After a management command the flag is the command's.
  const create = parseCliArgs(["connector", "create", "--service-type", "dir"]);
  assert.deepEqual(create.rest, ["--service-type", "dir"]);
  assert.equal(create.serviceType, undefined);
});

Deno.test("parseCliArgs: bad --action combinations are usage errors naming the flag", () => {
  const usage = (argv: string[], expected: RegExp) =>
    assert.throws(() => parseCliArgs(argv), (e: Error) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.message, expected);
      return true;
    });
  usage(["--action", "list", "--action", "schedule"], /--action: 'list' cannot be combined/);
  usage(["--action", "poll", "--action", "list"], /--action: 'list' cannot be combined.*'poll'/);
  usage(
    ["--action", "config", "--action", "cleanup", "--service-type", "dir"],
    /--action: 'config' cannot be combined.*'cleanup'/,
  );
  usage(["--action", "list", "--action", "config"], /--action: 'list' cannot be combined/);
  usage(["--action", "schedule", "--action", "execute"], /--action: invalid choice: 'execute'/);
  usage(["--action", "config"], /--service-type is required with --action config/);
  usage(["--action", "schedule", "--service-type", "dir"], /--service-type: only used with/);
  usage(["--action"], /--action needs a value/);
  usage(["--action", "config", "--service-type"], /--service-type needs a value/);
});
