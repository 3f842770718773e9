/**
 * Output of the management commands: aligned text tables, `key: value` blocks, JSON, and the
 * masking of sensitive configuration values (they never reach the terminal or a script).
 *
 * @module
 */

/** What replaces a sensitive value in any output. */
export const MASK = "*****";

/** A table cell value. */
export type Cell = string | number | boolean | null | undefined;

function cellText(value: Cell): string {
  if (value === null || value === undefined || value === "") return "-";
  return String(value);
}

/**
 * An aligned text table with a header row and a dashed rule under it.
 *
 * @example
 * ```ts
 * import { formatTable } from "./output.ts";
 * const text = formatTable(["ID", "Docs"], [["a", 1], ["bb", null]]);
 * if (text !== "ID  Docs\n--  ----\na   1\nbb  -") throw new Error(JSON.stringify(text));
 * ```
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => row[i]!.length))
  );
  const line = (values: readonly string[]) =>
    values.map((value, i) => i === values.length - 1 ? value : value.padEnd(widths[i]!)).join("  ")
      .trimEnd();
  return [
    line(headers),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.map(line),
  ].join("\n");
}

/**
 * `key: value` lines with the values aligned.
 *
 * @example
 * ```ts
 * import { formatFields } from "./output.ts";
 * if (formatFields([["ID", "a"], ["Status", null]]) !== "ID:      a\nStatus:  -") throw new Error();
 * ```
 */
export function formatFields(fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${cellText(value)}`).join(
    "\n",
  );
}

/**
 * Pretty JSON for `--json` output.
 *
 * @example
 * ```ts
 * import { toJson } from "./output.ts";
 * if (toJson({ a: 1 }) !== '{\n  "a": 1\n}') throw new Error();
 * ```
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A copy of a connector configuration whose sensitive fields carry {@linkcode MASK} instead of
 * their value (empty values stay empty, so one can see they are unset).
 *
 * @example
 * ```ts
 * import { maskConfiguration } from "./output.ts";
 * const out = maskConfiguration({ password: { sensitive: true, value: "s3cret" }, user: { value: "u" } });
 * if ((out.password as { value: string }).value !== "*****" || (out.user as { value: string }).value !== "u") {
 *   throw new Error();
 * }
 * ```
 */
export function maskConfiguration(configuration: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isPlainObject(configuration)) return out;
  for (const [key, field] of Object.entries(configuration)) {
    if (isPlainObject(field) && field.sensitive === true) {
      const empty = field.value === null || field.value === undefined || field.value === "";
      out[key] = { ...field, value: empty ? field.value : MASK };
    } else {
      out[key] = structuredClone(field);
    }
  }
  return out;
}

/**
 * A configuration value as one short line (lists joined with commas, long text cut).
 *
 * @example
 * ```ts
 * import { displayValue } from "./output.ts";
 * if (displayValue(["a", "b"]) !== "a, b" || displayValue(null) !== "") throw new Error();
 * ```
 */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = Array.isArray(value)
    ? value.map(String).join(", ")
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/**
 * An ISO date as `YYYY-MM-DD HH:MM:SS` (UTC), `-` when absent.
 *
 * @example
 * ```ts
 * import { shortDate } from "./output.ts";
 * if (shortDate("2024-05-01T10:30:00.123Z") !== "2024-05-01 10:30:00") throw new Error();
 * ```
 */
export function shortDate(value: string | null | undefined): string {
  if (!value) return "-";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toISOString().slice(0, 19).replace("T", " ");
}
