/**
 * The local test servers (`deno task stack up|down|restart|status`): a thin entry point over
 * `scripts/stack/mod.ts`, which holds the public API (one file per server beside it).
 *
 * @module
 */

export * from "./stack/mod.ts";
import { stackMain } from "./stack/mod.ts";

if (import.meta.main) {
  try {
    Deno.exit(await stackMain(Deno.args));
  } catch (e) {
    // deno-lint-ignore no-console
    console.error(`[stack] error: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
