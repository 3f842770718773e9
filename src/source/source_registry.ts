/**
 * Loading source classes by their FQN (`MODULE:ClassName`): a path relative to the config file,
 * an absolute path, a `file:`, `https:` (or loopback `http:`) URL, an `npm:` or `jsr:` specifier.
 * Paths and `file:` modules are imported into the service; URL, `npm:` and `jsr:` modules run
 * sandboxed (`./sandbox/`), with only what their `sources:` entry grants. Modules load lazily,
 * once each; every failure is a one-line {@linkcode SourceLoadError}.
 *
 * @module
 */
import { DEFAULT_SOURCES } from "../config/defaults.ts";
import { FatalError } from "../errors/mod.ts";
import type { Logger } from "../log/mod.ts";
import { nullLogger } from "../log/mod.ts";
import { builtinSourceModule, type SourceModuleLoader } from "./builtin_sources.ts";
import { permissionHint } from "./permission_hint.ts";
import {
  isSandboxedSpecifier,
  loadSandboxedSource,
  SandboxLoadError,
  type SourceGrant,
  sourceGrantOf,
  type SpawnSandbox,
} from "./sandbox/mod.ts";
import type { DataSourceClass } from "./types.ts";

/** The repository root: the base of the shipped {@linkcode DEFAULT_SOURCES} paths. */
export const REPOSITORY_ROOT: URL = new URL("../../", import.meta.url);

/**
 * A source class cannot be loaded. The message is one line naming the service type, the FQN
 * and what is wrong.
 *
 * @example
 * ```ts
 * import { SourceLoadError } from "./source_registry.ts";
 * const error = new SourceLoadError("dir", "./x.ts:X", "module not found");
 * if (error.message !== 'Cannot load source "dir" from ./x.ts:X: module not found') throw new Error();
 * ```
 */
export class SourceLoadError extends FatalError {
  /** The service type being loaded. */
  readonly serviceType: string;
  /** Its FQN as configured (empty for an unknown service type). */
  readonly fqn: string;
  constructor(serviceType: string, fqn: string, problem: string, options?: ErrorOptions) {
    super(
      fqn
        ? `Cannot load source "${serviceType}" from ${fqn}: ${problem}`
        : `Cannot load source "${serviceType}": ${problem}`,
      options,
    );
    this.serviceType = serviceType;
    this.fqn = fqn;
  }
}

const IDENTIFIER = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Splits an FQN at its last colon into module and export name; undefined when it has no valid
 * export name.
 *
 * @example
 * ```ts
 * import { parseFqn } from "./source_registry.ts";
 * const parsed = parseFqn("https://example.test:8443/mod.ts:MySource");
 * if (parsed?.module !== "https://example.test:8443/mod.ts" || parsed.exportName !== "MySource") throw new Error();
 * if (parseFqn("./mod.ts") !== undefined) throw new Error();
 * ```
 */
export function parseFqn(fqn: string): { module: string; exportName: string } | undefined {
  const at = fqn.lastIndexOf(":");
  if (at <= 0) return undefined;
  const module = fqn.slice(0, at).trim();
  const exportName = fqn.slice(at + 1).trim();
  if (!module || !IDENTIFIER.test(exportName)) return undefined;
  return { module, exportName };
}

function directoryUrl(dir: string | URL): URL {
  if (dir instanceof URL) return dir.href.endsWith("/") ? dir : new URL(dir.href + "/");
  if (SCHEME.test(dir) && !/^[a-zA-Z]:[\\/]/.test(dir)) {
    return new URL(dir.endsWith("/") ? dir : dir + "/");
  }
  let path = dir;
  if (!path.startsWith("/")) {
    let cwd = "/";
    try {
      cwd = Deno.cwd();
    } catch {
      // Without --allow-read=. the cwd is unknown; the root is the only safe guess.
    }
    path = `${cwd}/${path}`;
  }
  const url = new URL("file://");
  url.pathname = path.endsWith("/") ? path : path + "/";
  return url;
}

/**
 * The import specifier of a MODULE part: URLs and `npm:`/`jsr:` specifiers as they are, paths
 * (relative or absolute) as `file:` URLs, relative ones resolved against `baseDir`.
 *
 * @example
 * ```ts
 * import { resolveModuleSpecifier } from "./source_registry.ts";
 * if (resolveModuleSpecifier("./s/mod.ts", "/etc/connectors") !== "file:///etc/connectors/s/mod.ts") throw new Error();
 * if (resolveModuleSpecifier("npm:pkg@1.0.0/sub", "/x") !== "npm:pkg@1.0.0/sub") throw new Error();
 * ```
 */
export function resolveModuleSpecifier(module: string, baseDir: string | URL): string {
  if (SCHEME.test(module) && !/^[a-zA-Z]:[\\/]/.test(module)) return module;
  return new URL(module, directoryUrl(baseDir)).href;
}

type Kind = "function" | "class" | "other";

function kindOf(value: unknown): Kind {
  if (typeof value !== "function") return "other";
  return value.prototype === undefined ? "function" : "class";
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") {
    return value.prototype === undefined ? "an arrow or async function" : "a function";
  }
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * What is wrong with a value that should be a data source class: undefined when it follows the
 * contract (a constructor with static `getDefaultConfiguration()` and instance `getDocs()` and
 * `ping()`, plus `getAccessControl()` when it declares `features.documentLevelSecurity`), else a
 * short problem text. No base class is required.
 *
 * @example
 * ```ts
 * import { sourceClassProblem } from "./source_registry.ts";
 * class Good {
 *   static getDefaultConfiguration() { return {}; }
 *   async ping() {}
 *   async *getDocs() {}
 * }
 * class NoAcl extends Good {
 *   static features = { documentLevelSecurity: true };
 * }
 * if (sourceClassProblem(Good, "Good") !== undefined) throw new Error();
 * if (!sourceClassProblem(42, "x")?.includes("not a class")) throw new Error();
 * if (!sourceClassProblem(NoAcl, "NoAcl")?.includes("getAccessControl()")) throw new Error();
 * ```
 */
export function sourceClassProblem(value: unknown, name: string): string | undefined {
  if (kindOf(value) !== "class") {
    return `export "${name}" is not a class (it is ${describe(value)})`;
  }
  const cls = value as {
    getDefaultConfiguration?: unknown;
    features?: { documentLevelSecurity?: unknown };
    prototype: Record<string, unknown>;
  };
  const missing: string[] = [];
  if (typeof cls.getDefaultConfiguration !== "function") {
    missing.push("static getDefaultConfiguration()");
  }
  if (typeof cls.prototype.getDocs !== "function") missing.push("getDocs()");
  if (typeof cls.prototype.ping !== "function") missing.push("ping()");
  if (missing.length > 0) {
    return `export "${name}" is not a data source class: it lacks ${missing.join(", ")}`;
  }
  // The connector would advertise document-level security that no access-control sync can serve.
  if (cls.features?.documentLevelSecurity && typeof cls.prototype.getAccessControl !== "function") {
    return `export "${name}" declares features.documentLevelSecurity but lacks getAccessControl()`;
  }
  return undefined;
}

/** First line of a message, trimmed: loader errors can span several lines. */
function firstLine(text: string): string {
  return text.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? text;
}

/** The most specific line of Deno's multi-line fetch errors (e.g. "Connection refused"). */
function lastLine(text: string): string {
  const lines = text.split("\n").map((line) => line.trim().replace(/^\d+:\s*/, "")).filter(Boolean);
  return lines.at(-1) ?? text;
}

/** Turns an import failure into the problem text of a {@linkcode SourceLoadError}. */
function importProblem(error: unknown, specifier: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = permissionHint(error);
  if (hint) return `${hint.problem} (run with ${hint.flag})`;
  if (/^Module not found/.test(message) || /Cannot find module/.test(message)) {
    return `module not found: ${specifier}`;
  }
  if (/invalid peer certificate/.test(message)) {
    const reason = /invalid peer certificate:\s*(\w+)/.exec(message)?.[1] ?? "untrusted";
    return `cannot fetch module ${specifier}: its server's TLS certificate is not trusted (${reason}); pass its CA with --cert=<ca.pem> or DENO_CERT`;
  }
  if (/^Import ['"].*['"] failed/.test(message) || /error sending request/.test(message)) {
    return `cannot fetch module ${specifier}: ${lastLine(message)}`;
  }
  if (/not a dependency|Relative import path/.test(message)) {
    return `cannot resolve module ${specifier}: ${firstLine(message)}`;
  }
  if (/npm package|npm registry|not found in the npm/i.test(message) || /^npm:/.test(specifier)) {
    return `cannot load npm module ${specifier}: ${firstLine(message)}`;
  }
  const name = error instanceof Error ? error.name : "Error";
  return `module ${specifier} failed to load: ${name}: ${firstLine(message)}`;
}

/** Options of {@linkcode SourceRegistry}. */
export interface SourceRegistryOptions {
  /** Directory of the config file: relative module paths resolve against it. */
  baseDir: string | URL;
  /** Debug lines about loading. */
  logger?: Logger;
  /**
   * Grants of sandboxed sources by service type; default: those the config parser attached to
   * the `sources` map (its extended entries).
   */
  grants?: Record<string, SourceGrant>;
  /** Starts sandbox workers (tests); default: real Workers. */
  spawnSandbox?: SpawnSandbox;
  /** Checks that the process can run sandboxes (tests); default: `sandboxSupportProblem`. */
  sandboxSupport?: () => string | undefined;
}

/**
 * The `sources` map of the config (service type → `MODULE:ClassName`), loading classes on
 * demand. Relative paths resolve against the config file's directory, except the shipped
 * defaults ({@linkcode DEFAULT_SOURCES}, recognised by value), which resolve against the
 * repository root. Each module is imported once; failed imports are retried on the next call.
 *
 * @example
 * ```ts
 * import { SourceRegistry } from "./source_registry.ts";
 * import { DEFAULT_SOURCES } from "../config/defaults.ts";
 * const registry = new SourceRegistry({ ...DEFAULT_SOURCES }, { baseDir: "/etc/connectors" });
 * const cls = await registry.load("dir");
 * if (typeof cls.getDefaultConfiguration !== "function") throw new Error();
 * await registry.load("nope").then(() => { throw new Error("expected a failure"); }, () => {});
 * ```
 */
export class SourceRegistry {
  readonly #sources: Record<string, string>;
  readonly #baseDir: string | URL;
  readonly #logger: Logger;
  readonly #modules = new Map<string, Promise<Record<string, unknown>>>();
  readonly #sandboxed = new Map<string, Promise<DataSourceClass>>();
  readonly #given: Record<string, string>;
  readonly #options: SourceRegistryOptions;

  constructor(sources: Record<string, string>, options: SourceRegistryOptions) {
    this.#sources = { ...sources };
    this.#baseDir = options.baseDir;
    this.#logger = options.logger ?? nullLogger;
    this.#options = options;
    this.#given = sources; // the config parser attached the grants to this very object
  }

  /** The configured service types, sorted. */
  serviceTypes(): string[] {
    return Object.keys(this.#sources).sort();
  }

  /** The FQN configured for a service type, if any. */
  fqn(serviceType: string): string | undefined {
    return Object.hasOwn(this.#sources, serviceType) ? this.#sources[serviceType] : undefined;
  }

  /**
   * Whether a service type is one of the shipped sources ({@linkcode DEFAULT_SOURCES}, same
   * FQN): those load lazily, at their first use.
   */
  isBuiltin(serviceType: string): boolean {
    const fqn = this.fqn(serviceType);
    return fqn !== undefined && Object.hasOwn(DEFAULT_SOURCES, serviceType) &&
      DEFAULT_SOURCES[serviceType] === fqn;
  }

  /**
   * Whether a service type's source runs sandboxed: its module is a URL, `npm:` or `jsr:`
   * specifier (paths, `file:` URLs and the shipped sources run in the service).
   */
  isSandboxed(serviceType: string): boolean {
    const specifier = this.specifier(serviceType);
    return specifier !== undefined && !this.isBuiltin(serviceType) &&
      isSandboxedSpecifier(specifier);
  }

  /** The grant of a sandboxed service type's extended `sources:` entry (undefined: plain form). */
  grant(serviceType: string): SourceGrant | undefined {
    if (!Object.hasOwn(this.#sources, serviceType)) return undefined;
    return this.#options.grants?.[serviceType] ?? sourceGrantOf(this.#given, serviceType);
  }

  /**
   * The import specifier of a service type's module (a `file:` URL for paths); undefined for
   * unknown types or malformed FQNs.
   */
  specifier(serviceType: string): string | undefined {
    const fqn = this.fqn(serviceType);
    const parsed = fqn === undefined ? undefined : parseFqn(fqn);
    if (!parsed || fqn === undefined) return undefined;
    const base = this.isBuiltin(serviceType) ? REPOSITORY_ROOT : this.#baseDir;
    return resolveModuleSpecifier(parsed.module, base);
  }

  /**
   * Imports the module of a service type (once) and returns its source class, checked
   * structurally. Throws a {@linkcode SourceLoadError}.
   */
  async load(serviceType: string): Promise<DataSourceClass> {
    const fqn = this.fqn(serviceType);
    if (fqn === undefined) {
      const known = this.serviceTypes().join(", ") || "none";
      throw new SourceLoadError(
        serviceType,
        "",
        `unknown service type, add it to "sources" in the config (known: ${known})`,
      );
    }
    const parsed = parseFqn(fqn);
    const specifier = this.specifier(serviceType);
    if (!parsed || specifier === undefined) {
      throw new SourceLoadError(serviceType, fqn, "expected MODULE:ClassName");
    }
    if (this.isSandboxed(serviceType)) {
      return this.#loadSandboxed(serviceType, fqn, parsed.exportName, specifier);
    }
    // Single-file builds register the shipped modules: their paths do not exist beside a bundle.
    const builtin = this.isBuiltin(serviceType) ? builtinSourceModule(parsed.module) : undefined;
    const namespace = await this.#import(serviceType, fqn, specifier, builtin);
    if (!(parsed.exportName in namespace)) {
      const exports = Object.keys(namespace).filter((key) => key !== "module.exports");
      throw new SourceLoadError(
        serviceType,
        fqn,
        `module has no export "${parsed.exportName}" (exports: ${exports.join(", ") || "none"})`,
      );
    }
    const value = namespace[parsed.exportName];
    const problem = sourceClassProblem(value, parsed.exportName);
    if (problem) throw new SourceLoadError(serviceType, fqn, problem);
    return value as DataSourceClass;
  }

  /** Loads a sandboxed source (once per type; a failure is retried on the next call). */
  #loadSandboxed(type: string, fqn: string, exportName: string, specifier: string) {
    const cached = this.#sandboxed.get(type);
    if (cached) return cached;
    const grant = this.grant(type);
    const { spawnSandbox: spawn, sandboxSupport: support } = this.#options;
    const pending = loadSandboxedSource({
      serviceType: type,
      exportName,
      specifier,
      logger: this.#logger,
      importProblem,
      classProblem: sourceClassProblem,
      ...(grant ? { grant } : {}),
      ...(spawn ? { spawn } : {}),
      ...(support ? { support } : {}),
    }).catch((error) => {
      this.#sandboxed.delete(type);
      if (!(error instanceof SandboxLoadError)) throw error;
      throw new SourceLoadError(type, fqn, error.message, { cause: error.cause });
    });
    this.#sandboxed.set(type, pending);
    return pending;
  }

  #import(
    serviceType: string,
    fqn: string,
    specifier: string,
    builtin?: SourceModuleLoader,
  ): Promise<Record<string, unknown>> {
    let pending = this.#modules.get(specifier);
    if (!pending) {
      this.#logger.debug(`Loading source module ${specifier}`, { service_type: serviceType });
      pending = builtin ? builtin() : import(specifier) as Promise<Record<string, unknown>>;
      this.#modules.set(specifier, pending);
      // A refused or unreachable module may load later (flags fixed, server back).
      pending.catch(() => this.#modules.delete(specifier));
    }
    return pending.catch((error) => {
      throw new SourceLoadError(serviceType, fqn, importProblem(error, specifier), {
        cause: error,
      });
    });
  }
}
