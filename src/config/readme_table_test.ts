import assert from "node:assert/strict";
import { configTableRows, readTable, TABLE_HEADER } from "./_readme.ts";

const README = new URL("../../README.md", import.meta.url);

Deno.test("README's configuration table is the schema's (deno run src/config/_readme.ts prints it)", async () => {
  const rows = readTable(await Deno.readTextFile(README), "## Configuration");
  assert.deepEqual(rows[0], [...TABLE_HEADER], "the table header");
  const readme = rows.slice(1);
  const schema = configTableRows();
  const keys = (table: string[][]) => table.map((row) => row[0]);
  assert.deepEqual(keys(readme), keys(schema), "the same keys in the same order");
  for (const [i, row] of schema.entries()) assert.deepEqual(readme[i], row, `row of ${row[0]}`);
});
