// deno-lint-ignore-file no-console
/**
 * `deno task demo`: the quickstart, from nothing to a searchable index. When no Elasticsearch is
 * configured (no `CONNECTORS_ES_HOST`, the config's default host) and none answers on the
 * default host, it starts the local one of the test stack (installed on first use, a few
 * minutes), then runs `elastic-ingest demo` against it: a `dir` connector over the sample
 * folder, a sync run by the service in-process, the document count and the top hits of a query.
 * A second run reuses the connector and the index.
 *
 * ```sh
 * deno task demo [--connector-id ID] [--index-name INDEX] [--query TEXT] [--json] [-c config.yml]
 * ```
 *
 * @module
 */
import { DEFAULT_CONFIG_FILE, DEFAULT_ES_HOST, loadConfig } from "../src/config/mod.ts";
import { main } from "../src/cli/main.ts";
import { startElasticsearch } from "./stack.ts";

/** Seconds the reachability probe of the configured host may take. */
export const PROBE_TIMEOUT_SECONDS = 3;

/** The `-c/--config-file` value among the arguments, if any. */
function configFileOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-c" || arg === "--config-file") return args[i + 1];
    if (arg.startsWith("--config-file=")) return arg.slice("--config-file=".length);
  }
  return undefined;
}

/** Whether anything answers HTTP on `host` (any status: credentials are the CLI's business). */
async function answers(host: string): Promise<boolean> {
  try {
    const response = await fetch(`${host.replace(/\/+$/, "")}/_cluster/health`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_SECONDS * 1000),
    });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an Elasticsearch is configured: `CONNECTORS_ES_HOST` is set, or the config names a
 * host other than the default. A configured one is used as it is, even when it is down.
 *
 * @example
 * ```ts
 * import { esConfigured } from "./demo.ts";
 * if (esConfigured(undefined, "http://localhost:9200")) throw new Error();
 * if (!esConfigured(undefined, "https://es.example.com:9243")) throw new Error();
 * if (!esConfigured("http://127.0.0.1:9201", "http://localhost:9200")) throw new Error();
 * ```
 */
export function esConfigured(envHost: string | undefined, configHost: string): boolean {
  return Boolean(envHost) || configHost !== DEFAULT_ES_HOST;
}

async function run(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) return await main(["demo", "--help"]);
  const file = configFileOf(args) ?? DEFAULT_CONFIG_FILE;
  let host = DEFAULT_ES_HOST;
  try {
    host = (await loadConfig(file)).elasticsearch.host;
  } catch {
    // The CLI reports config problems itself; the probe uses the default host.
  }
  if (!esConfigured(Deno.env.get("CONNECTORS_ES_HOST"), host) && !(await answers(host))) {
    console.error(
      `No Elasticsearch answers on ${host} and none is configured: starting the local one ` +
        "(deno task stack; the first start downloads and installs it, a few minutes)...",
    );
    const started = await startElasticsearch();
    console.error(
      `Elasticsearch ${started.alreadyRunning ? "already runs" : "started"} at ${started.url} ` +
        "(stop it with: deno task stack down)",
    );
    Deno.env.set("CONNECTORS_ES_HOST", started.url);
  }
  return await main(["demo", ...args]);
}

if (import.meta.main) Deno.exit(await run(Deno.args));
