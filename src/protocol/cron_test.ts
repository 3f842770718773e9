import assert from "node:assert/strict";
import { CronError, nextRun, parseCron } from "./cron.ts";

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string) => nextRun(expression, at(after)).toISOString();

Deno.test("cron: Kibana's default schedule runs daily at midnight UTC", () => {
  assert.equal(next("0 0 0 * * ?", "2024-05-01T10:30:00Z"), "2024-05-02T00:00:00.000Z");
  assert.equal(next("0 0 0 * * ?", "2024-12-31T23:59:59Z"), "2025-01-01T00:00:00.000Z");
});

Deno.test("cron: the next run is strictly after the given time", () => {
  assert.equal(next("0 0 0 * * ?", "2024-05-02T00:00:00Z"), "2024-05-03T00:00:00.000Z");
  assert.equal(next("* * * * * ?", "2024-05-02T00:00:00Z"), "2024-05-02T00:01:00.000Z");
  assert.equal(next("* * * * * ?", "2024-05-02T00:00:59.999Z"), "2024-05-02T00:01:00.000Z");
});

Deno.test("cron: the seconds field is ignored, as Elastic does, but a typo in it is refused", () => {
  assert.equal(next("30 * * * * ?", "2024-05-02T00:00:10Z"), "2024-05-02T00:01:00.000Z");
  assert.equal(next("0/10 5 * * * ?", "2024-05-02T00:00:00Z"), "2024-05-02T00:05:00.000Z");
  for (const bad of ["garbage 5 * * * ?", "61 * * * * ?", "60 * * * * ?"]) {
    assert.throws(
      () => parseCron(bad),
      /seconds (has an invalid value|value \d+ is out of range)/,
      bad,
    );
  }
});

Deno.test("cron: steps, ranges and lists", () => {
  assert.equal(next("0 */15 * * * ?", "2024-05-02T10:16:00Z"), "2024-05-02T10:30:00.000Z");
  assert.equal(next("0 10/20 * * * ?", "2024-05-02T10:31:00Z"), "2024-05-02T10:50:00.000Z");
  assert.equal(next("0 10/20 * * * ?", "2024-05-02T10:51:00Z"), "2024-05-02T11:10:00.000Z");
  assert.equal(next("0 0 9-17/4 * * ?", "2024-05-02T10:00:00Z"), "2024-05-02T13:00:00.000Z");
  assert.equal(next("0 5,35 1,13 * * ?", "2024-05-02T01:06:00Z"), "2024-05-02T01:35:00.000Z");
  assert.equal(next("0 5,35 1,13 * * ?", "2024-05-02T01:36:00Z"), "2024-05-02T13:05:00.000Z");
});

Deno.test("cron: wrapping ranges", () => {
  assert.equal(next("0 0 22-2 * * ?", "2024-05-02T03:00:00Z"), "2024-05-02T22:00:00.000Z");
  assert.equal(next("0 0 22-2 * * ?", "2024-05-02T23:30:00Z"), "2024-05-03T00:00:00.000Z");
  // FRI-MON: Friday through Monday. 2024-05-01 is a Wednesday.
  assert.equal(next("0 0 12 ? * FRI-MON", "2024-05-01T00:00:00Z"), "2024-05-03T12:00:00.000Z");
  assert.equal(next("0 0 12 ? * FRI-MON", "2024-05-06T13:00:00Z"), "2024-05-10T12:00:00.000Z");
});

Deno.test("cron: Quartz day-of-week numbering, 1 = Sunday", () => {
  // 2024-05-01 is a Wednesday.
  assert.equal(next("0 0 8 ? * 1", "2024-05-01T00:00:00Z"), "2024-05-05T08:00:00.000Z");
  assert.equal(next("0 0 8 ? * SUN", "2024-05-01T00:00:00Z"), "2024-05-05T08:00:00.000Z");
  assert.equal(next("0 0 8 ? * 2", "2024-05-01T00:00:00Z"), "2024-05-06T08:00:00.000Z");
  assert.equal(next("0 0 8 ? * 7", "2024-05-01T00:00:00Z"), "2024-05-04T08:00:00.000Z");
  assert.equal(next("0 0 8 ? * sat", "2024-05-01T00:00:00Z"), "2024-05-04T08:00:00.000Z");
  // Weekdays, Quartz style.
  assert.equal(next("0 0 8 ? * 2-6", "2024-05-03T09:00:00Z"), "2024-05-06T08:00:00.000Z");
  assert.equal(next("0 0 8 ? * MON-FRI", "2024-05-03T09:00:00Z"), "2024-05-06T08:00:00.000Z");
});

Deno.test("cron: months by number and name, years", () => {
  assert.equal(next("0 0 0 1 JAN ?", "2024-05-01T00:00:00Z"), "2025-01-01T00:00:00.000Z");
  assert.equal(next("0 0 0 1 1,7 ?", "2024-05-01T00:00:00Z"), "2024-07-01T00:00:00.000Z");
  assert.equal(next("0 0 0 1 1 ? 2030", "2024-05-01T00:00:00Z"), "2030-01-01T00:00:00.000Z");
  assert.equal(next("0 0 0 29 2 ?", "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
});

Deno.test("cron: L, L-n, LW and nW in day-of-month", () => {
  assert.equal(next("0 0 0 L * ?", "2024-02-10T00:00:00Z"), "2024-02-29T00:00:00.000Z");
  assert.equal(next("0 0 0 L * ?", "2023-02-10T00:00:00Z"), "2023-02-28T00:00:00.000Z");
  assert.equal(next("0 0 0 L-2 * ?", "2024-04-01T00:00:00Z"), "2024-04-28T00:00:00.000Z");
  // 2024-08-31 is a Saturday: the last weekday is Friday the 30th.
  assert.equal(next("0 0 0 LW * ?", "2024-08-01T00:00:00Z"), "2024-08-30T00:00:00.000Z");
  // 2024-06-15 is a Saturday: nearest weekday is Friday the 14th.
  assert.equal(next("0 0 0 15W * ?", "2024-06-01T00:00:00Z"), "2024-06-14T00:00:00.000Z");
  // 2024-06-01 is a Saturday: 1W moves forward to Monday the 3rd, not into May.
  assert.equal(next("0 0 0 1W * ?", "2024-05-31T12:00:00Z"), "2024-06-03T00:00:00.000Z");
  // 2024-06-16 is a Sunday: 16W is Monday the 17th.
  assert.equal(next("0 0 0 16W * ?", "2024-06-01T00:00:00Z"), "2024-06-17T00:00:00.000Z");
});

Deno.test("cron: nL and n#k in day-of-week", () => {
  // Last Friday (6L) of May 2024 is the 31st.
  assert.equal(next("0 0 0 ? * 6L", "2024-05-01T00:00:00Z"), "2024-05-31T00:00:00.000Z");
  // Second Monday (2#2) of May 2024 is the 13th.
  assert.equal(next("0 0 0 ? * 2#2", "2024-05-01T00:00:00Z"), "2024-05-13T00:00:00.000Z");
  assert.equal(next("0 0 0 ? * MON#1", "2024-05-07T00:00:00Z"), "2024-06-03T00:00:00.000Z");
  // L alone is the last day of the week: Saturday.
  assert.equal(next("0 0 0 ? * L", "2024-05-01T00:00:00Z"), "2024-05-04T00:00:00.000Z");
});

Deno.test("cron: both day fields restricted match either (classic cron)", () => {
  // The 10th, or any Sunday. 2024-05-01 is a Wednesday; Sunday the 5th comes first.
  assert.equal(next("0 0 0 10 * 1", "2024-05-01T00:00:00Z"), "2024-05-05T00:00:00.000Z");
  assert.equal(next("0 0 0 10 * 1", "2024-05-06T00:00:00Z"), "2024-05-10T00:00:00.000Z");
});

Deno.test("cron: errors name the field and quote the expression", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["0 0 0 * *", /expected 6 or 7 fields.*got 5/],
    ["0 0 0 * * ? 2030 x", /got 8/],
    ["0 60 * * * ?", /minutes value 60 is out of range/],
    ["0 0 24 * * ?", /hours value 24/],
    ["0 0 0 32 * ?", /day-of-month value 32/],
    ["0 0 0 * 13 ?", /month value 13.*JAN-DEC/],
    ["0 0 0 ? * 0", /day-of-week value 0 is out of range.*1 = Sunday/],
    ["0 0 0 ? * FUNDAY", /day-of-week has an invalid value "FUNDAY"/],
    ["0 */0 * * * ?", /minutes has an invalid step "0"/],
    ["0 1-2-3 * * * ?", /minutes has an invalid range/],
    ["0 1,,2 * * * ?", /minutes has an empty list item/],
    ["0 0 0 ? * 2#6", /occurrence after # must be 1-5/],
    ["0 0 0 30 2 ?", /never fires/],
  ];
  for (const [expression, pattern] of cases) {
    assert.throws(
      () => nextRun(expression, at("2024-01-01T00:00:00Z")),
      (error: unknown) => {
        assert.ok(error instanceof CronError, `${expression}: ${error}`);
        assert.match(error.message, pattern, expression);
        assert.ok(error.message.includes(`"${expression}"`), error.message);
        return true;
      },
    );
  }
});

Deno.test("cron: a parsed schedule can be reused and walks forward", () => {
  const schedule = parseCron("0 0 */6 * * ?");
  let t = at("2024-05-01T00:00:00Z");
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) {
    t = schedule.next(t);
    seen.push(t.toISOString().slice(11, 16));
  }
  assert.deepEqual(seen, ["06:00", "12:00", "18:00", "00:00", "06:00"]);
});
