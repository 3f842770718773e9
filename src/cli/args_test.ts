import assert from "node:assert/strict";
import { UsageError } from "../errors/mod.ts";
import { parseCliArgs } from "./args.ts";

Deno.test("parseCliArgs: defaults", () => {
  const o = parseCliArgs([]);
  assert.equal(o.action, "poll");
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
