/**
 * Byte helpers for sources: base64 for `_attachment`, binary sniffing, UTF-8 decoding. Pure
 * functions, usable on the main thread or in a Worker through `WorkerPool`.
 *
 * @module
 */

const BASE64_CHUNK = 0x8000;

/**
 * Base64 of bytes (what the `_attachment` field carries).
 *
 * @example
 * ```ts
 * import { encodeBase64 } from "./encoding.ts";
 * if (encodeBase64(new TextEncoder().encode("hello")) !== "aGVsbG8=") throw new Error();
 * ```
 */
export function encodeBase64(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const parts: string[] = [];
  for (let i = 0; i < view.length; i += BASE64_CHUNK) {
    parts.push(String.fromCharCode(...view.subarray(i, i + BASE64_CHUNK)));
  }
  return btoa(parts.join(""));
}

/** Bytes inspected to tell text from binary. */
export const SNIFF_BYTES = 8192;

/**
 * True when bytes look binary: a NUL byte, or invalid UTF-8, within the first
 * {@linkcode SNIFF_BYTES} bytes.
 *
 * @example
 * ```ts
 * import { looksBinary } from "./encoding.ts";
 * if (looksBinary(new TextEncoder().encode("héllo")) || !looksBinary(new Uint8Array([0x41, 0]))) throw new Error();
 * ```
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, SNIFF_BYTES);
  if (head.includes(0)) return true;
  try {
    // stream: a multi-byte character cut at the sniff boundary is not an error.
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: head.length < bytes.length });
    return false;
  } catch {
    return true;
  }
}

/**
 * Decodes UTF-8 strictly (BOM dropped); undefined when the bytes are not valid UTF-8.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./encoding.ts";
 * if (decodeUtf8(new Uint8Array([0xff])) !== undefined) throw new Error();
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
