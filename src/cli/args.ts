/**
 * Command-line parsing of `elastic-ingest`: flags as in Elastic's classic CLI, with usage errors
 * that name the bad flag or value.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors/mod.ts";
import type { LogLevel } from "../log/mod.ts";
import { parseLogLevel } from "../log/mod.ts";
import { DEFAULT_CONFIG_FILE } from "../config/mod.ts";

/** Actions of the service command. */
export const ACTIONS = ["poll", "list"] as const;
/** One of {@linkcode ACTIONS}. */
export type Action = typeof ACTIONS[number];

/** Log line formats. */
export type LogFormat = "text" | "json";

/** Parsed global options. */
export interface CliOptions {
  action: Action;
  configFile: string;
  /** Whether `-c` was given (else the default file may be absent). */
  configFileGiven: boolean;
  debug: boolean;
  logLevel?: LogLevel;
  logFormat: LogFormat;
  help: boolean;
  version: boolean;
  /** Positional words: a management command such as `connector list`. */
  command: string[];
  /** Flags not known globally, for management commands. */
  rest: string[];
}

/** The usage block printed by `-h`. */
export const USAGE = `usage: elastic-ingest [-h] [--action {poll,list}] [-c CONFIG_FILE]
                      [--log-level {DEBUG,INFO,WARNING,ERROR,CRITICAL}] [--debug]
                      [--filebeat | --log-format {text,json}] [--version]
       elastic-ingest <connector|job|index> <command> [options]   (see COMMAND --help)

Connectors for Deno: serves Elastic connectors driven by Kibana.

options:
  -h, --help            show this help message and exit
  --action {poll,list}  what to do: poll (run the service, default) or list (show the
                        configured sources and connectors)
  -c, --config-file CONFIG_FILE
                        configuration file (default: ${DEFAULT_CONFIG_FILE})
  --log-level {DEBUG,INFO,WARNING,ERROR,CRITICAL}
                        log level; overrides service.log_level
  --debug               shortcut for --log-level DEBUG
  --filebeat            write ECS JSON log lines (same as --log-format json)
  --log-format {text,json}
                        log line format (default: text)
  -v, --version         print the version and exit

management commands:
  connector {create,list,show,delete}
  job {start,list,show,cancel}
  index {list,clean,delete}
  demo                  run the quickstart: a dir connector over the sample folder
`;

/**
 * Parses the arguments of `elastic-ingest`.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 * const o = parseCliArgs(["--action", "list", "-c", "my.yml"]);
 * if (o.action !== "list" || o.configFile !== "my.yml") throw new Error();
 * ```
 */
export function parseCliArgs(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: false,
      allowPositionals: true,
      options: {
        action: { type: "string" },
        "config-file": { type: "string", short: "c" },
        debug: { type: "boolean" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        filebeat: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      tokens: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = { ...parsed.values } as Record<string, string | boolean | undefined>;
  const command: string[] = [];
  const rest: string[] = [];
  const known = new Set([
    "action",
    "config-file",
    "debug",
    "log-level",
    "log-format",
    "filebeat",
    "help",
    "version",
  ]);
  for (const token of parsed.tokens ?? []) {
    if (token.kind === "positional") {
      if (command.length < 2 && rest.length === 0) command.push(token.value);
      else rest.push(token.value);
    } else if (token.kind === "option" && !known.has(token.name)) {
      rest.push(token.rawName);
      if (token.value !== undefined && token.inlineValue) {
        rest[rest.length - 1] += `=${token.value}`;
      } else if (token.value !== undefined) rest.push(token.value);
    } else if (token.kind === "option-terminator") {
      rest.push("--");
    }
  }
  for (const name of ["action", "config-file", "log-level", "log-format"]) {
    if (values[name] === true) throw new UsageError(`option --${name} needs a value`);
  }
  if (command.length === 0 && rest.length > 0) {
    throw new UsageError(`unknown option ${rest[0]} (see --help)`);
  }
  const action = (values.action as string | undefined) ?? "poll";
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(
      `argument --action: invalid choice: '${action}' (choose from 'poll', 'list')`,
    );
  }
  let logLevel: LogLevel | undefined;
  if (typeof values["log-level"] === "string") {
    logLevel = parseLogLevel(values["log-level"]);
    if (!logLevel) {
      throw new UsageError(
        `argument --log-level: invalid choice: '${
          values["log-level"]
        }' (choose from DEBUG, INFO, WARNING, ERROR, CRITICAL)`,
      );
    }
  }
  if (values.debug) logLevel = "DEBUG";
  const format = (values["log-format"] as string | undefined) ??
    (values.filebeat ? "json" : "text");
  if (format !== "text" && format !== "json") {
    throw new UsageError(
      `argument --log-format: invalid choice: '${format}' (choose from 'text', 'json')`,
    );
  }
  const options: CliOptions = {
    action: action as Action,
    configFile: (values["config-file"] as string | undefined) ?? DEFAULT_CONFIG_FILE,
    configFileGiven: typeof values["config-file"] === "string",
    debug: values.debug === true,
    logFormat: format,
    help: values.help === true,
    version: values.version === true,
    command,
    rest,
  };
  if (logLevel) options.logLevel = logLevel;
  return options;
}
