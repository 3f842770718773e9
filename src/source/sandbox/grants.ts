/**
 * What a sandboxed source may do: which `sources:` entries run sandboxed (modules loaded from a
 * URL, `npm:` or `jsr:`), the extended entry form that grants them hosts, paths and variables,
 * its validation, and the Deno permissions of the worker that runs such a source.
 *
 * @module
 */

/** Permissions a sandboxed source gets beyond none at all. */
export interface SourceGrant {
  /**
   * Hosts (`host` or `host:port`) it may reach; undefined: every host the service itself may
   * reach (Elastic's plain `type: MODULE:Class` form).
   */
  net?: string[];
  /** Absolute paths it may read (a folder grants what is below it). */
  read: string[];
  /** Environment variables it may read. */
  env: string[];
  /**
   * Hosts it may import code from; undefined: the module's own host (URL modules), `jsr.io`
   * (`jsr:`), none (`npm:` packages load from Deno's npm cache without it).
   */
  import?: string[];
  /** Subresource-integrity hash of an `https:`/`http:` module's text, e.g. `sha384-...`. */
  integrity?: string;
}

/** The keys of the extended `sources:` entry form. */
export const SOURCE_ENTRY_KEYS: readonly string[] = [
  "module",
  "net",
  "read",
  "env",
  "import",
  "integrity",
];

/**
 * What is wrong with a `sources:` entry: `path` is below the entry (e.g. `["net", 0]`), the
 * message a phrase to follow the key path (`must be a list`).
 */
export class SourceEntryError extends Error {
  /** Where below the entry the problem is. */
  readonly path: readonly (string | number)[];
  constructor(path: readonly (string | number)[], message: string) {
    super(message);
    this.name = "SourceEntryError";
    this.path = path;
  }
}

/**
 * Whether a module specifier runs sandboxed: `https:`, `http:`, `npm:` and `jsr:` modules do;
 * paths and `file:` URLs (the operator's own code) run in the service itself.
 *
 * @example
 * ```ts
 * import { isSandboxedSpecifier } from "./grants.ts";
 * if (!isSandboxedSpecifier("https://s.example/mod.ts") || !isSandboxedSpecifier("npm:pkg@1")) throw new Error();
 * if (isSandboxedSpecifier("file:///srv/mod.ts") || isSandboxedSpecifier("./mod.ts")) throw new Error();
 * ```
 */
export function isSandboxedSpecifier(specifier: string): boolean {
  return /^(https?|npm|jsr):/i.test(specifier);
}

/**
 * Whether a URL host is loopback (`localhost`, `127.x.x.x`, `[::1]`): the only hosts plain
 * `http:` modules may come from.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./grants.ts";
 * if (!isLoopbackHost("127.0.0.1") || !isLoopbackHost("[::1]") || isLoopbackHost("10.0.0.1")) throw new Error();
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || host === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why a module may not be loaded at all (plain `http:` from a host that is not loopback, or a
 * malformed URL); undefined when it may.
 *
 * @example
 * ```ts
 * import { moduleUrlProblem } from "./grants.ts";
 * if (moduleUrlProblem("http://127.0.0.1:8000/mod.ts") !== undefined) throw new Error();
 * if (!moduleUrlProblem("http://sources.example/mod.ts")?.includes("https:")) throw new Error();
 * ```
 */
export function moduleUrlProblem(module: string): string | undefined {
  if (!/^https?:/i.test(module)) return undefined;
  let url: URL;
  try {
    url = new URL(module);
  } catch {
    return `${module} is not a valid URL`;
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return `plain http: is allowed from loopback hosts only (localhost, 127.0.0.1, [::1]); serve ${url.host} over https:`;
  }
  return undefined;
}

const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(\d{1,5}))?$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INTEGRITY = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/;
const DIGEST_BYTES: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

function hostProblem(value: string): string | undefined {
  const match = HOST.exec(value);
  if (!match) {
    return `must be a host or host:port (no scheme, no path), got ${JSON.stringify(value)}`;
  }
  const port = match[1] === undefined ? undefined : Number(match[1]);
  if (port !== undefined && (port < 1 || port > 65535)) return `has port ${port}, out of 1-65535`;
  return undefined;
}

function list(
  value: unknown,
  key: string,
  check: (item: string) => string | undefined,
): string[] {
  if (!Array.isArray(value)) throw new SourceEntryError([key], "must be a list");
  return value.map((item, i) => {
    if (typeof item !== "string") {
      throw new SourceEntryError([key, i], `must be a string, got ${typeof item}`);
    }
    const problem = check(item);
    if (problem) throw new SourceEntryError([key, i], problem);
    return item;
  });
}

/**
 * Checks an integrity value (`sha256-`, `sha384-` or `sha512-` and the base64 digest).
 *
 * @example
 * ```ts
 * import { integrityProblem } from "./grants.ts";
 * if (integrityProblem("sha256-" + btoa("x".repeat(32))) !== undefined) throw new Error();
 * if (integrityProblem("md5-abc") === undefined) throw new Error();
 * ```
 */
export function integrityProblem(value: string): string | undefined {
  const match = INTEGRITY.exec(value);
  let bytes = -1;
  try {
    bytes = match ? atob(match[2]!).length : -1;
  } catch {
    // not base64
  }
  if (!match || bytes !== DIGEST_BYTES[match[1]!]) {
    return "must be sha256-, sha384- or sha512- and the base64 digest of the module's text";
  }
  return undefined;
}

/**
 * Reads one `sources:` entry: a `MODULE:ClassName` string (Elastic's form; a sandboxed module
 * then gets network access only), or a mapping with `module` and the grants `net`, `read`,
 * `env`, `import`, `integrity`. Throws a {@linkcode SourceEntryError} naming the key below the
 * entry: unknown keys, hosts that are not `host[:port]`, relative `read` paths, grants on a
 * local module (it runs with the service's permissions: a grant would mean nothing), plain
 * `http:` from a host that is not loopback.
 *
 * @example
 * ```ts
 * import { parseSourceEntry } from "./grants.ts";
 * const entry = parseSourceEntry({ module: "https://s.example/mod.ts:S", net: ["api.example:443"], read: ["/srv/data"] });
 * if (entry.fqn !== "https://s.example/mod.ts:S" || entry.grant?.net?.[0] !== "api.example:443") throw new Error();
 * if (parseSourceEntry("./mine.ts:Mine").grant !== undefined) throw new Error();
 * ```
 */
export function parseSourceEntry(value: unknown): { fqn: string; grant?: SourceGrant } {
  if (typeof value === "string") {
    const problem = moduleUrlProblem(moduleOf(value));
    if (problem) throw new SourceEntryError([], `is refused: ${problem}`);
    return { fqn: value };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SourceEntryError([], "must be MODULE:ClassName or a mapping with a module key");
  }
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!SOURCE_ENTRY_KEYS.includes(key)) {
      throw new SourceEntryError(
        [key],
        `is not a key of a source entry (${SOURCE_ENTRY_KEYS.join(", ")})`,
      );
    }
  }
  const fqn = entry.module;
  if (fqn === undefined) throw new SourceEntryError(["module"], "is required (MODULE:ClassName)");
  if (typeof fqn !== "string" || !/^.+:[A-Za-z_$][\w$]*$/.test(fqn)) {
    throw new SourceEntryError(["module"], "must be MODULE:ClassName");
  }
  const module = moduleOf(fqn);
  const urlProblem = moduleUrlProblem(module);
  if (urlProblem) throw new SourceEntryError(["module"], `is refused: ${urlProblem}`);
  const grantKeys = Object.keys(entry).filter((key) => key !== "module");
  if (!isSandboxedSpecifier(module) && grantKeys.length > 0) {
    throw new SourceEntryError(
      [grantKeys[0]!],
      "applies to sandboxed modules only (https:, http: from loopback, npm:, jsr:); a local module runs with all of the service's permissions",
    );
  }
  const grant: SourceGrant = {
    read: entry.read === undefined
      ? []
      : list(entry.read, "read", (path) =>
        /^(\/|[A-Za-z]:[\\/])/.test(path)
          ? undefined
          : `must be an absolute path, got ${JSON.stringify(path)}`),
    env: entry.env === undefined
      ? []
      : list(entry.env, "env", (name) =>
        VARIABLE.test(name) ? undefined : `must be a variable name, got ${JSON.stringify(name)}`),
  };
  if (entry.net !== undefined) grant.net = list(entry.net, "net", hostProblem);
  if (entry.import !== undefined) grant.import = list(entry.import, "import", hostProblem);
  if (entry.integrity !== undefined) {
    if (typeof entry.integrity !== "string" || integrityProblem(entry.integrity)) {
      throw new SourceEntryError(["integrity"], integrityProblem(String(entry.integrity))!);
    }
    if (!/^https?:/i.test(module)) {
      throw new SourceEntryError(["integrity"], "applies to https: and http: modules only");
    }
    grant.integrity = entry.integrity;
  }
  return { fqn, grant };
}

/** The MODULE part of an FQN (before its last colon). */
function moduleOf(fqn: string): string {
  const at = fqn.lastIndexOf(":");
  return at > 0 ? fqn.slice(0, at).trim() : fqn;
}

/**
 * The hosts a sandboxed module may import from: the grant's `import` list, else the module's
 * own host (`host:port`) for URLs, `jsr.io` for `jsr:`, none for `npm:`.
 *
 * @example
 * ```ts
 * import { importHosts } from "./grants.ts";
 * if (importHosts("https://s.example:8443/m.ts")[0] !== "s.example:8443") throw new Error();
 * if (importHosts("npm:pkg@1.0.0").length !== 0) throw new Error();
 * ```
 */
export function importHosts(specifier: string, grant?: SourceGrant): string[] {
  if (grant?.import) return [...grant.import];
  if (/^https?:/i.test(specifier)) {
    try {
      return [new URL(specifier).host];
    } catch {
      return [];
    }
  }
  return /^jsr:/i.test(specifier) ? ["jsr.io"] : [];
}

/** The permission options of a sandbox worker (Deno's `WorkerOptions.deno.permissions`). */
export interface SandboxPermissions {
  net: "inherit" | false | string[];
  read: false | string[];
  env: false | string[];
  import: false | string[];
  run: false;
  write: false;
  ffi: false;
  sys: false;
}

/**
 * The Deno permissions of the worker that runs a sandboxed source: the granted hosts, paths and
 * variables, the import hosts, and no subprocess, write, FFI or system information, ever.
 *
 * @example
 * ```ts
 * import { workerPermissions } from "./grants.ts";
 * const plain = workerPermissions("https://s.example/m.ts");
 * if (plain.net !== "inherit" || plain.read !== false || plain.run !== false) throw new Error();
 * const narrowed = workerPermissions("npm:pkg@1", { net: [], read: ["/srv"], env: ["TOKEN"] });
 * if (narrowed.net !== false || narrowed.read === false || narrowed.import !== false) throw new Error();
 * ```
 */
export function workerPermissions(specifier: string, grant?: SourceGrant): SandboxPermissions {
  const orNone = (values: string[]) => (values.length > 0 ? [...values] : false as const);
  const imports = importHosts(specifier, grant);
  return {
    net: grant?.net === undefined ? "inherit" : orNone(grant.net),
    read: orNone(grant?.read ?? []),
    env: orNone(grant?.env ?? []),
    import: orNone(imports),
    run: false,
    write: false,
    ffi: false,
    sys: false,
  };
}

/**
 * One line saying what a sandboxed source may do, for `--action list`.
 *
 * @example
 * ```ts
 * import { describeGrant } from "./grants.ts";
 * const text = describeGrant("https://s.example/m.ts", { net: ["api.example:443"], read: [], env: ["TOKEN"] });
 * if (text !== "sandboxed: net api.example:443; read none; env TOKEN; import s.example") throw new Error(text);
 * ```
 */
export function describeGrant(specifier: string, grant?: SourceGrant): string {
  const names = (values: string[] | undefined) => values?.length ? values.join(",") : "none";
  const net = grant?.net === undefined ? "the service's hosts" : names(grant.net);
  const pinned = grant?.integrity ? `; pinned ${grant.integrity.slice(0, 14)}...` : "";
  return `sandboxed: net ${net}; read ${names(grant?.read)}; env ${names(grant?.env)}; import ${
    names(importHosts(specifier, grant))
  }${pinned}`;
}

const GRANTS = new WeakMap<object, Readonly<Record<string, SourceGrant>>>();

/**
 * Attaches the grants of extended entries to a parsed `sources` map (called by the config
 * parser), so that everything handed that map (a `SourceRegistry`) finds them.
 *
 * @example
 * ```ts
 * import { rememberSourceGrants, sourceGrantOf } from "./grants.ts";
 * const sources = { remote: "https://s.example/m.ts:S" };
 * rememberSourceGrants(sources, { remote: { read: ["/srv"], env: [] } });
 * if (sourceGrantOf(sources, "remote")?.read[0] !== "/srv") throw new Error();
 * ```
 */
export function rememberSourceGrants(
  sources: Record<string, string>,
  grants: Record<string, SourceGrant>,
): void {
  GRANTS.set(sources, { ...grants });
}

/**
 * The grant of a service type's extended entry, if the map came from the config parser and the
 * entry has one (undefined: the plain form).
 *
 * @example
 * ```ts
 * import { sourceGrantOf } from "./grants.ts";
 * if (sourceGrantOf({ a: "https://s.example/m.ts:S" }, "a") !== undefined) throw new Error();
 * ```
 */
export function sourceGrantOf(
  sources: Record<string, string>,
  serviceType: string,
): SourceGrant | undefined {
  const grants = GRANTS.get(sources);
  return grants && Object.hasOwn(grants, serviceType) ? grants[serviceType] : undefined;
}
