/**
 * Turns MongoDB driver errors into one-line messages a user can act on, without credentials.
 *
 * @module
 */
import { FatalError, permissionHint, redact, RetriableError } from "../../src/source/mod.ts";

/** TLS verification failures Node reports through `error.code`. */
const CERT_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

/** Server error codes meaning the credentials were refused or lack a privilege. */
const AUTH_FAILED = 18;
const UNAUTHORIZED = 13;

/**
 * Masks the user-info part of MongoDB URIs (`mongodb://user:pass@host` → `mongodb://***@host`)
 * and every registered secret.
 *
 * @example
 * ```ts
 * import { redactUri } from "./_errors.ts";
 * if (redactUri("bad mongodb://bob:pw1234@db:27017/x") !== "bad mongodb://***@db:27017/x") {
 *   throw new Error();
 * }
 * ```
 */
export function redactUri(text: string): string {
  return redact(text.replace(/(mongodb(?:\+srv)?:\/\/)\S*@/gi, "$1***@"));
}

/** What the source knows about the connection, for messages. */
export interface ConnectionFacts {
  /** Host list as configured (credentials already removed). */
  hosts: string;
  /** The configured user, or "". */
  user: string;
  /** TLS requested. */
  tls: boolean;
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: unknown;
  codeName?: string;
  cause?: unknown;
  reason?: { servers?: Map<string, { error?: unknown }> };
}

/** Every error in the chain: the error, its causes, and the per-server errors of a selection. */
function errorChain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 20) {
    const item = queue.shift();
    if (!item || typeof item !== "object") continue;
    const e = item as ErrorLike;
    out.push(e);
    if (e.cause) queue.push(e.cause);
    const servers = e.reason?.servers;
    if (servers instanceof Map) {
      for (const server of servers.values()) if (server?.error) queue.push(server.error);
    }
  }
  return out;
}

function codeOf(chain: ErrorLike[]): string | undefined {
  for (const e of chain) {
    if (typeof e.code === "string") return e.code;
  }
  for (const e of chain) {
    const match = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH)\b/.exec(
      e.message ?? "",
    );
    if (match) return match[1];
  }
  return undefined;
}

/**
 * A project error with a clear, credential-free message for a driver failure: refused or
 * unresolvable hosts, TLS problems, refused credentials, missing privileges. Connection
 * failures are retriable, configuration problems fatal.
 *
 * @example
 * ```ts
 * import { describeMongoError } from "./_errors.ts";
 * const e = Object.assign(new Error("Authentication failed."), { code: 18, name: "MongoServerError" });
 * const out = describeMongoError(e, { hosts: "db:27017", user: "bob", tls: false }, "ping");
 * if (!out.message.includes("refused the credentials of user 'bob'")) throw new Error();
 * ```
 */
export function describeMongoError(
  error: unknown,
  facts: ConnectionFacts,
  action: string,
): FatalError | RetriableError {
  const chain = errorChain(error);
  const top = chain[0] ?? {};
  const detail = redactUri(top.message ?? String(error)).replace(/\s+/g, " ").trim();
  const where = `MongoDB at ${facts.hosts}`;
  const code = codeOf(chain);
  const serverCode = chain.find((e) => typeof e.code === "number")?.code as number | undefined;
  // Deno refused the access: retrying cannot help, adding the flag does.
  const refused = chain.map((e) => permissionHint(e.message ?? "")).find((hint) => hint);
  if (refused) {
    return new FatalError(`Cannot ${action}: ${refused.problem} (run with ${refused.flag})`);
  }
  if (serverCode === AUTH_FAILED || /authentication failed/i.test(detail)) {
    return new FatalError(
      `Cannot ${action}: ${where} refused the credentials of user '${facts.user}' (${detail})`,
    );
  }
  if (serverCode === UNAUTHORIZED) {
    return new FatalError(
      `Cannot ${action}: user '${facts.user}' lacks a privilege on ${where} (${detail})`,
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new FatalError(
      `Cannot ${action}: the host name in ${facts.hosts} cannot be resolved (DNS lookup failed: ${code})`,
    );
  }
  if (code && CERT_CODES.has(code)) {
    return new FatalError(
      `Cannot ${action}: TLS connection to ${where} failed (${code}); check the certificate authority (ssl_ca) or, for testing only, tls_insecure`,
    );
  }
  if (code === "ECONNREFUSED") {
    return new RetriableError(`Cannot ${action}: connection to ${where} refused (${detail})`);
  }
  if (top.name === "MongoParseError" || top.name === "MongoInvalidArgumentError") {
    return new FatalError(`Cannot ${action}: invalid MongoDB host or option (${detail})`);
  }
  if (top.name === "MongoServerSelectionError" || top.name === "MongoTopologyClosedError") {
    const hint = facts.tls
      ? "; TLS is enabled: check that the server accepts TLS connections"
      : "; if the server requires TLS, enable ssl_enabled";
    const replicaHint = /replica set|setName/i.test(detail)
      ? "; for a single server, try direct_connection"
      : "";
    return new RetriableError(
      `Cannot ${action}: ${where} did not answer (${detail})${hint}${replicaHint}`,
    );
  }
  if (top.name === "MongoNetworkError" || top.name === "MongoNetworkTimeoutError") {
    return new RetriableError(`Cannot ${action}: network error talking to ${where} (${detail})`);
  }
  return new FatalError(`Cannot ${action}: ${top.name ?? "Error"} from ${where}: ${detail}`);
}
