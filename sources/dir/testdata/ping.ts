/**
 * Pings a directory with the `dir` source and prints the error message (or `ok`); the tests run
 * it with restricted permissions.
 *
 * @module
 */
import { DirectoryDataSource } from "../mod.ts";
import { createSource, standaloneContext } from "../../../src/source/mod.ts";

const source = createSource(DirectoryDataSource, { directory: Deno.args[0] }, standaloneContext());
try {
  await source.ping();
  await Deno.stdout.write(new TextEncoder().encode("ok\n"));
} catch (error) {
  await Deno.stdout.write(new TextEncoder().encode(`${(error as Error).message}\n`));
}
