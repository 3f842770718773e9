/** The integration-test helpers themselves (no server needed). */
import assert from "node:assert/strict";
import { runDeno, startDeno, uniqueName, waitFor } from "./_helpers.ts";

Deno.test("uniqueName: lowercase, unique, valid as an index name", () => {
  const a = uniqueName("My_Index");
  const b = uniqueName("My_Index");
  assert.notEqual(a, b);
  assert.match(a, /^my_index-[a-z0-9]+-\d+-[a-z0-9]+$/);
  assert.match(uniqueName("-x y"), /^x-y-/);
});

Deno.test("waitFor: returns the first truthy value, or times out with the message", async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n >= 3 && n, { intervalMs: 1 }), 3);
  await assert.rejects(
    waitFor(() => {
      throw new Error("not yet");
    }, { timeoutMs: 50, intervalMs: 10, message: "the thing" }),
    /the thing: timed out after 50 ms; last error: not yet/,
  );
});

Deno.test("runDeno: exit code, output, stdin and env", async () => {
  const res = await runDeno([
    "eval",
    `const input = await new Response(Deno.stdin.readable).text();
     console.log(input.toUpperCase() + Deno.env.get("HELPER_TEST"));
     console.error("to stderr");
     Deno.exit(3);`,
  ], { stdin: "abc", env: { HELPER_TEST: "!" } });
  assert.equal(res.code, 3);
  assert.equal(res.stdout, "ABC!\n");
  assert.equal(res.stderr, "to stderr\n");
  assert.equal(res.timedOut, false);
});

Deno.test("runDeno: a process that runs too long is killed", async () => {
  const res = await runDeno(["eval", "setTimeout(() => {}, 60_000)"], { timeoutMs: 300 });
  assert.equal(res.timedOut, true);
  assert.equal(res.signal, "SIGKILL");
});

Deno.test("startDeno: wait for output, then stop with a signal", async () => {
  const handle = startDeno([
    "eval",
    `Deno.addSignalListener("SIGTERM", () => { console.log("bye"); Deno.exit(0); });
     console.log("ready"); setInterval(() => {}, 1000);`,
  ]);
  await handle.waitForOutput("ready", { stream: "stdout" });
  handle.kill("SIGTERM");
  const res = await handle.output();
  assert.equal(res.code, 0);
  assert.equal(res.stdout, "ready\nbye\n");
});
