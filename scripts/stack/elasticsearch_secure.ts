/**
 * The TLS + security Elasticsearch node of the test stack (service `es-secure`), for the tests
 * of authentication, API keys and TLS: the same cached zip as the plain node, unpacked into a
 * home of its own (so the plain node is untouched) with the analysis plugin of
 * `_es_plugin.ts` installed, on `https://127.0.0.1:<port>`.
 *
 * Each stack (state folder) gets its own configuration folder (`ES_PATH_CONF`), made on its
 * first start: the test certificates (made once with `bin/elasticsearch-certutil` and cached: a
 * CA, a node certificate for 127.0.0.1/localhost signed by it, a second unrelated CA for "wrong
 * CA" tests) and a keystore (`bin/elasticsearch-keystore`) holding a random `bootstrap.password`
 * for the `elastic` user, also kept in the state folder. Readiness is `_cluster/health` over
 * https with that CA and `elastic:<password>`.
 *
 * @module
 */

import { dirname } from "node:path";
import {
  ES_VERSION,
  esNodeInfo,
  type EsNodePaths,
  esNodePaths,
  type EsNodeSpec,
  startEsNode,
  stopEsNode,
  unpackEs,
} from "./_es_node.ts";
import { analysisPluginZip, ensureAnalysisPlugin, installAnalysisPlugin } from "./_es_plugin.ts";
import { findEsJavaHome } from "./_java.ts";
import { exists, log, mkdirp, runChecked, unzip } from "./_process.ts";
import {
  cacheDir,
  type ServiceInfo,
  type StartedService,
  type StartOptions,
  type StopOptions,
  unpackedDir,
  withInstallLock,
  withLock,
} from "./_state.ts";

const LABEL = "Elasticsearch (TLS + security)";

/**
 * The `elasticsearch.yml` lines that turn security and TLS on (certificate paths are relative
 * to the configuration folder).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secureSettings } from "./mod.ts";
 * assert.ok(secureSettings().includes("xpack.security.http.ssl.enabled: true"));
 * ```
 */
export function secureSettings(): string[] {
  return [
    "xpack.security.enabled: true",
    "xpack.security.http.ssl.enabled: true",
    "xpack.security.http.ssl.key: certs/node/node.key",
    "xpack.security.http.ssl.certificate: certs/node/node.crt",
    'xpack.security.http.ssl.certificate_authorities: ["certs/ca/ca.crt"]',
    "xpack.security.transport.ssl.enabled: false",
    "xpack.security.authc.api_key.enabled: true",
  ];
}

/** The unpacked home of the secure node (a copy of its own, with the analysis plugin). */
export function esSecureHomeDir(): string {
  return unpackedDir(`elasticsearch-${ES_VERSION}-secure`);
}

/**
 * Unpacks the secure node's home and installs the analysis plugin (built once and cached)
 * when missing; returns the home.
 */
export function ensureElasticsearchSecure(): Promise<string> {
  return withInstallLock("elasticsearch-secure", async () => {
    const esHome = esSecureHomeDir();
    const marker = `${esHome}/.connectors-deno-unpacked`;
    const zip = await analysisPluginZip();
    const wanted = `${ES_VERSION} ${zip.slice(zip.lastIndexOf("/") + 1)}\n`;
    if (exists(marker) && Deno.readTextFileSync(marker) === wanted) return esHome;
    const javaHome = findEsJavaHome(`Elasticsearch ${ES_VERSION}`);
    await unpackEs(esHome);
    await installAnalysisPlugin(esHome, javaHome, await ensureAnalysisPlugin(esHome, javaHome));
    Deno.writeTextFileSync(marker, wanted);
    return esHome;
  });
}

/** The files of the secure node of the current stack. */
function securePaths(paths: EsNodePaths = esNodePaths("es-secure")) {
  const conf = `${paths.dir}/config`;
  return {
    conf,
    ready: `${conf}/.connectors-deno-ready`,
    ca: `${conf}/certs/ca/ca.crt`,
    wrongCa: `${paths.dir}/wrong-ca/ca/ca.crt`,
    passwordFile: `${paths.dir}/elastic-password`,
  };
}

function readPassword(file: string): string | undefined {
  try {
    return Deno.readTextFileSync(file).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the secure node at `url` answers `_cluster/health` (yellow or green) over https,
 * trusting the PEM CA file `ca`, as `elastic:<password>`.
 *
 * @example
 * ```ts ignore
 * const info = await esSecureInfo();
 * await esSecureHealthy(info.url!, info.ca!, info.password!, 5);
 * ```
 */
export async function esSecureHealthy(
  url: string,
  ca: string,
  password: string,
  waitSeconds = 1,
): Promise<boolean> {
  let client: Deno.HttpClient | undefined;
  try {
    client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(ca)] });
    const res = await fetch(
      `${url}/_cluster/health?wait_for_status=yellow&timeout=${waitSeconds}s`,
      {
        client,
        headers: { authorization: `Basic ${btoa(`elastic:${password}`)}` },
        signal: AbortSignal.timeout(waitSeconds * 1000 + 5000),
      },
    );
    const body = await res.json() as { status?: string; timed_out?: boolean };
    return res.ok && !body.timed_out && (body.status === "yellow" || body.status === "green");
  } catch {
    return false;
  } finally {
    client?.close();
  }
}

/** A random password of 24 URL-safe characters. */
function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

/**
 * The test certificates, made once with `bin/elasticsearch-certutil` and cached under
 * `<cache>/es-certs/<ES version>/`: `ca/ca.{crt,key}`, `node/node.{crt,key}` (signed by that CA,
 * for 127.0.0.1 and localhost) and `wrong-ca/ca/ca.{crt,key}` (an unrelated CA). They protect
 * nothing but loopback test servers, so every stack may share them.
 */
function ensureTestCerts(esHome: string, javaHome: string): Promise<string> {
  return withInstallLock("es-certs", async () => {
    const dir = `${cacheDir()}/es-certs/${ES_VERSION}`;
    if (exists(`${dir}/.complete`)) return dir;
    const started = Date.now();
    log(`making test certificates with elasticsearch-certutil into ${dir}`);
    mkdirp(dirname(dir));
    const work = Deno.makeTempDirSync({ dir: dirname(dir), prefix: ".es-certs-" });
    try {
      const certutil = (args: string[]) =>
        runChecked(`${esHome}/bin/elasticsearch-certutil`, [...args, "--pem", "--silent"], {
          env: { ES_JAVA_HOME: javaHome },
        });
      const ca = ["--days", "3650", "--out"];
      await Promise.all([
        certutil(["ca", ...ca, `${work}/ca.zip`]).then(() => unzip(`${work}/ca.zip`, work)),
        certutil(["ca", ...ca, `${work}/wrong-ca.zip`]).then(() =>
          unzip(`${work}/wrong-ca.zip`, `${work}/wrong-ca`)
        ),
      ]);
      await certutil([
        "cert",
        ...["--ca-cert", `${work}/ca/ca.crt`, "--ca-key", `${work}/ca/ca.key`],
        ...["--name", "node", "--ip", "127.0.0.1", "--dns", "localhost", "--days", "3650"],
        ...["--out", `${work}/node.zip`],
      ]);
      await unzip(`${work}/node.zip`, work);
      for (const zip of ["ca.zip", "wrong-ca.zip", "node.zip"]) Deno.removeSync(`${work}/${zip}`);
      Deno.writeTextFileSync(`${work}/.complete`, `${ES_VERSION}\n`);
      if (exists(dir)) Deno.removeSync(dir, { recursive: true });
      Deno.renameSync(work, dir);
    } catch (e) {
      Deno.removeSync(work, { recursive: true });
      throw e;
    }
    log(`test certificates ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return dir;
  });
}

/**
 * Makes the stack's configuration folder once: a copy of the home's, the certificates, the
 * keystore with a random `bootstrap.password` (also written to the state folder), the security
 * settings.
 */
async function prepareConfig(paths: EsNodePaths, esHome: string, javaHome: string) {
  const files = securePaths(paths);
  if (exists(files.ready)) return;
  const certs = await ensureTestCerts(esHome, javaHome);
  const started = Date.now();
  log(`making the configuration folder ${files.conf}`);
  for (const dir of [files.conf, `${paths.dir}/wrong-ca`]) {
    if (exists(dir)) Deno.removeSync(dir, { recursive: true });
  }
  await runChecked("cp", ["-R", `${esHome}/config`, files.conf]);
  mkdirp(`${files.conf}/certs`);
  await runChecked("cp", ["-R", `${certs}/ca`, `${certs}/node`, `${files.conf}/certs/`]);
  await runChecked("cp", ["-R", `${certs}/wrong-ca`, `${paths.dir}/wrong-ca`]);
  const password = randomPassword();
  Deno.writeTextFileSync(files.passwordFile, `${password}\n`, { mode: 0o600 });
  await runChecked(
    `${esHome}/bin/elasticsearch-keystore`,
    ["add", "-x", "-f", "bootstrap.password"],
    { env: { ES_JAVA_HOME: javaHome, ES_PATH_CONF: files.conf }, stdin: password },
  );
  const yml = `${files.conf}/elasticsearch.yml`;
  const settings = ["", "# connectors-deno test stack: TLS + security", ...secureSettings(), ""];
  Deno.writeTextFileSync(yml, settings.join("\n"), { append: true });
  Deno.writeTextFileSync(files.ready, `${ES_VERSION}\n`);
  log(`configuration ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

const SECURE: EsNodeSpec = {
  service: "es-secure",
  label: LABEL,
  scheme: "https",
  homeDir: esSecureHomeDir,
  ensureHome: ensureElasticsearchSecure,
  healthy: (url, waitSeconds) => {
    const files = securePaths();
    const password = readPassword(files.passwordFile);
    if (password === undefined || !exists(files.ca)) return Promise.resolve(false);
    return esSecureHealthy(url, files.ca, password, waitSeconds);
  },
  prepare: prepareConfig,
  args: () => [],
  env: (paths) => [`ES_PATH_CONF=${securePaths(paths).conf}`],
};

/** The CA, wrong CA and password of the current stack's secure node, when made. */
function credentials(): Pick<ServiceInfo, "ca" | "wrongCa" | "password"> {
  const files = securePaths();
  const password = readPassword(files.passwordFile);
  return {
    ...(exists(files.ca) ? { ca: files.ca } : {}),
    ...(exists(files.wrongCa) ? { wrongCa: files.wrongCa } : {}),
    ...(password === undefined ? {} : { password }),
  };
}

/** What is known about the secure node of the current stack, with its CA files and password. */
export async function esSecureInfo(): Promise<ServiceInfo> {
  return { ...await esNodeInfo(SECURE), ...credentials() };
}

/**
 * Starts the TLS + security node (unpacking its home, building and installing the plugin, and
 * making its certificates and keystore first when needed) and waits for a yellow cluster.
 *
 * @example
 * ```ts ignore
 * const node = await startElasticsearchSecure();
 * const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(node.ca!)] });
 * ```
 */
export function startElasticsearchSecure(opts: StartOptions = {}): Promise<StartedService> {
  return withLock("es-secure", async () => {
    const started = await startEsNode(SECURE, opts);
    return { ...started, ...credentials() };
  });
}

/** Stops the secure node; `keepData: false` also removes its data, certificates and password. */
export function stopElasticsearchSecure(opts: StopOptions = {}): Promise<void> {
  return withLock("es-secure", () => stopEsNode(SECURE, opts));
}
