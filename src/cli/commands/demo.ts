/**
 * `elastic-ingest demo`: the quickstart. Creates (or reuses) a `dir` connector over the sample
 * folder the way Kibana would, requests a sync, runs the connector service in this process until
 * the job ends, then prints the index, its document count and the top hits of a sample query.
 * `deno task demo` (scripts/demo.ts) first starts the local Elasticsearch when none answers.
 *
 * @module
 */
import type { Config } from "../../config/mod.ts";
import { FatalError } from "../../errors/mod.ts";
import type { LogFields, Logger, LogLevel } from "../../log/mod.ts";
import { LOG_LEVELS } from "../../log/mod.ts";
import { AdminRepository, ConnectorRepository, SyncJobRepository } from "../../protocol/mod.ts";
import type { Connector, SyncJob } from "../../protocol/mod.ts";
import { runService } from "../../service/mod.ts";
import { SAMPLE_DIRECTORY } from "../../../sources/dir/mod.ts";
import { formatCount, ProgressReporter, watchJob } from "../progress.ts";
import type { CommandEnv } from "./_env.ts";
import {
  booleanFlag,
  type CommandSpec,
  JSON_FLAG,
  type ParsedCommand,
  secondsFlag,
  stringFlag,
} from "./_flags.ts";
import { formatFields } from "../output.ts";
import { prepareConnector, writeConnector } from "./connector.ts";
import { jobOutcomeText } from "./job.ts";

/** Id of the demo connector unless `--connector-id` says otherwise. */
export const DEFAULT_DEMO_CONNECTOR_ID = "demo-dir";
/** Content index of the demo unless `--index-name` says otherwise. */
export const DEFAULT_DEMO_INDEX = "search-demo-dir";
/** The sample query whose top hits the demo prints. */
export const DEFAULT_DEMO_QUERY = "sync";
/** Hits the demo prints. */
export const DEFAULT_DEMO_HITS = 3;
/** Seconds the demo waits for its sync before giving up. */
export const DEFAULT_DEMO_TIMEOUT = 600;
/** Seconds between polls of the in-process service (fast pickup of the demo's job). */
export const DEMO_SERVICE_IDLING = 1;
/** Display name of the demo connector. */
export const DEMO_CONNECTOR_NAME = "Demo: sample folder";

/** Flags of `demo`. */
export const DEMO: CommandSpec = {
  group: "demo",
  name: "",
  summary: "Index the sample folder and search it: creates (or reuses) a `dir` connector, " +
    "requests a full sync, runs the connector service in this process until the job ends, " +
    "then prints the index, its document count and the top hits of a sample query. " +
    "Elasticsearch comes from the config (`deno task demo` starts a local one when none answers).",
  flags: [
    {
      name: "connector-id",
      type: "string",
      metavar: "ID",
      help: `demo connector id (default ${DEFAULT_DEMO_CONNECTOR_ID})`,
    },
    {
      name: "index-name",
      type: "string",
      metavar: "INDEX",
      help: `content index (default ${DEFAULT_DEMO_INDEX})`,
    },
    {
      name: "directory",
      type: "string",
      metavar: "DIR",
      help: "folder to index (default: the sample folder shipped with the dir source)",
    },
    {
      name: "query",
      type: "string",
      metavar: "TEXT",
      help: `sample query (default "${DEFAULT_DEMO_QUERY}")`,
    },
    {
      name: "timeout",
      type: "string",
      metavar: "SECONDS",
      help: `give up after this long (default ${DEFAULT_DEMO_TIMEOUT})`,
    },
    {
      name: "progress-interval",
      type: "string",
      metavar: "SECONDS",
      help:
        "seconds between progress lines without a terminal (default: service.progress_interval)",
    },
    JSON_FLAG,
  ],
};

/** A logger that drops lines below `min` (the demo keeps the service quiet unless asked). */
function atLeast(logger: Logger, min: LogLevel, before: () => void): Logger {
  const rank = LOG_LEVELS.indexOf(min);
  const wrap = (inner: Logger): Logger => {
    const write = (level: LogLevel, message: string, fields?: LogFields) => {
      if (LOG_LEVELS.indexOf(level) < rank) return;
      before();
      if (level === "DEBUG") inner.debug(message, fields);
      else if (level === "INFO") inner.info(message, fields);
      else if (level === "WARNING") inner.warning(message, fields);
      else inner.error(message, fields);
    };
    return {
      debug: (m, f) => write("DEBUG", m, f),
      info: (m, f) => write("INFO", m, f),
      warning: (m, f) => write("WARNING", m, f),
      error: (m, f) => write("ERROR", m, f),
      child: (fields) => wrap(inner.child(fields)),
      enabled: (level) => LOG_LEVELS.indexOf(level) >= rank && inner.enabled(level),
    };
  };
  return wrap(logger);
}

/** The config of the in-process service: only the demo connector, polled every second. */
function serviceConfig(base: Config, connectorId: string): Config {
  return {
    ...base,
    connectors: [{ connector_id: connectorId, service_type: "dir" }],
    service: {
      ...base.service,
      idling: Math.min(base.service.idling, DEMO_SERVICE_IDLING),
      job_heartbeat_interval: Math.min(base.service.job_heartbeat_interval, 1),
    },
  };
}

interface DemoHit {
  id: string;
  score: number | null;
  title: unknown;
  snippet: string;
}

async function ensureDemoConnector(
  env: CommandEnv,
  id: string,
  indexName: string,
  directory: string | undefined,
  esMajor: number,
): Promise<{ connector: Connector; created: boolean }> {
  const client = env.client();
  const connectors = new ConnectorRepository(client, { logger: env.context.logger });
  const existing = await connectors.get(id);
  if (existing && existing.doc.deleted !== true) {
    if (existing.doc.service_type !== "dir") {
      throw new FatalError(
        `Connector ${id} exists with service type ${existing.doc.service_type}; pick another --connector-id`,
      );
    }
    const current = (existing.doc.configuration as Record<string, { value?: unknown }>).directory
      ?.value;
    if (directory !== undefined && current !== directory) {
      const configuration = structuredClone(existing.doc.configuration) as Record<
        string,
        Record<string, unknown>
      >;
      configuration.directory = { ...(configuration.directory ?? {}), value: directory };
      await connectors.update(id, { configuration } as never);
    }
    // A lane left locked by an interrupted run would keep the new job pending.
    if (existing.doc.last_sync_status === "in_progress") {
      const active = await new AdminRepository(client).listJobs({
        connectorId: id,
        statuses: ["in_progress", "canceling"],
        limit: 1,
      });
      if (active.length === 0) await connectors.update(id, { last_sync_status: null });
    }
    return { connector: (await connectors.get(id))!, created: false };
  }
  const prepared = await prepareConnector(env, {
    serviceType: "dir",
    indexName,
    id,
    name: DEMO_CONNECTOR_NAME,
    // The dir source has no default folder (it would point at data): the demo names its own.
    values: { directory: directory ?? SAMPLE_DIRECTORY },
  }, "demo");
  await writeConnector(client, env.context.logger, prepared, { esMajor });
  return { connector: (await connectors.get(id))!, created: true };
}

/**
 * `demo`.
 *
 * @example
 * ```ts ignore
 * const parsed = parseCommand(DEMO, ["--query", "meeting", "--timeout", "300"]);
 * const code = await demoCommand(env, parsed); // 0 when the demo sync completed
 * ```
 */
export async function demoCommand(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const json = booleanFlag(parsed, "json");
  const connectorId = stringFlag(parsed, "connector-id") ?? DEFAULT_DEMO_CONNECTOR_ID;
  const indexName = stringFlag(parsed, "index-name") ?? DEFAULT_DEMO_INDEX;
  const query = stringFlag(parsed, "query") ?? DEFAULT_DEMO_QUERY;
  const timeout = secondsFlag(parsed, "timeout", "demo") ?? DEFAULT_DEMO_TIMEOUT;
  const interval = secondsFlag(parsed, "progress-interval", "demo") ??
    env.context.config.service.progress_interval;
  let directory = stringFlag(parsed, "directory");
  if (directory !== undefined && !directory.startsWith("/")) {
    directory = `${Deno.cwd()}/${directory}`.replace(/\/\.?\/?$/, "");
  }
  const logger = env.context.logger;
  const base = env.context.config;

  const info = await env.cluster();
  const client = env.client();
  const { connector, created } = await ensureDemoConnector(
    env,
    connectorId,
    indexName,
    directory,
    info.major,
  );
  const jobs = new SyncJobRepository(client, { logger });
  const waiting = await new AdminRepository(client).listJobs({
    connectorId,
    statuses: ["pending", "suspended"],
    jobTypes: ["full", "incremental"],
    limit: 1,
  });
  const jobId = waiting[0]?.id ??
    await jobs.create(connector, { jobType: "full", triggerMethod: "on_demand" });
  const jobLogger = logger.child({ connector_id: connectorId, job_id: jobId, service_type: "dir" });
  jobLogger.info(
    `${
      waiting[0] ? "Reusing pending" : "Requested"
    } full sync job ${jobId} of connector ${connectorId}`,
  );

  const terminal = Deno.stderr.isTerminal() && !json;
  using reporter = new ProgressReporter({
    terminal,
    logger: jobLogger,
    intervalSeconds: interval,
    label: `Syncing ${connector.doc.index_name}`,
  });
  const quiet = env.context.options.logLevel === undefined;
  const serviceLogger = atLeast(logger, quiet ? "WARNING" : "DEBUG", () => reporter.clear());
  const controller = new AbortController();
  const service = runService(serviceConfig(base, connectorId), {
    logger: serviceLogger,
    signal: controller.signal,
  });
  // The service must keep running until the job ends; if it stops first, that is the failure.
  const serviceEnded = service.then(
    () => Promise.reject(new FatalError("The connector service stopped before the sync ended")),
  );
  const deadline = AbortSignal.timeout(timeout * 1000);
  let job: SyncJob;
  try {
    job = await Promise.race([
      watchJob(jobs, jobId, { reporter, signal: deadline, pollMs: terminal ? 250 : 1000 }),
      serviceEnded,
    ]);
  } catch (error) {
    if (deadline.aborted) {
      throw new FatalError(
        `The demo sync ${jobId} did not end within ${timeout}s (status ${reporter.snapshot.status})`,
      );
    }
    throw error;
  } finally {
    reporter.stop();
    controller.abort();
    await service.catch((error) => {
      logger.debug(`Service ended with ${(error as Error).message}`);
    });
  }

  const index = connector.doc.index_name;
  if (job.doc.status !== "completed") {
    if (json) {
      env.printJson({
        connector_id: connectorId,
        job_id: jobId,
        status: job.doc.status,
        error: job.doc.error,
      });
    } else env.print(jobOutcomeText(job));
    throw new FatalError(
      `The demo sync ended ${job.doc.status}${job.doc.error ? `: ${job.doc.error}` : ""}`,
    );
  }
  await client.indices.refresh({ index });
  const count = (await client.count({ index })).count;
  const found = await client.search<Record<string, unknown>>({
    index,
    size: DEFAULT_DEMO_HITS,
    query: { multi_match: { query, fields: ["title^3", "name^2", "text", "path"] } },
    _source: ["title", "path", "text"],
    highlight: {
      fields: { text: { fragment_size: 80, number_of_fragments: 1 } },
      pre_tags: [""],
      post_tags: [""],
    },
  });
  const hits: DemoHit[] = found.hits.hits.map((hit) => {
    const text = typeof hit._source?.text === "string" ? hit._source.text : "";
    const snippet = (hit.highlight?.text?.[0] ?? text.slice(0, 80)).replace(/\s+/g, " ").trim();
    return { id: hit._id ?? "", score: hit._score ?? null, title: hit._source?.title, snippet };
  });
  const directoryUsed = (connector.doc.configuration as Record<string, { value?: unknown }>)
    .directory?.value;
  if (json) {
    env.printJson({
      elasticsearch: { url: env.host, version: info.version },
      connector_id: connectorId,
      connector_created: created,
      directory: directoryUsed,
      job_id: jobId,
      job_status: job.doc.status,
      indexed_document_count: job.doc.indexed_document_count,
      deleted_document_count: job.doc.deleted_document_count,
      index,
      document_count: count,
      query,
      hits,
    });
    return 0;
  }
  env.print(formatFields([
    ["Elasticsearch", `${env.host} (${info.version})`],
    ["Connector", `${connectorId} (dir over ${directoryUsed}; ${created ? "created" : "reused"})`],
    ["Sync job", `${jobId} ${jobOutcomeText(job, false)}`],
    ["Index", index],
    ["Documents", formatCount(count)],
  ]));
  env.print(`\nTop hits for "${query}":`);
  if (hits.length === 0) env.print("  (none)");
  hits.forEach((hit, i) => {
    env.print(`  ${i + 1}. ${hit.id}  (score ${hit.score?.toFixed(2) ?? "-"})`);
    if (hit.snippet) env.print(`     ${hit.snippet}`);
  });
  env.print(
    `\nSearch it yourself: curl '${env.host}/${index}/_search?q=${
      encodeURIComponent(query)
    }&pretty'` +
      `\nNext: elastic-ingest connector show ${connectorId} | job list -i ${connectorId}`,
  );
  return 0;
}
