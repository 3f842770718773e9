/**
 * Glob patterns over `/`-separated relative paths, with pathlib semantics: `**` spans any
 * number of directories (zero included), `*` and `?` stay within one name, `[abc]`, `[!abc]`
 * and `{a,b}` as usual. Names starting with a dot are matched like any other.
 *
 * @module
 */

function segmentSource(segment: string): string {
  let out = "";
  let braces = 0;
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === "\\" && i + 1 < segment.length) {
      out += escape(segment[++i]!);
    } else if (char === "*") {
      out += "[^/]*";
    } else if (char === "?") {
      out += "[^/]";
    } else if (char === "[") {
      const end = segment.indexOf("]", i + 2);
      // A typo here would match nothing, and a full sync would then delete every document.
      if (end === -1) throw new SyntaxError(`'[' at ${i + 1} of '${segment}' is never closed`);
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^/" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else if (char === "{") {
      braces++;
      out += "(?:";
    } else if (char === "}" && braces === 0) {
      throw new SyntaxError(`'}' at ${i + 1} of '${segment}' has no opening '{'`);
    } else if (char === "}") {
      braces--;
      out += ")";
    } else if (char === "," && braces > 0) {
      out += "|";
    } else {
      out += escape(char);
    }
  }
  if (braces > 0) throw new SyntaxError(`'{' in '${segment}' is never closed`);
  return out;
}

function escape(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}

/** A compiled pattern: `matches(path)` and the deepest directory level worth visiting. */
export interface Glob {
  /** True when the relative path (with `/` separators) matches. */
  matches(path: string): boolean;
  /** Directory levels below the root that can hold matches (`Infinity` with `**`). */
  maxDepth: number;
}

/**
 * Compiles a glob pattern; throws a `SyntaxError` for an unclosed `[` or `{` (or a stray `}`):
 * such a typo would match nothing.
 *
 * @example
 * ```ts
 * import { compileGlob } from "./_glob.ts";
 * const glob = compileGlob("**\/*.{md,txt}");
 * if (!glob.matches("a.md") || !glob.matches("x/y/b.txt") || glob.matches("c.csv")) throw new Error();
 * let refused = false;
 * try { compileGlob("[unclosed"); } catch { refused = true; }
 * if (!refused) throw new Error("an unclosed bracket must be refused");
 * ```
 */
export function compileGlob(pattern: string): Glob {
  const segments = pattern.replace(/^(\.\/)+/, "").split("/").filter((s) => s !== "");
  if (segments.length === 0) segments.push("**", "*");
  let source = "";
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "**") {
      source += last ? ".*" : "(?:[^/]+/)*";
    } else {
      source += segmentSource(segment) + (last ? "" : "/");
    }
  });
  const regex = new RegExp(`^${source}$`, "u");
  return {
    matches: (path) => regex.test(path),
    maxDepth: segments.includes("**") ? Infinity : segments.length - 1,
  };
}
