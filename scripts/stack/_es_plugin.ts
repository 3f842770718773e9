/**
 * The analysis plugin the security node needs. With security on, the first call that creates
 * the `.security-7` index (a role, a user, an API key) fails with `Unknown filter type
 * [pattern_capture]`: the integ-test-zip has no analysis-common module. This plugin registers
 * the three Lucene classes the security index's analyzer uses, which ship in the zip's own
 * `lib/lucene-analysis-common-*.jar`: token filters `pattern_capture` and `unique`, tokenizer
 * `uax_url_email`. It is compiled once with `javac --release 21` against the zip's lib jars and
 * cached under `<cache>/es-plugins/<ES version>/`, keyed by a hash of its source.
 *
 * @module
 */

import { ES_VERSION } from "./_es_node.ts";
import { exists, log, mkdirp, runChecked } from "./_process.ts";
import { cacheDir, withInstallLock } from "./_state.ts";

/** The plugin's name (`bin/elasticsearch-plugin list` shows it). */
export const ANALYSIS_PLUGIN = "connectors-security-analysis";
const CLASS = "org.connectorsdeno.analysis.SecurityAnalysisPlugin";

const JAVA_SOURCE = `package org.connectorsdeno.analysis;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/** pattern_capture, unique and uax_url_email, for the analyzer of the security index. */
public final class SecurityAnalysisPlugin extends Plugin implements AnalysisPlugin {
    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        AnalysisProvider<TokenFilterFactory> patternCapture = (indexSettings, env, name, settings) -> {
            List<String> regexes = settings.getAsList("patterns");
            Pattern[] patterns = new Pattern[regexes.size()];
            for (int i = 0; i < patterns.length; i++) patterns[i] = Pattern.compile(regexes.get(i));
            boolean preserveOriginal = settings.getAsBoolean("preserve_original", true);
            return new AbstractTokenFilterFactory(name) {
                @Override
                public TokenStream create(TokenStream input) {
                    return new PatternCaptureGroupTokenFilter(input, preserveOriginal, patterns);
                }
            };
        };
        AnalysisProvider<TokenFilterFactory> unique = (indexSettings, env, name, settings) ->
            new AbstractTokenFilterFactory(name) {
                @Override
                public TokenStream create(TokenStream input) {
                    return new RemoveDuplicatesTokenFilter(input);
                }
            };
        return Map.of(
            "pattern_capture", AnalysisPlugin.requiresAnalysisSettings(patternCapture),
            "unique", unique);
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        AnalysisProvider<TokenizerFactory> uaxUrlEmail = (indexSettings, env, name, settings) -> {
            int maxTokenLength = settings.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> {
                UAX29URLEmailTokenizer tokenizer = new UAX29URLEmailTokenizer();
                tokenizer.setMaxTokenLength(maxTokenLength);
                return (Tokenizer) tokenizer;
            });
        };
        return Map.of("uax_url_email", uaxUrlEmail);
    }
}
`;

/**
 * The plugin's `plugin-descriptor.properties` for Elasticsearch `esVersion` (which must match
 * the server exactly).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginDescriptor } from "./_es_plugin.ts";
 * assert.match(pluginDescriptor("9.2.4"), /^elasticsearch\.version=9\.2\.4$/m);
 * ```
 */
export function pluginDescriptor(esVersion: string): string {
  return [
    `name=${ANALYSIS_PLUGIN}`,
    "description=pattern_capture, unique and uax_url_email for the security index (test stack)",
    "version=1.0.0",
    `classname=${CLASS}`,
    "java.version=21",
    `elasticsearch.version=${esVersion}`,
    "",
  ].join("\n");
}

/** The cached plugin zip for {@link ES_VERSION}; its name carries a hash of the source. */
export async function analysisPluginZip(): Promise<string> {
  const bytes = new TextEncoder().encode(JAVA_SOURCE + pluginDescriptor(ES_VERSION));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${cacheDir()}/es-plugins/${ES_VERSION}/${ANALYSIS_PLUGIN}-${hash}.zip`;
}

/**
 * Builds the plugin zip when it is not cached: `javac --release 21 -cp "<esHome>/lib/*"`, a jar,
 * the descriptor, one zip. Returns the zip's path.
 */
export function ensureAnalysisPlugin(esHome: string, javaHome: string): Promise<string> {
  return withInstallLock("es-plugin", async () => {
    const zip = await analysisPluginZip();
    if (exists(zip)) return zip;
    for (const tool of ["javac", "jar"]) {
      if (!exists(`${javaHome}/bin/${tool}`)) {
        throw new Error(
          `${javaHome} has no bin/${tool}: a full JDK >= 21 is needed (ES_JAVA_HOME)`,
        );
      }
    }
    const started = Date.now();
    log(`building the analysis plugin ${ANALYSIS_PLUGIN} for Elasticsearch ${ES_VERSION}…`);
    mkdirp(cacheDir());
    const tmp = Deno.makeTempDirSync({ dir: cacheDir(), prefix: ".es-plugin-build-" });
    try {
      const srcDir = `${tmp}/src/${CLASS.split(".").slice(0, -1).join("/")}`;
      mkdirp(srcDir);
      const source = `${srcDir}/${CLASS.split(".").at(-1)}.java`;
      Deno.writeTextFileSync(source, JAVA_SOURCE);
      mkdirp(`${tmp}/classes`);
      mkdirp(`${tmp}/plugin`);
      await runChecked(`${javaHome}/bin/javac`, [
        "--release",
        "21",
        "-nowarn",
        "-cp",
        `${esHome}/lib/*`,
        "-d",
        `${tmp}/classes`,
        source,
      ]);
      await runChecked(`${javaHome}/bin/jar`, [
        "--create",
        "--file",
        `${tmp}/plugin/${ANALYSIS_PLUGIN}.jar`,
        "-C",
        `${tmp}/classes`,
        ".",
      ]);
      Deno.writeTextFileSync(
        `${tmp}/plugin/plugin-descriptor.properties`,
        pluginDescriptor(ES_VERSION),
      );
      await runChecked(`${javaHome}/bin/jar`, [
        "--create",
        "--no-manifest",
        "--file",
        `${tmp}/plugin.zip`,
        "-C",
        `${tmp}/plugin`,
        ".",
      ]);
      mkdirp(zip.slice(0, zip.lastIndexOf("/")));
      Deno.renameSync(`${tmp}/plugin.zip`, zip);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
    log(`built ${zip} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return zip;
  });
}

/** Installs the plugin zip into `esHome` with `bin/elasticsearch-plugin install --batch`. */
export async function installAnalysisPlugin(
  esHome: string,
  javaHome: string,
  zip: string,
): Promise<void> {
  log(`installing ${ANALYSIS_PLUGIN} into ${esHome}`);
  await runChecked(`${esHome}/bin/elasticsearch-plugin`, ["install", "--batch", `file://${zip}`], {
    env: { ES_JAVA_HOME: javaHome, ES_PATH_CONF: `${esHome}/config` },
  });
}
