/**
 * Questions in a terminal: a line of input, a hidden one (no echo, for sensitive fields) and a
 * yes/no confirmation. Commands ask only when standard input is a terminal; otherwise they fail
 * with an error naming what is missing.
 *
 * @module
 */
import { FatalError } from "../../errors/mod.ts";

/**
 * The user pressed Ctrl-C or closed the input while being asked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FatalError } from "../../errors/mod.ts";
 * import { PromptAbortedError } from "./_prompt.ts";
 * const error = new PromptAbortedError("Index name: ");
 * assert.equal(error.message, "Aborted while asking for Index name: ");
 * assert.ok(error instanceof FatalError);
 * ```
 */
export class PromptAbortedError extends FatalError {
  constructor(what: string) {
    super(`Aborted while asking for ${what}`);
  }
}

/** How commands talk to the person at the terminal. */
export interface Prompter {
  /** True when standard input is a terminal (questions may be asked). */
  interactive: boolean;
  /** Asks for a line; `hidden` reads without echo. Returns the text without the newline. */
  ask(question: string, options?: { hidden?: boolean }): Promise<string>;
  /** Asks a yes/no question; anything but y/yes is no. */
  confirm(question: string): Promise<boolean>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let pending = "";

function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

async function readVisibleLine(what: string): Promise<string> {
  const buffer = new Uint8Array(1024);
  while (!pending.includes("\n")) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) {
      if (pending === "") throw new PromptAbortedError(what);
      break;
    }
    pending += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  const at = pending.indexOf("\n");
  const line = at === -1 ? pending : pending.slice(0, at);
  pending = at === -1 ? "" : pending.slice(at + 1);
  return line.replace(/\r$/, "");
}

async function readHiddenLine(what: string): Promise<string> {
  const buffer = new Uint8Array(64);
  let line = "";
  Deno.stdin.setRaw(true);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) throw new PromptAbortedError(what);
      for (const char of decoder.decode(buffer.subarray(0, n))) {
        if (char === "\r" || char === "\n") return line;
        if (char === "\x03") throw new PromptAbortedError(what); // Ctrl-C
        if (char === "\x04") {
          if (line === "") throw new PromptAbortedError(what); // Ctrl-D on an empty line
          return line;
        }
        if (char === "\x7f" || char === "\b") line = [...line].slice(0, -1).join("");
        else if (char >= " ") line += char;
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    writeErr("\n");
  }
}

/**
 * The prompter of this process: questions on standard error, answers from standard input.
 *
 * @example
 * ```ts
 * import { terminalPrompter } from "./_prompt.ts";
 * const prompter = terminalPrompter();
 * if (typeof prompter.interactive !== "boolean") throw new Error();
 * ```
 */
export function terminalPrompter(): Prompter {
  const interactive = Deno.stdin.isTerminal();
  return {
    interactive,
    async ask(question, options = {}) {
      writeErr(question);
      return options.hidden ? await readHiddenLine(question) : await readVisibleLine(question);
    },
    async confirm(question) {
      writeErr(`${question} [y/N] `);
      const answer = (await readVisibleLine(question)).trim().toLowerCase();
      return answer === "y" || answer === "yes";
    },
  };
}
