/**
 * Positions in a parsed `config.yml`: the `:line:col` of a key path, whether the file writes it
 * nested (`service:` / `idling:`), dotted (`service.idling:`) or both mixed.
 *
 * @module
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node as YamlNode } from "yaml";

/** A key path: mapping keys and list indexes, e.g. `["connectors", 0, "service_type"]`. */
export type KeyPath = readonly (string | number)[];

/** Where a key path is written: `:line:col` of its key (`key: true`) or value; "" if nowhere. */
export type Locator = (path: KeyPath, key?: boolean) => string;

interface Found {
  key?: YamlNode;
  value?: YamlNode;
}

function find(node: unknown, path: KeyPath): Found | undefined {
  if (path.length === 0) return { value: node as YamlNode };
  const [head, ...rest] = path;
  if (isSeq(node)) {
    const index = typeof head === "number" ? head : Number(head);
    const item = node.items[index];
    if (item === undefined) return undefined;
    return rest.length === 0 ? { value: item as YamlNode } : find(item, rest);
  }
  if (!isMap(node)) return undefined;
  // The last pair wins, as when the tree was merged.
  for (const pair of [...node.items].reverse()) {
    if (!isScalar(pair.key)) continue;
    const name = String(pair.key.value);
    const parts = name === String(head) ? [name] : name.split(".");
    if (parts.length > path.length) continue;
    if (!parts.every((part, i) => String(path[i]) === part)) continue;
    const remaining = path.slice(parts.length);
    if (remaining.length === 0) {
      return { key: pair.key as YamlNode, value: (pair.value ?? pair.key) as YamlNode };
    }
    const found = find(pair.value, remaining);
    if (found) return found;
  }
  return undefined;
}

/**
 * A {@linkcode Locator} over a parsed document.
 *
 * @example
 * ```ts
 * import { LineCounter, parseDocument } from "yaml";
 * import { locator } from "./_locate.ts";
 * const lineCounter = new LineCounter();
 * const doc = parseDocument("service.idling: 3\nconnectors:\n  - connector_id: a\n", { lineCounter });
 * const where = locator(doc, lineCounter);
 * if (where(["service", "idling"]) !== ":1:17") throw new Error(where(["service", "idling"]));
 * if (where(["connectors", 0, "connector_id"], true) !== ":3:5") throw new Error();
 * if (where(["nowhere"]) !== "") throw new Error();
 * ```
 */
export function locator(doc: Document, lineCounter: LineCounter): Locator {
  return (path, key = false) => {
    const found = find(doc.contents, path);
    const node = key ? found?.key ?? found?.value : found?.value;
    const offset = node?.range?.[0];
    if (offset === undefined) return "";
    const pos = lineCounter.linePos(offset);
    return `:${pos.line}:${pos.col}`;
  };
}

/**
 * Parses YAML text with positions: the document, its line counter and a locator.
 *
 * @example
 * ```ts
 * import { parseWithPositions } from "./_locate.ts";
 * const { where } = parseWithPositions("a:\n  b: 1\n");
 * if (where(["a", "b"], true) !== ":2:3") throw new Error();
 * ```
 */
export function parseWithPositions(
  text: string,
): { doc: Document; lineCounter: LineCounter; where: Locator } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  return { doc, lineCounter, where: locator(doc, lineCounter) };
}
