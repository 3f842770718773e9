/**
 * The shape of a content document (spec §5.3): string `_id` (hashed past 512 UTF-8 bytes), `id`,
 * `_timestamp`, the pipeline control fields, and the stamp of the job that last wrote it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { PipelineSettings } from "../protocol/types.ts";

/** Elasticsearch refuses `_id`s longer than this many UTF-8 bytes. */
export const ES_ID_SIZE_LIMIT = 512;

/**
 * Field holding the id of the sync job that last wrote a document. A full sync deletes what it
 * did not stamp. Underscore-prefixed like Elastic's own `_timestamp`, mapped as `keyword`.
 */
export const SYNC_JOB_STAMP_FIELD = "_sync_job_id";

/** The ingest pipeline Elastic's framework names by default (9.x). */
export const DEFAULT_PIPELINE_NAME = "search-default-ingestion";

/** Pipeline settings of a connector with no `pipeline` (Elastic's defaults). */
export const DEFAULT_PIPELINE: Readonly<PipelineSettings> = {
  name: DEFAULT_PIPELINE_NAME,
  extract_binary_content: true,
  reduce_whitespace: true,
  run_ml_inference: true,
};

/**
 * The job's pipeline snapshot with Elastic's defaults filled in.
 *
 * @example
 * ```ts
 * import { resolvePipelineSettings } from "./document.ts";
 * const p = resolvePipelineSettings({ name: "mine", reduce_whitespace: false } as never);
 * if (p.name !== "mine" || p.reduce_whitespace || !p.extract_binary_content) throw new Error();
 * ```
 */
export function resolvePipelineSettings(
  pipeline: Partial<PipelineSettings> | null | undefined,
): PipelineSettings {
  const p = pipeline ?? {};
  return {
    name: typeof p.name === "string" && p.name !== "" ? p.name : DEFAULT_PIPELINE.name,
    extract_binary_content: p.extract_binary_content ?? DEFAULT_PIPELINE.extract_binary_content,
    reduce_whitespace: p.reduce_whitespace ?? DEFAULT_PIPELINE.reduce_whitespace,
    run_ml_inference: p.run_ml_inference ?? DEFAULT_PIPELINE.run_ml_inference,
  };
}

/**
 * UTF-8 length of a string in bytes (`Buffer.byteLength`: measured faster than a regex or a
 * JavaScript loop on document-sized strings).
 *
 * @example
 * ```ts
 * import { utf8Length } from "./document.ts";
 * if (utf8Length("é") !== 2 || utf8Length("a€😀") !== 8) throw new Error();
 * ```
 */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * Elastic's default `hash_id`: the MD5 hex digest of the UTF-8 id.
 *
 * @example
 * ```ts
 * import { hashId } from "./document.ts";
 * if (hashId("a") !== "0cc175b9c0f1b6a831c399e269772661") throw new Error();
 * ```
 */
export function hashId(id: string): string {
  return createHash("md5").update(id, "utf8").digest("hex");
}

/**
 * The Elasticsearch `_id` of a yielded document: `_id` as a string, its MD5 hex when longer
 * than {@linkcode ES_ID_SIZE_LIMIT} bytes; undefined when the document has no usable `_id`.
 *
 * @example
 * ```ts
 * import { documentId } from "./document.ts";
 * if (documentId(42) !== "42") throw new Error();
 * if (documentId("x".repeat(600))!.length !== 32) throw new Error();
 * if (documentId("") !== undefined || documentId(null) !== undefined) throw new Error();
 * ```
 */
export function documentId(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  const id = typeof raw === "string" ? raw : String(raw);
  if (id.length * 3 <= ES_ID_SIZE_LIMIT || utf8Length(id) <= ES_ID_SIZE_LIMIT) return id;
  return hashId(id);
}

/** JSON replacer for values `JSON.stringify` cannot handle (used only after a first failure). */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}

/**
 * Serialises a document body for the bulk API: plain `JSON.stringify`, falling back to a replacer
 * that turns bigints into numbers (or strings when unsafe), bytes into text, maps and sets into
 * objects and arrays (Elastic's `serialize`).
 *
 * @example
 * ```ts
 * import { serializeBody } from "./document.ts";
 * if (serializeBody({ n: 1n }) !== '{"n":1}') throw new Error();
 * ```
 */
export function serializeBody(body: Record<string, unknown>): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(body, jsonSafe);
  }
}
