/**
 * Management commands of `elastic-ingest`, modelled on Elastic's `connectors` CLI (spec §8):
 *
 * ```text
 * connector create|list|show|delete     job start|list|show|cancel
 * index list|clean|delete               demo
 * status
 * ```
 *
 * Text tables by default, `--json` for scripts, `COMMAND --help` for each. Exit codes: 0
 * success, 2 usage (unknown command or flag, missing required flag; the message names it),
 * 1 runtime (unknown connector id or service type, unreachable cluster, failed job), and for
 * `status` only 3 unhealthy (a connector in error or a running job without heartbeat). Input
 * is checked before anything is written.
 *
 * @module
 */
import { UsageError } from "../../errors/mod.ts";
import type { CliContext } from "../context.ts";
import { CommandEnv } from "./_env.ts";
import { type CommandSpec, helpText, parseCommand, type ParsedCommand } from "./_flags.ts";
import { type Prompter, terminalPrompter } from "./_prompt.ts";
import {
  CONNECTOR_CREATE,
  CONNECTOR_DELETE,
  CONNECTOR_LIST,
  CONNECTOR_SHOW,
  connectorCreate,
  connectorDelete,
  connectorList,
  connectorShow,
} from "./connector.ts";
import { DEMO, demoCommand } from "./demo.ts";
import {
  INDEX_CLEAN,
  INDEX_DELETE,
  INDEX_LIST,
  indexClean,
  indexDelete,
  indexList,
} from "./index_commands.ts";
import {
  JOB_CANCEL,
  JOB_LIST,
  JOB_SHOW,
  JOB_START,
  jobCancel,
  jobList,
  jobShow,
  jobStart,
} from "./job.ts";
import { STATUS, statusCommand } from "./status.ts";

/** A runnable command. */
export interface Command {
  spec: CommandSpec;
  run(env: CommandEnv, parsed: ParsedCommand): Promise<number>;
  /** In a terminal, missing required flags are asked for instead of failing. */
  promptsForRequired?: boolean;
}

/** Every management command by group and name (`demo` and `status` have the empty name). */
export const COMMANDS: Readonly<Record<string, Readonly<Record<string, Command>>>> = {
  connector: {
    create: { spec: CONNECTOR_CREATE, run: connectorCreate, promptsForRequired: true },
    list: { spec: CONNECTOR_LIST, run: connectorList },
    show: { spec: CONNECTOR_SHOW, run: connectorShow },
    delete: { spec: CONNECTOR_DELETE, run: connectorDelete },
  },
  job: {
    start: { spec: JOB_START, run: jobStart },
    list: { spec: JOB_LIST, run: jobList },
    show: { spec: JOB_SHOW, run: jobShow },
    view: { spec: { ...JOB_SHOW, name: "view" }, run: jobShow },
    cancel: { spec: JOB_CANCEL, run: jobCancel },
  },
  index: {
    list: { spec: INDEX_LIST, run: indexList },
    clean: { spec: INDEX_CLEAN, run: indexClean },
    delete: { spec: INDEX_DELETE, run: indexDelete },
  },
  demo: { "": { spec: DEMO, run: demoCommand } },
  status: { "": { spec: STATUS, run: statusCommand } },
};

const GROUP_SUMMARIES: Readonly<Record<string, string>> = {
  connector: "Connectors management",
  job: "Sync jobs management",
  index: "Search indices management",
};

/**
 * The help of a command group: its sub-commands with their summaries.
 *
 * @example
 * ```ts
 * import { groupHelp } from "./mod.ts";
 * if (!groupHelp("job").includes("job start")) throw new Error();
 * ```
 */
export function groupHelp(group: string): string {
  const commands = COMMANDS[group] ?? {};
  const lines = [
    `usage: elastic-ingest ${group} {${
      Object.keys(commands).filter((name) => name !== "view").join(",")
    }} [options]`,
    "",
    GROUP_SUMMARIES[group] ?? "",
    "",
    "commands:",
  ];
  for (const [name, command] of Object.entries(commands)) {
    if (name === "view") continue;
    const first = command.spec.summary.split(/(?<=\.) /)[0] ?? "";
    lines.push(`  ${`${group} ${name}`.padEnd(20)}${first}`);
  }
  lines.push("", `Run 'elastic-ingest ${group} COMMAND --help' for a command's options.`);
  return lines.join("\n");
}

/** Finds the command named by the positional words; throws a usage error naming what is wrong. */
function resolveCommand(words: readonly string[], rest: string[]): Command | string {
  const [group, name] = words;
  const commands = group === undefined ? undefined : COMMANDS[group];
  if (!commands || group === undefined) {
    throw new UsageError(
      `unknown command '${words.join(" ")}' (choose from ${Object.keys(COMMANDS).join(", ")})`,
    );
  }
  if ("" in commands) {
    // Single-word command: a second word is an argument of it.
    if (name !== undefined) rest.unshift(name);
    return commands[""]!;
  }
  if (name === undefined) return group;
  const command = commands[name];
  if (!command) {
    throw new UsageError(
      `unknown command '${group} ${name}' (choose from ${
        Object.keys(commands).filter((n) => n !== "view").join(", ")
      })`,
    );
  }
  return command;
}

/**
 * Runs a management command; returns the exit code. Usage errors are thrown as
 * {@linkcode UsageError} (exit 2), runtime failures as other errors (exit 1), both printed by
 * the caller.
 *
 * @example
 * ```ts ignore
 * const code = await runCommand(context); // context.options.command = ["connector", "list"]
 * ```
 */
export async function runCommand(
  context: CliContext,
  prompter: Prompter = terminalPrompter(),
): Promise<number> {
  const rest = [...context.options.rest];
  const resolved = resolveCommand(context.options.command, rest);
  if (typeof resolved === "string") {
    if (context.options.help) {
      context.print(groupHelp(resolved));
      return 0;
    }
    throw new UsageError(
      `'${resolved}' needs a command: ${
        Object.keys(COMMANDS[resolved] ?? {}).filter((n) => n !== "view").join(", ")
      } (see elastic-ingest ${resolved} --help)`,
    );
  }
  if (context.options.help) {
    context.print(helpText(resolved.spec));
    return 0;
  }
  const parsed = parseCommand(resolved.spec, rest, {
    skipRequired: resolved.promptsForRequired === true && prompter.interactive,
  });
  const env = new CommandEnv(context, prompter);
  try {
    return await resolved.run(env, parsed);
  } catch (error) {
    throw env.explain(error);
  } finally {
    await env.close();
  }
}
