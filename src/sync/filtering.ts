/**
 * The filtering snapshot of a job, normalised.
 *
 * @module
 */
import type { Filtering } from "../source/mod.ts";

/**
 * The job's filtering snapshot as one object: old jobs store an array, empty ones null.
 *
 * @example
 * ```ts
 * import { resolveFiltering } from "./filtering.ts";
 * if (resolveFiltering(null).rules.length !== 0) throw new Error();
 * const f = resolveFiltering([{ rules: [], advanced_snippet: { value: { a: 1 } } }]);
 * if (!f.advanced_snippet.value) throw new Error();
 * ```
 */
export function resolveFiltering(filtering: Filtering | Filtering[] | null | undefined): Filtering {
  const one = Array.isArray(filtering) ? filtering[0] : filtering;
  return {
    ...(one ?? {}),
    rules: Array.isArray(one?.rules) ? one.rules : [],
    advanced_snippet: one?.advanced_snippet ?? {},
  };
}
