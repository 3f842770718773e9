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
      if (end === -1) {
        out += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^/" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else if (char === "{") {
      braces++;
      out += "(?:";
    } else if (char === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (char === "," && braces > 0) {
      out += "|";
    } else {
      out += escape(char);
    }
  }
  return out + ")".repeat(braces);
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
 * Compiles a glob pattern.
 *
 * @example
 * ```ts
 * import { compileGlob } from "./_glob.ts";
 * const glob = compileGlob("**\/*.{md,txt}");
 * if (!glob.matches("a.md") || !glob.matches("x/y/b.txt") || glob.matches("c.csv")) throw new Error();
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
