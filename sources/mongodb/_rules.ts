/**
 * Advanced sync rules of the MongoDB source: validation and parsing into driver calls.
 *
 * The snippet is `{find: {...}}` or `{aggregate: {...}}` with the keys Elastic's framework
 * accepts (`find`: pymongo's snake_case names; `aggregate`: the driver's camelCase names), plus
 * `sort` for `find`. Values may use MongoDB Extended JSON (`{"$oid": "..."}`,
 * `{"$date": "..."}`), which is turned into BSON values before the query is sent.
 *
 * @module
 */
import { BSON, type Document, type Sort } from "mongodb";

/** Keys accepted under `find`. */
export const FIND_KEYS: readonly string[] = [
  "filter",
  "projection",
  "sort",
  "skip",
  "limit",
  "no_cursor_timeout",
  "allow_partial_results",
  "batch_size",
  "return_key",
  "show_record_id",
  "max_time_ms",
  "allow_disk_use",
];

/** Keys accepted under `aggregate`. */
export const AGGREGATE_KEYS: readonly string[] = [
  "pipeline",
  "allowDiskUse",
  "maxTimeMS",
  "batchSize",
  "let",
];

/** Aggregation stages that write to the database; a sync must only read. */
const WRITING_STAGES = new Set(["$out", "$merge"]);

const INTEGER_KEYS = new Set([
  "skip",
  "limit",
  "batch_size",
  "max_time_ms",
  "maxTimeMS",
  "batchSize",
]);
const BOOLEAN_KEYS = new Set([
  "no_cursor_timeout",
  "allow_partial_results",
  "return_key",
  "show_record_id",
  "allow_disk_use",
  "allowDiskUse",
]);

/** A validated `find` rule, ready for `collection.find(filter, options)`. */
export interface FindRule {
  kind: "find";
  filter: Document;
  options: {
    projection?: Document;
    sort?: Sort;
    skip?: number;
    limit?: number;
    noCursorTimeout?: boolean;
    allowPartialResults?: boolean;
    batchSize?: number;
    returnKey?: boolean;
    showRecordId?: boolean;
    maxTimeMS?: number;
    allowDiskUse?: boolean;
  };
}

/** A validated `aggregate` rule, ready for `collection.aggregate(pipeline, options)`. */
export interface AggregateRule {
  kind: "aggregate";
  pipeline: Document[];
  options: { allowDiskUse?: boolean; maxTimeMS?: number; batchSize?: number; let?: Document };
}

/** What an advanced-rules snippet asks for; `undefined` when there are no advanced rules. */
export type MongoRule = FindRule | AggregateRule;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * True when the snippet holds no advanced rules (absent, null or `{}`), as Elastic's
 * `has_advanced_rules` decides.
 *
 * @example
 * ```ts
 * import { isEmptySnippet } from "./_rules.ts";
 * if (!isEmptySnippet({}) || isEmptySnippet({ find: {} })) throw new Error();
 * ```
 */
export function isEmptySnippet(snippet: unknown): boolean {
  return snippet === undefined || snippet === null ||
    (isPlainObject(snippet) && Object.keys(snippet).length === 0) ||
    (Array.isArray(snippet) && snippet.length === 0);
}

function ejson(value: unknown, where: string, problems: string[]): unknown {
  try {
    return BSON.EJSON.deserialize(value as Document, { relaxed: true });
  } catch (error) {
    problems.push(`${where} has invalid Extended JSON: ${(error as Error).message}`);
    return undefined;
  }
}

function checkScalars(rule: Record<string, unknown>, prefix: string, problems: string[]): void {
  for (const [key, value] of Object.entries(rule)) {
    if (INTEGER_KEYS.has(key) && !(Number.isInteger(value) && (value as number) >= 0)) {
      problems.push(
        `'${prefix}.${key}' must be a non-negative integer, got ${JSON.stringify(value)}`,
      );
    }
    if (BOOLEAN_KEYS.has(key) && typeof value !== "boolean") {
      problems.push(`'${prefix}.${key}' must be true or false, got ${JSON.stringify(value)}`);
    }
  }
}

function unknownKeys(
  rule: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
): string[] {
  return Object.keys(rule)
    .filter((key) => !allowed.includes(key))
    .map((key) => `Unknown key '${prefix}.${key}' (allowed: ${allowed.join(", ")})`);
}

function parseSort(value: unknown, problems: string[]): Sort | undefined {
  const direction = (d: unknown) =>
    d === 1 || d === -1 || d === "asc" || d === "desc" || d === "ascending" || d === "descending";
  if (isPlainObject(value)) {
    if (Object.keys(value).length === 0) problems.push("'find.sort' must not be empty");
    for (const [field, d] of Object.entries(value)) {
      if (!direction(d)) {
        problems.push(
          `'find.sort.${field}' must be 1, -1, "asc" or "desc", got ${JSON.stringify(d)}`,
        );
      }
    }
    return value as Sort;
  }
  if (Array.isArray(value)) {
    const pairs: [string, 1 | -1][] = [];
    for (const item of value) {
      if (
        !Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string" ||
        !direction(item[1])
      ) {
        problems.push(
          `'find.sort' items must be [field, 1 | -1] pairs, got ${JSON.stringify(item)}`,
        );
        continue;
      }
      const d = item[1] === -1 || item[1] === "desc" || item[1] === "descending" ? -1 : 1;
      pairs.push([item[0], d]);
    }
    if (pairs.length === 0 && problems.length === 0) problems.push("'find.sort' must not be empty");
    return pairs as Sort;
  }
  problems.push(
    `'find.sort' must be an object like {"field": 1} or a list of [field, direction] pairs`,
  );
  return undefined;
}

function parseProjection(value: unknown, problems: string[]): Document | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((f) => typeof f === "string" && f !== "")) {
      problems.push("'find.projection' as a list must hold at least one field name");
      return undefined;
    }
    return Object.fromEntries(value.map((f) => [f, 1]));
  }
  if (isPlainObject(value)) {
    if (Object.keys(value).length === 0) {
      problems.push("'find.projection' must name at least one field");
      return undefined;
    }
    return ejson(value, "'find.projection'", problems) as Document | undefined;
  }
  problems.push("'find.projection' must be an object or a list of field names");
  return undefined;
}

function parseFind(rule: unknown, problems: string[]): FindRule | undefined {
  if (!isPlainObject(rule)) {
    problems.push('\'find\' must be an object such as {"filter": {...}, "projection": {...}}');
    return undefined;
  }
  problems.push(...unknownKeys(rule, FIND_KEYS, "find"));
  checkScalars(rule, "find", problems);
  let filter: Document = {};
  if ("filter" in rule) {
    if (!isPlainObject(rule.filter)) {
      problems.push(`'find.filter' must be an object, got ${JSON.stringify(rule.filter)}`);
    } else {
      filter = (ejson(rule.filter, "'find.filter'", problems) ?? {}) as Document;
    }
  }
  const options: FindRule["options"] = {};
  if ("projection" in rule) {
    const projection = parseProjection(rule.projection, problems);
    if (projection) options.projection = projection;
  }
  if ("sort" in rule) {
    const sort = parseSort(rule.sort, problems);
    if (sort) options.sort = sort;
  }
  const map: [string, keyof FindRule["options"]][] = [
    ["skip", "skip"],
    ["limit", "limit"],
    ["no_cursor_timeout", "noCursorTimeout"],
    ["allow_partial_results", "allowPartialResults"],
    ["batch_size", "batchSize"],
    ["return_key", "returnKey"],
    ["show_record_id", "showRecordId"],
    ["max_time_ms", "maxTimeMS"],
    ["allow_disk_use", "allowDiskUse"],
  ];
  for (const [from, to] of map) {
    if (rule[from] !== undefined) (options as Record<string, unknown>)[to] = rule[from];
  }
  return { kind: "find", filter, options };
}

function parseAggregate(rule: unknown, problems: string[]): AggregateRule | undefined {
  if (!isPlainObject(rule)) {
    problems.push('\'aggregate\' must be an object such as {"pipeline": [{"$match": {...}}]}');
    return undefined;
  }
  problems.push(...unknownKeys(rule, AGGREGATE_KEYS, "aggregate"));
  checkScalars(rule, "aggregate", problems);
  const pipeline: Document[] = [];
  if (!Array.isArray(rule.pipeline) || rule.pipeline.length === 0) {
    problems.push("'aggregate.pipeline' must be a non-empty list of stages");
  } else {
    rule.pipeline.forEach((stage, i) => {
      const keys = isPlainObject(stage) ? Object.keys(stage) : [];
      if (keys.length !== 1 || !keys[0]!.startsWith("$")) {
        problems.push(
          `'aggregate.pipeline[${i}]' must be an object with exactly one stage operator such as "$match"`,
        );
        return;
      }
      if (WRITING_STAGES.has(keys[0]!)) {
        problems.push(
          `'aggregate.pipeline[${i}]' uses ${
            keys[0]
          }, which writes to the database; sync rules may only read`,
        );
        return;
      }
      const converted = ejson(stage, `'aggregate.pipeline[${i}]'`, problems);
      if (converted) pipeline.push(converted as Document);
    });
  }
  const options: AggregateRule["options"] = {};
  if (rule.let !== undefined) {
    if (!isPlainObject(rule.let)) problems.push("'aggregate.let' must be an object");
    else options.let = ejson(rule.let, "'aggregate.let'", problems) as Document;
  }
  if (rule.allowDiskUse !== undefined) options.allowDiskUse = rule.allowDiskUse as boolean;
  if (rule.maxTimeMS !== undefined) options.maxTimeMS = rule.maxTimeMS as number;
  if (rule.batchSize !== undefined) options.batchSize = rule.batchSize as number;
  return { kind: "aggregate", pipeline, options };
}

/**
 * Validates an advanced-rules snippet and turns it into a driver call. Returns the rule (or
 * undefined for an empty snippet) and every problem found; the rule is only usable when
 * `problems` is empty.
 *
 * @example
 * ```ts
 * import { parseAdvancedRules } from "./_rules.ts";
 * const ok = parseAdvancedRules({ find: { filter: { kind: "a" }, projection: ["title"] } });
 * if (ok.problems.length || ok.rule?.kind !== "find") throw new Error();
 * const bad = parseAdvancedRules({ find: {}, aggregate: { pipeline: [] } });
 * if (bad.problems.length === 0) throw new Error();
 * ```
 */
export function parseAdvancedRules(
  snippet: unknown,
): { rule: MongoRule | undefined; problems: string[] } {
  if (isEmptySnippet(snippet)) return { rule: undefined, problems: [] };
  if (!isPlainObject(snippet)) {
    return {
      rule: undefined,
      problems: [
        `Advanced rules must be an object with either "find" or "aggregate", got ${
          Array.isArray(snippet) ? "a list" : JSON.stringify(snippet)
        }`,
      ],
    };
  }
  const problems: string[] = [];
  const keys = Object.keys(snippet);
  for (const key of keys) {
    if (key !== "find" && key !== "aggregate") {
      problems.push(`Unknown key '${key}' in advanced rules (expected "find" or "aggregate")`);
    }
  }
  const hasFind = "find" in snippet;
  const hasAggregate = "aggregate" in snippet;
  if (hasFind && hasAggregate) {
    problems.push(`Advanced rules may hold either "find" or "aggregate", not both`);
    return { rule: undefined, problems };
  }
  if (!hasFind && !hasAggregate) {
    problems.push(`Advanced rules must hold either "find" or "aggregate"`);
    return { rule: undefined, problems };
  }
  const rule = hasFind
    ? parseFind(snippet.find, problems)
    : parseAggregate(snippet.aggregate, problems);
  return { rule: problems.length === 0 ? rule : undefined, problems };
}
