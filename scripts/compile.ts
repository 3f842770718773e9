// deno-lint-ignore-file no-console
/**
 * `deno task compile`: a standalone `elastic-ingest` executable (`deno compile`) with the
 * permission flags of `deno task start` baked in, and `--no-prompt --unstable-worker-options`
 * (sandboxed sources). The shipped sources and the `dir` sample folder are embedded, with the npm
 * packages at the versions of deno.lock.
 *
 * `deno compile` needs Deno's `denort` runtime for the target: Deno downloads it from its own
 * release servers, or takes the file `DENORT_BIN` points to (the `denort` of the same Deno
 * version; the full `deno` binary does not work as one). Where neither works this script says so
 * and exits 1.
 *
 * ```sh
 * deno task compile [--output dist/elastic-ingest] [--target x86_64-unknown-linux-gnu] [--no-check]
 * DENORT_BIN=/opt/denort deno task compile
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SANDBOX_RUNTIME_FLAGS } from "../src/source/sandbox/support.ts";
import {
  absolute,
  DENO_JSON,
  DIST_DIR,
  folderOf,
  REPO_ROOT,
  runDeno,
  startPermissionFlags,
  writeBuildEntry,
} from "./_build.ts";

/** The executable written unless `--output` says otherwise. */
export const DEFAULT_COMPILE_OUTPUT = `${DIST_DIR}/elastic-ingest`;

/**
 * Why a failed `deno compile` failed, when it is the runtime download (else undefined).
 *
 * @example
 * ```ts
 * import { runtimeDownloadProblem } from "./compile.ts";
 * const stderr = "error: x\nCaused by:\n    0: Setting up base binary.\n    1: dns error: lookup failed";
 * if (runtimeDownloadProblem(stderr) !== "dns error: lookup failed") throw new Error();
 * if (runtimeDownloadProblem("error: type check failed") !== undefined) throw new Error();
 * ```
 */
export function runtimeDownloadProblem(stderr: string): string | undefined {
  if (!/denort|base binary/i.test(stderr)) return undefined;
  // Deno prints the causes as numbered lines, the deepest (most specific) last.
  const causes = stderr.split("\n").filter((line) => /^\s*\d+:\s/.test(line))
    .map((line) => line.replace(/^\s*\d+:\s*/, "").trim());
  return causes.at(-1) ?? "the download failed";
}

function denortHelp(version: string, reason: string): string {
  return [
    "",
    `Cannot build the executable: deno compile needs Deno's "denort" runtime for Deno ${version},`,
    `and it could not be downloaded (${reason}).`,
    "",
    "Either run this where Deno's release downloads are reachable, or get the denort archive",
    `of Deno ${version} for this platform elsewhere (the "denort-<target>.zip" asset of the Deno`,
    "release), unzip it and point DENORT_BIN at the file:",
    "",
    "  DENORT_BIN=/path/to/denort deno task compile",
    "",
    "Meanwhile `deno task bundle` builds a single JavaScript file that runs with `deno run`.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      output: { type: "string", short: "o" },
      target: { type: "string" },
      "no-check": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task compile [--output FILE] [--target TRIPLE] [--no-check]\n" +
        "  (default output: dist/elastic-ingest; --no-check skips the type check)\n" +
        "env: DENORT_BIN=/path/to/denort uses a local runtime instead of downloading it",
    );
    return 0;
  }
  const output = absolute(values.output ?? DEFAULT_COMPILE_OUTPUT);
  await Deno.mkdir(folderOf(output), { recursive: true });
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) {
    try {
      const info = await Deno.stat(denort);
      if (!info.isFile) throw new Error("not a file");
    } catch (error) {
      console.error(`DENORT_BIN=${denort} is not a readable file: ${(error as Error).message}`);
      return 1;
    }
  }
  // The runtime flags sandboxed sources need are baked in too (not --no-lock: the build itself
  // resolves npm packages from deno.lock, and an executable reads no lockfile).
  const flags = [...SANDBOX_RUNTIME_FLAGS, ...await startPermissionFlags()];
  const entry = await writeBuildEntry(DIST_DIR);
  let result;
  try {
    result = await runDeno(
      [
        "compile",
        `--config=${DENO_JSON}`,
        ...flags,
        `--include=${REPO_ROOT}sources/dir/sample`,
        ...(values.target ? [`--target=${values.target}`] : []),
        ...(values["no-check"] ? ["--no-check"] : []),
        "--output",
        output,
        entry.path,
      ],
      { captureStderr: true },
    );
  } finally {
    await Deno.remove(entry.path).catch(() => {});
  }
  if (result.code !== 0) {
    const problem = runtimeDownloadProblem(result.stderr);
    if (problem && !denort) console.error(denortHelp(Deno.version.deno, problem));
    else if (denort) {
      console.error(
        `\ndeno compile failed with DENORT_BIN=${denort}: is it the denort of Deno ${Deno.version.deno} for this platform?`,
      );
    }
    return 1;
  }
  const size = (await Deno.stat(output)).size;
  console.log(
    [
      `Built ${output} (${(size / 1048576).toFixed(1)} MiB; sources: ${entry.sources.join(", ")})`,
      `Permissions baked in: ${flags.join(" ")}`,
      `Run it: ${output} -c config.yml`,
    ].join("\n"),
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
