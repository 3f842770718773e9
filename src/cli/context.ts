/**
 * {@linkcode CliContext}: what every CLI action and command receives. In a file of its own, so
 * that actions and commands depend on it and not on `main.ts`, which imports them.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { CliOptions } from "./args.ts";

/**
 * What every action receives.
 *
 * @example
 * ```ts
 * import type { CliContext } from "./context.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { nullLogger } from "../log/mod.ts";
 * const context: CliContext = {
 *   options: {} as CliContext["options"],
 *   config: defaultConfig(),
 *   logger: nullLogger,
 *   print: () => {},
 * };
 * context.print("ok");
 * ```
 */
export interface CliContext {
  options: CliOptions;
  config: Config;
  logger: Logger;
  /** Writes command output (stdout). */
  print: (text: string) => void;
}
