/**
 * Least privilege: the Deno permission flags a configuration implies (`deno run <flags>
 * main.ts`). Not re-exported by the SDK module (`mod.ts`): it depends on the config loader.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { DEFAULT_SOURCES } from "../config/mod.ts";
import { importHosts, SANDBOX_RUNTIME_FLAGS, sourceGrantOf } from "./sandbox/mod.ts";

export { describePermissionError, permissionHint } from "./permission_hint.ts";
export type { PermissionHint } from "./permission_hint.ts";

/**
 * Environment and system access cannot be narrowed: the Elasticsearch client's `debug`
 * dependency enumerates the whole environment when it loads, the client reads the OS release
 * for its meta header, and the MongoDB driver reads the user id.
 */
export const ENV_AND_SYS_FLAGS: readonly string[] = [
  "--allow-env",
  "--allow-sys=hostname,osRelease,uid",
];

/** Options of {@linkcode permissionFlagsFor}. */
export interface PermissionOptions {
  /** Hosts (`host:port`) the sources reach, e.g. from connector configurations. */
  net?: string[];
  /** Paths the sources read, e.g. the directories of `dir` connectors. */
  read?: string[];
}

const REPOSITORY = new URL("../../", import.meta.url);

function pathOf(url: URL): string {
  return decodeURIComponent(url.pathname).replace(/\/$/, "") || "/";
}

function hostPort(url: string): string | undefined {
  try {
    const parsed = new URL(url.includes("://") ? url : `http://${url}`);
    const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
    return `${parsed.hostname}:${port}`;
  } catch {
    return undefined;
  }
}

function flag(name: string, values: Iterable<string>): string[] {
  const list = [...new Set(values)].filter((v) => v !== "").sort();
  return list.length > 0 ? [`--allow-${name}=${list.join(",")}`] : [];
}

/**
 * The Deno permission flags a configuration implies, for `deno run <flags> main.ts`:
 * `--allow-net` for the Elasticsearch host (and `options.net`), `--allow-read` for the config
 * file, the CA file, the repository's `src` and `sources` folders (shipped sources, the worker
 * pool's entry point) and the folder of every local source module (plus `options.read`),
 * `--allow-env` for the variables the service and the config file read, `--allow-sys=hostname`
 * (jobs record the worker's host name) and `--allow-import` for the hosts of `https:`/`http:`
 * source modules. Sandboxed sources (URL, `npm:`, `jsr:` modules) add the hosts, paths and
 * import hosts their entries grant (a worker cannot get more than the service has), their
 * module's host to `--allow-net` (the service fetches the module before it runs), and
 * `--unstable-worker-options --no-prompt` in front. A source reaching a host or path not listed
 * here fails with Deno's permission error turned into a message naming the flag to add.
 *
 * @example
 * ```ts
 * import { permissionFlagsFor } from "./permissions.ts";
 * import { parseConfig } from "../config/mod.ts";
 * const config = parseConfig(
 *   "elasticsearch:\n  host: https://es.example.test:9243\nsources:\n  remote: https://mods.example.test/s.ts:S\n",
 *   "/etc/connectors/config.yml",
 *   { env: () => undefined },
 * );
 * const flags = permissionFlagsFor(config);
 * // The service fetches the sandboxed module itself (mods.example.test:443) before it runs.
 * if (!flags.includes("--allow-net=es.example.test:9243,mods.example.test:443")) throw new Error(flags.join(" "));
 * if (!flags.includes("--allow-import=mods.example.test")) throw new Error(flags.join(" "));
 * if (flags[0] !== "--unstable-worker-options") throw new Error(flags.join(" "));
 * ```
 */
export function permissionFlagsFor(config: Config, options: PermissionOptions = {}): string[] {
  const net = [...(options.net ?? [])];
  const esHost = hostPort(config.elasticsearch.host);
  if (esHost) net.push(esHost);

  const read = [...(options.read ?? [])];
  const hasFile = config.file.startsWith("/");
  if (hasFile) read.push(config.file);
  if (config.elasticsearch.ca_certs) read.push(config.elasticsearch.ca_certs);
  // Secret files are read when the config loads.
  for (const file of [config.elasticsearch.password_file, config.elasticsearch.api_key_file]) {
    if (file) read.push(file);
  }
  for (const entry of config.connectors) if (entry.api_key_file) read.push(entry.api_key_file);
  read.push(pathOf(new URL("src", REPOSITORY)), pathOf(new URL("sources", REPOSITORY)));
  const configDir = hasFile ? config.file.slice(0, config.file.lastIndexOf("/")) || "/" : undefined;

  const imports: string[] = [];
  let sandboxed = false;
  for (const [type, fqn] of Object.entries(config.sources)) {
    const at = fqn.lastIndexOf(":");
    const module = at > 0 ? fqn.slice(0, at) : fqn;
    if (/^(https?|npm|jsr):/.test(module)) {
      sandboxed = true;
      const grant = sourceGrantOf(config.sources, type);
      imports.push(...importHosts(module, grant));
      net.push(...(grant?.net ?? []));
      read.push(...(grant?.read ?? []));
      // The service fetches a URL module itself before its sandbox imports it.
      if (/^https?:/.test(module)) {
        const host = hostPort(module);
        if (host) net.push(host);
      }
      continue;
    }
    if (/^node:/.test(module) || DEFAULT_SOURCES[type] === fqn) continue;
    const base = module.startsWith("/") || module.startsWith("file:")
      ? undefined
      : configDir ?? (() => {
        try {
          return Deno.cwd();
        } catch {
          return "/";
        }
      })();
    try {
      const url = module.startsWith("file:")
        ? new URL(module)
        : new URL(module, `file://${base ?? ""}/`);
      // The module's folder: its own relative imports need reading too.
      read.push(pathOf(new URL(".", url)));
    } catch {
      // Unresolvable: the loader reports it.
    }
  }

  return [
    ...(sandboxed ? SANDBOX_RUNTIME_FLAGS : []),
    ...flag("net", net),
    ...flag("read", read),
    ...ENV_AND_SYS_FLAGS,
    ...flag("import", imports),
  ];
}
