/**
 * Flag parsing and help text of the management commands, from one declarative spec per command.
 * Every usage error is a {@linkcode UsageError} naming the command and the flag at fault.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../../errors/mod.ts";

/** One flag of a command. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `connector-id`. */
  name: string;
  /** One-letter short form, e.g. `i`. */
  short?: string;
  type: "string" | "boolean";
  /** May be repeated (values collected in order). */
  multiple?: boolean;
  /** Placeholder shown in the help, e.g. `ID`. */
  metavar?: string;
  /** Allowed values. */
  choices?: readonly string[];
  /** The flag must be given (checked by {@linkcode parseCommand} unless a prompt can fill it). */
  required?: boolean;
  help: string;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  name: string;
  help: string;
  optional?: boolean;
}

/** A command such as `connector create`. */
export interface CommandSpec {
  /** `connector`, `job`, `index` or `demo`. */
  group: string;
  /** Sub-command (`create`); empty for single-word commands such as `demo`. */
  name: string;
  summary: string;
  /** Extra paragraphs after the option list. */
  epilog?: string;
  flags: readonly FlagSpec[];
  positionals?: readonly PositionalSpec[];
}

/** Parsed flags and positionals of a command. */
export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** The `--json` flag every command has. */
export const JSON_FLAG: FlagSpec = {
  name: "json",
  type: "boolean",
  help: "print JSON instead of text (for scripts)",
};

/** The `--yes` flag of destructive commands. */
export const YES_FLAG: FlagSpec = {
  name: "yes",
  short: "y",
  type: "boolean",
  help: "do not ask for confirmation (required when stdin is not a terminal)",
};

/**
 * The full name of a command, as typed.
 *
 * @example
 * ```ts
 * import { commandName } from "./_flags.ts";
 * if (commandName({ group: "job", name: "start", summary: "", flags: [] }) !== "job start") throw new Error();
 * ```
 */
export function commandName(spec: CommandSpec): string {
  return spec.name ? `${spec.group} ${spec.name}` : spec.group;
}

function flagLabel(flag: FlagSpec): string {
  const long = `--${flag.name}`;
  const names = flag.short ? `-${flag.short}, ${long}` : long;
  if (flag.type === "boolean") return names;
  const metavar = flag.metavar ?? (flag.choices ? `{${flag.choices.join(",")}}` : "VALUE");
  return `${names} ${metavar}`;
}

/**
 * The `--help` text of a command.
 *
 * @example
 * ```ts
 * import { helpText } from "./_flags.ts";
 * const text = helpText({ group: "index", name: "delete", summary: "Delete an index.",
 *   flags: [{ name: "yes", type: "boolean", help: "no questions" }],
 *   positionals: [{ name: "INDEX", help: "the index" }] });
 * if (!text.startsWith("usage: elastic-ingest index delete [--yes] INDEX")) throw new Error(text);
 * ```
 */
export function helpText(spec: CommandSpec): string {
  const usage = spec.flags.map((flag) => {
    const label = flag.type === "boolean"
      ? `--${flag.name}`
      : `--${flag.name} ${flag.metavar ?? "VALUE"}`;
    return flag.required ? label : `[${label}]`;
  });
  for (const positional of spec.positionals ?? []) {
    usage.push(positional.optional ? `[${positional.name}]` : positional.name);
  }
  const lines = [`usage: elastic-ingest ${commandName(spec)} ${usage.join(" ")}`.trimEnd(), ""];
  lines.push(spec.summary, "");
  if (spec.positionals?.length) {
    lines.push("arguments:");
    for (const positional of spec.positionals) {
      lines.push(`  ${positional.name.padEnd(22)}${positional.help}`);
    }
    lines.push("");
  }
  lines.push("options:");
  const entries: [string, string][] = [
    ...spec.flags.map((flag): [string, string] => [flagLabel(flag), flag.help]),
    ["-h, --help", "show this help message and exit"],
  ];
  for (const [label, help] of entries) {
    if (label.length <= 22) lines.push(`  ${label.padEnd(22)}${help}`);
    else lines.push(`  ${label}`, `  ${"".padEnd(22)}${help}`);
  }
  lines.push(
    "",
    "global options (-c CONFIG_FILE, --log-level, --debug, --filebeat) go before or after the command.",
  );
  if (spec.epilog) lines.push("", spec.epilog);
  return lines.join("\n");
}

function quoted(message: string): string | undefined {
  return /'([^']+)'/.exec(message)?.[1];
}

/**
 * Elasticsearch's generated ids may start with `-` (`-Fq3…`): for a command that takes
 * positionals, a token that starts with one `-`, is longer than a short flag and whose letter is
 * no short flag of the command is an id, moved behind a `--` so that it is not read as an option.
 */
function idsAsPositionals(spec: CommandSpec, args: readonly string[]): string[] {
  if (!spec.positionals?.length) return [...args];
  const shorts = new Set(spec.flags.map((flag) => flag.short).filter(Boolean));
  const end = args.indexOf("--");
  const head = end === -1 ? [...args] : args.slice(0, end);
  const tail = end === -1 ? [] : args.slice(end + 1);
  const ids = head.filter((arg) => /^-[^-]/.test(arg) && arg.length > 2 && !shorts.has(arg[1]));
  if (ids.length === 0) return [...args];
  return [...head.filter((arg) => !ids.includes(arg)), "--", ...ids, ...tail];
}

/**
 * Parses the arguments of a command strictly: unknown flags, missing values, extra or missing
 * positionals, invalid choices and missing required flags are {@linkcode UsageError}s.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./_flags.ts";
 * const spec = { group: "job", name: "start", summary: "", flags: [
 *   { name: "connector-id", short: "i", type: "string" as const, required: true, help: "" },
 *   { name: "type", short: "t", type: "string" as const, choices: ["full", "incremental"], help: "" },
 * ] };
 * const parsed = parseCommand(spec, ["-i", "c1", "--type=full"]);
 * if (parsed.values["connector-id"] !== "c1" || parsed.values.type !== "full") throw new Error();
 * const show = { group: "job", name: "show", summary: "", flags: [],
 *   positionals: [{ name: "JOB_ID", help: "" }] };
 * if (parseCommand(show, ["-Fq3xK9"]).positionals[0] !== "-Fq3xK9") throw new Error("an id, not a flag");
 * try {
 *   parseCommand(spec, ["-i", "c1", "--bogus"]);
 *   throw new Error("expected a failure");
 * } catch (error) {
 *   if (!(error as Error).message.includes("unknown option --bogus")) throw error;
 * }
 * ```
 */
export function parseCommand(
  spec: CommandSpec,
  args: readonly string[],
  options: { skipRequired?: boolean } = {},
): ParsedCommand {
  const name = commandName(spec);
  const parseOptions: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const flag of spec.flags) {
    parseOptions[flag.name] = {
      type: flag.type,
      ...(flag.short ? { short: flag.short } : {}),
      ...(flag.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: idsAsPositionals(spec, args),
      options: parseOptions,
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const what = quoted(message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`${name}: unknown option ${what ?? message} (see ${name} --help)`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const long = /--[\w-]+/.exec(what ?? message)?.[0] ?? what ?? "";
      const flag = spec.flags.find((f) => `--${f.name}` === long);
      throw new UsageError(
        flag?.type === "boolean"
          ? `${name}: option ${long} takes no value`
          : `${name}: option ${long} needs a value`,
      );
    }
    throw new UsageError(`${name}: ${message}`);
  }
  const values = { ...parsed.values } as ParsedCommand["values"];
  const positionals = [...parsed.positionals];
  const expected = spec.positionals ?? [];
  if (positionals.length > expected.length) {
    throw new UsageError(
      `${name}: unexpected argument '${positionals[expected.length]}' (see ${name} --help)`,
    );
  }
  for (const [i, positional] of expected.entries()) {
    if (!positional.optional && positionals[i] === undefined) {
      throw new UsageError(`${name}: missing argument ${positional.name}`);
    }
  }
  for (const flag of spec.flags) {
    const value = values[flag.name];
    if (flag.choices && typeof value === "string" && !flag.choices.includes(value)) {
      throw new UsageError(
        `${name}: argument --${flag.name}: invalid choice: '${value}' (choose from ${
          flag.choices.join(", ")
        })`,
      );
    }
    if (flag.type === "string" && typeof value === "string" && value.trim() === "") {
      throw new UsageError(`${name}: option --${flag.name} needs a non-empty value`);
    }
    if (flag.required && value === undefined && !options.skipRequired) {
      throw new UsageError(`${name}: missing required option --${flag.name}`);
    }
  }
  return { values, positionals };
}

/**
 * A string flag's value, if given.
 *
 * @example
 * ```ts
 * import { stringFlag } from "./_flags.ts";
 * if (stringFlag({ values: { name: "x" }, positionals: [] }, "name") !== "x") throw new Error();
 * ```
 */
export function stringFlag(parsed: ParsedCommand, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * A repeatable string flag's values (empty when not given).
 *
 * @example
 * ```ts
 * import { listFlag } from "./_flags.ts";
 * if (listFlag({ values: { config: ["a=1", "b=2"] }, positionals: [] }, "config").length !== 2) {
 *   throw new Error();
 * }
 * ```
 */
export function listFlag(parsed: ParsedCommand, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

/**
 * Whether a boolean flag was given.
 *
 * @example
 * ```ts
 * import { booleanFlag } from "./_flags.ts";
 * if (booleanFlag({ values: {}, positionals: [] }, "json")) throw new Error();
 * ```
 */
export function booleanFlag(parsed: ParsedCommand, name: string): boolean {
  return parsed.values[name] === true;
}

/**
 * A flag value that must be a positive number of seconds.
 *
 * @example
 * ```ts
 * import { secondsFlag } from "./_flags.ts";
 * const parsed = { values: { timeout: "2.5" }, positionals: [] };
 * if (secondsFlag(parsed, "timeout", "job start") !== 2.5) throw new Error();
 * ```
 */
export function secondsFlag(
  parsed: ParsedCommand,
  name: string,
  command: string,
): number | undefined {
  const value = stringFlag(parsed, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(
      `${command}: option --${name} must be a positive number of seconds, got '${value}'`,
    );
  }
  return n;
}
