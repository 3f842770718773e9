/**
 * `elastic-ingest`: parses the command line, loads the config, sets up logging and runs the
 * chosen action. Returns the exit code: 0 success, 1 runtime failure, 2 usage error.
 *
 * @module
 */
import { defaultConfig, loadConfig } from "../config/mod.ts";
import type { Config } from "../config/mod.ts";
import { classifyError, ConfigError, errorMessage, FatalError, UsageError } from "../errors/mod.ts";
import { SERVICE_VERSION } from "../es/mod.ts";
import type { LogSink } from "../log/mod.ts";
import { createLogger, ecsSink, redact, stderrWriter, textSink } from "../log/mod.ts";
import { parseCliArgs, USAGE } from "./args.ts";
import type { CliOptions } from "./args.ts";
import { configAction } from "./config.ts";
import { listAction } from "./list.ts";
import type { CliContext } from "./context.ts";
import { pollAction } from "./poll.ts";

export type { CliContext } from "./context.ts";

const encoder = new TextEncoder();

/**
 * Runs the CLI and returns its exit code.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["--action", "bogus"], { print: () => {}, printError: () => {} });
 * if (code !== 2) throw new Error();
 * ```
 */
export async function main(
  argv: string[],
  io: { print?: (text: string) => void; printError?: (text: string) => void; sink?: LogSink } = {},
): Promise<number> {
  // Command output passes the redactor too: no secret, nor a URL's user-info, reaches stdout.
  const print = io.print ??
    ((text: string) => Deno.stdout.writeSync(encoder.encode(redact(text) + "\n")));
  const printError = io.printError ?? ((text: string) => stderrWriter(text));
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    printError(`elastic-ingest: error: ${(error as Error).message}`);
    printError("Try 'elastic-ingest --help' for usage.");
    return 2;
  }
  if (options.help && options.command.length === 0) {
    print(USAGE);
    return 0;
  }
  if (options.version) {
    print(SERVICE_VERSION);
    return 0;
  }
  try {
    const config = await readConfig(options);
    const level = options.logLevel ?? config.service.log_level;
    const sink = io.sink ??
      (options.logFormat === "json"
        ? ecsSink(stderrWriter)
        : textSink(stderrWriter, Deno.stderr.isTerminal() && !Deno.env.has("NO_COLOR")));
    const logger = createLogger({ level, sink });
    for (const warning of config.warnings) logger.warning(warning);
    const context: CliContext = { options, config, logger, print };
    if (options.command.length > 0) {
      const { runCommand } = await import("./commands/mod.ts");
      return await runCommand(context);
    }
    if (options.action === "list") return await listAction(context);
    if (options.action === "config") return await configAction(context);
    return await pollAction(context);
  } catch (error) {
    if (error instanceof UsageError) {
      printError(`elastic-ingest: error: ${redact(error.message)}`);
      return 2;
    }
    const text = error instanceof FatalError || error instanceof ConfigError
      ? error.message
      : errorMessage(error);
    printError(`elastic-ingest: error: ${redact(text)}`);
    if (classifyError(error) !== "fatal" && options.debug && error instanceof Error) {
      printError(redact(error.stack ?? ""));
    }
    return 1;
  }
}

async function readConfig(options: CliOptions): Promise<Config> {
  if (!options.configFileGiven) {
    try {
      await Deno.stat(options.configFile);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        // Printing a built-in source's schema needs no config file (nor Elasticsearch).
        if (options.action === "config") return defaultConfig();
        throw new ConfigError(
          `Cannot read config file ${options.configFile}: no such file (pass -c/--config-file FILE)`,
        );
      }
    }
  }
  return await loadConfig(options.configFile);
}
