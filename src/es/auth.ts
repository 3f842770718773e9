/**
 * Credentials and what Elasticsearch says about them: API keys in both forms Elastic hands out
 * (the `encoded` value, or `id:secret`), a label naming the credential without its secret, and
 * the reason of a 401 or 403 answer (Elasticsearch's own text, with the privilege it names).
 *
 * @module
 */
import type { ElasticsearchConfig } from "../config/mod.ts";
import { statusOf } from "../errors/mod.ts";
import { registerSecret, urlUsername } from "../log/mod.ts";

/** Statuses that mean "these credentials": 401 not authenticated, 403 not authorized. */
export const AUTH_STATUSES: readonly number[] = [401, 403];

/**
 * The encoded form of an API key (base64 of `id:secret`, what the `Authorization: ApiKey`
 * header carries): an `id:secret` value is encoded, an encoded one is kept; both forms and the
 * secret are registered with the redactor.
 *
 * @example
 * ```ts
 * import { normalizeApiKey } from "./auth.ts";
 * if (normalizeApiKey("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw") !== btoa("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw")) throw new Error();
 * if (normalizeApiKey(" Zm9vOmJhcg==\n") !== "Zm9vOmJhcg==") throw new Error();
 * ```
 */
export function normalizeApiKey(value: string): string {
  const key = value.trim();
  // Base64 has no ":"; an `id:secret` value is the raw form.
  const encoded = key.includes(":") ? btoa(key) : key;
  registerSecret(key);
  registerSecret(encoded);
  const decoded = decodeApiKey(encoded);
  if (decoded) registerSecret(decoded.secret);
  return encoded;
}

/**
 * The id and secret of an encoded API key; undefined when it does not decode to `id:secret`.
 *
 * @example
 * ```ts
 * import { decodeApiKey } from "./auth.ts";
 * if (decodeApiKey(btoa("abc:def"))?.id !== "abc") throw new Error();
 * if (decodeApiKey("not base64!") !== undefined) throw new Error();
 * ```
 */
export function decodeApiKey(encoded: string): { id: string; secret: string } | undefined {
  let text: string;
  try {
    text = atob(encoded.trim());
  } catch {
    return undefined;
  }
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1 || /[^\x21-\x7e]/.test(text)) return undefined;
  return { id: text.slice(0, colon), secret: text.slice(colon + 1) };
}

/**
 * The credential a client uses, named without its secret: `API key id X (elasticsearch.api_key)`,
 * `user reader (elasticsearch.username)`, `user reader (from elasticsearch.host)` or
 * `no credentials`. `apiKey` (a connector's own key) wins, with `source` naming where it is set.
 *
 * @example
 * ```ts
 * import { describeCredentials } from "./auth.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const es = { ...defaultConfig().elasticsearch, username: "reader", password: "pw-1234" };
 * if (describeCredentials(es) !== "user reader (elasticsearch.username)") throw new Error();
 * const key = describeCredentials(es, { apiKey: btoa("k1:s1"), source: "connectors[0].api_key" });
 * if (key !== "API key id k1 (connectors[0].api_key)") throw new Error(key);
 * ```
 */
export function describeCredentials(
  config: ElasticsearchConfig,
  own?: { apiKey: string; source: string },
): string {
  const apiKey = own?.apiKey ?? config.api_key;
  if (apiKey) {
    const id = decodeApiKey(normalizeApiKey(apiKey))?.id;
    const source = own?.source ?? "elasticsearch.api_key";
    return id ? `API key id ${id} (${source})` : `an API key that is not valid base64 (${source})`;
  }
  if (config.username !== undefined) return `user ${config.username} (elasticsearch.username)`;
  const fromUrl = urlUsername(config.host);
  if (fromUrl !== undefined) return `user ${fromUrl} (from elasticsearch.host)`;
  return "no credentials";
}

interface EsErrorBody {
  error?: {
    type?: string;
    reason?: string;
    additional_unsuccessful_credentials?: string;
    root_cause?: { reason?: string; additional_unsuccessful_credentials?: string }[];
  } | string;
}

/**
 * Elasticsearch's own reason for a failed request (`error.reason`, plus the
 * `additional_unsuccessful_credentials` of API-key failures such as "api key is expired");
 * undefined when the answer has none.
 *
 * @example
 * ```ts
 * import { esReason } from "./auth.ts";
 * const error = { meta: { statusCode: 401, body: { error: {
 *   reason: "unable to authenticate with provided credentials",
 *   additional_unsuccessful_credentials: "API key: api key is expired",
 * } } } };
 * if (esReason(error) !== "unable to authenticate with provided credentials (API key: api key is expired)") throw new Error();
 * ```
 */
export function esReason(error: unknown): string | undefined {
  const body = (error as { meta?: { body?: unknown } } | null)?.meta?.body;
  if (typeof body === "string") return body.trim() || undefined;
  const detail = (body as EsErrorBody | undefined)?.error;
  if (typeof detail === "string") return detail;
  if (!detail) return undefined;
  const reason = detail.reason ?? detail.root_cause?.[0]?.reason;
  const extra = detail.additional_unsuccessful_credentials ??
    detail.root_cause?.[0]?.additional_unsuccessful_credentials;
  if (reason === undefined) return extra;
  return extra ? `${reason} (${extra})` : reason;
}

/**
 * True for an answer refusing the credentials (401) or their privileges (403).
 *
 * @example
 * ```ts
 * import { isAuthFailure } from "./auth.ts";
 * if (!isAuthFailure({ meta: { statusCode: 403 } }) || isAuthFailure(new Error("x"))) throw new Error();
 * ```
 */
export function isAuthFailure(error: unknown): boolean {
  const status = statusOf(error);
  return status !== undefined && AUTH_STATUSES.includes(status);
}

/** A privilege a 403 names: the least one of those Elasticsearch lists as granting the action. */
export interface MissingPrivilege {
  /** `cluster` or `index`. */
  scope: "cluster" | "index";
  /** The first (narrowest) privilege listed, e.g. `read_pipeline`. */
  privilege: string;
  /** Every privilege listed. */
  all: string[];
  /** The action refused, e.g. `cluster:admin/ingest/pipeline/get`. */
  action?: string;
}

/**
 * The privilege a 403 reason names ("this action is granted by the cluster privileges
 * [read_pipeline,manage_pipeline,...]"); undefined when it names none.
 *
 * @example
 * ```ts
 * import { missingPrivilege } from "./auth.ts";
 * const reason = "action [cluster:admin/ingest/pipeline/get] is unauthorized for API key id [k] of user [u], this action is granted by the cluster privileges [read_pipeline,manage_pipeline,all]";
 * const missing = missingPrivilege(reason);
 * if (missing?.privilege !== "read_pipeline" || missing.scope !== "cluster") throw new Error();
 * if (missing.action !== "cluster:admin/ingest/pipeline/get") throw new Error();
 * ```
 */
export function missingPrivilege(reason: string | undefined): MissingPrivilege | undefined {
  if (!reason) return undefined;
  const match = /granted by the (cluster|index) privileges \[([^\]]+)\]/.exec(reason);
  if (!match) return undefined;
  const all = match[2]!.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (all.length === 0) return undefined;
  // Action names may hold brackets themselves: `indices:data/write/bulk[s]`.
  const action = /action \[(.+?)\] is unauthorized/.exec(reason)?.[1];
  return {
    scope: match[1] as "cluster" | "index",
    privilege: all[0]!,
    all,
    ...(action === undefined ? {} : { action }),
  };
}

/**
 * One line for a 401 or 403: who was refused and Elasticsearch's reason, e.g.
 * `Elasticsearch refused the credentials (user bob (elasticsearch.username)): unable to
 * authenticate user [bob] for REST request [/_cluster/health]`.
 *
 * @example
 * ```ts
 * import { describeAuthFailure } from "./auth.ts";
 * const error = { meta: { statusCode: 403, body: { error: { reason: "action [x] is unauthorized" } } } };
 * const text = describeAuthFailure(error, "user bob (elasticsearch.username)");
 * if (text !== "Elasticsearch denied user bob (elasticsearch.username) (HTTP 403): action [x] is unauthorized") throw new Error(text);
 * ```
 */
export function describeAuthFailure(error: unknown, credentials: string): string {
  const status = statusOf(error);
  const reason = esReason(error) ?? "no reason given";
  return status === 401
    ? `Elasticsearch refused the credentials, ${credentials} (HTTP 401): ${reason}`
    : `Elasticsearch denied ${credentials} (HTTP ${status ?? "?"}): ${reason}`;
}
