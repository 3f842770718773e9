// deno-lint-ignore-file no-console
/**
 * `deno task bundle`: one JavaScript file that `deno run` executes with the permission flags of
 * `deno task start`. Works offline (npm packages come from Deno's cache). The shipped sources are
 * bundled in and registered by the generated entry; the `dir` sample folder is copied beside the
 * file, where the bundled `dir` source looks for it.
 *
 * ```sh
 * deno task bundle [--output dist/elastic-ingest.js]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  absolute,
  copySample,
  DENO_JSON,
  DIST_DIR,
  folderOf,
  runDeno,
  startPermissionFlags,
  writeBuildEntry,
} from "./_build.ts";

/** The bundle written unless `--output` says otherwise. */
export const DEFAULT_BUNDLE_OUTPUT = `${DIST_DIR}/elastic-ingest.js`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log("usage: deno task bundle [--output FILE]   (default: dist/elastic-ingest.js)");
    return 0;
  }
  const output = absolute(values.output ?? DEFAULT_BUNDLE_OUTPUT);
  const outputDir = folderOf(output);
  await Deno.mkdir(outputDir, { recursive: true });
  const entry = await writeBuildEntry(DIST_DIR);
  try {
    const { code } = await runDeno(["bundle", `--config=${DENO_JSON}`, "-o", output, entry.path]);
    if (code !== 0) {
      console.error(`deno bundle failed (exit ${code})`);
      return code;
    }
  } finally {
    await Deno.remove(entry.path).catch(() => {});
  }
  await copySample(outputDir);
  const flags = await startPermissionFlags();
  const size = (await Deno.stat(output)).size;
  console.log(
    [
      `Bundled ${output} (${(size / 1048576).toFixed(1)} MiB; sources: ${
        entry.sources.join(", ")
      })`,
      `Run it with the same permission flags as 'deno task start':`,
      `  deno run ${flags.join(" ")} ${output} -c config.yml`,
    ].join("\n"),
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
