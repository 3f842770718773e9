/**
 * Shipped source modules compiled into a single-file build. In a bundle `import.meta.url` is the
 * bundle file, so the shipped sources (`./sources/...` in `DEFAULT_SOURCES`) cannot be
 * imported by path; the bundle entry registers a loader per module here and the
 * `SourceRegistry` uses it instead of a dynamic import.
 *
 * @module
 */
/** Loads a module namespace (a static `import()` the bundler includes). */
export type SourceModuleLoader = () => Promise<Record<string, unknown>>;

const loaders = new Map<string, SourceModuleLoader>();

/**
 * Registers loaders of shipped source modules, keyed by the MODULE part of their
 * `DEFAULT_SOURCES` entry (e.g. `./sources/dir/mod.ts`).
 *
 * @example
 * ```ts
 * import { builtinSourceModule, registerBuiltinSourceModules } from "./builtin_sources.ts";
 * registerBuiltinSourceModules({ "./sources/example/mod.ts": () => Promise.resolve({}) });
 * if (!builtinSourceModule("./sources/example/mod.ts")) throw new Error();
 * ```
 */
export function registerBuiltinSourceModules(modules: Record<string, SourceModuleLoader>): void {
  for (const [module, loader] of Object.entries(modules)) loaders.set(module, loader);
}

/**
 * The registered loader of a shipped module, if any.
 *
 * @example
 * ```ts
 * import { builtinSourceModule } from "./builtin_sources.ts";
 * if (builtinSourceModule("./nowhere.ts") !== undefined) throw new Error();
 * ```
 */
export function builtinSourceModule(module: string): SourceModuleLoader | undefined {
  return loaders.get(module);
}
