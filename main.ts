/**
 * `elastic-ingest`: the Connectors for Deno command line.
 *
 * @example
 * ```sh
 * deno task start --action list -c config.yml
 * ```
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
