/**
 * BSON → JSON conversion for the MongoDB source, and the type-tagged values the incremental
 * cursor stores. Pure functions (no server needed).
 *
 * Conversions, chosen so that every value survives the trip into Elasticsearch exactly:
 * - ObjectId → 24-char hex string; Date → ISO-8601 (`null` when outside JavaScript's range);
 * - Decimal128 → a JSON number when the number's JSON text denotes exactly the same value
 *   (`12.5`, `0.1`), otherwise the exact decimal string (`"0.1000000000000000000001"`).
 *   Elastic's framework turns Decimal128 into a float and loses digits; a string keeps them, and
 *   Elasticsearch coerces numeric strings into a numeric mapping;
 * - Long (and bigint) → a number within ±2^53 (the driver already returns those as numbers),
 *   beyond it the exact decimal string, so one field never mixes the two by parity;
 * - Binary → base64; UUID (subtype 4) → its canonical `xxxxxxxx-xxxx-...` form;
 * - Timestamp → ISO-8601 of its seconds; regular expressions → `/pattern/flags`;
 * - Code → its source; Symbol → string; MinKey/MaxKey → `"MinKey"`/`"MaxKey"`;
 * - DBRef → `{$ref, $id, $db?}` (as Elastic's framework does); NaN and ±Infinity → `null`
 *   (JSON has no such numbers and Elasticsearch rejects them);
 * - nested documents and arrays are converted recursively.
 *
 * @module
 */
import { Decimal128, Long, ObjectId, Timestamp } from "mongodb";

/** A JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The `_bsontype` a BSON value object carries (undefined for plain JavaScript values). */
function bsonType(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === "string" ? tag : undefined;
}

const HEX = /^[0-9a-f]*$/i;

/** Splits a decimal string into sign, significant digits and the exponent of the last digit. */
function normaliseDecimal(text: string): string | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) return undefined;
  const fraction = match[3] ?? "";
  let digits = (match[2] ?? "") + fraction;
  let exponent = Number(match[4] ?? "0") - fraction.length;
  digits = digits.replace(/^0+/, "");
  if (digits === "") return "0";
  const trailing = digits.length - digits.replace(/0+$/, "").length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${match[1] === "-" ? "-" : ""}${digits}e${exponent}`;
}

/**
 * A JSON number when `text` (a decimal literal) survives the trip through a double exactly,
 * else `text` itself.
 *
 * @example
 * ```ts
 * import { exactNumber } from "./_bson.ts";
 * if (exactNumber("12.50") !== 12.5 || exactNumber("9007199254740993") !== "9007199254740993") {
 *   throw new Error();
 * }
 * ```
 */
export function exactNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  const wanted = normaliseDecimal(text);
  return wanted !== undefined && wanted === normaliseDecimal(String(n)) ? n : text;
}

/** A number for integers within ±2^53, else the exact decimal string. */
function safeInteger(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function uuidString(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

function isoDate(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Converts a BSON value (as the Node driver returns it) into a JSON value, following the
 * rules in the module documentation.
 *
 * @example
 * ```ts
 * import { ObjectId, Decimal128 } from "mongodb";
 * import { bsonToJson } from "./_bson.ts";
 * const out = bsonToJson({
 *   _id: new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5"),
 *   price: Decimal128.fromString("19.90"),
 *   at: new Date(0),
 * }) as Record<string, unknown>;
 * if (out._id !== "64b7f0a2c2a4e3a1b2c3d4e5" || out.price !== 19.9) throw new Error();
 * if (out.at !== "1970-01-01T00:00:00.000Z") throw new Error();
 * ```
 */
export function bsonToJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : null;
    case "bigint":
      return safeInteger(value.toString());
    case "object":
      break;
    default:
      // functions and symbols have no JSON form
      return null;
  }
  if (Array.isArray(value)) return value.map(bsonToJson);
  if (value instanceof Date) return isoDate(value);
  if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
  if (value instanceof Uint8Array) return bytesToBase64(value);
  const obj = value as Record<string, unknown>;
  switch (bsonType(obj)) {
    case "ObjectId":
    case "ObjectID":
      return (obj as unknown as ObjectId).toHexString();
    case "Decimal128": {
      const text = (obj as unknown as Decimal128).toString();
      return exactNumber(text);
    }
    case "Long":
      return safeInteger((obj as unknown as Long).toString());
    case "Int32":
    case "Double":
      return bsonToJson((obj as unknown as { valueOf(): number }).valueOf());
    case "Timestamp": {
      const seconds = (obj as unknown as Timestamp).t;
      return isoDate(new Date(seconds * 1000));
    }
    case "Binary": {
      const binary = obj as unknown as {
        sub_type: number;
        buffer: Uint8Array;
        position: number;
        toString(encoding: "hex" | "base64"): string;
      };
      if (binary.sub_type === 4 && binary.position === 16) {
        const hex = binary.toString("hex");
        if (HEX.test(hex) && hex.length === 32) return uuidString(hex.toLowerCase());
      }
      return binary.toString("base64");
    }
    case "BSONRegExp": {
      const re = obj as unknown as { pattern: string; options: string };
      return `/${re.pattern}/${re.options}`;
    }
    case "Code": {
      const code = obj as unknown as { code: string; scope?: Record<string, unknown> | null };
      return code.scope ? { code: code.code, scope: bsonToJson(code.scope) } : code.code;
    }
    case "BSONSymbol":
    case "Symbol":
      return String((obj as unknown as { value: unknown }).value);
    case "MinKey":
      return "MinKey";
    case "MaxKey":
      return "MaxKey";
    case "DBRef": {
      const ref = obj as unknown as { collection: string; oid: unknown; db?: string };
      const out: { [key: string]: JsonValue } = { $ref: ref.collection, $id: bsonToJson(ref.oid) };
      if (ref.db) out.$db = ref.db;
      return out;
    }
    default:
      break;
  }
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(obj)) {
    if (item === undefined) continue;
    out[key] = bsonToJson(item);
  }
  return out;
}

/**
 * The document id a MongoDB `_id` becomes: ObjectId → hex, strings and numbers as they are,
 * anything else (UUIDs, dates, compound ids) → its JSON conversion as a string.
 *
 * @example
 * ```ts
 * import { ObjectId } from "mongodb";
 * import { documentIdOf } from "./_bson.ts";
 * if (documentIdOf(new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5")) !== "64b7f0a2c2a4e3a1b2c3d4e5") {
 *   throw new Error();
 * }
 * if (documentIdOf({ a: 1 }) !== '{"a":1}') throw new Error();
 * ```
 */
export function documentIdOf(id: unknown): string | number {
  if (typeof id === "string") return id;
  if (typeof id === "number" && Number.isFinite(id)) return id;
  const json = bsonToJson(id);
  if (typeof json === "string" || typeof json === "number") return json;
  return JSON.stringify(json);
}

/**
 * The value at a dotted path (`a.b.c`) of a raw document; undefined when absent.
 *
 * @example
 * ```ts
 * import { valueAtPath } from "./_bson.ts";
 * if (valueAtPath({ a: { b: 2 } }, "a.b") !== 2) throw new Error();
 * ```
 */
export function valueAtPath(doc: Record<string, unknown>, path: string): unknown {
  if (path in doc) return doc[path];
  let current: unknown = doc;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * The ISO-8601 `_timestamp` a field value gives: dates, ObjectIds (their creation second),
 * BSON Timestamps, ISO strings and epoch milliseconds; undefined for anything else.
 *
 * @example
 * ```ts
 * import { timestampOf } from "./_bson.ts";
 * if (timestampOf(new Date(0)) !== "1970-01-01T00:00:00.000Z") throw new Error();
 * if (timestampOf("not a date") !== undefined) throw new Error();
 * ```
 */
export function timestampOf(value: unknown): string | undefined {
  if (value instanceof Date) return isoDate(value) ?? undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? isoDate(new Date(value)) ?? undefined : undefined;
  }
  if (typeof value === "string") {
    if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
    return isoDate(new Date(value)) ?? undefined;
  }
  if (value !== null && typeof value === "object") {
    const type = bsonType(value);
    if (type === "ObjectId" || type === "ObjectID") {
      return isoDate((value as ObjectId).getTimestamp()) ?? undefined;
    }
    if (type === "Timestamp") return isoDate(new Date((value as Timestamp).t * 1000)) ?? undefined;
  }
  return undefined;
}

/** Types a cursor value may have: those with a total order MongoDB compares with `$gt`. */
export type CursorValueType =
  | "objectId"
  | "date"
  | "number"
  | "long"
  | "decimal"
  | "string"
  | "timestamp";

/** A BSON value in a form JSON can store and {@linkcode decodeCursorValue} restores exactly. */
export interface TaggedValue {
  type: CursorValueType;
  value: string;
}

/**
 * Tags a BSON value for storage in the sync cursor; undefined for types that cannot serve as
 * a monotonic cursor (booleans, documents, arrays, null, binaries).
 *
 * @example
 * ```ts
 * import { ObjectId } from "mongodb";
 * import { decodeCursorValue, encodeCursorValue } from "./_bson.ts";
 * const tagged = encodeCursorValue(new ObjectId("64b7f0a2c2a4e3a1b2c3d4e5"))!;
 * if (tagged.type !== "objectId") throw new Error();
 * if (!(decodeCursorValue(tagged) instanceof ObjectId)) throw new Error();
 * ```
 */
export function encodeCursorValue(value: unknown): TaggedValue | undefined {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? undefined : { type: "date", value: value.toISOString() };
  }
  if (typeof value === "string") return { type: "string", value };
  if (typeof value === "number") {
    return Number.isFinite(value) ? { type: "number", value: String(value) } : undefined;
  }
  if (typeof value === "bigint") return { type: "long", value: value.toString() };
  if (value === null || typeof value !== "object") return undefined;
  switch (bsonType(value)) {
    case "ObjectId":
    case "ObjectID":
      return { type: "objectId", value: (value as ObjectId).toHexString() };
    case "Long":
      return { type: "long", value: (value as Long).toString() };
    case "Int32":
    case "Double":
      return encodeCursorValue((value as { valueOf(): number }).valueOf());
    case "Decimal128":
      return { type: "decimal", value: (value as Decimal128).toString() };
    case "Timestamp": {
      const ts = value as Timestamp;
      return { type: "timestamp", value: `${ts.t}:${ts.i}` };
    }
    default:
      return undefined;
  }
}

/**
 * Restores the BSON value of a tagged cursor value; throws on a malformed one.
 *
 * @example
 * ```ts
 * import { decodeCursorValue } from "./_bson.ts";
 * const date = decodeCursorValue({ type: "date", value: "2024-01-01T00:00:00.000Z" });
 * if (!(date instanceof Date)) throw new Error();
 * ```
 */
export function decodeCursorValue(tagged: TaggedValue): unknown {
  const { type, value } = tagged;
  if (typeof value !== "string") throw new Error("cursor value is not a string");
  switch (type) {
    case "objectId":
      return new ObjectId(value);
    case "date": {
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw new Error(`invalid date ${value}`);
      return date;
    }
    case "number": {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`invalid number ${value}`);
      return n;
    }
    case "long":
      return Long.fromString(value);
    case "decimal":
      return Decimal128.fromString(value);
    case "string":
      return value;
    case "timestamp": {
      const match = /^(\d+):(\d+)$/.exec(value);
      if (!match) throw new Error(`invalid timestamp ${value}`);
      return new Timestamp({ t: Number(match[1]), i: Number(match[2]) });
    }
    default:
      throw new Error(`unknown cursor value type ${String(type)}`);
  }
}

/**
 * True when `value` looks like a {@linkcode TaggedValue}.
 *
 * @example
 * ```ts
 * import { isTaggedValue } from "./_bson.ts";
 * if (!isTaggedValue({ type: "string", value: "a" }) || isTaggedValue("a")) throw new Error();
 * ```
 */
export function isTaggedValue(value: unknown): value is TaggedValue {
  return typeof value === "object" && value !== null &&
    typeof (value as TaggedValue).type === "string" &&
    typeof (value as TaggedValue).value === "string";
}
