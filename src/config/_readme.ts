/**
 * The configuration table of README.md, rendered from the schema (`_schema.ts`). A unit test
 * fails when the README's table differs; print the current one with
 * `deno run src/config/_readme.ts` and paste it (then `deno fmt README.md` aligns it).
 *
 * @module
 */
import { CONFIG_KEYS } from "./_schema.ts";
import type { KeySpec } from "./_schema.ts";

/** Header cells of the table. */
export const TABLE_HEADER: readonly string[] = ["Key", "Type", "Default", "Meaning"];

function bounds(spec: KeySpec): string {
  const { min, max, above } = spec;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (above !== undefined) return ` > ${above}`;
  return "";
}

/**
 * The type column: the kind of value and its bounds.
 *
 * @example
 * ```ts
 * import { typeText } from "./_readme.ts";
 * import { keySpec } from "./_schema.ts";
 * if (typeText(keySpec("service.idling")!) !== "seconds > 0") throw new Error();
 * if (typeText(keySpec("service.max_deletion_ratio")!) !== "number 0–1 or null") throw new Error();
 * ```
 */
export function typeText(spec: KeySpec): string {
  const kind = {
    string: "string",
    number: "number",
    integer: "integer",
    duration: "seconds",
    boolean: "boolean",
    map: "mapping",
    level: "log level",
    strings: "list of strings",
    entries: "list of mappings",
  }[spec.type];
  const secret = spec.secret ? " (secret)" : "";
  return `${kind}${bounds(spec)}${spec.nullable ? " or null" : ""}${secret}`;
}

/**
 * The default column: the `DEFAULT_*` value as YAML would write it, `—` for none.
 *
 * @example
 * ```ts
 * import { defaultText } from "./_readme.ts";
 * import { keySpec } from "./_schema.ts";
 * if (defaultText(keySpec("elasticsearch.host")!) !== "`http://localhost:9200`") throw new Error();
 * if (defaultText(keySpec("elasticsearch.username")!) !== "—") throw new Error();
 * ```
 */
export function defaultText(spec: KeySpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.default;
  if (value === undefined) return "—";
  if (typeof value === "number") return String(value);
  if (typeof value === "string" || typeof value === "boolean") return `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

/**
 * One row of cells per key, in schema order.
 *
 * @example
 * ```ts
 * import { configTableRows } from "./_readme.ts";
 * const row = configTableRows().find((r) => r[0] === "`service.idling`");
 * if (row?.[2] !== "30") throw new Error(JSON.stringify(row));
 * ```
 */
export function configTableRows(): string[][] {
  return CONFIG_KEYS.map((
    spec,
  ) => [`\`${spec.path}\``, typeText(spec), defaultText(spec), spec.doc]);
}

/**
 * The whole Markdown table (unaligned: `deno fmt` aligns it).
 *
 * @example
 * ```ts
 * import { renderConfigTable } from "./_readme.ts";
 * if (!renderConfigTable().startsWith("| Key | Type | Default | Meaning |\n| --- |")) throw new Error();
 * ```
 */
export function renderConfigTable(): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(TABLE_HEADER),
    line(TABLE_HEADER.map(() => "---")),
    ...configTableRows().map(line),
  ].join("\n");
}

/**
 * The cells of the first Markdown table after `heading` in `markdown` (separator row left out).
 *
 * @example
 * ```ts
 * import { readTable } from "./_readme.ts";
 * const rows = readTable("## A\n\ntext\n\n| x | y |\n| - | - |\n| `a` | 1 |\n", "## A");
 * if (JSON.stringify(rows) !== '[["x","y"],["`a`","1"]]') throw new Error(JSON.stringify(rows));
 * ```
 */
export function readTable(markdown: string, heading: string): string[][] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const raw of lines.slice(start + 1)) {
    const text = raw.trim();
    if (text.startsWith("#")) break;
    if (!text.startsWith("|")) {
      if (rows.length > 0) break;
      continue;
    }
    const cells = text.slice(1, text.endsWith("|") ? -1 : undefined).split("|").map((c) =>
      c.trim()
    );
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows;
}

if (import.meta.main) {
  Deno.stdout.writeSync(new TextEncoder().encode(renderConfigTable() + "\n"));
}
