/**
 * The two shapes a source may yield, normalised for the sync engine.
 *
 * @module
 */
import type { DocItem, Document, IncrementalItem, LazyDownload, SyncOperation } from "./types.ts";

const OPERATIONS: readonly SyncOperation[] = ["index", "update", "delete"];

function isDocument(value: unknown): value is Document {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function lazyOf(value: unknown): LazyDownload | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "function") {
    throw new TypeError(
      `A source yielded a lazy download that is not a function (${typeof value})`,
    );
  }
  return value as LazyDownload;
}

/**
 * Splits what `getDocs()` yields (a plain document or a `[document, lazyDownload]` pair) into
 * the document and its optional download.
 *
 * @example
 * ```ts
 * import { splitDocItem } from "./items.ts";
 * const [doc, lazy] = splitDocItem({ _id: "a" });
 * const [doc2, lazy2] = splitDocItem([{ _id: "b" }, async () => ({ _attachment: "" })]);
 * if (doc._id !== "a" || lazy !== undefined || doc2._id !== "b" || !lazy2) throw new Error();
 * ```
 */
export function splitDocItem(item: DocItem): [Document, LazyDownload | undefined] {
  if (Array.isArray(item)) {
    const [doc, lazy] = item as readonly unknown[];
    if (!isDocument(doc)) {
      throw new TypeError("A source yielded a pair whose first item is not a document");
    }
    return [doc, lazyOf(lazy)];
  }
  if (!isDocument(item)) {
    throw new TypeError(`A source yielded ${typeof item} instead of a document`);
  }
  return [item, undefined];
}

/**
 * Splits what `getDocsIncrementally()` yields: `[document, lazyDownload, operation]`, also
 * `[document, operation]`, `[document, lazyDownload]` and a plain document (operation `index`).
 *
 * @example
 * ```ts
 * import { splitIncrementalItem } from "./items.ts";
 * const [doc, lazy, op] = splitIncrementalItem([{ _id: "a" }, null, "delete"]);
 * if (doc._id !== "a" || lazy !== undefined || op !== "delete") throw new Error();
 * if (splitIncrementalItem({ _id: "b" })[2] !== "index") throw new Error();
 * ```
 */
export function splitIncrementalItem(
  item: IncrementalItem | DocItem,
): [Document, LazyDownload | undefined, SyncOperation] {
  if (!Array.isArray(item)) return [...splitDocItem(item as DocItem), "index"];
  const [doc, second, third] = item as readonly unknown[];
  if (!isDocument(doc)) {
    throw new TypeError("A source yielded an item whose first element is not a document");
  }
  let lazy: unknown = second;
  let op: unknown = third ?? "index";
  if (typeof second === "string") {
    op = second;
    lazy = undefined;
  }
  if (!OPERATIONS.includes(op as SyncOperation)) {
    throw new TypeError(
      `A source yielded the unknown operation ${
        JSON.stringify(op)
      } (expected index, update or delete)`,
    );
  }
  return [doc, lazyOf(lazy), op as SyncOperation];
}
