/**
 * `elastic-ingest connector create|list|show|delete`: connectors managed from the terminal, the
 * way Kibana (or Elastic's `connectors` CLI, spec §8) manages them.
 *
 * @module
 */
import { isSeq, parseDocument } from "yaml";
import type { Client } from "@elastic/elasticsearch";
import { FatalError, UsageError } from "../../errors/mod.ts";
import type { Logger } from "../../log/mod.ts";
import {
  AdminRepository,
  ConnectorExistsError,
  ConnectorRepository,
  CronError,
  ensureSystemIndices,
  newConnectorDoc,
  parseCron,
} from "../../protocol/mod.ts";
import type { Connector, ConnectorDoc, ConnectorStatus } from "../../protocol/mod.ts";
import {
  coerceValue,
  ConfigurationValidationError,
  createSource,
  defaultConfigurationSchema,
  featuresOf,
  isEmptyValue,
  standaloneContext,
  toSourceConfiguration,
  validateConfiguration,
} from "../../source/mod.ts";
import type { ConfigField, DataSourceClass, SourceConfiguration } from "../../source/mod.ts";
import { ensureContentIndex } from "../../sync/mod.ts";
import type { CommandEnv } from "./_env.ts";
import {
  booleanFlag,
  type CommandSpec,
  JSON_FLAG,
  listFlag,
  type ParsedCommand,
  stringFlag,
  YES_FLAG,
} from "./_flags.ts";
import {
  displayValue,
  formatFields,
  formatTable,
  MASK,
  maskConfiguration,
  shortDate,
} from "../output.ts";

/** Analyzer languages Kibana offers for a content index (spec §5.1); none means universal. */
export const INDEX_LANGUAGES = [
  "da",
  "de",
  "en",
  "es",
  "fr",
  "it",
  "ja",
  "ko",
  "nl",
  "pt",
  "pt-br",
  "ru",
  "th",
  "zh",
] as const;

/** Flags of `connector create`. */
export const CONNECTOR_CREATE: CommandSpec = {
  group: "connector",
  name: "create",
  summary:
    "Create a connector and its content index, as Kibana does. Configuration values come from " +
    "--from-file and --config (later wins); in a terminal, missing required values are asked " +
    "for (sensitive ones without echo). The status is `configured` when the values are " +
    "complete and valid.",
  flags: [
    {
      name: "service-type",
      type: "string",
      metavar: "TYPE",
      required: true,
      help: "source type, a key of `sources` (e.g. dir)",
    },
    {
      name: "index-name",
      type: "string",
      metavar: "INDEX",
      required: true,
      help: "content index (created unless it exists)",
    },
    {
      name: "name",
      type: "string",
      metavar: "NAME",
      help: "display name (default: the index name)",
    },
    { name: "id", type: "string", metavar: "ID", help: "connector id (default: generated)" },
    {
      name: "index-language",
      type: "string",
      metavar: "LANG",
      choices: INDEX_LANGUAGES,
      help: `analyzer language (${INDEX_LANGUAGES.join(", ")}; default: universal)`,
    },
    { name: "description", type: "string", metavar: "TEXT", help: "free-text description" },
    {
      name: "from-file",
      type: "string",
      metavar: "FILE",
      help: 'JSON file of configuration values ({"key": value, ...})',
    },
    {
      name: "config",
      type: "string",
      multiple: true,
      metavar: "KEY=VALUE",
      help: "a configuration value (repeatable)",
    },
    {
      name: "schedule",
      type: "string",
      metavar: "CRON",
      help: 'enable the full-sync schedule (Quartz cron, UTC, e.g. "0 0 * * * ?")',
    },
    {
      name: "incremental-schedule",
      type: "string",
      metavar: "CRON",
      help: "enable the incremental-sync schedule",
    },
    {
      name: "access-control-schedule",
      type: "string",
      metavar: "CRON",
      help: "enable the access-control-sync schedule",
    },
    {
      name: "from-index",
      type: "boolean",
      help: "the index must exist already (its documents are replaced by the first sync)",
    },
    {
      name: "allow-incomplete",
      type: "boolean",
      help: "create it even with missing or invalid values (status needs_configuration)",
    },
    {
      name: "update-config",
      type: "boolean",
      help: "add the connector to the service's config file",
    },
    {
      name: "connector-service-config",
      type: "string",
      metavar: "FILE",
      help: "config file --update-config edits (default: the -c file)",
    },
    YES_FLAG,
    JSON_FLAG,
  ],
  epilog: "examples:\n" +
    "  elastic-ingest connector create --service-type dir --index-name search-docs \\\n" +
    "      --config directory=/srv/docs --config pattern='**/*.md' --update-config\n" +
    "  elastic-ingest connector create --service-type mongodb --index-name search-db \\\n" +
    "      --from-file mongo.json --schedule '0 0 * * * ?' --json",
};

/** Flags of `connector list`. */
export const CONNECTOR_LIST: CommandSpec = {
  group: "connector",
  name: "list",
  summary: "List the connectors (id, name, index, service type, status, last sync).",
  flags: [JSON_FLAG],
};

/** Flags of `connector show`. */
export const CONNECTOR_SHOW: CommandSpec = {
  group: "connector",
  name: "show",
  summary: "Show one connector: status, last sync, schedules and configuration " +
    "(sensitive values masked).",
  flags: [JSON_FLAG],
  positionals: [{ name: "CONNECTOR_ID", help: "the connector's id" }],
};

/** Flags of `connector delete`. */
export const CONNECTOR_DELETE: CommandSpec = {
  group: "connector",
  name: "delete",
  summary: "Delete a connector document (its content index stays; see `index delete`).",
  flags: [
    { name: "delete-sync-jobs", type: "boolean", help: "also delete the connector's sync jobs" },
    YES_FLAG,
    JSON_FLAG,
  ],
  positionals: [{ name: "CONNECTOR_ID", help: "the connector's id" }],
};

const FORBIDDEN_INDEX_CHARACTERS = /[\\/*?"<>| ,#:A-Z]/;

/**
 * What is wrong with a content index name, if anything (Elasticsearch's naming rules; names
 * starting with a dot are reserved for hidden and system indices).
 *
 * @example
 * ```ts
 * import { indexNameProblem } from "./connector.ts";
 * if (indexNameProblem("search-docs") !== undefined) throw new Error();
 * if (!indexNameProblem("Search Docs")) throw new Error();
 * ```
 */
export function indexNameProblem(name: string): string | undefined {
  if (name === "" || name === "." || name === "..") return "it is empty or a dot";
  if (FORBIDDEN_INDEX_CHARACTERS.test(name)) {
    return 'use lowercase letters, digits and - _ . + only (no spaces, uppercase or \\ / * ? " < > | , # :)';
  }
  if (/^[-_+.]/.test(name)) return "it must not start with -, _, + or .";
  if (new TextEncoder().encode(name).length > 255) return "it is longer than 255 bytes";
  return undefined;
}

/** Parses `KEY=VALUE` arguments of `--config` into a map (later repeats win). */
function parseConfigPairs(pairs: readonly string[], command: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      throw new UsageError(`${command}: option --config takes KEY=VALUE, got '${pair}'`);
    }
    out[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads the `--from-file` JSON: `{key: value}` or Kibana's `{key: {value, ...}}`. */
async function readValuesFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new FatalError(`Cannot read --from-file ${path}: no such file`);
    }
    throw new FatalError(`Cannot read --from-file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FatalError(
      `Cannot read --from-file ${path}: invalid JSON: ${(error as Error).message}`,
    );
  }
  if (!isPlainObject(parsed)) {
    throw new FatalError(`Cannot read --from-file ${path}: expected a JSON object of key: value`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    out[key] = isPlainObject(value) && "value" in value ? value.value : value;
  }
  return out;
}

function dependenciesMet(field: ConfigField, configuration: SourceConfiguration): boolean {
  return (field.depends_on ?? []).every((dependency) => {
    const other = configuration[dependency.field];
    if (!other) return false;
    const actual = coerceValue(other.value, other.type);
    return actual === dependency.value ||
      (typeof actual !== "object" && String(actual) === String(dependency.value));
  });
}

/** Input of {@linkcode prepareConnector}. */
export interface ConnectorInput {
  serviceType: string;
  indexName: string;
  name?: string;
  id?: string;
  language?: string | null;
  description?: string;
  /** Values by field key (strings from flags, any JSON value from a file). */
  values?: Record<string, unknown>;
  fullSchedule?: string;
  incrementalSchedule?: string;
  accessControlSchedule?: string;
  /** Missing and invalid values do not fail: the connector is `needs_configuration`. */
  allowIncomplete?: boolean;
}

/** A connector ready to be written, checked without touching Elasticsearch. */
export interface PreparedConnector {
  id?: string;
  sourceClass: DataSourceClass;
  configuration: SourceConfiguration;
  status: ConnectorStatus;
  /** Problems that made the status `needs_configuration`. */
  problems: string[];
  input: ConnectorInput;
}

/**
 * Checks a connector's input against its source class and fills its configuration: the class's
 * schema with the given values (coerced to each field's type), then missing required values from
 * `ask` (in a terminal), then the SDK's validation. Unknown service types, unknown keys, bad cron
 * expressions and (unless `allowIncomplete`) missing or invalid values throw, before anything is
 * written.
 *
 * @example
 * ```ts ignore
 * // env: the CommandEnv of the running command (see runCommand in ./mod.ts)
 * const prepared = await prepareConnector(env, {
 *   serviceType: "dir",
 *   indexName: "search-docs",
 *   values: { directory: "/srv/docs" },
 * });
 * // prepared.status === "configured"; nothing has been written yet
 * ```
 */
export async function prepareConnector(
  env: CommandEnv,
  input: ConnectorInput,
  command = "connector create",
): Promise<PreparedConnector> {
  const problem = indexNameProblem(input.indexName);
  if (problem) {
    throw new UsageError(`${command}: invalid index name '${input.indexName}': ${problem}`);
  }
  for (
    const [flag, cron] of [
      ["schedule", input.fullSchedule],
      ["incremental-schedule", input.incrementalSchedule],
      ["access-control-schedule", input.accessControlSchedule],
    ] as const
  ) {
    if (cron === undefined) continue;
    try {
      parseCron(cron);
    } catch (error) {
      if (error instanceof CronError) {
        throw new UsageError(`${command}: --${flag}: ${error.message}`);
      }
      throw error;
    }
  }
  const sourceClass = await env.registry().load(input.serviceType);
  const configuration = defaultConfigurationSchema(sourceClass);
  const values = input.values ?? {};
  const unknown = Object.keys(values).filter((key) => !(key in configuration));
  if (unknown.length > 0) {
    throw new UsageError(
      `${command}: unknown configuration key${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => `'${k}'`).join(", ")
      } for service type ${input.serviceType} (known: ${Object.keys(configuration).join(", ")})`,
    );
  }
  for (const [key, value] of Object.entries(values)) {
    configuration[key]!.value = coerceValue(value, configuration[key]!.type);
  }
  const ordered = Object.entries(configuration).sort(([, a], [, b]) =>
    (a.order ?? 1) - (b.order ?? 1)
  );
  const missing: string[] = [];
  for (const [key, field] of ordered) {
    if (!field.required || !isEmptyValue(field.value) || !dependenciesMet(field, configuration)) {
      continue;
    }
    if (env.prompter.interactive) {
      for (;;) {
        const answer = await env.prompter.ask(`${field.label} (${key}): `, {
          hidden: field.sensitive,
        });
        if (answer.trim() !== "") {
          field.value = coerceValue(answer, field.type);
          break;
        }
      }
    } else {
      missing.push(`'${field.label}' (${key})`);
    }
  }
  if (missing.length > 0 && !input.allowIncomplete) {
    throw new UsageError(
      `${command}: missing value for required configuration field${missing.length > 1 ? "s" : ""} ${
        missing.join(", ")
      } of service type ${input.serviceType}: pass --config KEY=VALUE or --from-file FILE (or run it in a terminal to be asked)`,
    );
  }
  const problems: string[] = [];
  try {
    validateConfiguration(toSourceConfiguration(configuration, sourceClass));
    // The constructor must accept the values too (it does no I/O by contract), and so must the
    // source's own checks (a glob, an absolute folder), as they are before every sync.
    const source = createSource(sourceClass, configuration, standaloneContext());
    if (source.validateConfig) await source.validateConfig();
  } catch (error) {
    if (error instanceof ConfigurationValidationError) problems.push(...error.problems);
    else problems.push((error as Error).message);
  }
  if (problems.length > 0 && !input.allowIncomplete) {
    throw new FatalError(
      `Cannot create the connector: invalid configuration: ${problems.join("; ")}`,
    );
  }
  const prepared: PreparedConnector = {
    sourceClass,
    configuration,
    status: problems.length === 0 ? "configured" : "needs_configuration",
    problems,
    input,
  };
  if (input.id !== undefined) prepared.id = input.id;
  return prepared;
}

/** What {@linkcode writeConnector} did. */
export interface WrittenConnector {
  id: string;
  doc: ConnectorDoc;
  indexCreated: boolean;
}

/**
 * Writes a prepared connector: checks (reads only) that the id is free and that no other
 * connector uses the index, then ensures the system indices and the content index, and indexes
 * the document with the pipeline Kibana picks on major `esMajor` (see newConnectorPipeline).
 *
 * @example
 * ```ts ignore
 * const { major } = await env.cluster();
 * const written = await writeConnector(env.client(), env.context.logger, prepared, {
 *   esMajor: major,
 * });
 * env.print(`Created connector ${written.id}${written.indexCreated ? " and its index" : ""}`);
 * ```
 */
export async function writeConnector(
  client: Client,
  logger: Logger,
  prepared: PreparedConnector,
  options: { fromIndex?: boolean; esMajor: number },
): Promise<WrittenConnector> {
  const { input } = prepared;
  const admin = new AdminRepository(client);
  const connectors = new ConnectorRepository(client, { logger });
  if (prepared.id !== undefined && await connectors.get(prepared.id)) {
    throw new ConnectorExistsError(prepared.id);
  }
  const users = await admin.listConnectors({ indexName: input.indexName });
  if (users.length > 0) {
    throw new FatalError(
      `Index ${input.indexName} is already used by connector ${
        users[0]!.id
      }; each index can have one connector`,
    );
  }
  const exists = await client.indices.exists({ index: input.indexName });
  if (options.fromIndex && !exists) {
    throw new FatalError(`Index ${input.indexName} does not exist (--from-index needs it)`);
  }
  await ensureSystemIndices(client, logger, { esMajor: options.esMajor });
  const index = await ensureContentIndex(client, input.indexName, logger);
  const pipeline = await admin.newConnectorPipeline(options.esMajor);
  const doc = newConnectorDoc({
    name: input.name ?? input.indexName,
    indexName: input.indexName,
    serviceType: input.serviceType,
    language: input.language ?? null,
    configuration: prepared.configuration,
    status: prepared.status,
    features: featuresOf(prepared.sourceClass),
    pipeline,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.fullSchedule !== undefined ? { fullSchedule: input.fullSchedule } : {}),
    ...(input.incrementalSchedule !== undefined
      ? { incrementalSchedule: input.incrementalSchedule }
      : {}),
    ...(input.accessControlSchedule !== undefined
      ? { accessControlSchedule: input.accessControlSchedule }
      : {}),
  });
  const id = await admin.createConnector(doc, prepared.id);
  return { id, doc, indexCreated: index.created };
}

/**
 * Adds `{connector_id, service_type}` to the `connectors:` list of a config file, keeping its
 * comments; returns false when the id is listed already.
 *
 * @example
 * ```ts
 * import { addConnectorToConfigFile } from "./connector.ts";
 * const file = await Deno.makeTempFile({ suffix: ".yml" });
 * await Deno.writeTextFile(file, "# mine\nconnectors: []\n");
 * await addConnectorToConfigFile(file, "abc", "dir");
 * const text = await Deno.readTextFile(file);
 * if (!text.includes("# mine") || !text.includes("- connector_id: abc")) throw new Error(text);
 * ```
 */
export async function addConnectorToConfigFile(
  path: string,
  connectorId: string,
  serviceType: string,
): Promise<boolean> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new FatalError(`Cannot read config file ${path}: ${(error as Error).message}`);
    }
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new FatalError(`Cannot update config file ${path}: ${doc.errors[0]!.message}`);
  }
  const entry = { connector_id: connectorId, service_type: serviceType };
  const list = doc.get("connectors", true);
  if (isSeq(list)) {
    const listed = (list.toJSON() as unknown[]).some((item) =>
      isPlainObject(item) && item.connector_id === connectorId
    );
    if (listed) return false;
    list.flow = false;
    list.items.push(doc.createNode(entry));
  } else {
    doc.set("connectors", doc.createNode([entry]));
  }
  try {
    await Deno.writeTextFile(path, doc.toString());
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new FatalError(
        `Cannot write config file ${path}: permission denied (run with --allow-write=${path})`,
      );
    }
    throw new FatalError(`Cannot write config file ${path}: ${(error as Error).message}`);
  }
  return true;
}

/**
 * Fails (before anything is written) unless the process may write the config file: the
 * least-privilege flags of `deno task start` grant no write access. In a terminal, Deno asks.
 *
 * @example
 * ```ts
 * import { assertConfigFileWritable } from "./connector.ts";
 * await assertConfigFileWritable(await Deno.makeTempFile({ suffix: ".yml" }));
 * ```
 */
export async function assertConfigFileWritable(path: string): Promise<void> {
  const { state } = await Deno.permissions.request({ name: "write", path });
  if (state !== "granted") {
    throw new FatalError(
      `Cannot update config file ${path}: no write permission (run with --allow-write=${path}, ` +
        `or leave out --update-config and list the connector in it yourself)`,
    );
  }
}

/**
 * `connector create`.
 *
 * @example
 * ```ts ignore
 * const parsed = parseCommand(CONNECTOR_CREATE, [
 *   "--service-type", "dir", "--index-name", "search-docs", "--config", "directory=/srv/docs",
 * ]);
 * const code = await connectorCreate(env, parsed); // 0 once the connector document is written
 * ```
 */
export async function connectorCreate(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const command = "connector create";
  const json = booleanFlag(parsed, "json");
  let serviceType = stringFlag(parsed, "service-type");
  let indexName = stringFlag(parsed, "index-name");
  // Parse everything the flags say before asking anything.
  const fromFile = stringFlag(parsed, "from-file");
  const pairs = parseConfigPairs(listFlag(parsed, "config"), command);
  if (serviceType === undefined || indexName === undefined) {
    const flag = serviceType === undefined ? "--service-type" : "--index-name";
    if (!env.prompter.interactive) {
      throw new UsageError(`${command}: missing required option ${flag}`);
    }
    serviceType ??= (await env.prompter.ask(
      `Service type (${env.registry().serviceTypes().join(", ")}): `,
    )).trim();
    indexName ??= (await env.prompter.ask("Index name: ")).trim();
    if (!serviceType) throw new UsageError(`${command}: missing required option --service-type`);
    if (!indexName) throw new UsageError(`${command}: missing required option --index-name`);
  }
  const values = { ...(fromFile ? await readValuesFile(fromFile) : {}), ...pairs };
  const input: ConnectorInput = {
    serviceType,
    indexName,
    language: stringFlag(parsed, "index-language") ?? null,
    values,
    allowIncomplete: booleanFlag(parsed, "allow-incomplete"),
  };
  const optional = {
    name: stringFlag(parsed, "name"),
    id: stringFlag(parsed, "id"),
    description: stringFlag(parsed, "description"),
    fullSchedule: stringFlag(parsed, "schedule"),
    incrementalSchedule: stringFlag(parsed, "incremental-schedule"),
    accessControlSchedule: stringFlag(parsed, "access-control-schedule"),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (input as unknown as Record<string, string>)[key] = value;
  }
  const prepared = await prepareConnector(env, input, command);
  const configFile = stringFlag(parsed, "connector-service-config") ?? env.context.config.file;
  if (booleanFlag(parsed, "update-config")) await assertConfigFileWritable(configFile);
  const info = await env.cluster();
  const written = await writeConnector(env.client(), env.context.logger, prepared, {
    fromIndex: booleanFlag(parsed, "from-index"),
    esMajor: info.major,
  });
  let configUpdated = false;
  if (booleanFlag(parsed, "update-config")) {
    configUpdated = await addConnectorToConfigFile(configFile, written.id, serviceType);
  }
  for (const text of prepared.problems) {
    env.warn(`Connector ${written.id} needs configuration: ${text}`);
  }
  if (json) {
    env.printJson({
      id: written.id,
      name: written.doc.name,
      index_name: written.doc.index_name,
      service_type: written.doc.service_type,
      status: written.doc.status,
      index_created: written.indexCreated,
      config_file_updated: configUpdated ? configFile : null,
      problems: prepared.problems,
    });
    return 0;
  }
  env.print(
    `Created connector ${written.id} (name: ${written.doc.name}, service type: ${serviceType}, index: ${indexName}${
      written.indexCreated ? " (created)" : " (existing)"
    }, status: ${written.doc.status})`,
  );
  if (configUpdated) env.print(`Added it to ${configFile}`);
  else if (!env.context.config.connectors.some((c) => c.connector_id === written.id)) {
    env.print(
      `To serve it, list it under "connectors:" in ${configFile} (or pass --update-config):\n` +
        `  - connector_id: ${written.id}\n    service_type: ${serviceType}`,
    );
  }
  return 0;
}

function connectorSummary(connector: Connector): Record<string, unknown> {
  const doc = connector.doc;
  return {
    id: connector.id,
    ...doc,
    configuration: maskConfiguration(doc.configuration),
  };
}

/**
 * `connector list`.
 *
 * @example
 * ```ts ignore
 * const code = await connectorList(env, parseCommand(CONNECTOR_LIST, ["--json"]));
 * ```
 */
export async function connectorList(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const connectors = await new AdminRepository(env.client()).listConnectors();
  if (booleanFlag(parsed, "json")) {
    env.printJson(connectors.map(connectorSummary));
    return 0;
  }
  if (connectors.length === 0) {
    env.print("No connectors found");
    return 0;
  }
  env.print(
    formatTable(
      ["ID", "Name", "Index name", "Service type", "Status", "Last sync", "Last synced"],
      connectors.map(({ id, doc }) => [
        id,
        doc.name,
        doc.index_name,
        doc.service_type,
        doc.status,
        doc.last_sync_status,
        shortDate(doc.last_synced),
      ]),
    ),
  );
  return 0;
}

async function requireConnector(env: CommandEnv, id: string): Promise<Connector> {
  const connector = await new ConnectorRepository(env.client()).get(id);
  if (!connector || connector.doc.deleted === true) {
    throw new FatalError(`Connector ${id} does not exist (see elastic-ingest connector list)`);
  }
  return connector;
}

function scheduleText(doc: ConnectorDoc, type: "full" | "incremental" | "access_control"): string {
  const schedule = doc.scheduling?.[type];
  if (!schedule) return "-";
  return schedule.enabled ? `enabled, ${schedule.interval}` : `disabled (${schedule.interval})`;
}

/**
 * `connector show`.
 *
 * @example
 * ```ts ignore
 * const code = await connectorShow(env, parseCommand(CONNECTOR_SHOW, ["my-connector-id"]));
 * ```
 */
export async function connectorShow(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const id = parsed.positionals[0]!;
  const connector = await requireConnector(env, id);
  if (booleanFlag(parsed, "json")) {
    env.printJson(connectorSummary(connector));
    return 0;
  }
  const doc = connector.doc;
  env.print(formatFields([
    ["ID", connector.id],
    ["Name", doc.name],
    ["Service type", doc.service_type],
    ["Index name", doc.index_name],
    ["Language", doc.language ?? "universal"],
    ["Status", doc.status],
    ["Error", doc.error],
    ["Last sync", doc.last_sync_status],
    ["Last sync error", doc.last_sync_error],
    ["Last synced", shortDate(doc.last_synced)],
    ["Last seen", shortDate(doc.last_seen)],
    ["Indexed (last)", doc.last_indexed_document_count],
    ["Deleted (last)", doc.last_deleted_document_count],
    ["Full sync", scheduleText(doc, "full")],
    ["Incremental sync", scheduleText(doc, "incremental")],
    ["Access control", scheduleText(doc, "access_control")],
    ["Pipeline", doc.pipeline?.name],
  ]));
  const fields = Object.entries(doc.configuration ?? {})
    .filter(([, field]) => isPlainObject(field) && field.type !== ("category" as string))
    .sort(([, a], [, b]) => ((a as ConfigField).order ?? 1) - ((b as ConfigField).order ?? 1));
  if (fields.length > 0) {
    env.print("\nConfiguration:");
    env.print(formatTable(
      ["Key", "Label", "Value"],
      fields.map(([key, raw]) => {
        const field = raw as ConfigField;
        const value = field.sensitive && !isEmptyValue(field.value)
          ? MASK
          : displayValue(field.value);
        return [key, field.label, value];
      }),
    ));
  }
  return 0;
}

/**
 * `connector delete`.
 *
 * @example
 * ```ts ignore
 * const args = ["my-connector-id", "--delete-sync-jobs", "--yes"];
 * const code = await connectorDelete(env, parseCommand(CONNECTOR_DELETE, args));
 * // the connector's content index is kept
 * ```
 */
export async function connectorDelete(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const id = parsed.positionals[0]!;
  const yes = booleanFlag(parsed, "yes");
  if (!yes && !env.prompter.interactive) {
    throw new UsageError(
      `connector delete: pass --yes to delete connector ${id} (stdin is not a terminal, so it cannot ask)`,
    );
  }
  const connector = await requireConnector(env, id);
  if (!yes && !(await env.prompter.confirm(`Delete connector ${id} (${connector.doc.name})?`))) {
    env.print("Nothing deleted");
    return 1;
  }
  const admin = new AdminRepository(env.client());
  const jobs = booleanFlag(parsed, "delete-sync-jobs") ? await admin.deleteJobsOf(id) : 0;
  await admin.deleteConnector(id);
  if (booleanFlag(parsed, "json")) {
    env.printJson({ id, deleted: true, deleted_sync_jobs: jobs });
  } else {
    env.print(
      `Deleted connector ${id}${jobs > 0 ? ` and ${jobs} sync job${jobs > 1 ? "s" : ""}` : ""}` +
        ` (index ${connector.doc.index_name} kept)`,
    );
  }
  if (env.context.config.connectors.some((c) => c.connector_id === id)) {
    env.warn(`Connector ${id} is still listed in ${env.context.config.file}; remove it there`);
  }
  return 0;
}
