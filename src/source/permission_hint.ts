/**
 * Actionable messages for Deno's permission refusals: which flag grants the refused access.
 *
 * @module
 */

const ACCESS = /Requires (read|write|net|env|sys|run|ffi|import) access to "([^"]*)"/;

const VERB: Record<string, string> = {
  read: "permission to read",
  write: "permission to write",
  net: "network access to",
  env: "permission to read the environment variable",
  sys: "permission to query system information",
  run: "permission to run",
  ffi: "permission to load the library",
  import: "permission to import from",
};

/** What a permission refusal was about and the flag that grants it. */
export interface PermissionHint {
  /** `read`, `net`, `import`, ... */
  kind: string;
  /** The refused path, host, variable or name. */
  target: string;
  /** The exact flag to add, e.g. `--allow-read=/data`. */
  flag: string;
  /** One-line description, e.g. `permission to read /data refused`. */
  problem: string;
}

/**
 * Recognises Deno's permission refusals (`NotCapable`, and the `TypeError` of a refused
 * dynamic import) and names the exact flag that would grant the access; undefined for any
 * other error.
 *
 * @example
 * ```ts
 * import { permissionHint } from "./permission_hint.ts";
 * const hint = permissionHint(new Error('Requires import access to "127.0.0.1:8443", run again with the --allow-import flag'));
 * if (hint?.flag !== "--allow-import=127.0.0.1:8443") throw new Error();
 * ```
 */
export function permissionHint(error: unknown): PermissionHint | undefined {
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  const match = ACCESS.exec(message);
  if (!match) return undefined;
  const kind = match[1]!;
  const target = match[2]!;
  return {
    kind,
    target,
    flag: target ? `--allow-${kind}=${target}` : `--allow-${kind}`,
    problem: `${VERB[kind] ?? kind} ${target} refused`.replace(/\s+/g, " "),
  };
}

/**
 * A one-line message for an error, with the permission flag to add when Deno refused an access.
 *
 * @example
 * ```ts
 * import { describePermissionError } from "./permission_hint.ts";
 * const text = describePermissionError(new Error('Requires read access to "/data", run again with the --allow-read flag'));
 * if (text !== "permission to read /data refused (run with --allow-read=/data)") throw new Error();
 * ```
 */
export function describePermissionError(error: unknown): string {
  const hint = permissionHint(error);
  if (hint) return `${hint.problem} (run with ${hint.flag})`;
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
