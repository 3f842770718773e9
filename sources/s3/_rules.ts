/**
 * Advanced sync rules of the S3 source: a list of `{bucket, prefix?, extension?}` objects, as
 * Elastic's S3 connector takes them (`extensions` is accepted as a synonym of `extension`).
 * When rules are present, the `buckets` setting is ignored.
 *
 * @module
 */

/** One validated rule: what to list and which keys to keep. */
export interface S3Rule {
  bucket: string;
  /** Key prefix to list ("" for the whole bucket). */
  prefix: string;
  /** Lower-case extensions with their dot (`.txt`); empty keeps every key. */
  extensions: string[];
}

const RULE_KEYS = ["bucket", "prefix", "extension", "extensions"];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** S3's bucket naming rules (3-63 characters of lower-case letters, digits, dots, hyphens). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Normalises an extension to lower case with a leading dot (`TXT` → `.txt`).
 *
 * @example
 * ```ts
 * import { normaliseExtension } from "./_rules.ts";
 * if (normaliseExtension("TXT") !== ".txt" || normaliseExtension(".md") !== ".md") throw new Error();
 * ```
 */
export function normaliseExtension(extension: string): string {
  const trimmed = extension.trim().toLowerCase();
  return trimmed.startsWith(".") ? trimmed : `.${trimmed}`;
}

/**
 * The extension of a key's last path segment, lower case with its dot; "" when it has none.
 *
 * @example
 * ```ts
 * import { extensionOf } from "./_rules.ts";
 * if (extensionOf("a/b/Report.PDF") !== ".pdf" || extensionOf("a.d/README") !== "") throw new Error();
 * ```
 */
export function extensionOf(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/**
 * Validates an advanced-rules snippet and returns the rules (undefined when there are none:
 * absent, null, `[]` or `{}`) with every problem found; the rules are only usable when
 * `problems` is empty.
 *
 * @example
 * ```ts
 * import { parseS3Rules } from "./_rules.ts";
 * const ok = parseS3Rules([{ bucket: "docs", prefix: "2024/", extension: ["txt"] }]);
 * if (ok.problems.length || ok.rules?.[0]?.extensions[0] !== ".txt") throw new Error();
 * if (parseS3Rules([{ prefix: "x" }]).problems.length !== 1) throw new Error();
 * ```
 */
export function parseS3Rules(
  snippet: unknown,
): { rules: S3Rule[] | undefined; problems: string[] } {
  if (
    snippet === undefined || snippet === null ||
    (Array.isArray(snippet) && snippet.length === 0) ||
    (isPlainObject(snippet) && Object.keys(snippet).length === 0)
  ) {
    return { rules: undefined, problems: [] };
  }
  if (!Array.isArray(snippet)) {
    return {
      rules: undefined,
      problems: [
        `Advanced rules must be a list like [{"bucket": "name", "prefix": "path/", "extension": [".txt"]}], got ${
          JSON.stringify(snippet)
        }`,
      ],
    };
  }
  const problems: string[] = [];
  const rules: S3Rule[] = [];
  snippet.forEach((item, i) => {
    const where = `Rule ${i + 1}`;
    if (!isPlainObject(item)) {
      problems.push(`${where} must be an object with a "bucket", got ${JSON.stringify(item)}`);
      return;
    }
    for (const key of Object.keys(item)) {
      if (!RULE_KEYS.includes(key)) {
        problems.push(`${where} has an unknown key '${key}' (allowed: bucket, prefix, extension)`);
      }
    }
    const bucket = item.bucket;
    if (typeof bucket !== "string" || bucket.trim() === "") {
      problems.push(`${where} needs a "bucket" name`);
    } else if (!BUCKET_NAME.test(bucket.trim())) {
      problems.push(`${where}: '${bucket}' is not a valid bucket name`);
    }
    const prefix = item.prefix ?? "";
    if (typeof prefix !== "string") {
      problems.push(`${where}: "prefix" must be a string, got ${JSON.stringify(prefix)}`);
    }
    if ("extension" in item && "extensions" in item) {
      problems.push(`${where}: give either "extension" or "extensions", not both`);
    }
    const rawExtensions = item.extension ?? item.extensions ?? [];
    let extensions: string[] = [];
    if (
      !Array.isArray(rawExtensions) ||
      !rawExtensions.every((e) => typeof e === "string" && e.trim().replace(/^\./, "") !== "")
    ) {
      problems.push(
        `${where}: "extension" must be a list of extensions like [".txt", ".md"], got ${
          JSON.stringify(rawExtensions)
        }`,
      );
    } else {
      extensions = [...new Set(rawExtensions.map((e) => normaliseExtension(e as string)))];
    }
    if (typeof bucket === "string" && typeof prefix === "string") {
      rules.push({ bucket: bucket.trim(), prefix, extensions });
    }
  });
  return { rules: problems.length === 0 ? rules : undefined, problems };
}

/**
 * The cursor key of a rule: the bucket alone when the rule lists the whole bucket, else the
 * bucket with its prefix and extensions (so a new or edited rule starts without a cursor).
 *
 * @example
 * ```ts
 * import { scopeKey } from "./_rules.ts";
 * if (scopeKey({ bucket: "b", prefix: "", extensions: [] }) !== "b") throw new Error();
 * ```
 */
export function scopeKey(rule: S3Rule): string {
  if (rule.prefix === "" && rule.extensions.length === 0) return rule.bucket;
  return JSON.stringify([rule.bucket, rule.prefix, [...rule.extensions].sort()]);
}
