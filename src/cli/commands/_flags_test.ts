import assert from "node:assert/strict";
import { UsageError } from "../../errors/mod.ts";
import { type CommandSpec, helpText, listFlag, parseCommand } from "./_flags.ts";

const SPEC: CommandSpec = {
  group: "connector",
  name: "create",
  summary: "Create a connector.",
  flags: [
    { name: "service-type", type: "string", metavar: "TYPE", required: true, help: "type" },
    { name: "config", type: "string", multiple: true, metavar: "KEY=VALUE", help: "values" },
    { name: "index-language", type: "string", choices: ["en", "de"], help: "language" },
    { name: "yes", short: "y", type: "boolean", help: "no questions" },
  ],
  positionals: [{ name: "EXTRA", help: "extra", optional: true }],
};

function usage(args: string[], options: { skipRequired?: boolean } = {}): string {
  try {
    parseCommand(SPEC, args, options);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  throw new Error(`no usage error for ${args.join(" ")}`);
}

Deno.test("parseCommand: values, repeats, inline values and positionals", () => {
  const parsed = parseCommand(SPEC, [
    "--service-type=dir",
    "--config",
    "a=1",
    "--config",
    "b=2",
    "-y",
    "more",
  ]);
  assert.equal(parsed.values["service-type"], "dir");
  assert.deepEqual(listFlag(parsed, "config"), ["a=1", "b=2"]);
  assert.equal(parsed.values.yes, true);
  assert.deepEqual(parsed.positionals, ["more"]);
});

Deno.test("parseCommand: every usage error names the command and the flag", () => {
  assert.equal(
    usage(["--service-type", "dir", "--colour"]),
    "connector create: unknown option --colour (see connector create --help)",
  );
  assert.equal(usage(["-q"]), "connector create: unknown option -q (see connector create --help)");
  assert.equal(usage([]), "connector create: missing required option --service-type");
  assert.equal(usage(["--service-type"]), "connector create: option --service-type needs a value");
  assert.equal(
    usage(["--service-type", ""]),
    "connector create: option --service-type needs a non-empty value",
  );
  assert.equal(
    usage(["--service-type", "x", "--yes=1"]),
    "connector create: option --yes takes no value",
  );
  assert.equal(
    usage(["--service-type", "x", "--index-language", "fr"]),
    "connector create: argument --index-language: invalid choice: 'fr' (choose from en, de)",
  );
  assert.equal(
    usage(["--service-type", "x", "a", "b"]),
    "connector create: unexpected argument 'b' (see connector create --help)",
  );
  assert.deepEqual(parseCommand(SPEC, [], { skipRequired: true }).values, {});
});

Deno.test("helpText lists usage, options with their values, and the help flag", () => {
  const text = helpText(SPEC);
  assert.match(
    text,
    /^usage: elastic-ingest connector create --service-type TYPE \[--config KEY=VALUE\] \[--index-language VALUE\] \[--yes\] \[EXTRA\]$/m,
  );
  assert.match(text, /^ {2}--service-type TYPE {3}type$/m);
  assert.match(text, /^ {2}--index-language \{en,de\}$/m, "long labels get their own line");
  assert.match(text, /^ {2}-y, --yes {13}no questions$/m);
  assert.match(text, /^ {2}-h, --help /m);
});
