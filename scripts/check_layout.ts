// deno-lint-ignore-file no-console
/**
 * Layout rules of the tree, checked on Deno's own module graph (`deno info --json`):
 * - a shipped source (`sources/`) imports nothing under `src/` but the SDK, `src/source/mod.ts`;
 * - no module imports a private `_name.ts` of another folder;
 * - no import cycle between product files;
 * - no product file over {@linkcode DEFAULT_MAX_PRODUCT_LINES} lines.
 *
 * ```sh
 * deno run -A scripts/check_layout.ts                  # prints each violation; exit 1 if any
 * deno run -A scripts/check_layout.ts --imports-only   # the import rules only (deno task check)
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { dirname, relative } from "node:path";

/** Lines a product file may have (tests, fixtures and test data excepted). */
export const DEFAULT_MAX_PRODUCT_LINES = 400;
/** The one module of `src/` a shipped source may import. */
export const SDK_MODULE = "src/source/mod.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** A module graph: repository-relative path → the repository-relative paths it imports. */
export type ImportGraph = Map<string, Set<string>>;

/** Whether a repository-relative path is product code (not a test, fixture or test data). */
export function isProductFile(path: string): boolean {
  if (!/^(src|sources|scripts)\/.*\.ts$/.test(path) && path !== "main.ts" && path !== "mod.ts") {
    return false;
  }
  return !/(_test\.ts$|\/testdata\/|\/fixtures\/)/.test(path);
}

/**
 * Violations of the import rules in `graph`, one line each.
 *
 * @example
 * ```ts
 * import { importViolations } from "./check_layout.ts";
 * const graph = new Map<string, Set<string>>([
 *   ["sources/a/mod.ts", new Set(["src/source/mod.ts", "src/errors/errors.ts"])],
 *   ["src/sync/x.ts", new Set(["src/es/_retry.ts"])],
 *   ["src/es/_retry.ts", new Set()],
 * ]);
 * const found = importViolations(graph);
 * if (found.length !== 2) throw new Error(found.join("\n"));
 * ```
 */
export function importViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    for (const to of deps) {
      const shipped = from.startsWith("sources/") && isProductFile(from);
      if (shipped && to.startsWith("src/") && to !== SDK_MODULE) {
        out.push(`${from} imports ${to}: a shipped source imports only ${SDK_MODULE}`);
      }
      const name = to.split("/").at(-1) ?? "";
      if (name.startsWith("_") && dirname(to) !== dirname(from) && !isTestOrFixture(from)) {
        out.push(`${from} imports ${to}, a private module of another folder`);
      }
    }
  }
  return out;
}

function isTestOrFixture(path: string): boolean {
  return !isProductFile(path);
}

/**
 * The import cycles among product files of `graph` (each as `a -> b -> a`), found with
 * Tarjan's strongly connected components.
 *
 * @example
 * ```ts
 * import { importCycles } from "./check_layout.ts";
 * const graph = new Map<string, Set<string>>([
 *   ["src/a.ts", new Set(["src/b.ts"])],
 *   ["src/b.ts", new Set(["src/a.ts"])],
 *   ["src/c.ts", new Set(["src/a.ts"])],
 * ]);
 * if (importCycles(graph).length !== 1) throw new Error();
 * ```
 */
export function importCycles(graph: ImportGraph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!isProductFile(next) || !graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (;;) {
        const member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1) cycles.push(component.sort().join(" <-> "));
    }
  };
  for (const node of graph.keys()) if (isProductFile(node) && !index.has(node)) visit(node);
  return cycles.map((c) => `import cycle: ${c}`);
}

/** The module graph of the repository's roots, from one `deno info --json` over all of them. */
export async function readImportGraph(roots: readonly string[]): Promise<ImportGraph> {
  const entry = await Deno.makeTempFile({ prefix: "layout-roots-", suffix: ".ts" });
  try {
    const lines = roots.map((root) => `import "${new URL(root, `file://${REPO}`).href}";`);
    await Deno.writeTextFile(entry, lines.join("\n") + "\n");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `--config=${REPO}deno.json`, entry],
      cwd: REPO,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr).trim()}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    const graph: ImportGraph = new Map();
    for (const module of info.modules) {
      const from = repoPath(module.specifier);
      if (!from) continue;
      const deps = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        // Type-only imports count too: a cycle of types still ties the files together.
        for (const specifier of [dep.code?.specifier, dep.type?.specifier]) {
          const to = specifier ? repoPath(specifier) : undefined;
          if (to) deps.add(to);
        }
      }
      graph.set(from, deps);
    }
    return graph;
  } finally {
    await Deno.remove(entry).catch(() => {});
  }
}

function repoPath(specifier: string): string | undefined {
  if (!specifier.startsWith("file://")) return undefined;
  const path = relative(REPO, fileURLToPath(specifier));
  return path.startsWith("..") ? undefined : path;
}

/** Product files over the line limit, with their sizes. */
export async function oversizedFiles(
  files: readonly string[],
  limit = DEFAULT_MAX_PRODUCT_LINES,
): Promise<string[]> {
  const out: string[] = [];
  for (const file of files.filter(isProductFile)) {
    const lines = (await Deno.readTextFile(`${REPO}${file}`)).split("\n").length - 1;
    if (lines > limit) out.push(`${file} has ${lines} lines (at most ${limit})`);
  }
  return out;
}

/** The `.ts` files git knows (tracked, or new and not ignored), repository-relative. */
async function repositoryFiles(): Promise<string[]> {
  const output = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard"],
    cwd: REPO,
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout).split("\n").filter((f) => f.endsWith(".ts"))
    .filter((f) => {
      try {
        return Deno.statSync(`${REPO}${f}`).isFile;
      } catch {
        return false; // deleted in the working tree
      }
    });
}

/** Every rule over the repository (the size rule unless `sizes` is false); one line each. */
export async function checkLayout(options: { sizes?: boolean } = {}): Promise<string[]> {
  const files = await repositoryFiles();
  const graph = await readImportGraph(files.filter((f) => !f.includes("/testdata/")));
  const sizes = options.sizes === false ? [] : await oversizedFiles(files);
  return [...importViolations(graph), ...importCycles(graph), ...sizes];
}

if (import.meta.main) {
  // `deno task check` runs the import rules; the size rule waits for the files still over it.
  const problems = await checkLayout({ sizes: !Deno.args.includes("--imports-only") });
  for (const problem of problems) console.error(problem);
  console.error(problems.length === 0 ? "layout: ok" : `layout: ${problems.length} problem(s)`);
  Deno.exit(problems.length === 0 ? 0 : 1);
}
