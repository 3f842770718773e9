/**
 * TLS hints: a certificate the client does not trust names `elasticsearch.ca_certs`; a plain
 * `http://` request to a port that speaks TLS says "use https://"; `verify_certs: false` is
 * worth a warning.
 *
 * @module
 */
import type { ElasticsearchConfig } from "../config/mod.ts";
import { displayUrl } from "../log/mod.ts";

/** Milliseconds {@linkcode speaksTls} waits for a TLS handshake. */
export const DEFAULT_TLS_PROBE_TIMEOUT_MS = 3_000;

const TRUST_FAILURE =
  /certificate|self[- ]signed|UnknownIssuer|CERT_|altnames|unable to get (local )?issuer/i;
/** What a TLS server does to a plain-HTTP request: it closes the connection. */
const PLAIN_TO_TLS = /other side closed|socket hang up|ECONNRESET|connection reset|UND_ERR_SOCKET/i;

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} ${cause.message}` : error.message;
}

/**
 * True when a request failed because the server's certificate is not trusted (unknown CA,
 * self-signed, expired, wrong host name).
 *
 * @example
 * ```ts
 * import { isTlsTrustFailure } from "./tls.ts";
 * if (!isTlsTrustFailure(new Error("unable to verify the first certificate"))) throw new Error();
 * if (isTlsTrustFailure(new Error("connect ECONNREFUSED"))) throw new Error();
 * ```
 */
export function isTlsTrustFailure(error: unknown): boolean {
  const status = (error as { meta?: { statusCode?: unknown } } | null)?.meta?.statusCode;
  if (typeof status === "number" && status > 0) return false;
  return TRUST_FAILURE.test(messageOf(error));
}

/**
 * What to do about a certificate the client does not trust: set (or fix) `ca_certs`.
 *
 * @example
 * ```ts
 * import { tlsTrustHint } from "./tls.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const hint = tlsTrustHint({ ...defaultConfig().elasticsearch, host: "https://es:9200" });
 * if (!hint.includes("elasticsearch.ca_certs")) throw new Error(hint);
 * ```
 */
export function tlsTrustHint(config: ElasticsearchConfig): string {
  return config.ca_certs
    ? `the certificate of ${
      displayUrl(config.host)
    } is not signed by the CA in elasticsearch.ca_certs (${config.ca_certs}); set elasticsearch.ca_certs to the PEM file of the CA that signed it`
    : `the certificate of ${
      displayUrl(config.host)
    } is not signed by a CA this process trusts; set elasticsearch.ca_certs to the PEM file of the CA that signed it`;
}

/**
 * True when a plain-HTTP request may have met a TLS port: the host is `http://` and the server
 * closed the connection without an answer.
 *
 * @example
 * ```ts
 * import { mayBePlainToTls } from "./tls.ts";
 * if (!mayBePlainToTls("http://es:9200", new Error("other side closed"))) throw new Error();
 * if (mayBePlainToTls("https://es:9200", new Error("other side closed"))) throw new Error();
 * ```
 */
export function mayBePlainToTls(host: string, error: unknown): boolean {
  return /^http:\/\//i.test(host.trim()) && PLAIN_TO_TLS.test(messageOf(error));
}

/**
 * The `https://` form of an `http://` URL, for the hint (no user-info).
 *
 * @example
 * ```ts
 * import { httpsUrl } from "./tls.ts";
 * if (httpsUrl("http://u:p@es:9200") !== "https://es:9200") throw new Error();
 * ```
 */
export function httpsUrl(host: string): string {
  return displayUrl(host).replace(/^http:/i, "https:");
}

/**
 * Whether `host:port` answers a TLS handshake: a server certificate (trusted or not) means
 * yes; a refused connection, a plain-HTTP answer or silence means no.
 *
 * @example
 * ```ts
 * import { speaksTls } from "./tls.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("plain"));
 * if (await speaksTls(`http://127.0.0.1:${server.addr.port}`, 1_000)) throw new Error("plain HTTP");
 * await server.shutdown();
 * ```
 */
export async function speaksTls(
  url: string,
  timeoutMs = DEFAULT_TLS_PROBE_TIMEOUT_MS,
): Promise<boolean> {
  let hostname: string;
  let port: number;
  try {
    const parsed = new URL(url);
    hostname = parsed.hostname.replace(/^\[|\]$/g, "");
    port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
  } catch {
    return false;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  let conn: Deno.TlsConn | undefined;
  const close = (c: Deno.TlsConn | undefined) => {
    try {
      c?.close();
    } catch {
      // closed already
    }
  };
  const connecting = Deno.connectTls({ hostname, port });
  // A connection that opens after the timeout is closed at once.
  connecting.then((c) => settled && close(c), () => {});
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("TLS probe timed out")), timeoutMs);
    });
    conn = await Promise.race([connecting, timeout]);
    await Promise.race([conn.handshake(), timeout]);
    return true;
  } catch (error) {
    return /certificate|UnknownIssuer|CertificateRequired|NotValidForName/i.test(
      (error as Error)?.message ?? "",
    );
  } finally {
    settled = true;
    clearTimeout(timer);
    close(conn);
  }
}

/**
 * The warnings a configuration deserves at start: `verify_certs: false` on an https host.
 *
 * @example
 * ```ts
 * import { tlsWarnings } from "./tls.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * const es = { ...defaultConfig().elasticsearch, host: "https://es:9200", verify_certs: false };
 * if (!tlsWarnings(es)[0]?.includes("verify_certs is false")) throw new Error();
 * if (tlsWarnings({ ...es, verify_certs: true }).length !== 0) throw new Error();
 * ```
 */
export function tlsWarnings(config: ElasticsearchConfig): string[] {
  if (config.verify_certs || !/^https:\/\//i.test(config.host.trim())) return [];
  return [
    `elasticsearch.verify_certs is false: the certificate of ${
      displayUrl(config.host)
    } is not verified, so anyone on the network path can pose as Elasticsearch and read the credentials and documents; set elasticsearch.ca_certs to the CA's PEM file and remove verify_certs: false`,
  ];
}
