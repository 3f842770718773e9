/**
 * Whether this process can run sandboxed sources safely: Deno's `--unstable-worker-options`
 * (without it, creating a worker with its own permissions ends the process, uncatchably), and no
 * permission prompt (in a terminal, Deno would otherwise ask the operator to grant what the
 * sandbox refused). `deno task start`, the bundle's printed command and the compiled executable
 * pass `--unstable-worker-options --no-prompt`.
 *
 * @module
 */

/** Flags a process needs to run sandboxed sources. */
export const SANDBOX_RUNTIME_FLAGS: readonly string[] = [
  "--unstable-worker-options",
  "--no-prompt",
];

/** What {@linkcode sandboxSupportProblem} looks at. */
export interface RuntimeFacts {
  /** A `deno compile` executable (its flags were baked in by `deno task compile`). */
  standalone: boolean;
  /**
   * The process's command line (`/proc/self/cmdline`, which Deno lets only `--allow-all`
   * processes read); undefined when unreadable.
   */
  commandLine: string[] | undefined;
  /** Whether standard input is a terminal (where Deno prompts for permissions). */
  interactive: boolean;
  /** `DENO_NO_PROMPT` is set. */
  noPromptEnv: boolean;
}

function readCommandLine(): string[] | undefined {
  try {
    return Deno.readTextFileSync("/proc/self/cmdline").split("\0").filter((arg) => arg !== "");
  } catch {
    return undefined;
  }
}

/**
 * The facts of this process.
 *
 * @example
 * ```ts
 * import { runtimeFacts } from "./support.ts";
 * if (typeof runtimeFacts().interactive !== "boolean") throw new Error();
 * ```
 */
export function runtimeFacts(): RuntimeFacts {
  let noPromptEnv = false;
  try {
    noPromptEnv = !!Deno.env.get("DENO_NO_PROMPT");
  } catch {
    // no env access: unknown
  }
  let interactive = false;
  try {
    interactive = Deno.stdin.isTerminal();
  } catch {
    // no stdin
  }
  return {
    standalone: Deno.build.standalone === true,
    commandLine: readCommandLine(),
    interactive,
    noPromptEnv,
  };
}

/**
 * Why sandboxed sources cannot run in a process: `--unstable-worker-options` missing, or
 * `--no-prompt` missing in a terminal. Undefined when they can, or when the command line cannot
 * be read: Deno lets only `--allow-all` processes (tests, `deno run -A`) read it, so under narrower
 * flags a missing `--unstable-worker-options` stops the process with Deno's own message naming
 * the flag (at start, when the source loads), and a missing `--no-prompt` is not noticed.
 *
 * @example
 * ```ts
 * import { sandboxSupportProblem } from "./support.ts";
 * const facts = { standalone: false, interactive: false, noPromptEnv: false };
 * const missing = sandboxSupportProblem({ ...facts, commandLine: ["deno", "run", "-A", "main.ts"] });
 * if (!missing?.includes("--unstable-worker-options")) throw new Error();
 * const ok = ["deno", "run", "--unstable-worker-options", "--no-prompt", "main.ts"];
 * if (sandboxSupportProblem({ ...facts, commandLine: ok }) !== undefined) throw new Error();
 * ```
 */
export function sandboxSupportProblem(facts: RuntimeFacts = runtimeFacts()): string | undefined {
  if (facts.standalone || facts.commandLine === undefined) return undefined;
  const args = facts.commandLine;
  // Only what precedes the script counts: later words are the script's own arguments.
  const script = args.findIndex((arg, i) =>
    i > 1 && !arg.startsWith("-") && /\.[jt]sx?$/.test(arg)
  );
  const flags = script < 0 ? args : args.slice(0, script);
  if (!flags.includes("--unstable-worker-options")) {
    return "it runs sandboxed, which needs Deno's --unstable-worker-options flag (deno task start passes it, with --no-prompt)";
  }
  if (facts.interactive && !facts.noPromptEnv && !flags.includes("--no-prompt")) {
    return "it runs sandboxed, which in a terminal needs Deno's --no-prompt flag (else Deno would ask you to grant what the sandbox refuses)";
  }
  return undefined;
}
