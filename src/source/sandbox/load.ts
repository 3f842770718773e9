/**
 * Loading a sandboxed source: refuse plain `http:` from hosts that are not loopback, fetch an
 * `https:`/`http:` module (reachability, redirects, integrity), check that the process can run
 * sandboxes, inspect the export in a throw-away worker, and build the proxy class.
 *
 * @module
 */
import type { Logger } from "../../log/mod.ts";
import { permissionHint } from "../permission_hint.ts";
import type { DataSourceClass } from "../types.ts";
import type { SpawnSandbox } from "./connection.ts";
import { moduleUrlProblem, type SourceGrant, workerPermissions } from "./grants.ts";
import { dataUrlOf, fetchModule, ModuleCheckError } from "./module_fetch.ts";
import { standInFor } from "./protocol.ts";
import {
  inspectSandboxedModule,
  sandboxedClass,
  type SandboxedClassOptions,
} from "./sandboxed_class.ts";
import { sandboxSupportProblem } from "./support.ts";

/** A sandboxed source cannot be loaded; the message is the problem, in one line. */
export class SandboxLoadError extends Error {
  constructor(problem: string, options?: ErrorOptions) {
    super(problem, options);
    this.name = "SandboxLoadError";
  }
}

/** Options of {@linkcode loadSandboxedSource}. */
export interface LoadSandboxedOptions {
  serviceType: string;
  exportName: string;
  /** The module's specifier (`https:`, loopback `http:`, `npm:`, `jsr:`). */
  specifier: string;
  grant?: SourceGrant;
  logger: Logger;
  /** The loader's wording of an import failure. */
  importProblem: (error: unknown, specifier: string) => string;
  /** The loader's structural check of a source class (undefined: it follows the contract). */
  classProblem: (value: unknown, exportName: string) => string | undefined;
  /** Starts workers (tests). */
  spawn?: SpawnSandbox;
  /** Whether the process can run sandboxes (tests); default {@linkcode sandboxSupportProblem}. */
  support?: () => string | undefined;
}

type Named = "net" | "read" | "env" | "import";

/**
 * The first thing a sandbox's permissions would grant that the service itself may not do (a
 * worker cannot get more than its parent), as a problem naming the flag to add.
 *
 * @example
 * ```ts
 * import { grantBeyondService } from "./load.ts";
 * import { workerPermissions } from "./grants.ts";
 * const problem = grantBeyondService(workerPermissions("npm:p@1", { read: ["/srv/data"], env: [] }), () => false);
 * if (problem !== "its grant includes read access to /srv/data, which the service itself lacks (run with --allow-read=/srv/data)") throw new Error(problem);
 * ```
 */
export function grantBeyondService(
  permissions: ReturnType<typeof workerPermissions>,
  allowed: (name: Named, item: string) => boolean = serviceMay,
): string | undefined {
  for (const name of ["net", "read", "env", "import"] as const) {
    const items = permissions[name];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      if (!allowed(name, item)) {
        return `its grant includes ${name} access to ${item}, which the service itself lacks (run with --allow-${name}=${item})`;
      }
    }
  }
  return undefined;
}

function serviceMay(name: Named, item: string): boolean {
  const descriptor: Deno.PermissionDescriptor = name === "read"
    ? { name, path: item }
    : name === "env"
    ? { name, variable: item }
    : { name, host: item } as Deno.PermissionDescriptor;
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return true; // unknown to this Deno: let the worker creation decide
  }
}

function fetchProblem(
  error: unknown,
  specifier: string,
  importProblem: LoadSandboxedOptions["importProblem"],
): string {
  if (error instanceof ModuleCheckError) return error.message;
  // fetch's own message is "fetch failed"; what went wrong is in its causes.
  let deepest = error;
  for (let depth = 0; depth < 5 && (deepest as { cause?: unknown })?.cause; depth++) {
    deepest = (deepest as { cause: unknown }).cause;
  }
  const message = deepest instanceof Error ? deepest.message : String(deepest);
  if (permissionHint(error) || /invalid peer certificate/.test(message)) {
    return importProblem(permissionHint(error) ? error : deepest, specifier);
  }
  const last = message.split("\n").map((line) => line.trim()).filter(Boolean).at(-1) ?? message;
  return `cannot fetch module ${specifier}: ${last}`;
}

/**
 * Loads a sandboxed source class (see the module text); throws a {@linkcode SandboxLoadError}.
 *
 * @example
 * ```ts
 * import { loadSandboxedSource } from "./load.ts";
 * import { nullLogger } from "../../log/mod.ts";
 * const error = await loadSandboxedSource({
 *   serviceType: "far",
 *   exportName: "Far",
 *   specifier: "http://sources.example/far.ts",
 *   logger: nullLogger,
 *   importProblem: (e) => String(e),
 *   classProblem: () => undefined,
 * }).then(() => undefined, (e: Error) => e);
 * if (!error?.message.startsWith("plain http: is allowed from loopback hosts only")) throw new Error(String(error));
 * ```
 */
export async function loadSandboxedSource(options: LoadSandboxedOptions): Promise<DataSourceClass> {
  const { specifier, grant, exportName, logger, serviceType } = options;
  const urlProblem = moduleUrlProblem(specifier);
  if (urlProblem) throw new SandboxLoadError(urlProblem);
  let importUrl = specifier;
  if (/^https?:/i.test(specifier)) {
    logger.debug(`Fetching source module ${specifier}`, { service_type: serviceType });
    try {
      const fetched = await fetchModule(specifier, grant?.integrity);
      // Pinned: run exactly the verified bytes, not whatever Deno's module cache holds.
      if (grant?.integrity) importUrl = dataUrlOf(fetched);
    } catch (error) {
      throw new SandboxLoadError(fetchProblem(error, specifier, options.importProblem), {
        cause: error,
      });
    }
  }
  const unsupported = (options.support ?? sandboxSupportProblem)();
  if (unsupported) throw new SandboxLoadError(unsupported);
  const permissions = workerPermissions(specifier, grant);
  const beyond = options.spawn ? undefined : grantBeyondService(permissions);
  if (beyond) throw new SandboxLoadError(beyond);
  const classOptions: SandboxedClassOptions = {
    serviceType,
    exportName,
    importUrl,
    permissions,
    logger,
    ...(grant ? { grant } : {}),
    ...(options.spawn ? { spawn: options.spawn } : {}),
  };
  logger.debug(`Loading source module ${specifier} in a sandbox`, { service_type: serviceType });
  let info;
  try {
    info = await inspectSandboxedModule(classOptions);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    let problem = /escalate parent/i.test(message)
      ? `its grant goes beyond the service's own permissions (${message}): widen the service's flags (--action list prints them) or narrow the grant`
      : options.importProblem(error, specifier);
    if (importUrl !== specifier) {
      // A pinned module runs from a data: URL of its text: name it by its URL instead.
      problem = problem.replaceAll(importUrl, specifier);
      if (/Relative import|relative URL|not a dependency/i.test(message)) {
        problem +=
          " (a module pinned by integrity runs from its verified text: relative imports do not resolve)";
      }
    }
    throw new SandboxLoadError(problem, { cause: error });
  }
  if (!info.found) {
    const exports = info.exports.join(", ") || "none";
    throw new SandboxLoadError(`module has no export "${exportName}" (exports: ${exports})`);
  }
  if (info.kind !== "class") {
    throw new SandboxLoadError(options.classProblem(standInFor(info), exportName)!);
  }
  if (info.schemaError) {
    const { name, message } = info.schemaError;
    throw new SandboxLoadError(`getDefaultConfiguration() failed: ${name}: ${message}`);
  }
  const cls = sandboxedClass(info, classOptions);
  const problem = options.classProblem(cls, exportName);
  if (problem) throw new SandboxLoadError(problem);
  return cls;
}
