/**
 * The Java that runs Elasticsearch (and compiles the security node's analysis plugin): for 9.x a
 * JDK with feature version >= 21, from `ES_JAVA_HOME` or found under /usr/lib/jvm and friends;
 * for the 8.x node a JDK 17 to 20, from `ES8_JAVA_HOME` or found the same way.
 *
 * @module
 */

import { exists } from "./_process.ts";

/** The lowest Java feature version Elasticsearch 9 runs on. */
export const MIN_ES_JAVA = 21;

/** The Java feature versions a node accepts: `min` to `max` (inclusive; no upper bound when unset). */
export interface JavaRange {
  min: number;
  max?: number;
}

/** What Elasticsearch 9.x runs on: Java 21 or newer. */
export const ES9_JAVA: JavaRange = { min: MIN_ES_JAVA };
/**
 * What the Elasticsearch 8.19 node runs on: Java 17 to 20 (8.19 needs 17; newer JDKs are left
 * to the 9.x nodes).
 */
export const ES8_JAVA: JavaRange = { min: 17, max: 20 };

/**
 * The Java feature version in a JDK's `release` file (`JAVA_VERSION="21.0.2"` gives 21).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJavaRelease } from "./mod.ts";
 * assert.equal(parseJavaRelease('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="21.0.2"\n'), 21);
 * assert.equal(parseJavaRelease('JAVA_VERSION="1.8.0_402"'), 8);
 * assert.equal(parseJavaRelease("no version here"), undefined);
 * ```
 */
export function parseJavaRelease(text: string): number | undefined {
  const m = /^JAVA_VERSION="?(\d+)(?:\.(\d+))?/m.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 && m[2] !== undefined ? Number(m[2]) : major;
}

/**
 * The JDK with the highest feature version from `min` to `max` (inclusive), or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pickJdk } from "./mod.ts";
 * const jdks = [
 *   { home: "/usr/lib/jvm/java-17", major: 17 },
 *   { home: "/usr/lib/jvm/java-21", major: 21 },
 * ];
 * assert.equal(pickJdk(jdks)?.home, "/usr/lib/jvm/java-21");
 * assert.equal(pickJdk(jdks, 25), undefined);
 * assert.equal(pickJdk(jdks, 17, 20)?.home, "/usr/lib/jvm/java-17");
 * ```
 */
export function pickJdk(
  candidates: readonly { home: string; major: number }[],
  min = MIN_ES_JAVA,
  max = Infinity,
): { home: string; major: number } | undefined {
  let best: { home: string; major: number } | undefined;
  for (const c of candidates) {
    if (c.major < min || c.major > max) continue;
    if (best === undefined || c.major > best.major) best = c;
  }
  return best;
}

/** `Java >= 21`, `Java 17 to 20`. */
function describeRange(range: JavaRange): string {
  if (range.max === undefined) return `Java >= ${range.min}`;
  return range.max === range.min ? `Java ${range.min}` : `Java ${range.min} to ${range.max}`;
}

/** The JDK at `homeDir` (symbolic links resolved, so an alias names the same JDK). */
function jdkAt(homeDir: string): { home: string; major: number } | undefined {
  if (!exists(`${homeDir}/bin/java`)) return undefined;
  try {
    const home = Deno.realPathSync(homeDir);
    const major = parseJavaRelease(Deno.readTextFileSync(`${home}/release`));
    return major === undefined ? undefined : { home, major };
  } catch {
    return undefined;
  }
}

/**
 * The variable `envVar` (default `ES_JAVA_HOME`) when set, else the newest JDK in `range`
 * (default: >= 21) found under /usr/lib/jvm and friends. `what` names the program in the error
 * message.
 *
 * @example
 * ```ts ignore
 * const env = { ES_JAVA_HOME: findEsJavaHome() }; // throws naming the JDKs found when none fits
 * const java17 = findEsJavaHome("Elasticsearch 8.19.21", ES8_JAVA, "ES8_JAVA_HOME");
 * ```
 */
export function findEsJavaHome(
  what = "Elasticsearch 9",
  range: JavaRange = ES9_JAVA,
  envVar = "ES_JAVA_HOME",
): string {
  const fromEnv = Deno.env.get(envVar);
  if (fromEnv) {
    if (!exists(`${fromEnv}/bin/java`)) throw new Error(`${envVar}=${fromEnv} has no bin/java`);
    return fromEnv;
  }
  const candidates: { home: string; major: number }[] = [];
  const roots = ["/usr/lib/jvm", "/opt/java", "/usr/local/java"];
  for (const root of roots) {
    try {
      for (const entry of Deno.readDirSync(root)) {
        if (entry.name.startsWith(".")) continue;
        const jdk = jdkAt(`${root}/${entry.name}`);
        if (jdk) candidates.push(jdk);
      }
    } catch {
      // no such folder
    }
  }
  const javaHome = Deno.env.get("JAVA_HOME");
  if (javaHome) {
    const jdk = jdkAt(javaHome);
    if (jdk) candidates.push(jdk);
  }
  const sorted = [...new Map(candidates.map((c) => [c.home, c])).values()]
    .sort((a, b) => a.home.localeCompare(b.home));
  const best = pickJdk(sorted, range.min, range.max);
  if (!best) {
    const seen = sorted.map((c) => `${c.home} (${c.major})`).join(", ") || "none";
    throw new Error(
      `${what} needs ${describeRange(range)}; JDKs found: ${seen}. ` +
        `Install one or point ${envVar} at it.`,
    );
  }
  return best.home;
}
