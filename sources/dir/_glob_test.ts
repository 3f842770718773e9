import assert from "node:assert/strict";
import { compileGlob } from "./_glob.ts";

function check(pattern: string, yes: string[], no: string[]) {
  const glob = compileGlob(pattern);
  for (const path of yes) assert.ok(glob.matches(path), `${pattern} should match ${path}`);
  for (const path of no) assert.ok(!glob.matches(path), `${pattern} should not match ${path}`);
}

Deno.test("** spans any number of directories, zero included", () => {
  check("**/*", ["a", "a.txt", "x/y/z.md", ".hidden"], []);
  check("**/*.*", ["a.txt", "x/y.md"], ["README", "x/Makefile"]);
  check("docs/**/*.md", ["docs/a.md", "docs/x/y/b.md"], ["a.md", "docs/a.txt", "other/docs/a.md"]);
  check("**", ["a", "a/b/c"], []);
  check("**/logs/*.log", ["logs/a.log", "x/logs/b.log"], ["logs/x/c.log"]);
});

Deno.test("* and ? stay within one name", () => {
  check("*.txt", ["a.txt", ".txt"], ["x/a.txt", "a.txt.bak"]);
  check("file-??.csv", ["file-01.csv"], ["file-1.csv", "file-001.csv", "file-0/.csv"]);
});

Deno.test("classes, negated classes, alternatives and escapes", () => {
  check("**/*.{md,txt}", ["a.md", "b/c.txt"], ["a.csv", "a.{md,txt}"]);
  check("[ab]*.log", ["a1.log", "b.log"], ["c.log"]);
  check("[!ab]*.log", ["c.log"], ["a.log"]);
  check("data(1).csv", ["data(1).csv"], ["data1.csv"]);
  check("a\\*b", ["a*b"], ["axb"]);
  check("./*.md", ["a.md"], ["x/a.md"]);
});

Deno.test("maxDepth limits the directories worth visiting", () => {
  assert.equal(compileGlob("*.md").maxDepth, 0);
  assert.equal(compileGlob("a/*/b.md").maxDepth, 2);
  assert.equal(compileGlob("**/*.md").maxDepth, Infinity);
  assert.equal(compileGlob("").maxDepth, Infinity);
});

Deno.test("an unclosed class or alternative, or a stray }, is refused", () => {
  for (const pattern of ["[unclosed", "**/*.[ch", "*.{md,txt", "a}b", "docs/[!x"]) {
    assert.throws(() => compileGlob(pattern), SyntaxError, pattern);
  }
  assert.ok(compileGlob("a\\[b").matches("a[b"), "an escaped bracket is literal");
});
