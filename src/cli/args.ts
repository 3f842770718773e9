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
import { SERVICE_NAMES } from "../service/service_names.ts";
import type { ServiceName } from "../service/service_names.ts";

/**
 * Values of `--action`: `poll` (all four services), each service alone (Elastic's 8.12+ names,
 * combinable), and `list` / `config`, which must be alone.
 */
export const ACTIONS = [
  "poll",
  "schedule",
  "sync_content",
  "sync_access_control",
  "cleanup",
  "list",
  "config",
] as const;
/** One of {@linkcode ACTIONS}. */
export type Action = typeof ACTIONS[number];
/** What the command line asks for: run services (`poll`), `list` or `config`. */
export type Mode = "poll" | "list" | "config";
/** `--action` values that cannot be combined with any other. */
const SOLO_ACTIONS: readonly Action[] = ["list", "config"];

/** Log line formats. */
export type LogFormat = "text" | "json";

/** Parsed global options. */
export interface CliOptions {
  /** `poll` whenever services run (any of `poll`, `schedule`, `sync_content`, ...). */
  action: Mode;
  /** The services to run in mode `poll`, in {@linkcode SERVICE_NAMES} order (empty otherwise). */
  services: ServiceName[];
  /** `--service-type` of `--action config`. */
  serviceType?: string;
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
export const USAGE = `usage: elastic-ingest [-h] [--action ACTION [--action ACTION ...]]
                      [--service-type SERVICE_TYPE] [-c CONFIG_FILE]
                      [--log-level {DEBUG,INFO,WARNING,ERROR,CRITICAL}] [--debug]
                      [--filebeat | --log-format {text,json}] [--version]
       elastic-ingest <connector|job|index> <command> [options]   (see COMMAND --help)
       elastic-ingest <demo|status> [options]

Connectors for Deno: serves Elastic connectors driven by Kibana.

options:
  -h, --help            show this help message and exit
  --action {poll,schedule,sync_content,sync_access_control,cleanup,list,config}
                        what to do; repeat it to run several services in one process:
                          poll                 all four services below (default)
                          schedule             check connectors in, create scheduled jobs
                          sync_content         run full and incremental sync jobs
                          sync_access_control  run access-control sync jobs
                          cleanup              mark stuck and orphaned jobs
                          list                 show the configured sources and connectors
                          config               print the default configuration schema of
                                               --service-type as JSON
                        list and config cannot be combined with other actions
  --service-type SERVICE_TYPE
                        the source of --action config (a key of sources in the config)
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
  status [--all]        cluster, connectors, running and pending jobs in one screen;
                        exit 3 when a connector is in error or a running job is stuck
`;

/**
 * Parses the arguments of `elastic-ingest`.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 * const o = parseCliArgs(["--action", "list", "-c", "my.yml"]);
 * if (o.action !== "list" || o.configFile !== "my.yml") throw new Error();
 * const s = parseCliArgs(["--action", "schedule", "--action", "cleanup"]);
 * if (s.action !== "poll" || s.services.join() !== "schedule,cleanup") throw new Error();
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
        action: { type: "string", multiple: true },
        "service-type": { type: "string" },
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
  const actionWords: string[] = [];
  let serviceType: string | undefined;
  let afterAction = false;
  for (const token of parsed.tokens ?? []) {
    // 8.12-8.13 (argparse) wrote several values after one flag: `--action schedule cleanup`.
    const extraAction: boolean = token.kind === "positional" && afterAction &&
      command.length === 0 &&
      (ACTIONS as readonly string[]).includes(token.value.toLowerCase());
    afterAction = (token.kind === "option" && token.name === "action") || extraAction;
    if (extraAction && token.kind === "positional") {
      actionWords.push(token.value);
    } else if (token.kind === "option" && token.name === "action") {
      if (typeof token.value === "string") actionWords.push(token.value);
    } else if (
      token.kind === "option" && token.name === "service-type" && command.length === 0
    ) {
      // Before a management command it is the flag of `--action config`; after, the command's.
      if (typeof token.value !== "string") {
        throw new UsageError("option --service-type needs a value");
      }
      serviceType = token.value;
    } else if (token.kind === "positional") {
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
  for (const name of ["config-file", "log-level", "log-format"]) {
    if (values[name] === true) throw new UsageError(`option --${name} needs a value`);
  }
  const actionTokens = (parsed.tokens ?? []).filter((t) =>
    t.kind === "option" && t.name === "action"
  );
  if (actionTokens.some((t) => t.kind === "option" && typeof t.value !== "string")) {
    throw new UsageError("option --action needs a value");
  }
  if (command.length === 0 && rest.length > 0) {
    throw new UsageError(`unknown option ${rest[0]} (see --help)`);
  }
  const { action, services } = resolveActions(actionWords);
  if (action === "config" && serviceType === undefined) {
    throw new UsageError("argument --service-type is required with --action config");
  }
  if (action !== "config" && serviceType !== undefined) {
    throw new UsageError("argument --service-type: only used with --action config");
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
    action,
    services,
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
  if (serviceType !== undefined) options.serviceType = serviceType;
  return options;
}

/**
 * The mode and services of the `--action` values given (none: `poll`). Repeats are fine;
 * `poll` with service names is all four; `list` and `config` must be alone.
 *
 * @example
 * ```ts
 * import { resolveActions } from "./args.ts";
 * const r = resolveActions(["sync_content", "poll"]);
 * if (r.action !== "poll" || r.services.length !== 4) throw new Error();
 * ```
 */
export function resolveActions(
  words: readonly string[],
): { action: Mode; services: ServiceName[] } {
  // Elastic's click option is case-insensitive (`--action SCHEDULE`).
  const lowered = words.map((word) => word.toLowerCase());
  for (const [i, word] of lowered.entries()) {
    if (!(ACTIONS as readonly string[]).includes(word)) {
      throw new UsageError(
        `argument --action: invalid choice: '${words[i]}' (choose from ${
          ACTIONS.map((a) => `'${a}'`).join(", ")
        })`,
      );
    }
  }
  const given = [...new Set(lowered)] as Action[];
  if (given.length === 0 || (given.length === 1 && given[0] === "poll")) {
    return { action: "poll", services: [...SERVICE_NAMES] };
  }
  const solo = given.find((word) => SOLO_ACTIONS.includes(word));
  if (solo !== undefined) {
    if (given.length > 1) {
      const others = given.filter((word) => word !== solo).map((w) => `'${w}'`).join(", ");
      throw new UsageError(
        `argument --action: '${solo}' cannot be combined with other actions (got also ${others})`,
      );
    }
    return { action: solo as Mode, services: [] };
  }
  const all = given.includes("poll");
  return {
    action: "poll",
    services: SERVICE_NAMES.filter((name) => all || given.includes(name)),
  };
}
