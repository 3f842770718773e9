/**
 * Basic sync rules (spec §5.7): which yielded documents the framework indexes, and the validation
 * of a rule set as Kibana shows it (`draft.validation`).
 *
 * Matching follows Elastic's `BasicRuleEngine`: rules sorted by `order`, the `DEFAULT` rule
 * ignored, the first matching rule decides, no match means include. The rule value is coerced to
 * the type of the document's value; string rules compare Python's `str()` of the value.
 *
 * @module
 */
import type { BasicRule, DataSource, Filtering } from "../source/types.ts";

/** Id of the catch-all rule Kibana seeds; never applied, never validated. */
export const DEFAULT_RULE_ID = "DEFAULT";
/** Regexes that match everything, refused in user rules. */
export const MATCH_ALL_REGEXPS: readonly string[] = [".*", "(.*)"];
/** Error id under which advanced-rules problems are reported. */
export const ADVANCED_RULES_ID = "advanced_snippet";

/** The operators of a basic rule, lower case. */
export const RULE_OPERATORS = [
  "equals",
  "contains",
  "starts_with",
  "ends_with",
  "regex",
  "<",
  ">",
] as const;
/** One of {@linkcode RULE_OPERATORS}. */
export type RuleOperator = typeof RULE_OPERATORS[number];

const BOOL_TRUE = /^(true|t|yes|y|on)$/i;
const BOOL_FALSE = /^(false|f|no|n|off)$/i;

/** A rule ready to match: operator and policy normalised, regex compiled once. */
interface CompiledRule {
  id: string;
  include: boolean;
  field: string;
  operator: RuleOperator;
  value: string;
  regex?: RegExp | null;
}

/** Python's `float(str)`: the number, or undefined when it is not one. */
function toFloat(value: string): number | undefined {
  const text = value.trim();
  if (text === "") return undefined;
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const n = Number(text.replaceAll("_", ""));
  return Number.isNaN(n) ? undefined : n;
}

/** The rule value as a boolean, or undefined when it names none (empty string is false). */
function toBool(value: string): boolean | undefined {
  if (value.length === 0 || BOOL_FALSE.test(value)) return false;
  if (BOOL_TRUE.test(value)) return true;
  return undefined;
}

/** The rule value as a date (date-only values at midnight UTC), or undefined. */
function toDate(value: string): Date | undefined {
  const time = Date.parse(value.trim());
  return Number.isNaN(time) ? undefined : new Date(time);
}

function pyQuote(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r")
    .replaceAll("\t", "\\t");
  return quote + (quote === "'" ? escaped.replaceAll("'", "\\'") : escaped) + quote;
}

function pyRepr(value: unknown): string {
  return typeof value === "string" ? pyQuote(value) : pyStr(value);
}

/**
 * Python's `str()` of a JSON-like value, which the string operators of Elastic's engine compare
 * against (`None`, `True`, `['a', 'b']`, `{'k': 1}`).
 *
 * @example
 * ```ts
 * import { pyStr } from "./sync_rules.ts";
 * if (pyStr(["a", 1, true, null]) !== "['a', 1, True, None]") throw new Error(pyStr(["a"]));
 * ```
 */
export function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    return `{${
      Object.entries(value as Record<string, unknown>).map(([k, v]) =>
        `${pyQuote(k)}: ${pyRepr(v)}`
      )
        .join(", ")
    }}`;
  }
  return String(value);
}

function compileRule(rule: BasicRule): CompiledRule {
  const operator = String(rule.rule).toLowerCase() as RuleOperator;
  return {
    id: String(rule.id),
    include: String(rule.policy).toLowerCase() === "include",
    field: String(rule.field),
    operator,
    value: String(rule.value ?? ""),
  };
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  return undefined;
}

/** The rule value coerced to the type of `docValue`, as Elastic's engine does. */
function coerce(rule: CompiledRule, docValue: unknown): unknown {
  if (typeof docValue === "string") return rule.value;
  if (typeof docValue === "boolean") return toBool(rule.value) ?? rule.value;
  if (typeof docValue === "number" || typeof docValue === "bigint") {
    return toFloat(rule.value) ?? rule.value;
  }
  if (docValue instanceof Date) return toDate(rule.value) ?? rule.value;
  return rule.value;
}

function matches(rule: CompiledRule, doc: Record<string, unknown>): boolean {
  let docValue = doc[rule.field];
  if (docValue === undefined || !Object.hasOwn(doc, rule.field)) return false;
  if (typeof docValue === "bigint") docValue = Number(docValue);
  switch (rule.operator) {
    case "starts_with":
      return pyStr(docValue).startsWith(rule.value);
    case "ends_with":
      return pyStr(docValue).endsWith(rule.value);
    case "contains":
      return pyStr(docValue).includes(rule.value);
    case "regex": {
      if (rule.regex === undefined) {
        try {
          rule.regex = new RegExp(rule.value, "y");
        } catch {
          rule.regex = null; // an invalid regex matches nothing (validation reports it)
        }
      }
      if (rule.regex === null) return false;
      rule.regex.lastIndex = 0;
      return rule.regex.test(pyStr(docValue));
    }
    case "<":
    case ">": {
      const order = compare(docValue, coerce(rule, docValue));
      if (order === undefined || Number.isNaN(order)) return false;
      return rule.operator === "<" ? order < 0 : order > 0;
    }
    case "equals": {
      const ruleValue = coerce(rule, docValue);
      if (docValue instanceof Date && ruleValue instanceof Date) {
        return docValue.getTime() === ruleValue.getTime();
      }
      return docValue === ruleValue;
    }
    default:
      return false;
  }
}

/**
 * Decides which documents a sync indexes from the filtering's basic rules.
 *
 * @example
 * ```ts
 * import { SyncRulesEngine } from "./sync_rules.ts";
 * const engine = new SyncRulesEngine([
 *   { id: "1", policy: "exclude", field: "type", rule: "equals", value: "draft", order: 1 },
 *   { id: "2", policy: "include", field: "size", rule: ">", value: "10", order: 2 },
 *   { id: "DEFAULT", policy: "include", field: "_", rule: "regex", value: ".*", order: 0 },
 * ]);
 * if (engine.shouldIngest({ type: "draft", size: 99 })) throw new Error("excluded by rule 1");
 * if (!engine.shouldIngest({ type: "post", size: 11 })) throw new Error("included by rule 2");
 * if (!engine.shouldIngest({ title: "x" })) throw new Error("no match: included");
 * ```
 */
export class SyncRulesEngine {
  readonly #rules: CompiledRule[];
  /** Documents matched per rule id (`DEFAULT` = no rule matched). */
  readonly matchCounts = new Map<string, number>();

  constructor(rules: readonly BasicRule[] | null | undefined) {
    this.#rules = [...(rules ?? [])]
      .filter((rule) => rule && String(rule.id) !== DEFAULT_RULE_ID)
      .sort((a, b) => Number(a.order) - Number(b.order))
      .map(compileRule);
  }

  /** True when no rule is active (every document is indexed). */
  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** True when the document should be indexed. */
  shouldIngest(doc: Record<string, unknown>): boolean {
    for (const rule of this.#rules) {
      if (matches(rule, doc)) {
        this.matchCounts.set(rule.id, (this.matchCounts.get(rule.id) ?? 0) + 1);
        return rule.include;
      }
    }
    this.matchCounts.set(DEFAULT_RULE_ID, (this.matchCounts.get(DEFAULT_RULE_ID) ?? 0) + 1);
    return true;
  }
}

/** One validation problem as Kibana reads it from `filtering[].draft.validation.errors`. */
export interface FilteringValidationError {
  ids: string[];
  messages: string[];
}

/** A filtering validation result, written to `draft.validation`. */
export interface FilteringValidation {
  state: "valid" | "invalid";
  errors: FilteringValidationError[];
}

const RULE_KEYS = ["id", "policy", "field", "rule", "value", "order"] as const;

/** Schema problems of one raw rule (all six keys, non-empty strings, numeric order). */
function schemaProblems(rule: Record<string, unknown>): string[] {
  const missing = RULE_KEYS.filter((key) => !Object.hasOwn(rule, key));
  if (missing.length > 0) {
    return [`data must contain ['${RULE_KEYS.join("', '")}'] properties`];
  }
  const problems: string[] = [];
  for (const key of ["id", "field", "value"] as const) {
    const v = rule[key];
    if (typeof v !== "string") problems.push(`data.${key} must be string`);
    else if (v.length < 1) {
      problems.push(`data.${key} must be longer than or equal to 1 characters`);
    }
  }
  if (typeof rule.order !== "number" || !Number.isFinite(rule.order)) {
    problems.push("data.order must be number");
  }
  if (
    typeof rule.policy !== "string" || !["include", "exclude"].includes(rule.policy.toLowerCase())
  ) {
    problems.push(
      `'${
        String(rule.policy)
      }' is an unknown value for the enum Policy. Allowed policies: ['include', 'exclude']`,
    );
  }
  if (
    typeof rule.rule !== "string" ||
    !(RULE_OPERATORS as readonly string[]).includes(rule.rule.toLowerCase())
  ) {
    problems.push(
      `'${String(rule.rule)}' is an unknown value for the enum Rule. Allowed rules: ['${
        RULE_OPERATORS.join("', '")
      }'].`,
    );
  }
  return problems;
}

function isEmptySnippet(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value).length === 0;
  return false;
}

/**
 * Validates a filtering object (spec §5.7): every basic rule against the schema, no match-all
 * regex outside the `DEFAULT` rule, no two rules with the same field, operator and value (both
 * flagged), and the advanced snippet through `source.validateAdvancedRules` when it is not empty.
 *
 * @example
 * ```ts
 * import { validateFiltering } from "./sync_rules.ts";
 * const source = { ping: async () => {}, getDocs: async function* () {} };
 * const rule = { id: "r1", policy: "include", field: "a", rule: "regex", value: ".*", order: 1 } as const;
 * const result = await validateFiltering({ rules: [rule], advanced_snippet: {} }, source);
 * if (result.state !== "invalid" || result.errors[0]?.ids[0] !== "r1") throw new Error();
 * ```
 */
export async function validateFiltering(
  filtering: Filtering,
  source: DataSource,
): Promise<FilteringValidation> {
  const errors: FilteringValidationError[] = [];
  const rawRules = Array.isArray(filtering?.rules) ? filtering.rules : [];
  const seen = new Map<string, string>();
  for (const raw of rawRules as unknown[]) {
    if (typeof raw !== "object" || raw === null) {
      errors.push({ ids: [], messages: ["data must be object"] });
      continue;
    }
    const rule = raw as Record<string, unknown>;
    const id = typeof rule.id === "string" ? rule.id : String(rule.id ?? "");
    const problems = schemaProblems(rule);
    if (problems.length > 0) {
      errors.push({ ids: [id], messages: problems });
      continue;
    }
    if (
      id !== DEFAULT_RULE_ID && String(rule.rule).toLowerCase() === "regex" &&
      MATCH_ALL_REGEXPS.includes(String(rule.value))
    ) {
      errors.push({
        ids: [id],
        messages: [`Match all regexps: '['${MATCH_ALL_REGEXPS.join("', '")}']' are not allowed.`],
      });
    } else if (String(rule.rule).toLowerCase() === "regex") {
      try {
        new RegExp(String(rule.value));
      } catch (error) {
        errors.push({
          ids: [id],
          messages: [`Invalid regex '${rule.value}': ${(error as Error).message}`],
        });
      }
    }
    const key = JSON.stringify([rule.field, String(rule.rule).toLowerCase(), rule.value]);
    const twin = seen.get(key);
    if (twin !== undefined) {
      const message = (a: string, b: string) =>
        `Rule with id '${a}' is semantically equal to rule with id '${b}'`;
      errors.push({ ids: [id], messages: [message(id, twin)] });
      errors.push({ ids: [twin], messages: [message(twin, id)] });
    } else {
      seen.set(key, id);
    }
  }
  const snippet = filtering?.advanced_snippet?.value;
  if (!isEmptySnippet(snippet) && source.validateAdvancedRules) {
    const problems = await source.validateAdvancedRules(snippet);
    if (problems.length > 0) {
      errors.push({ ids: [ADVANCED_RULES_ID], messages: problems.map((p) => p.message) });
    }
  }
  return { state: errors.length > 0 ? "invalid" : "valid", errors };
}
