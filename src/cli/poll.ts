/**
 * `--action poll` (or any of `schedule`, `sync_content`, `sync_access_control`, `cleanup`):
 * check the service types and custom sources of the config (before any connection), connect,
 * run the preflight, and run the selected services until SIGINT/SIGTERM.
 *
 * @module
 */
import { FORCED_SHUTDOWN_MS, runService } from "../service/mod.ts";
import type { CliContext } from "./context.ts";
import { checkServiceStartup } from "./startup.ts";

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
  // A bad service type or custom source fails here, before anything connects.
  await checkServiceStartup(context.config, { logger: context.logger });
  const controller = new AbortController();
  const urgent = new AbortController();
  let signals = 0;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const onSignal = (name: string) => () => {
    signals++;
    if (signals === 1) {
      context.logger.info(`Received ${name}, shutting down (send it again to hurry)`);
      controller.abort(new DOMException(`${name} received`, "AbortError"));
    } else if (signals === 2) {
      context.logger.warning(
        `Received ${name} again: marking running jobs suspended, exiting within ${
          FORCED_SHUTDOWN_MS / 1000
        }s (send it again to exit at once)`,
      );
      urgent.abort(new DOMException(`${name} received again`, "AbortError"));
      // The bound holds even when a request or a source hangs.
      deadline = setTimeout(() => Deno.exit(1), FORCED_SHUTDOWN_MS + 1_000);
    } else {
      context.logger.warning(`Received ${name} a third time, exiting now`);
      Deno.exit(1);
    }
  };
  const handlers = [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]] as const;
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);
  try {
    await runService(context.config, {
      logger: context.logger,
      signal: controller.signal,
      urgent: urgent.signal,
      services: context.options.services,
    });
    return urgent.signal.aborted ? 1 : 0;
  } catch (error) {
    // A signal during the preflight or a retry wait is a clean shutdown, not a failure.
    if (controller.signal.aborted) return urgent.signal.aborted ? 1 : 0;
    throw error;
  } finally {
    clearTimeout(deadline);
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
  }
}
