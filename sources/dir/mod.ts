/**
 * The `dir` source: every file of a local directory tree (optionally filtered by a glob) as one
 * document, the embedded default for demos. Same service type as Elastic's `dir` source.
 *
 * Documents: `_id` = the path relative to the directory (`/`-separated, stable), `path`
 * (absolute), `title` and `name` (file name), `extension` (with its dot, `""` when none),
 * `size`, `_timestamp` (mtime), and `text` for UTF-8 text files up to `max_text_size` bytes;
 * binary and larger files come with a lazy download that returns `_attachment` (base64),
 * capped by `service.max_file_download_size`.
 *
 * Incremental sync and `changed()` rely on the cursor stored after each sync:
 * `{directory, pattern, cursor_timestamp, file_count, fingerprint, paths}`. The fingerprint is
 * an order-independent hash of every (relative path, mtime, size): `changed()` only stats the
 * tree, reads no file, and notices additions, removals and modifications. `paths` is the
 * gzip + base64 list of known relative paths; with it an incremental sync indexes new paths
 * and files modified since the last scan (mtime, with {@linkcode DEFAULT_DIR_MTIME_SLACK_MS} of
 * slack for coarse file-system clocks) and deletes the paths that disappeared. When the list
 * would exceed {@linkcode DEFAULT_DIR_CURSOR_MAX_BYTES} (very large trees; the cursor is copied
 * into every job document) it is left out: incremental syncs then index files by mtime only,
 * and deletions, as well as new files carrying an old mtime, are caught by the next full sync.
 *
 * Symbolic links to files are followed; symbolic links to directories are not (no cycles).
 *
 * @example
 * ```ts
 * import { DirectoryDataSource } from "./mod.ts";
 * import { createSource, splitDocItem, standaloneContext } from "../../src/source/mod.ts";
 * import { SAMPLE_DIRECTORY } from "./mod.ts";
 * const source = createSource(DirectoryDataSource, { directory: SAMPLE_DIRECTORY }, standaloneContext());
 * await source.ping();
 * let count = 0;
 * for await (const item of source.getDocs()) if (splitDocItem(item)[0]._id) count++;
 * if (count === 0) throw new Error("the sample folder should not be empty");
 * ```
 *
 * @module
 */
import {
  BaseDataSource,
  ConfigurationValidationError,
  decodeUtf8,
  encodeBase64,
  FatalError,
  looksBinary,
  permissionHint,
} from "../../src/source/mod.ts";
import type {
  ConfigurationSpec,
  DocItem,
  Document,
  IncrementalItem,
  LazyDownload,
  SourceConfiguration,
  SourceContext,
  SourceFeatures,
} from "../../src/source/mod.ts";
import { compileGlob } from "./_glob.ts";
import type { Glob } from "./_glob.ts";

/**
 * The sample folder shipped with the product, for the demo and tests. Never a default: a
 * connector names its folder explicitly.
 */
export const SAMPLE_DIRECTORY: string = decodeURIComponent(
  new URL("./sample", import.meta.url).pathname,
);
/** Every file at any depth. */
export const DEFAULT_DIR_PATTERN = "**/*";
/** Bytes of a text file inlined as `text`; larger files become attachments. */
export const DEFAULT_DIR_MAX_TEXT_SIZE = 1048576;
/** Bytes of the compressed path list the cursor may hold (it is copied into each job doc). */
export const DEFAULT_DIR_CURSOR_MAX_BYTES = 131072;
/** Milliseconds of mtime slack: file systems with coarse clocks round mtimes down. */
export const DEFAULT_DIR_MTIME_SLACK_MS = 2000;
/** Files stat-ed or read at once while streaming the tree. */
export const DEFAULT_DIR_READ_AHEAD = 8;
/** Attachments from this many bytes up are base64-encoded in the worker pool when there is one. */
export const DEFAULT_DIR_WORKER_THRESHOLD = 262144;

/** Stop collecting paths for the cursor past this many raw bytes (bounds memory). */
const PATHS_RAW_LIMIT = 16 * DEFAULT_DIR_CURSOR_MAX_BYTES;
const CURSOR_VERSION = 1;
const ENCODING_MODULE = new URL("../../src/source/encoding.ts", import.meta.url);

/** The incremental-sync cursor of the `dir` source. */
export interface DirectoryCursor {
  version: number;
  directory: string;
  pattern: string;
  /** Files modified at or after this instant are re-indexed by the next incremental sync. */
  cursor_timestamp: string;
  file_count: number;
  /** Order-independent hash of every (relative path, mtime, size). */
  fingerprint: string;
  /** gzip + base64 of the sorted relative paths, `\n`-separated; absent for very large trees. */
  paths?: string;
}

interface Candidate {
  relativePath: string;
  absolutePath: string;
  name: string;
}

interface FileEntry extends Candidate {
  info: Deno.FileInfo;
}

/**
 * Maps an async stream with up to `width` calls in flight, yielding results in input order.
 * Reading a few files at once hides the latency of each read.
 */
async function* readAhead<T, R>(
  input: AsyncIterable<T>,
  map: (item: T) => Promise<R>,
  width: number,
): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  const start = (item: T) => {
    const promise = map(item);
    // Rejections are rethrown when their turn comes; do not report them as unhandled before.
    promise.catch(() => {});
    pending.push(promise);
  };
  for await (const item of input) {
    start(item);
    if (pending.length >= width) yield await pending.shift()!;
  }
  while (pending.length > 0) yield await pending.shift()!;
}

function isNotCapable(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || permissionHint(error) !== undefined;
}

function capabilityError(what: string, error: unknown): FatalError {
  const hint = permissionHint(error);
  const detail = hint ? `${hint.problem} (run with ${hint.flag})` : (error as Error).message;
  return new FatalError(`${what}: ${detail}`, { cause: error });
}

function fnv1a(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Running totals of one scan: count, fingerprint, and (bounded) the list of paths. */
class Scan {
  readonly startedAt = Date.now();
  count = 0;
  #sumA = 0;
  #sumB = 0;
  #paths: string[] | undefined;
  #rawBytes = 0;

  constructor(collectPaths: boolean) {
    this.#paths = collectPaths ? [] : undefined;
  }

  add(entry: FileEntry): void {
    this.count++;
    const key = `${entry.relativePath}\0${entry.info.mtime?.getTime() ?? 0}\0${entry.info.size}`;
    this.#sumA = (this.#sumA + fnv1a(key, 0x811c9dc5)) >>> 0;
    this.#sumB = (this.#sumB + fnv1a(key, 0x050c5d1f)) >>> 0;
    if (this.#paths) {
      this.#rawBytes += entry.relativePath.length + 1;
      if (this.#rawBytes > PATHS_RAW_LIMIT) this.#paths = undefined;
      else this.#paths.push(entry.relativePath);
    }
  }

  get fingerprint(): string {
    return this.#sumA.toString(16).padStart(8, "0") + this.#sumB.toString(16).padStart(8, "0");
  }

  async toCursor(directory: string, pattern: string): Promise<DirectoryCursor> {
    const cursor: DirectoryCursor = {
      version: CURSOR_VERSION,
      directory,
      pattern,
      cursor_timestamp: new Date(this.startedAt - DEFAULT_DIR_MTIME_SLACK_MS).toISOString(),
      file_count: this.count,
      fingerprint: this.fingerprint,
    };
    if (this.#paths) {
      const packed = await packPaths(this.#paths.sort());
      if (packed.length <= DEFAULT_DIR_CURSOR_MAX_BYTES) cursor.paths = packed;
    }
    return cursor;
  }
}

async function packPaths(paths: string[]): Promise<string> {
  const input = new Blob([paths.join("\n")]).stream().pipeThrough(new CompressionStream("gzip"));
  return encodeBase64(new Uint8Array(await new Response(input).arrayBuffer()));
}

async function unpackPaths(packed: string): Promise<Set<string>> {
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const output = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const text = await new Response(output).text();
  return new Set(text === "" ? [] : text.split("\n"));
}

function parseCursor(value: unknown): DirectoryCursor | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const cursor = value as Partial<DirectoryCursor>;
  if (
    cursor.version !== CURSOR_VERSION || typeof cursor.directory !== "string" ||
    typeof cursor.pattern !== "string" || typeof cursor.cursor_timestamp !== "string" ||
    typeof cursor.file_count !== "number" || typeof cursor.fingerprint !== "string" ||
    Number.isNaN(Date.parse(cursor.cursor_timestamp))
  ) {
    return undefined;
  }
  return cursor as DirectoryCursor;
}

function absolute(path: string): string {
  if (path.startsWith("/")) return path.replace(/\/+$/, "") || "/";
  let cwd: string;
  try {
    cwd = Deno.cwd();
  } catch (error) {
    throw capabilityError(`Cannot resolve the relative directory ${path}`, error);
  }
  const parts: string[] = [];
  for (const part of `${cwd}/${path}`.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/** Closes a directory listing; a listing that failed rethrows its error on close: ignore it. */
async function closeListing(entries: AsyncIterator<Deno.DirEntry>): Promise<void> {
  try {
    await entries.return?.();
  } catch {
    // Already reported by next().
  }
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/**
 * The `dir` source: files of a local directory as documents.
 *
 * @example
 * ```ts
 * import { DirectoryDataSource } from "./mod.ts";
 * const schema = DirectoryDataSource.getDefaultConfiguration();
 * if (schema.directory!.value !== "") throw new Error("no default folder: it would point at data");
 * ```
 */
export class DirectoryDataSource extends BaseDataSource {
  static override displayName = "System Directory";
  static override features: Partial<SourceFeatures> = { basicRules: true, incrementalSync: true };

  static override getDefaultConfiguration(): ConfigurationSpec {
    return {
      directory: {
        label: "Directory path",
        order: 1,
        type: "str",
        value: "",
        tooltip: "Absolute path of the directory to index, e.g. /srv/documents.",
      },
      pattern: {
        label: "File glob-like pattern",
        display: "text",
        order: 2,
        type: "str",
        value: DEFAULT_DIR_PATTERN,
        default_value: DEFAULT_DIR_PATTERN,
        required: false,
        tooltip:
          "Relative glob: ** spans directories, * and ? stay within a name, {a,b} and [abc] work.",
      },
      max_text_size: {
        label: "Maximum size of inlined text (bytes)",
        display: "numeric",
        order: 3,
        type: "int",
        value: DEFAULT_DIR_MAX_TEXT_SIZE,
        default_value: DEFAULT_DIR_MAX_TEXT_SIZE,
        required: false,
        validations: [{ type: "greater_than", constraint: -1 }],
        ui_restrictions: ["advanced"],
        tooltip:
          "Text files up to this size are indexed as text; larger and binary files as attachments.",
      },
    };
  }

  /** Absolute path of the indexed directory. */
  readonly directory: string;
  /** The glob files must match (relative to the directory). */
  readonly pattern: string;
  readonly #glob: Glob | undefined;
  /** Why the configuration cannot be used; reported by validateConfig(), ping() and syncs. */
  readonly #problems: string[] = [];
  readonly #maxTextSize: number;

  constructor(configuration: SourceConfiguration, context?: SourceContext) {
    super(configuration, context);
    // The constructor must not throw: bad values are reported by validateConfig() and syncs.
    const directory: unknown = this.value("directory");
    if (typeof directory !== "string" || !directory.startsWith("/")) {
      this.#problems.push(
        `'Directory path' (directory) must be an absolute path, got ${
          directory === "" || directory == null ? "nothing" : JSON.stringify(directory)
        }`,
      );
      this.directory = "";
    } else {
      this.directory = absolute(directory);
    }
    const pattern: unknown = this.value("pattern");
    this.pattern = pattern === "" || pattern == null ? DEFAULT_DIR_PATTERN : String(pattern);
    if (typeof pattern !== "string" && pattern != null) {
      this.#problems.push(
        `'File glob-like pattern' (pattern) must be a string, got ${JSON.stringify(pattern)}`,
      );
    } else if (this.pattern.startsWith("/") || this.pattern.split("/").includes("..")) {
      this.#problems.push(
        `'File glob-like pattern' (pattern) must be relative to the directory and must not contain '..', got '${this.pattern}'`,
      );
    } else {
      try {
        this.#glob = compileGlob(this.pattern);
      } catch (error) {
        this.#problems.push(
          `'File glob-like pattern' (pattern) is not a valid glob: ${(error as Error).message}`,
        );
      }
    }
    const maxText = this.value<number | null>("max_text_size");
    this.#maxTextSize = typeof maxText === "number" && maxText >= 0
      ? maxText
      : DEFAULT_DIR_MAX_TEXT_SIZE;
  }

  /** Checks the directory path and the pattern; ping() checks that the folder can be read. */
  override validateConfig(): Promise<void> {
    if (this.#problems.length > 0) {
      return Promise.reject(new ConfigurationValidationError(this.#problems));
    }
    return Promise.resolve();
  }

  /** Fails with a message naming the directory when it is missing, not a directory or unreadable. */
  override async ping(): Promise<void> {
    await this.validateConfig();
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(this.directory);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new FatalError(`Directory ${this.directory} does not exist`, { cause: error });
      }
      if (isNotCapable(error)) {
        throw capabilityError(`Cannot read directory ${this.directory}`, error);
      }
      throw new FatalError(`Cannot read directory ${this.directory}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!info.isDirectory) throw new FatalError(`${this.directory} is not a directory`);
    const entries = Deno.readDir(this.directory)[Symbol.asyncIterator]();
    try {
      await entries.next();
    } catch (error) {
      if (isNotCapable(error)) {
        throw capabilityError(`Cannot read directory ${this.directory}`, error);
      }
      const reason = error instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : (error as Error).message;
      throw new FatalError(`Cannot read directory ${this.directory}: ${reason}`, { cause: error });
    } finally {
      await closeListing(entries);
    }
  }

  /**
   * False when the tree has the same files, sizes and mtimes as at the last sync (compared with
   * the stored cursor's fingerprint; stats every file, reads none). True without a cursor.
   */
  override async changed(): Promise<boolean> {
    const stored = parseCursor(this.context.syncCursor);
    if (!stored || stored.directory !== this.directory || stored.pattern !== this.pattern) {
      return true;
    }
    const scan = new Scan(false);
    for await (const entry of this.#walk()) scan.add(entry);
    const changed = scan.count !== stored.file_count || scan.fingerprint !== stored.fingerprint;
    this.logger.debug(
      `Directory ${this.directory} ${changed ? "changed" : "unchanged"} since the last sync`,
      {
        file_count: scan.count,
      },
    );
    return changed;
  }

  /** One document per matching file; sets the cursor for the next incremental sync. */
  override async *getDocs(): AsyncGenerator<DocItem> {
    this.logger.debug(`Reading ${this.directory} (pattern ${this.pattern})`);
    const scan = new Scan(true);
    const read = async (entry: FileEntry) => ({ entry, item: await this.#document(entry) });
    for await (const { entry, item } of readAhead(this.#walk(), read, DEFAULT_DIR_READ_AHEAD)) {
      this.signal.throwIfAborted();
      if (!item) continue;
      scan.add(entry);
      yield item;
    }
    this.cursor = await scan.toCursor(this.directory, this.pattern);
  }

  /**
   * Indexes files that are new or modified since the cursor and deletes the ones that
   * disappeared (when the cursor holds the path list); see the module documentation.
   */
  override async *getDocsIncrementally(cursor: unknown): AsyncGenerator<IncrementalItem> {
    const stored = parseCursor(cursor);
    const sameTree = stored !== undefined && stored.directory === this.directory &&
      stored.pattern === this.pattern;
    const known = stored?.paths !== undefined ? await unpackPaths(stored.paths) : undefined;
    if (stored && !known) {
      this.logger.warning(
        `Directory ${this.directory} has too many files to track deletions in the cursor: run a full sync to remove deleted files`,
      );
    }
    const since = sameTree ? Date.parse(stored.cursor_timestamp) : -Infinity;
    const scan = new Scan(true);
    const read = async (entry: FileEntry) => {
      const isNew = known ? !known.delete(entry.relativePath) : false;
      const unchanged = !isNew && (entry.info.mtime?.getTime() ?? 0) < since;
      return { entry, unchanged, item: unchanged ? undefined : await this.#document(entry) };
    };
    for await (
      const { entry, unchanged, item } of readAhead(this.#walk(), read, DEFAULT_DIR_READ_AHEAD)
    ) {
      this.signal.throwIfAborted();
      if (unchanged) {
        scan.add(entry);
        continue;
      }
      if (!item) continue;
      scan.add(entry);
      const [doc, lazy] = Array.isArray(item) ? item : [item as Document, undefined];
      yield [doc, lazy, "index"];
    }
    for (const relativePath of known ?? []) yield [{ _id: relativePath }, undefined, "delete"];
    this.cursor = await scan.toCursor(this.directory, this.pattern);
  }

  /**
   * Streams matching files with their stat, depth-first: one directory listing open per level,
   * a few stats in flight at once, listing order kept.
   */
  async *#walk(): AsyncGenerator<FileEntry> {
    const logger = this.logger;
    const stat = async (candidate: Candidate): Promise<FileEntry | undefined> => {
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(candidate.absolutePath);
      } catch (error) {
        if (isNotCapable(error)) {
          throw capabilityError(`Cannot read ${candidate.absolutePath}`, error);
        }
        // Vanished since the listing, or a dangling symbolic link.
        if (!(error instanceof Deno.errors.NotFound)) {
          logger.warning(`Skipping ${candidate.absolutePath}: ${(error as Error).message}`);
        }
        return undefined;
      }
      return info.isFile ? { ...candidate, info } : undefined;
    };
    for await (const entry of readAhead(this.#list(), stat, DEFAULT_DIR_READ_AHEAD * 2)) {
      if (entry) yield entry;
    }
  }

  /** Streams the paths of matching files (and symbolic links) in listing order. */
  async *#list(): AsyncGenerator<Candidate> {
    const root = this.directory;
    if (!this.#glob || this.#problems.length > 0) {
      throw new ConfigurationValidationError(this.#problems);
    }
    const glob: Glob = this.#glob;
    const signal = this.signal;
    const logger = this.logger;
    async function* visit(
      dir: string,
      relativeDir: string,
      depth: number,
    ): AsyncGenerator<Candidate> {
      const entries = Deno.readDir(dir)[Symbol.asyncIterator]();
      try {
        while (true) {
          signal.throwIfAborted();
          let step: IteratorResult<Deno.DirEntry>;
          try {
            step = await entries.next();
          } catch (error) {
            if (dir === root) {
              if (error instanceof Deno.errors.NotFound) {
                throw new FatalError(`Directory ${root} does not exist`, { cause: error });
              }
              throw capabilityError(`Cannot read directory ${root}`, error);
            }
            if (isNotCapable(error)) throw capabilityError(`Cannot read directory ${dir}`, error);
            logger.warning(`Skipping directory ${dir}: ${(error as Error).message}`);
            return;
          }
          if (step.done) return;
          const entry = step.value;
          const relativePath = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
          const absolutePath = `${dir === "/" ? "" : dir}/${entry.name}`;
          if (entry.isDirectory) {
            if (depth < glob.maxDepth) yield* visit(absolutePath, relativePath, depth + 1);
            continue;
          }
          if (!(entry.isFile || entry.isSymlink) || !glob.matches(relativePath)) continue;
          yield { relativePath, absolutePath, name: entry.name };
        }
      } finally {
        await closeListing(entries);
      }
    }
    yield* visit(root, "", 0);
  }

  async #document(entry: FileEntry): Promise<DocItem | undefined> {
    const { info, absolutePath, name } = entry;
    const doc: Document = {
      _id: entry.relativePath,
      _timestamp: (info.mtime ?? new Date(0)).toISOString(),
      path: absolutePath,
      title: name,
      name,
      extension: extensionOf(name),
      size: info.size,
    };
    if (info.size <= this.#maxTextSize) {
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(absolutePath, { signal: this.signal });
      } catch (error) {
        if (isNotCapable(error)) throw capabilityError(`Cannot read ${absolutePath}`, error);
        if (this.signal.aborted) throw this.signal.reason;
        if (!(error instanceof Deno.errors.NotFound)) {
          this.logger.warning(`Skipping ${absolutePath}: ${(error as Error).message}`);
        }
        return undefined;
      }
      const text = bytes.length <= this.#maxTextSize && !looksBinary(bytes)
        ? decodeUtf8(bytes)
        : undefined;
      if (text !== undefined) {
        doc.text = text;
        return doc;
      }
    }
    return [doc, this.#download(absolutePath, info.size)];
  }

  #download(path: string, size: number): LazyDownload {
    return async (doit) => {
      if (!doit) return undefined;
      const cap = this.context.maxFileSize;
      if (size > cap) {
        this.logger.debug(`Not downloading ${path}: ${size} bytes exceed the ${cap}-byte limit`);
        return undefined;
      }
      const bytes = await Deno.readFile(path, { signal: this.signal });
      if (bytes.length > cap) return undefined;
      const workers = this.context.workers;
      if (workers && bytes.length >= DEFAULT_DIR_WORKER_THRESHOLD) {
        try {
          // A copy goes to the worker, so the bytes stay usable for the fallback below.
          const attachment = await workers.run<string>(ENCODING_MODULE, "encodeBase64", [bytes], {
            signal: this.signal,
          });
          return { _attachment: attachment };
        } catch (error) {
          if (this.signal.aborted) throw error;
          // E.g. a single-file build where the worker's module is not on disk: encode here.
          this.logger.debug(`Encoding ${path} on the main thread: ${(error as Error).message}`);
        }
      }
      return { _attachment: encodeBase64(bytes) };
    };
  }
}
