/**
 * `elastic-ingest index list|clean|delete`: content indices from the terminal. `clean` removes
 * every document with a point-in-time scan and bulk deletes (no `_delete_by_query`, which not
 * every distribution ships).
 *
 * @module
 */
import type { Client } from "@elastic/elasticsearch";
import { FatalError, statusOf, UsageError } from "../../errors/mod.ts";
import { AdminRepository } from "../../protocol/mod.ts";
import type { CommandEnv } from "./_env.ts";
import {
  booleanFlag,
  type CommandSpec,
  JSON_FLAG,
  type ParsedCommand,
  YES_FLAG,
} from "./_flags.ts";
import { formatTable } from "../output.ts";
import { formatCount } from "../progress.ts";

/** Documents deleted per bulk request by `index clean`. */
export const DEFAULT_CLEAN_PAGE_SIZE = 1000;
/** How long the point in time of `index clean` stays open between two pages. */
export const DEFAULT_CLEAN_KEEP_ALIVE = "2m";

/** Flags of `index list`. */
export const INDEX_LIST: CommandSpec = {
  group: "index",
  name: "list",
  summary: "List the indices (hidden and system ones excepted) with their document counts and " +
    "the connectors writing to them.",
  flags: [JSON_FLAG],
};

/** Flags of `index clean`. */
export const INDEX_CLEAN: CommandSpec = {
  group: "index",
  name: "clean",
  summary: "Delete every document of an index, keeping the index, its mappings and settings.",
  flags: [YES_FLAG, JSON_FLAG],
  positionals: [{ name: "INDEX", help: "the index (or alias)" }],
};

/** Flags of `index delete`. */
export const INDEX_DELETE: CommandSpec = {
  group: "index",
  name: "delete",
  summary: "Delete an index and its documents.",
  flags: [YES_FLAG, JSON_FLAG],
  positionals: [{ name: "INDEX", help: "the index" }],
};

function refuseSystemIndex(command: string, index: string): void {
  if (index.startsWith(".")) {
    throw new FatalError(
      `${command}: ${index} is a hidden or system index; this command only handles content indices`,
    );
  }
  if (/[*,]/.test(index)) {
    throw new UsageError(`${command}: give one index name, not a pattern or list ('${index}')`);
  }
}

async function requireIndex(client: Client, index: string): Promise<void> {
  if (!(await client.indices.exists({ index }))) {
    throw new FatalError(`Index ${index} does not exist (see elastic-ingest index list)`);
  }
}

/** Refuses, before anything is read or written, to go on without --yes when it cannot ask. */
function needsConfirmation(env: CommandEnv, parsed: ParsedCommand, command: string): boolean {
  if (booleanFlag(parsed, "yes")) return false;
  if (!env.prompter.interactive) {
    throw new UsageError(
      `${command}: pass --yes to confirm (stdin is not a terminal, so it cannot ask)`,
    );
  }
  return true;
}

/**
 * Deletes every document of `index` page by page (point in time sorted on `_shard_doc`, then
 * bulk deletes of that page); refreshes the index and returns how many were deleted.
 *
 * @example
 * ```ts ignore
 * const deleted = await deleteAllDocuments(client, "search-docs");
 * ```
 */
export async function deleteAllDocuments(
  client: Client,
  index: string,
  pageSize = DEFAULT_CLEAN_PAGE_SIZE,
): Promise<number> {
  await client.indices.refresh({ index });
  const opened = await client.openPointInTime({ index, keep_alive: DEFAULT_CLEAN_KEEP_ALIVE });
  let pitId = opened.id;
  let deleted = 0;
  const failures: string[] = [];
  try {
    let after: unknown[] | undefined;
    for (;;) {
      const page = await client.search({
        pit: { id: pitId, keep_alive: DEFAULT_CLEAN_KEEP_ALIVE },
        size: pageSize,
        sort: [{ _shard_doc: "asc" }],
        _source: false,
        track_total_hits: false,
        ...(after ? { search_after: after as never } : {}),
      });
      if (page.pit_id) pitId = page.pit_id;
      const hits = page.hits.hits;
      if (hits.length > 0) {
        const response = await client.bulk({
          operations: hits.map((hit) => ({ delete: { _index: hit._index, _id: hit._id } })),
        });
        for (const item of response.items) {
          const result = item.delete;
          if (result?.result === "deleted") deleted++;
          else if (result?.status !== 404 && failures.length < 3) {
            failures.push(`${result?._id}: ${JSON.stringify(result?.error ?? result?.result)}`);
          }
        }
      }
      if (hits.length < pageSize) break;
      after = hits[hits.length - 1]!.sort;
    }
  } finally {
    await client.closePointInTime({ id: pitId }).catch(() => {});
  }
  await client.indices.refresh({ index });
  if (failures.length > 0) {
    throw new FatalError(
      `Deleted ${deleted} documents of ${index}, but some deletes failed: ${failures.join("; ")}`,
    );
  }
  return deleted;
}

/**
 * `index list`.
 *
 * @example
 * ```ts ignore
 * const code = await indexList(env, parseCommand(INDEX_LIST, ["--json"]));
 * ```
 */
export async function indexList(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const client = env.client();
  const stats = await client.indices.stats({ metric: ["docs", "store"], expand_wildcards: "open" });
  const connectors = await new AdminRepository(client).listConnectors();
  const users = new Map<string, string[]>();
  for (const connector of connectors) {
    const list = users.get(connector.doc.index_name) ?? [];
    list.push(connector.id);
    users.set(connector.doc.index_name, list);
  }
  const rows = Object.entries(stats.indices ?? {})
    .filter(([name]) => !name.startsWith("."))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, entry]) => ({
      index: name,
      document_count: entry.primaries?.docs?.count ?? 0,
      size_bytes: entry.primaries?.store?.size_in_bytes ?? 0,
      connector_ids: users.get(name) ?? [],
    }));
  if (booleanFlag(parsed, "json")) {
    env.printJson(rows);
    return 0;
  }
  if (rows.length === 0) {
    env.print("No indices found");
    return 0;
  }
  env.print(formatTable(
    ["Index name", "Documents", "Size", "Connectors"],
    rows.map((row) => [
      row.index,
      formatCount(row.document_count),
      formatBytes(row.size_bytes),
      row.connector_ids.join(", "),
    ]),
  ));
  return 0;
}

/**
 * A byte count for humans.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./index_commands.ts";
 * if (formatBytes(2048) !== "2.0 KiB" || formatBytes(12) !== "12 B") throw new Error();
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * `index clean`.
 *
 * @example
 * ```ts ignore
 * const code = await indexClean(env, parseCommand(INDEX_CLEAN, ["search-docs", "--yes"]));
 * ```
 */
export async function indexClean(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const index = parsed.positionals[0]!;
  refuseSystemIndex("index clean", index);
  const ask = needsConfirmation(env, parsed, "index clean");
  const client = env.client();
  await requireIndex(client, index);
  if (ask && !(await env.prompter.confirm(`Delete every document of index ${index}?`))) {
    env.print("Nothing deleted");
    return 1;
  }
  const deleted = await deleteAllDocuments(client, index);
  if (booleanFlag(parsed, "json")) env.printJson({ index, deleted_document_count: deleted });
  else env.print(`Deleted ${formatCount(deleted)} documents from ${index}`);
  return 0;
}

/**
 * `index delete`.
 *
 * @example
 * ```ts ignore
 * const code = await indexDelete(env, parseCommand(INDEX_DELETE, ["search-docs", "--yes"]));
 * ```
 */
export async function indexDelete(env: CommandEnv, parsed: ParsedCommand): Promise<number> {
  const index = parsed.positionals[0]!;
  refuseSystemIndex("index delete", index);
  const ask = needsConfirmation(env, parsed, "index delete");
  const client = env.client();
  await requireIndex(client, index);
  if (ask && !(await env.prompter.confirm(`Delete index ${index} and all its documents?`))) {
    env.print("Nothing deleted");
    return 1;
  }
  const users = await new AdminRepository(client).listConnectors({ indexName: index });
  try {
    await client.indices.delete({ index });
  } catch (error) {
    if (statusOf(error) === 400) {
      throw new FatalError(
        `Cannot delete ${index}: Elasticsearch refused (${
          (error as Error).message
        }); if it is an alias, delete the index it points to`,
      );
    }
    throw error;
  }
  if (booleanFlag(parsed, "json")) env.printJson({ index, deleted: true });
  else env.print(`Deleted index ${index}`);
  for (const connector of users) {
    env.warn(
      `Connector ${connector.id} still writes to ${index}: its next sync creates the index again`,
    );
  }
  return 0;
}
