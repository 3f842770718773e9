/**
 * The one way to print a URL: {@linkcode displayUrl} removes the user name and password of
 * `scheme://user:pass@host` (Elasticsearch hosts, MongoDB connection strings, S3 endpoints), and
 * {@linkcode maskUserinfo} masks them in free text (the redactor's safety net).
 * {@linkcode registerUrlSecrets} registers a URL's password with the redactor.
 *
 * @module
 */

/** `scheme://`, then user-info up to the last `@` before the host (no whitespace, `/`, `?`, `#`). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi;
/** What {@linkcode maskUserinfo} puts in place of user-info. */
export const MASKED_USERINFO = "***@";

/** The user-info part of `url` (`user:pass`), undefined when it has none. */
function userinfoOf(url: string): string | undefined {
  const match = /^\s*[a-z][a-z0-9+.-]*:\/\/([^\s/?#]*)@/i.exec(url);
  return match?.[1];
}

/**
 * A URL without user name and password, and without a trailing `/`, for every log line, error
 * and CLI output. Strings that are not URLs come back with any `scheme://…@` user-info cut.
 *
 * @example
 * ```ts
 * import { displayUrl } from "./url.ts";
 * if (displayUrl("https://elastic:s3cret@es.example.com:9243/") !== "https://es.example.com:9243") {
 *   throw new Error();
 * }
 * if (displayUrl("mongodb://bob:pw@db1:27017,db2:27017/shop") !== "mongodb://db1:27017,db2:27017/shop") {
 *   throw new Error();
 * }
 * ```
 */
export function displayUrl(url: string): string {
  const trimmed = url.trim();
  if (userinfoOf(trimmed) === undefined) return trimmed.replace(/\/$/, "");
  try {
    const parsed = new URL(trimmed);
    // Hosts with several addresses (MongoDB seed lists) parse as opaque: cut the text instead.
    if (parsed.host !== "") {
      parsed.username = "";
      parsed.password = "";
      return parsed.toString().replace(/\/$/, "");
    }
  } catch {
    // not a WHATWG URL: cut the text below
  }
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(trimmed)![0];
  const rest = trimmed.slice(scheme.length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? "" : rest.slice(end);
  return `${scheme}${authority.slice(authority.lastIndexOf("@") + 1)}${tail}`.replace(/\/$/, "");
}

/**
 * Masks the user-info of every `scheme://user:pass@` in a text (`https://***@host`).
 *
 * @example
 * ```ts
 * import { maskUserinfo } from "./url.ts";
 * const text = maskUserinfo("GET https://u:p%40ss@h:9200/_bulk failed");
 * if (text !== "GET https://***@h:9200/_bulk failed") throw new Error(text);
 * ```
 */
export function maskUserinfo(text: string): string {
  return text.includes("://") ? text.replace(USERINFO, `$1${MASKED_USERINFO}`) : text;
}

/**
 * The password of a URL's user-info, as written (percent-encoded) and decoded; empty when there
 * is none.
 *
 * @example
 * ```ts
 * import { urlPasswords } from "./url.ts";
 * const forms = urlPasswords("https://user:p%40ss@host:9200");
 * if (forms.join(" ") !== "p%40ss p@ss") throw new Error(forms.join(" "));
 * ```
 */
export function urlPasswords(url: string): string[] {
  const info = userinfoOf(url);
  if (info === undefined || !info.includes(":")) return [];
  const raw = info.slice(info.indexOf(":") + 1);
  const forms = [raw];
  try {
    const decoded = decodeURIComponent(raw);
    if (decoded !== raw) forms.push(decoded);
  } catch {
    // a malformed escape is kept as written
  }
  return forms.filter((form) => form !== "");
}

/**
 * The user name of a URL's user-info (decoded), undefined when there is none.
 *
 * @example
 * ```ts
 * import { urlUsername } from "./url.ts";
 * if (urlUsername("https://connector%2Dbot:pw@host") !== "connector-bot") throw new Error();
 * if (urlUsername("https://host") !== undefined) throw new Error();
 * ```
 */
export function urlUsername(url: string): string | undefined {
  const info = userinfoOf(url);
  if (info === undefined) return undefined;
  const user = info.includes(":") ? info.slice(0, info.indexOf(":")) : info;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
