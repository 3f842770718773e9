/**
 * `--action poll` (or any of `schedule`, `sync_content`, `sync_access_control`, `cleanup`):
 * connect, run the preflight, and run the selected services until SIGINT/SIGTERM.
 *
 * @module
 */
import { runService } from "../service/mod.ts";
import type { CliContext } from "./main.ts";

/**
 * Runs the service until a signal; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { pollAction } from "./poll.ts";
 * const code = await pollAction(context);
 * ```
 */
export async function pollAction(context: CliContext): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: string) => () => {
    signals++;
    if (signals === 1) {
      context.logger.info(`Received ${name}, shutting down (send it again to exit at once)`);
      controller.abort(new DOMException(`${name} received`, "AbortError"));
    } else {
      context.logger.warning(`Received ${name} again, exiting now`);
      Deno.exit(1);
    }
  };
  const handlers = [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]] as const;
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);
  try {
    await runService(context.config, {
      logger: context.logger,
      signal: controller.signal,
      services: context.options.services,
    });
    return 0;
  } catch (error) {
    // A signal during the preflight or a retry wait is a clean shutdown, not a failure.
    if (controller.signal.aborted) return 0;
    throw error;
  } finally {
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
  }
}
