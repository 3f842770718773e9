/**
 * Fetching an `https:` (or loopback `http:`) source module before it runs: the module must be
 * reachable, may not redirect to plain `http:` elsewhere, and, with an `integrity` grant, must
 * hash to it. A pinned module then runs from exactly the verified bytes (a `data:` URL).
 *
 * @module
 */
import { moduleUrlProblem } from "./grants.ts";

/** A module's text as fetched. */
export interface FetchedModule {
  /** The URL after redirects. */
  url: string;
  bytes: Uint8Array;
  /** Its media type for Deno (`application/typescript`, `application/javascript`, ...). */
  mediaType: string;
}

/** The module was reached but is not acceptable (status, redirect, integrity); one line. */
export class ModuleCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModuleCheckError";
  }
}

const HASHES: Record<string, string> = { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" };

/**
 * The subresource-integrity string of some bytes (`sha256-`, `sha384-` or `sha512-` + base64).
 *
 * @example
 * ```ts
 * import { integrityOf } from "./module_fetch.ts";
 * const value = await integrityOf(new TextEncoder().encode("abc"), "sha256");
 * if (value !== "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=") throw new Error(value);
 * ```
 */
export async function integrityOf(bytes: Uint8Array, algorithm: string): Promise<string> {
  const name = HASHES[algorithm];
  if (!name) throw new RangeError(`unknown integrity algorithm ${algorithm}`);
  const digest = new Uint8Array(await crypto.subtle.digest(name, bytes as BufferSource));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `${algorithm}-${btoa(binary)}`;
}

function mediaTypeOf(url: string, contentType: string | null): string {
  const path = new URL(url).pathname;
  if (/\.m?ts$/.test(path)) return "application/typescript";
  if (/\.tsx$/.test(path)) return "text/tsx";
  if (/\.jsx$/.test(path)) return "text/jsx";
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type && /typescript|javascript|ecmascript|jsx|tsx/.test(type)) return type;
  return "application/javascript";
}

/**
 * Fetches a module's text. Network failures reject with the fetch error; a status other than
 * 200, a redirect to plain `http:` from a host that is not loopback, or text that does not
 * match `integrity` reject with a {@linkcode ModuleCheckError}.
 *
 * @example
 * ```ts
 * import { fetchModule, integrityOf } from "./module_fetch.ts";
 * const text = "export class S {}";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response(text));
 * try {
 *   const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
 *   const integrity = await integrityOf(new TextEncoder().encode(text), "sha384");
 *   const fetched = await fetchModule(url, integrity);
 *   if (fetched.mediaType !== "application/typescript") throw new Error();
 *   await fetchModule(url, integrity.replace(/.{4}=?=?$/, "AAAA")).then(() => { throw new Error("accepted"); }, () => {});
 * } finally {
 *   await server.shutdown();
 * }
 * ```
 */
export async function fetchModule(url: string, integrity?: string): Promise<FetchedModule> {
  const response = await fetch(url, { headers: { accept: "application/typescript, */*" } });
  const finalUrl = response.url || url;
  if (response.status !== 200) {
    await response.body?.cancel();
    if (response.status === 404 || response.status === 410) {
      throw new ModuleCheckError(`module not found: ${url}`);
    }
    throw new ModuleCheckError(`cannot fetch module ${url}: HTTP ${response.status}`);
  }
  const redirect = finalUrl === url ? undefined : moduleUrlProblem(finalUrl);
  if (redirect) {
    await response.body?.cancel();
    throw new ModuleCheckError(`${url} redirects to ${finalUrl}: ${redirect}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (integrity) {
    const actual = await integrityOf(bytes, integrity.slice(0, integrity.indexOf("-")));
    if (actual !== integrity) {
      throw new ModuleCheckError(
        `integrity mismatch for ${finalUrl}: the config pins ${integrity}, the module's text hashes to ${actual}`,
      );
    }
  }
  return {
    url: finalUrl,
    bytes,
    mediaType: mediaTypeOf(finalUrl, response.headers.get("content-type")),
  };
}

/**
 * A `data:` URL of a fetched module: importing it runs exactly those bytes (its relative
 * imports do not resolve; absolute ones load as usual).
 *
 * @example
 * ```ts
 * import { dataUrlOf } from "./module_fetch.ts";
 * const url = dataUrlOf({ url: "https://s.example/m.js", bytes: new TextEncoder().encode("export const a = 1;"), mediaType: "application/javascript" });
 * const module = await import(url);
 * if (module.a !== 1) throw new Error();
 * ```
 */
export function dataUrlOf(module: FetchedModule): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < module.bytes.length; i += chunk) {
    binary += String.fromCharCode(...module.bytes.subarray(i, i + chunk));
  }
  return `data:${module.mediaType};base64,${btoa(binary)}`;
}
