import assert from "node:assert/strict";
import {
  addCounts,
  combineResults,
  countJunit,
  formatCounts,
  parseDenoSummary,
  stripAnsi,
} from "./test_report.ts";

const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="9" failures="4" errors="0" time="0.393">
    <testsuite name="./a/mod_test.ts" tests="6" disabled="1" errors="0" failures="2">
        <testcase name="add" classname="./a/mod_test.ts" time="0.001" line="2" col="6">
        </testcase>
        <testcase name="ign" classname="./a/mod_test.ts" time="0.000" line="3" col="6">
            <skipped/>
        </testcase>
        <testcase name="steps" classname="./a/mod_test.ts" time="0.002" line="4" col="6">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="steps &gt; s1" classname="./a/mod_test.ts" time="0.000" line="4" col="43">
        </testcase>
        <testcase name="steps &gt; s2" classname="./a/mod_test.ts" time="0.001" line="4" col="73">
            <failure message="Uncaught Error: x">Error: x &lt;boom&gt;</failure>
        </testcase>
        <testcase name="a &gt; b" classname="./a/mod_test.ts" time="0.001" line="9" col="6">
        </testcase>
    </testsuite>
    <testsuite name="./t/x_test.ts" tests="1" disabled="0" errors="0" failures="1">
        <testcase name="fails" classname="./t/x_test.ts" time="0.001" line="6" col="6">
            <failure message="Uncaught Error: boom">Error: boom</failure>
        </testcase>
        <testcase name="self closing" classname="./t/x_test.ts" time="0.001"/>
    </testsuite>
    <testsuite name="./a/mod.ts#3-7.ts" tests="1" disabled="0" errors="0" failures="0">
        <testcase name="file:///tmp/dt/a/mod.ts#3-7.ts" classname="./a/mod.ts#3-7.ts" time="0.001">
        </testcase>
    </testsuite>
</testsuites>`;

Deno.test("countJunit: top-level tests only; steps left out; skipped and failed counted", () => {
  // add, "a > b" (no test named "a"), self closing, the doc test pass; steps and fails fail
  assert.deepEqual(countJunit(JUNIT), { passed: 4, failed: 2, skipped: 1 });
});

Deno.test("countJunit: an empty report counts nothing", () => {
  assert.deepEqual(countJunit('<testsuites name="deno test" tests="0"></testsuites>'), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
});

Deno.test("parseDenoSummary: reads the last closing line, with colours and steps", () => {
  const out = "\x1b[0m\x1b[31mFAILED\x1b[0m | 2 passed (1 step) | 3 failed (1 step) | " +
    "1 ignored \x1b[0m\x1b[38;5;245m(392ms)\x1b[0m\n";
  assert.deepEqual(parseDenoSummary(`noise\nok | 9 passed | 0 failed (1s)\n${out}`), {
    passed: 2,
    failed: 3,
    ignored: 1,
    filteredOut: 0,
  });
  assert.deepEqual(parseDenoSummary("ok | 5 passed | 0 failed | 4 filtered out (3ms)"), {
    passed: 5,
    failed: 0,
    ignored: 0,
    filteredOut: 4,
  });
  assert.equal(parseDenoSummary("error: Type checking failed."), undefined);
});

Deno.test("stripAnsi removes colour codes", () => {
  assert.equal(stripAnsi("\x1b[1m\x1b[31mred\x1b[0m"), "red");
});

Deno.test("combineResults: junit counts, plus module failures from the summary", () => {
  const junit = { passed: 4, failed: 1, skipped: 1 };
  assert.deepEqual(combineResults(junit, { passed: 4, failed: 1, ignored: 1, filteredOut: 0 }, 1), {
    passed: 4,
    failed: 1,
    skipped: 1,
    problem: undefined,
  });
  const broken = combineResults(junit, { passed: 4, failed: 2, ignored: 1, filteredOut: 0 }, 1);
  assert.equal(broken.failed, 2);
  assert.match(broken.problem ?? "", /1 test module\(s\) failed outside any test/);
});

Deno.test("combineResults: tests filtered out are not skipped", () => {
  const r = combineResults(
    { passed: 1, failed: 0, skipped: 325 },
    { passed: 1, failed: 0, ignored: 1, filteredOut: 324 },
    0,
  );
  assert.deepEqual([r.passed, r.failed, r.skipped], [1, 0, 1]);
});

Deno.test("combineResults: a run that broke before any test counts one failure", () => {
  const r = combineResults(undefined, undefined, 1);
  assert.deepEqual([r.passed, r.failed, r.skipped], [0, 1, 0]);
  assert.match(r.problem ?? "", /before running tests/);
  const none = combineResults({ passed: 0, failed: 0, skipped: 0 }, undefined, 0);
  assert.equal(none.problem, "no test ran");
});

Deno.test("formatCounts: the plain closing line", () => {
  assert.equal(formatCounts({ passed: 3, failed: 0, skipped: 2 }), "3 passed, 0 failed, 2 skipped");
});

Deno.test("addCounts: the phases of a run add up into one closing line", () => {
  const main = { passed: 10, failed: 1, skipped: 2 };
  const es8 = { passed: 5, failed: 0, skipped: 1 };
  assert.deepEqual(addCounts(main, es8), { passed: 15, failed: 1, skipped: 3 });
  assert.deepEqual(addCounts(), { passed: 0, failed: 0, skipped: 0 });
  assert.equal(formatCounts(addCounts(main)), "10 passed, 1 failed, 2 skipped");
});
