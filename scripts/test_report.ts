/**
 * Counting the results of a `deno test` run, from its JUnit report and its closing summary line.
 *
 * @module
 */

/** Top-level test results (steps are not counted on their own). */
export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** The numbers in `deno test`'s closing line: `FAILED | 2 passed (1 step) | 3 failed | 1 ignored`. */
export interface DenoSummary {
  passed: number;
  failed: number;
  ignored: number;
  filteredOut: number;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * Removes ANSI colour and cursor sequences.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stripAnsi } from "./test_report.ts";
 * assert.equal(stripAnsi("\x1b[1m\x1b[31mFAILED\x1b[0m | 2 passed"), "FAILED | 2 passed");
 * ```
 */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    switch (e) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(
          e.startsWith("#x") ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10),
        );
    }
  });
}

function attribute(attrs: string, name: string): string {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(attrs);
  return m?.[1] === undefined ? "" : decodeXml(m[1]);
}

interface JunitCase {
  name: string;
  classname: string;
  failed: boolean;
  skipped: boolean;
}

/**
 * The `<testcase>` elements of a JUnit report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { junitCases } from "./test_report.ts";
 * const xml = `<testsuite name="./a_test.ts">
 *   <testcase name="adds" classname="./a_test.ts"/>
 *   <testcase name="a &amp; b" classname="./a_test.ts"><failure message="x">x</failure></testcase>
 * </testsuite>`;
 * assert.deepEqual(junitCases(xml), [
 *   { name: "adds", classname: "./a_test.ts", failed: false, skipped: false },
 *   { name: "a & b", classname: "./a_test.ts", failed: true, skipped: false },
 * ]);
 * ```
 */
export function junitCases(xml: string): JunitCase[] {
  const cases: JunitCase[] = [];
  const re = /<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const attrs = m[1] ?? "";
    const body = m[2] ?? "";
    cases.push({
      name: attribute(attrs, "name"),
      classname: attribute(attrs, "classname"),
      failed: /<(failure|error)\b/.test(body),
      skipped: /<skipped\b/.test(body),
    });
  }
  return cases;
}

/**
 * Counts the top-level tests of a JUnit report written by `deno test --junit-path`. Deno writes
 * test steps as test cases named `parent > step`: those are left out, as deno's own summary
 * does (a failing step fails its parent, which is counted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countJunit } from "./test_report.ts";
 * const xml = `<testsuites><testsuite name="./a_test.ts">
 *   <testcase name="steps" classname="./a_test.ts"><failure message="1 step failed"/></testcase>
 *   <testcase name="steps &gt; one" classname="./a_test.ts"><failure message="boom"/></testcase>
 *   <testcase name="plain" classname="./a_test.ts"/>
 *   <testcase name="later" classname="./a_test.ts"><skipped/></testcase>
 * </testsuite></testsuites>`;
 * assert.deepEqual(countJunit(xml), { passed: 1, failed: 1, skipped: 1 });
 * ```
 */
export function countJunit(xml: string): TestCounts {
  const cases = junitCases(xml);
  const names = new Map<string, Set<string>>();
  for (const c of cases) {
    const set = names.get(c.classname) ?? new Set<string>();
    set.add(c.name);
    names.set(c.classname, set);
  }
  const counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) {
    const siblings = names.get(c.classname) ?? new Set<string>();
    let isStep = false;
    for (let i = c.name.indexOf(" > "); i > 0; i = c.name.indexOf(" > ", i + 1)) {
      if (siblings.has(c.name.slice(0, i))) {
        isStep = true;
        break;
      }
    }
    if (isStep) continue;
    if (c.failed) counts.failed++;
    else if (c.skipped) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

/**
 * The last closing summary line of `deno test` output (colours allowed), or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDenoSummary } from "./test_report.ts";
 * const output = "running 3 tests\n" +
 *   "FAILED | 2 passed (1 step) | 1 failed | 4 filtered out (12ms)\n";
 * assert.deepEqual(parseDenoSummary(output), { passed: 2, failed: 1, ignored: 0, filteredOut: 4 });
 * assert.equal(parseDenoSummary("error: Type checking failed."), undefined);
 * ```
 */
export function parseDenoSummary(output: string): DenoSummary | undefined {
  let found: DenoSummary | undefined;
  for (const raw of stripAnsi(output).split("\n")) {
    const line = raw.trim();
    if (!/^(ok|FAILED) \| \d+ passed/.test(line)) continue;
    const summary: DenoSummary = { passed: 0, failed: 0, ignored: 0, filteredOut: 0 };
    for (const part of line.split(" | ").slice(1)) {
      const m = /^(\d+) (passed|failed|ignored|filtered out)\b/.exec(part);
      if (!m) continue;
      const n = Number(m[1]);
      if (m[2] === "passed") summary.passed = n;
      else if (m[2] === "failed") summary.failed = n;
      else if (m[2] === "ignored") summary.ignored = n;
      else summary.filteredOut = n;
    }
    found = summary;
  }
  return found;
}

/** The outcome of a run: the counts, and whether the run broke outside any test. */
export interface RunOutcome extends TestCounts {
  /** Set when the counts had to be adjusted: a failure outside the tests, or nothing ran. */
  problem: string | undefined;
}

/**
 * Combines the JUnit counts (precise, but blind to modules that failed to load) with deno's
 * summary line (which counts those) and the exit code (a type-check error leaves neither).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { combineResults } from "./test_report.ts";
 * const junit = { passed: 4, failed: 0, skipped: 1 };
 * const summary = { passed: 4, failed: 1, ignored: 1, filteredOut: 0 };
 * assert.deepEqual(combineResults(junit, summary, 1), {
 *   passed: 4, failed: 1, skipped: 1, problem: "1 test module(s) failed outside any test",
 * });
 * assert.equal(combineResults(undefined, undefined, 1).failed, 1); // e.g. a type-check error
 * ```
 */
export function combineResults(
  junit: TestCounts | undefined,
  summary: DenoSummary | undefined,
  exitCode: number,
): RunOutcome {
  const passed = junit?.passed ?? summary?.passed ?? 0;
  // deno's JUnit report marks tests left out by --filter as skipped too; its summary does not
  const skipped = summary?.ignored ?? junit?.skipped ?? 0;
  let failed = Math.max(junit?.failed ?? 0, summary?.failed ?? 0);
  let problem: string | undefined;
  if (exitCode !== 0 && failed === 0) {
    failed = 1;
    problem = junit || summary
      ? `deno test exited with code ${exitCode} although no test failed`
      : `deno test exited with code ${exitCode} before running tests`;
  } else if (junit && summary && summary.failed > junit.failed) {
    problem = `${summary.failed - junit.failed} test module(s) failed outside any test`;
  } else if (passed === 0 && failed === 0) {
    problem = "no test ran";
  }
  return { passed, failed, skipped, problem };
}

/**
 * The closing line: `N passed, N failed, N skipped`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCounts } from "./test_report.ts";
 * const line = formatCounts({ passed: 12, failed: 1, skipped: 2 });
 * assert.equal(line, "12 passed, 1 failed, 2 skipped");
 * ```
 */
export function formatCounts(c: TestCounts): string {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
}

/**
 * The counts of several `deno test` runs added up (the runner's phases).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addCounts, formatCounts } from "./test_report.ts";
 * const main = { passed: 900, failed: 1, skipped: 2 };
 * const es8 = { passed: 120, failed: 0, skipped: 1 };
 * assert.equal(formatCounts(addCounts(main, es8)), "1020 passed, 1 failed, 3 skipped");
 * ```
 */
export function addCounts(...runs: readonly TestCounts[]): TestCounts {
  const total: TestCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const run of runs) {
    total.passed += run.passed;
    total.failed += run.failed;
    total.skipped += run.skipped;
  }
  return total;
}
