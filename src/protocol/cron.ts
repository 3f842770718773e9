/**
 * Quartz cron expressions as Kibana stores them in a connector's `scheduling` (spec §4.4):
 * `seconds minutes hours day-of-month month day-of-week [year]`, evaluated in UTC at minute
 * granularity. As in Elastic's framework the seconds field is ignored and `?` means `*`.
 *
 * Supported: `*`, `?`, values, names (`JAN`-`DEC`, `SUN`-`SAT`), ranges (wrapping ranges such
 * as `FRI-MON` too), steps (`*\/5`, `10/15`, `1-30/2`), lists; in day-of-month `L`, `L-n`, `LW`
 * and `nW`; in day-of-week `L`, `nL` (last such weekday of the month) and `n#k` (k-th such
 * weekday). Day-of-week numbers are Quartz's: 1 = Sunday … 7 = Saturday. When both day fields
 * are restricted a day matches if either matches (classic cron, which Elastic's evaluator uses).
 *
 * @module
 */
import { FatalError } from "../errors/mod.ts";

/**
 * A cron expression that cannot be parsed or never fires. The message quotes the expression and
 * names the field at fault.
 *
 * @example
 * ```ts
 * import { CronError, parseCron } from "./cron.ts";
 * try {
 *   parseCron("0 61 * * * ?");
 *   throw new Error("expected a failure");
 * } catch (error) {
 *   if (!(error instanceof CronError) || !error.message.includes("minutes")) throw error;
 * }
 * ```
 */
export class CronError extends FatalError {
  /** The expression as given. */
  readonly expression: string;
  constructor(expression: string, problem: string) {
    super(`Invalid cron expression "${expression}": ${problem}`);
    this.expression = expression;
  }
}

/** A parsed expression that computes its next due minute. */
export interface CronSchedule {
  /** The expression as given. */
  readonly expression: string;
  /** The first due minute strictly after `after` (UTC); throws {@linkcode CronError} if none. */
  next(after: Date): Date;
}

const MONTH_NAMES = [
  "JAN",
  "FEB",
  "MAR",
  "APR",
  "MAY",
  "JUN",
  "JUL",
  "AUG",
  "SEP",
  "OCT",
  "NOV",
  "DEC",
];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
/** Quartz accepts years up to 2099; schedules are searched no further. */
const LAST_YEAR = 2099;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Offset of the first name (month names start at 1, Quartz day names at 1). */
  nameBase?: number;
}

const SECONDS: FieldSpec = { name: "seconds", min: 0, max: 59 };
const MINUTES: FieldSpec = { name: "minutes", min: 0, max: 59 };
const HOURS: FieldSpec = { name: "hours", min: 0, max: 23 };
const DAYS_OF_MONTH: FieldSpec = { name: "day-of-month", min: 1, max: 31 };
const MONTHS: FieldSpec = { name: "month", min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 };
const DAYS_OF_WEEK: FieldSpec = {
  name: "day-of-week",
  min: 1,
  max: 7,
  names: DAY_NAMES,
  nameBase: 1,
};
const YEARS: FieldSpec = { name: "year", min: 1970, max: LAST_YEAR };

/** Special day-of-month terms. */
type DomSpecial =
  | { kind: "last"; offset: number }
  | { kind: "lastWeekday" }
  | { kind: "nearestWeekday"; day: number };
/** Special day-of-week terms (weekday 0 = Sunday). */
type DowSpecial =
  | { kind: "lastOf"; weekday: number }
  | { kind: "nth"; weekday: number; nth: number };

interface ParsedField {
  /** Matching values; undefined when the field is `*` or `?`. */
  values?: Set<number>;
}

function parseNumber(text: string, spec: FieldSpec, expression: string): number {
  const upper = text.toUpperCase();
  if (spec.names) {
    const index = spec.names.indexOf(upper);
    if (index >= 0) return index + (spec.nameBase ?? 0);
  }
  if (!/^\d+$/.test(text)) {
    throw new CronError(expression, `${spec.name} has an invalid value "${text}"${hint(spec)}`);
  }
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new CronError(expression, `${spec.name} value ${value} is out of range${hint(spec)}`);
  }
  return value;
}

function hint(spec: FieldSpec): string {
  if (spec === DAYS_OF_WEEK) return " (use 1-7 where 1 = Sunday, or SUN-SAT)";
  if (spec === MONTHS) return " (use 1-12 or JAN-DEC)";
  return ` (use ${spec.min}-${spec.max})`;
}

/** Parses the common syntax (lists, ranges, steps) of one field into a value set. */
function parseField(text: string, spec: FieldSpec, expression: string): ParsedField {
  if (text === "*" || text === "?") return {};
  const values = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw new CronError(expression, `${spec.name} has an empty list item`);
    const [rangeText, stepText, extra] = item.split("/");
    if (extra !== undefined || rangeText === undefined || rangeText === "") {
      throw new CronError(expression, `${spec.name} has an invalid item "${item}"`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(
          expression,
          `${spec.name} has an invalid step "${stepText}" in "${item}"`,
        );
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === "*" || rangeText === "?") {
      from = spec.min;
      to = spec.max;
    } else if (rangeText.includes("-")) {
      const [a, b, more] = rangeText.split("-");
      if (more !== undefined || !a || !b) {
        throw new CronError(expression, `${spec.name} has an invalid range "${rangeText}"`);
      }
      from = parseNumber(a, spec, expression);
      to = parseNumber(b, spec, expression);
    } else {
      from = parseNumber(rangeText, spec, expression);
      // Quartz reads "a/n" as "from a to the end, every n".
      to = stepText === undefined ? from : spec.max;
    }
    // A range whose end is before its start wraps around (FRI-MON, 22-2).
    const span = to >= from ? to - from : to - from + (spec.max - spec.min + 1);
    for (let offset = 0; offset <= span; offset += step) {
      let value = from + offset;
      if (value > spec.max) value -= spec.max - spec.min + 1;
      values.add(value);
    }
  }
  return { values };
}

interface DayRules {
  dom: ParsedField;
  domSpecial: DomSpecial[];
  dow: ParsedField;
  dowSpecial: DowSpecial[];
}

function parseDayOfMonth(
  text: string,
  expression: string,
): { field: ParsedField; special: DomSpecial[] } {
  const special: DomSpecial[] = [];
  const plain: string[] = [];
  for (const item of text.toUpperCase().split(",")) {
    let match: RegExpMatchArray | null;
    if (item === "L") special.push({ kind: "last", offset: 0 });
    else if ((match = item.match(/^L-(\d+)$/))) {
      const offset = Number(match[1]);
      if (offset > 30) {
        throw new CronError(
          expression,
          `day-of-month offset in "${item}" is out of range (use L-0 to L-30)`,
        );
      }
      special.push({ kind: "last", offset });
    } else if (item === "LW" || item === "WL") special.push({ kind: "lastWeekday" });
    else if ((match = item.match(/^(\d+)W$/))) {
      special.push({
        kind: "nearestWeekday",
        day: parseNumber(match[1]!, DAYS_OF_MONTH, expression),
      });
    } else plain.push(item);
  }
  if (plain.length === 0) return { field: { values: new Set() }, special };
  const field = parseField(plain.join(","), DAYS_OF_MONTH, expression);
  if (!field.values && special.length > 0) {
    throw new CronError(expression, "day-of-month cannot mix * or ? with L or W");
  }
  return { field, special };
}

function parseDayOfWeek(
  text: string,
  expression: string,
): { field: ParsedField; special: DowSpecial[] } {
  const special: DowSpecial[] = [];
  const plain: string[] = [];
  for (const item of text.toUpperCase().split(",")) {
    let match: RegExpMatchArray | null;
    if (item === "L") plain.push("7"); // Alone in day-of-week, L is the last day: Saturday.
    else if ((match = item.match(/^([A-Z]+|\d+)L$/))) {
      special.push({
        kind: "lastOf",
        weekday: parseNumber(match[1]!, DAYS_OF_WEEK, expression) - 1,
      });
    } else if ((match = item.match(/^([A-Z]+|\d+)#(\d+)$/))) {
      const nth = Number(match[2]);
      if (nth < 1 || nth > 5) {
        throw new CronError(
          expression,
          `day-of-week "${item}": the occurrence after # must be 1-5`,
        );
      }
      special.push({
        kind: "nth",
        weekday: parseNumber(match[1]!, DAYS_OF_WEEK, expression) - 1,
        nth,
      });
    } else plain.push(item);
  }
  if (plain.length === 0) return { field: { values: new Set() }, special };
  const parsed = parseField(plain.join(","), DAYS_OF_WEEK, expression);
  if (!parsed.values) {
    if (special.length > 0) {
      throw new CronError(expression, "day-of-week cannot mix * or ? with L or #");
    }
    return { field: parsed, special };
  }
  // Quartz 1-7 (Sunday first) to JavaScript's getUTCDay() 0-6.
  return { field: { values: new Set([...parsed.values].map((v) => v - 1)) }, special };
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

function isWeekday(year: number, month0: number, day: number): boolean {
  const weekday = new Date(Date.UTC(year, month0, day)).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** The weekday nearest to `day` within the month (Quartz's `W`, never crossing months). */
function nearestWeekday(year: number, month0: number, day: number): number {
  const last = daysInMonth(year, month0);
  const target = Math.min(day, last);
  const weekday = new Date(Date.UTC(year, month0, target)).getUTCDay();
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function domMatches(rules: DayRules, year: number, month0: number, day: number): boolean {
  if (rules.dom.values?.has(day)) return true;
  const last = daysInMonth(year, month0);
  for (const special of rules.domSpecial) {
    if (special.kind === "last" && day === last - special.offset) return true;
    if (special.kind === "lastWeekday") {
      let candidate = last;
      while (!isWeekday(year, month0, candidate)) candidate--;
      if (day === candidate) return true;
    }
    if (special.kind === "nearestWeekday" && day === nearestWeekday(year, month0, special.day)) {
      return true;
    }
  }
  return false;
}

function dowMatches(rules: DayRules, year: number, month0: number, day: number): boolean {
  const weekday = new Date(Date.UTC(year, month0, day)).getUTCDay();
  if (rules.dow.values?.has(weekday)) return true;
  for (const special of rules.dowSpecial) {
    if (special.weekday !== weekday) continue;
    if (special.kind === "lastOf" && day + 7 > daysInMonth(year, month0)) return true;
    if (special.kind === "nth" && Math.ceil(day / 7) === special.nth) return true;
  }
  return false;
}

function dayMatches(rules: DayRules, year: number, month0: number, day: number): boolean {
  const domAny = rules.dom.values === undefined;
  const dowAny = rules.dow.values === undefined;
  if (domAny && dowAny) return true;
  if (domAny) return dowMatches(rules, year, month0, day);
  if (dowAny) return domMatches(rules, year, month0, day);
  return domMatches(rules, year, month0, day) || dowMatches(rules, year, month0, day);
}

function sortedValues(field: ParsedField, spec: FieldSpec): number[] {
  if (!field.values) {
    return Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min + i);
  }
  return [...field.values].sort((a, b) => a - b);
}

/**
 * Parses a Quartz cron expression; throws {@linkcode CronError} naming the field at fault.
 *
 * @example
 * ```ts
 * import { parseCron } from "./cron.ts";
 * const daily = parseCron("0 0 0 * * ?");
 * const next = daily.next(new Date("2024-05-01T10:30:00Z"));
 * if (next.toISOString() !== "2024-05-02T00:00:00.000Z") throw new Error(next.toISOString());
 * ```
 */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== "string" || expression.trim() === "") {
    throw new CronError(String(expression ?? ""), "it is empty");
  }
  const fields = expression.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 7) {
    throw new CronError(
      expression,
      `expected 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), got ${fields.length}`,
    );
  }
  // The seconds field is ignored, as in Elastic's framework, but a typo in it is still refused.
  parseField(fields[0]!, SECONDS, expression);
  const [, minuteText, hourText, domText, monthText, dowText, yearText] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const minutes = sortedValues(parseField(minuteText, MINUTES, expression), MINUTES);
  const hours = sortedValues(parseField(hourText, HOURS, expression), HOURS);
  const months = parseField(monthText, MONTHS, expression);
  const years = yearText === undefined ? {} : parseField(yearText, YEARS, expression);
  const dom = parseDayOfMonth(domText, expression);
  const dow = parseDayOfWeek(dowText, expression);
  const rules: DayRules = {
    dom: dom.field,
    domSpecial: dom.special,
    dow: dow.field,
    dowSpecial: dow.special,
  };
  const lastYear = years.values ? Math.max(...years.values) : LAST_YEAR;

  const next = (after: Date): Date => {
    if (Number.isNaN(after.getTime())) throw new RangeError("next() needs a valid date");
    // Strictly after: the minute following the one `after` falls in.
    const start = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    let day = Math.floor(start / DAY_MS) * DAY_MS;
    for (;;) {
      const date = new Date(day);
      const year = date.getUTCFullYear();
      const month0 = date.getUTCMonth();
      if (year > lastYear) break;
      if (
        (years.values && !years.values.has(year)) ||
        (months.values && !months.values.has(month0 + 1))
      ) {
        day = Date.UTC(year, month0 + 1, 1); // Skip to the first day of the next month.
        continue;
      }
      if (dayMatches(rules, year, month0, date.getUTCDate())) {
        const floor = day === Math.floor(start / DAY_MS) * DAY_MS ? start - day : 0;
        for (const hour of hours) {
          for (const minute of minutes) {
            const offset = hour * 3_600_000 + minute * MINUTE_MS;
            if (offset >= floor) return new Date(day + offset);
          }
        }
      }
      day += DAY_MS;
    }
    throw new CronError(expression, `it never fires after ${after.toISOString()}`);
  };
  return { expression, next };
}

/**
 * The first due minute of `expression` strictly after `after` (UTC).
 *
 * @example
 * ```ts
 * import { nextRun } from "./cron.ts";
 * // Quartz day-of-week 2 is Monday; 2024-05-01 is a Wednesday.
 * const next = nextRun("0 30 9 ? * 2", new Date("2024-05-01T00:00:00Z"));
 * if (next.toISOString() !== "2024-05-06T09:30:00.000Z") throw new Error(next.toISOString());
 * ```
 */
export function nextRun(expression: string, after: Date): Date {
  return parseCron(expression).next(after);
}
