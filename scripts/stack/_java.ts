/**
 * The Java that runs Elasticsearch (and compiles the security node's analysis plugin): a JDK
 * with feature version >= 21, from `ES_JAVA_HOME` or found under /usr/lib/jvm and friends.
 *
 * @module
 */

import { exists } from "./_process.ts";

/** The lowest Java feature version Elasticsearch 9 runs on. */
export const MIN_ES_JAVA = 21;

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
 * The JDK with the highest feature version >= `min`, or undefined.
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
 * ```
 */
export function pickJdk(
  candidates: readonly { home: string; major: number }[],
  min = MIN_ES_JAVA,
): { home: string; major: number } | undefined {
  let best: { home: string; major: number } | undefined;
  for (const c of candidates) {
    if (c.major >= min && (best === undefined || c.major > best.major)) best = c;
  }
  return best;
}

function jdkAt(homeDir: string): { home: string; major: number } | undefined {
  if (!exists(`${homeDir}/bin/java`)) return undefined;
  try {
    const major = parseJavaRelease(Deno.readTextFileSync(`${homeDir}/release`));
    return major === undefined ? undefined : { home: homeDir, major };
  } catch {
    return undefined;
  }
}

/**
 * `ES_JAVA_HOME` when set, else the newest JDK >= 21 found under /usr/lib/jvm and friends.
 * `what` names the program in the error message.
 *
 * @example
 * ```ts ignore
 * const env = { ES_JAVA_HOME: findEsJavaHome() }; // throws naming the JDKs found when none fits
 * ```
 */
export function findEsJavaHome(what = "Elasticsearch 9"): string {
  const fromEnv = Deno.env.get("ES_JAVA_HOME");
  if (fromEnv) {
    if (!exists(`${fromEnv}/bin/java`)) throw new Error(`ES_JAVA_HOME=${fromEnv} has no bin/java`);
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
  const best = pickJdk(candidates.sort((a, b) => a.home.localeCompare(b.home)));
  if (!best) {
    const seen = candidates.map((c) => `${c.home} (${c.major})`).join(", ") || "none";
    throw new Error(
      `${what} needs Java >= ${MIN_ES_JAVA}; JDKs found: ${seen}. ` +
        "Install one or point ES_JAVA_HOME at it.",
    );
  }
  return best.home;
}
