// deno-lint-ignore-file no-console
/**
 * `deno task bundle`: one JavaScript file that `deno run` executes with the flags of
 * `deno task start`. Works offline (npm packages come from Deno's cache, at the versions of
 * deno.lock). The shipped sources are bundled in and registered by the generated entry; the `dir`
 * sample folder is copied beside the file, where the bundled `dir` source looks for it. The
 * printed command adds the start task's `--no-lock --no-prompt --unstable-worker-options`:
 * sources loaded from a URL or `npm:` run sandboxed, and the run never writes a deno.lock.
 *
 * ```sh
 * deno task bundle [--output dist/elastic-ingest.js]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SANDBOX_RUNTIME_FLAGS } from "../src/source/sandbox/support.ts";
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

/**
 * The flags of `deno task start` that are not permissions but that a run of the service needs:
 * `--no-lock` and those sandboxed sources need (`--no-prompt --unstable-worker-options`).
 *
 * @example
 * ```ts
 * import { startRuntimeFlags } from "./bundle.ts";
 * const flags = await startRuntimeFlags();
 * if (!flags.includes("--no-lock") || !flags.includes("--unstable-worker-options")) throw new Error(flags.join(" "));
 * ```
 */
export async function startRuntimeFlags(denoJson = DENO_JSON): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(denoJson)) as {
    tasks?: Record<string, string | { command?: string }>;
  };
  const task = config.tasks?.start;
  const command = (typeof task === "string" ? task : task?.command) ?? "";
  const words = command.trim().split(/\s+/);
  const flags = words.filter((word) =>
    word === "--no-lock" || SANDBOX_RUNTIME_FLAGS.includes(word)
  );
  // Whatever the task says, a run without these would either stop at a sandboxed source or
  // prompt for what its sandbox refuses.
  for (const flag of ["--no-lock", ...SANDBOX_RUNTIME_FLAGS]) {
    if (!flags.includes(flag)) flags.push(flag);
  }
  return flags;
}

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
  const runtime = await startRuntimeFlags();
  const size = (await Deno.stat(output)).size;
  console.log(
    [
      `Bundled ${output} (${(size / 1048576).toFixed(1)} MiB; sources: ${
        entry.sources.join(", ")
      })`,
      `Run it with the same flags as 'deno task start':`,
      `  deno run ${[...runtime, ...flags].join(" ")} ${output} -c config.yml`,
      `With only local sources (none loaded from a URL or npm:, which run sandboxed), the same permission flags alone do:`,
      `  deno run ${flags.join(" ")} ${output} -c config.yml`,
    ].join("\n"),
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
