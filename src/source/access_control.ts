/**
 * Document-level security helpers for source authors (spec §5.6): the content-document field that
 * lists who may see a document, identity prefixes, and the per-user query stored in the
 * access-control documents that `getAccessControl()` yields.
 *
 * @module
 */

/**
 * Field of a content document listing the identities allowed to see it. A document without it
 * is visible to everyone; the DLS query matches it through its `.keyword` sub-field.
 */
export const ACCESS_CONTROL_FIELD = "_allow_access_control";

/**
 * The mustache template of the DLS query (Elastic's): a document matches when it has no
 * {@linkcode ACCESS_CONTROL_FIELD} or when that field holds one of the user's identities.
 */
export const DLS_QUERY_TEMPLATE: string = JSON.stringify({
  bool: {
    should: [
      { bool: { must_not: { exists: { field: ACCESS_CONTROL_FIELD } } } },
      { terms: { [`${ACCESS_CONTROL_FIELD}.keyword`]: "__ACCESS_CONTROL__" } },
    ],
  },
}).replace('"__ACCESS_CONTROL__"', "{{#toJson}}access_control{{/toJson}}");

/**
 * An identity string with its source-specific prefix (`"email:ada@example.com"`); undefined when
 * either part is missing, so that unknown identities drop out of the lists.
 *
 * @example
 * ```ts
 * import { prefixIdentity } from "./access_control.ts";
 * if (prefixIdentity("email", "ada@example.com") !== "email:ada@example.com") throw new Error();
 * if (prefixIdentity("email", null) !== undefined) throw new Error();
 * ```
 */
export function prefixIdentity(
  prefix: string | null | undefined,
  identity: string | number | null | undefined,
): string | undefined {
  if (prefix === null || prefix === undefined || identity === null || identity === undefined) {
    return undefined;
  }
  return `${prefix}:${identity}`;
}

/**
 * The `query` field of an access-control document for a user with `identities` (missing ones
 * are dropped): the stored DLS template with the identities as its parameter. Spread it into the
 * document that `getAccessControl()` yields.
 *
 * @example
 * ```ts
 * import { accessControlQuery, prefixIdentity } from "./access_control.ts";
 * const doc = {
 *   _id: "ada",
 *   identity: { email: "ada@example.com" },
 *   ...accessControlQuery([prefixIdentity("email", "ada@example.com"), undefined]),
 * };
 * if (doc.query.template.params.access_control.join() !== "email:ada@example.com") throw new Error();
 * ```
 */
export function accessControlQuery(
  identities: readonly (string | null | undefined)[],
): { query: { template: { source: string; params: { access_control: string[] } } } } {
  const accessControl = identities.filter((id): id is string => typeof id === "string");
  return {
    query: { template: { source: DLS_QUERY_TEMPLATE, params: { access_control: accessControl } } },
  };
}
