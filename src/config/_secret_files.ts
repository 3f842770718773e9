/**
 * Secrets read from files, for container secrets (`/run/secrets/...`):
 * `elasticsearch.password_file`, `elasticsearch.api_key_file` and `api_key_file` on a
 * `connectors:` entry. Each file is read once at start, its trailing newline trimmed, and its
 * value registered with the redactor; a missing, unreadable or empty file, or a value given both
 * ways, is a {@linkcode ConfigError} naming the key with `file:line:col`.
 *
 * @module
 */
import { ConfigError } from "../errors/mod.ts";
import { registerSecret } from "../log/mod.ts";
import type { KeyPath } from "./_locate.ts";
import type { CheckContext } from "./_check.ts";

/** The secret files of the `elasticsearch` section: file key → the key it fills. */
export const ES_SECRET_FILES: Readonly<Record<string, string>> = {
  password_file: "password",
  api_key_file: "api_key",
};

/**
 * The contents of a secret file without its trailing newline (`\n` or `\r\n`, repeated);
 * `at` and `key` name where the file is configured, for errors.
 *
 * @example
 * ```ts
 * import { readSecretFile } from "./_secret_files.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "s3cret-from-file\n");
 * if (readSecretFile(file, "elasticsearch.password_file", "c.yml:3:18") !== "s3cret-from-file") throw new Error();
 * try {
 *   readSecretFile(`${file}.missing`, "elasticsearch.password_file", "c.yml:3:18");
 *   throw new Error("expected a ConfigError");
 * } catch (error) {
 *   if (!(error as Error).message.startsWith("c.yml:3:18: elasticsearch.password_file: cannot read")) throw error;
 * }
 * ```
 */
export function readSecretFile(path: string, key: string, at: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? `permission denied (run with --allow-read=${path})`
      : error instanceof Deno.errors.IsADirectory
      ? "it is a folder"
      : (error as Error).message;
    throw new ConfigError(`${at}: ${key}: cannot read ${path}: ${why}`);
  }
  const value = text.replace(/(\r?\n)+$/, "");
  if (value.trim() === "") throw new ConfigError(`${at}: ${key}: ${path} is empty`);
  registerSecret(value);
  return value;
}

/** Fills `section[target]` from `section[fileKey]`; both given is an error. */
function fill(
  section: Record<string, unknown>,
  fileKey: string,
  target: string,
  path: KeyPath,
  ctx: CheckContext,
): void {
  const file = section[fileKey];
  if (typeof file !== "string") return;
  const name = [...path, fileKey].map((p, i) =>
    typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`
  ).join("");
  const at = ctx.file + ctx.where([...path, fileKey]);
  if (section[target] !== undefined) {
    throw new ConfigError(
      `${at}: ${name} and ${name.replace(/_file$/, "")} are both set; keep one`,
    );
  }
  section[target] = readSecretFile(file, name, at);
}

/**
 * Reads the secret files of the `elasticsearch` section and of each connector entry into the
 * keys they stand for (`password_file` → `password`, `api_key_file` → `api_key`).
 *
 * @example
 * ```ts
 * import { applySecretFiles } from "./_secret_files.ts";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "a2V5OnNlY3JldA==\n");
 * const es: Record<string, unknown> = { api_key_file: file };
 * const connectors: Record<string, unknown>[] = [{ connector_id: "c1", api_key_file: file }];
 * applySecretFiles(es, connectors, [["connectors", 0]], { file: "c.yml", where: () => "", warnings: [] });
 * if (es.api_key !== "a2V5OnNlY3JldA==" || connectors[0]!.api_key !== es.api_key) throw new Error();
 * ```
 */
export function applySecretFiles(
  elasticsearch: Record<string, unknown>,
  connectors: Record<string, unknown>[],
  connectorPaths: readonly KeyPath[],
  ctx: CheckContext,
): void {
  if (elasticsearch.password_file !== undefined && elasticsearch.username === undefined) {
    throw new ConfigError(
      `${ctx.file}${
        ctx.where(["elasticsearch", "password_file"])
      }: elasticsearch.password_file needs elasticsearch.username`,
    );
  }
  for (const [fileKey, target] of Object.entries(ES_SECRET_FILES)) {
    fill(elasticsearch, fileKey, target, ["elasticsearch"], ctx);
  }
  connectors.forEach((entry, i) => {
    fill(entry, "api_key_file", "api_key", connectorPaths[i] ?? ["connectors", i], ctx);
  });
}
