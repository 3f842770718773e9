import assert from "node:assert/strict";
import { FatalError } from "../../src/errors/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import {
  createSource,
  featuresOf,
  splitDocItem,
  splitIncrementalItem,
  standaloneContext,
  toSourceConfiguration,
  validateConfiguration,
  WorkerPool,
} from "../../src/source/mod.ts";
import type { Document, LazyDownload, SourceContext } from "../../src/source/mod.ts";
import {
  DEFAULT_DIR_WORKER_THRESHOLD,
  type DirectoryCursor,
  DirectoryDataSource,
  SAMPLE_DIRECTORY,
} from "./mod.ts";

const OLD = new Date("2020-01-01T00:00:00Z");

const roots: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const root of roots) Deno.removeSync(root, { recursive: true });
});

async function tree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "dir_source_" });
  roots.push(root);
  for (const [path, content] of Object.entries(files)) await write(root, path, content);
  return root;
}

async function write(root: string, path: string, content: string | Uint8Array, mtime = OLD) {
  const full = `${root}/${path}`;
  await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
  if (typeof content === "string") await Deno.writeTextFile(full, content);
  else await Deno.writeFile(full, content);
  await Deno.utime(full, mtime, mtime);
}

function source(config: Record<string, unknown>, context: Partial<SourceContext> = {}) {
  return createSource(
    DirectoryDataSource,
    config,
    standaloneContext(context),
  ) as DirectoryDataSource;
}

async function docs(
  s: DirectoryDataSource,
): Promise<Map<string, [Document, LazyDownload | undefined]>> {
  const out = new Map<string, [Document, LazyDownload | undefined]>();
  for await (const item of s.getDocs()) {
    const [doc, lazy] = splitDocItem(item);
    out.set(String(doc._id), [doc, lazy]);
  }
  return out;
}

async function incremental(s: DirectoryDataSource, cursor: unknown) {
  const ops: string[] = [];
  for await (const item of s.getDocsIncrementally(cursor)) {
    const [doc, , op] = splitIncrementalItem(item);
    ops.push(`${op} ${doc._id}`);
  }
  return ops.sort();
}

Deno.test("schema and features; no default directory", async () => {
  const schema = DirectoryDataSource.getDefaultConfiguration();
  assert.equal(schema.directory!.value, "", "a default folder would point at data");
  assert.equal(schema.pattern!.value, "**/*");
  assert.equal(featuresOf(DirectoryDataSource).incremental_sync?.enabled, true);
  assert.equal(featuresOf(DirectoryDataSource).sync_rules?.basic?.enabled, true);
  assert.throws(
    () => validateConfiguration(toSourceConfiguration({}, DirectoryDataSource)),
    /'Directory path' \(directory\) cannot be empty/,
  );
  validateConfiguration(toSourceConfiguration({ directory: "/srv" }, DirectoryDataSource));
  await assert.rejects(() => source({}).validateConfig(), /\(directory\) must be an absolute path/);
  await assert.rejects(() => source({}).ping(), /\(directory\) must be an absolute path/);
});

Deno.test("directory must be one absolute path", async () => {
  for (const bad of [["/tmp", "/etc"], 5, "relative/dir", ""]) {
    const s = source({ directory: bad as never });
    await assert.rejects(() => s.validateConfig(), /\(directory\) must be an absolute path/);
    await assert.rejects(() => docs(s), /\(directory\) must be an absolute path/);
  }
});

Deno.test("one document per file: id, path, name, extension, size, timestamp, text", async () => {
  const root = await tree({
    "a.txt": "hello",
    "sub/deeper/b.md": "# Title\nGrüße",
    "README": "no extension",
    "empty.txt": "",
  });
  const found = await docs(source({ directory: root }));
  assert.deepEqual([...found.keys()].sort(), ["README", "a.txt", "empty.txt", "sub/deeper/b.md"]);
  const [doc, lazy] = found.get("sub/deeper/b.md")!;
  assert.equal(lazy, undefined);
  assert.deepEqual(doc, {
    _id: "sub/deeper/b.md",
    _timestamp: OLD.toISOString(),
    path: `${root}/sub/deeper/b.md`,
    title: "b.md",
    name: "b.md",
    extension: ".md",
    size: 15,
    text: "# Title\nGrüße",
  });
  assert.equal(found.get("README")![0].extension, "");
  assert.equal(found.get("empty.txt")![0].text, "");
});

Deno.test("binary and oversized files come as lazy base64 attachments", async () => {
  const binary = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: not UTF-8
  const root = await tree({ "img.png": binary, "big.txt": "x".repeat(100), "latin1.txt": latin1 });
  const found = await docs(source({ directory: root, max_text_size: "50" }));
  for (const id of ["img.png", "big.txt", "latin1.txt"]) {
    const [doc, lazy] = found.get(id)!;
    assert.equal(doc.text, undefined, id);
    assert.ok(lazy, `${id} has a lazy download`);
  }
  const [, lazy] = found.get("img.png")!;
  assert.equal(await lazy!(false), undefined);
  assert.deepEqual(await lazy!(true), { _attachment: btoa(String.fromCharCode(...binary)) });
  assert.deepEqual(await found.get("big.txt")![1]!(true), { _attachment: btoa("x".repeat(100)) });
  // The download cap of the service applies.
  const capped = await docs(source({ directory: root, max_text_size: 0 }, { maxFileSize: 10 }));
  assert.equal(await capped.get("big.txt")![1]!(true), undefined);
  assert.ok(await capped.get("img.png")![1]!(true));
});

Deno.test("large attachments are encoded in the worker pool when one is given", async () => {
  const size = DEFAULT_DIR_WORKER_THRESHOLD + 10;
  const bytes = new Uint8Array(size).map((_, i) => (i * 7) % 256);
  bytes[0] = 0;
  const root = await tree({ "blob.bin": bytes });
  using workers = new WorkerPool({ size: 1 });
  const found = await docs(source({ directory: root }, { workers }));
  const result = await found.get("blob.bin")![1]!(true);
  const decoded = Uint8Array.from(atob(result!._attachment as string), (c) => c.charCodeAt(0));
  assert.deepEqual(decoded, bytes);
});

Deno.test("the glob pattern filters files; symbolic links to directories are not followed", async () => {
  const root = await tree({ "a.md": "a", "b.txt": "b", "x/c.md": "c", "x/y/d.md": "d" });
  await Deno.symlink(`${root}/x`, `${root}/link-to-x`);
  await Deno.symlink(`${root}/a.md`, `${root}/link-to-a.md`);
  assert.deepEqual(
    [...(await docs(source({ directory: root, pattern: "**/*.md" }))).keys()].sort(),
    ["a.md", "link-to-a.md", "x/c.md", "x/y/d.md"],
  );
  assert.deepEqual([...(await docs(source({ directory: root, pattern: "*.md" }))).keys()].sort(), [
    "a.md",
    "link-to-a.md",
  ]);
  assert.deepEqual([...(await docs(source({ directory: root, pattern: "x/*/*" }))).keys()], [
    "x/y/d.md",
  ]);
});

Deno.test("ping names the path when the directory is missing or not a directory", async () => {
  const root = await tree({ "file.txt": "x" });
  await source({ directory: root }).ping();
  await assert.rejects(
    () => source({ directory: `${root}/missing` }).ping(),
    (error: Error) =>
      error instanceof FatalError && error.message === `Directory ${root}/missing does not exist`,
  );
  await assert.rejects(
    () => source({ directory: `${root}/file.txt` }).ping(),
    (error: Error) => error.message === `${root}/file.txt is not a directory`,
  );
  await assert.rejects(async () => {
    for await (const _ of source({ directory: `${root}/missing` }).getDocs()) { /* none */ }
  }, /Directory .*\/missing does not exist/);
});

Deno.test({
  name: "ping reports an unreadable directory (file-system permissions)",
  ignore: Deno.uid() === 0,
  fn: async () => {
    const root = await tree({ "locked/file.txt": "x" });
    await Deno.chmod(`${root}/locked`, 0o000);
    try {
      await assert.rejects(
        () => source({ directory: `${root}/locked` }).ping(),
        new RegExp(`Cannot read directory ${root}/locked: permission denied`),
      );
    } finally {
      await Deno.chmod(`${root}/locked`, 0o755);
    }
  },
});

Deno.test("ping turns a refused --allow-read into the exact flag to add", async () => {
  const root = await tree({ "file.txt": "x" });
  const script = new URL("./testdata/ping.ts", import.meta.url);
  const here = decodeURIComponent(new URL("../..", import.meta.url).pathname);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-read=${here}`, script.pathname, root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  assert.equal(
    stdout,
    `Cannot read directory ${root}: permission to read ${root} refused (run with --allow-read=${root})`,
    new TextDecoder().decode(output.stderr),
  );
});

Deno.test("pattern must stay inside the directory", async () => {
  await assert.rejects(
    () => source({ directory: "/tmp", pattern: "../**/*" }).validateConfig(),
    /\(pattern\) must be relative/,
  );
  await assert.rejects(
    () => source({ directory: "/tmp", pattern: "/etc/*" }).validateConfig(),
    /\(pattern\) must be relative/,
  );
  await source({ directory: "/tmp", pattern: "**/*.md" }).validateConfig();
  for (const pattern of ["[z-a]*", "[unclosed", "*.{md,txt"]) {
    const bad = source({ directory: "/tmp", pattern });
    await assert.rejects(() => bad.validateConfig(), /\(pattern\) is not a valid glob/);
    await assert.rejects(() => docs(bad), /\(pattern\) is not a valid glob/);
  }
});

Deno.test("changed() compares the tree with the stored cursor without reading files", async () => {
  const root = await tree({ "a.txt": "a", "d/b.txt": "b" });
  const first = source({ directory: root });
  assert.equal(await first.changed(), true, "no cursor: changed");
  await docs(first);
  const cursor = first.syncCursor() as DirectoryCursor;
  assert.equal(cursor.file_count, 2);
  const check = () => source({ directory: root }, { syncCursor: cursor }).changed();
  assert.equal(await check(), false);
  await write(root, "a.txt", "A", new Date("2021-01-01T00:00:00Z"));
  assert.equal(await check(), true, "modified");
  await write(root, "a.txt", "a");
  assert.equal(await check(), false, "back as it was");
  await Deno.remove(`${root}/d/b.txt`);
  assert.equal(await check(), true, "deleted");
  await write(root, "d/b.txt", "b");
  await Deno.rename(`${root}/d/b.txt`, `${root}/d/c.txt`);
  assert.equal(await check(), true, "renamed, same count and mtimes");
  await Deno.rename(`${root}/d/c.txt`, `${root}/d/b.txt`);
  assert.equal(
    await source({ directory: root, pattern: "*.txt" }, { syncCursor: cursor }).changed(),
    true,
    "other pattern",
  );
});

Deno.test("incremental sync: new, modified and deleted files", async () => {
  const root = await tree({
    "keep.txt": "k",
    "modify.txt": "m",
    "remove.txt": "r",
    "sub/keep.md": "k",
  });
  const full = source({ directory: root });
  assert.equal((await docs(full)).size, 4);
  const cursor1 = full.syncCursor() as DirectoryCursor;
  assert.ok(cursor1.paths, "small trees keep their path list");
  assert.deepEqual(await incremental(source({ directory: root }), cursor1), [], "nothing changed");

  await write(root, "modify.txt", "modified", new Date());
  await Deno.remove(`${root}/remove.txt`);
  await write(root, "sub/new.md", "new but with an old mtime", OLD);
  const second = source({ directory: root });
  assert.deepEqual(await incremental(second, cursor1), [
    "delete remove.txt",
    "index modify.txt",
    "index sub/new.md",
  ]);
  const cursor2 = second.syncCursor() as DirectoryCursor;
  assert.equal(cursor2.file_count, 4);
  // modify.txt was written just now, within the mtime slack: it is indexed once more.
  assert.deepEqual(await incremental(source({ directory: root }), cursor2), ["index modify.txt"]);
});

Deno.test("incremental sync after a pattern change re-indexes and deletes what left", async () => {
  const root = await tree({ "a.md": "a", "b.txt": "b" });
  const full = source({ directory: root });
  await docs(full);
  const ops = await incremental(source({ directory: root, pattern: "*.md" }), full.syncCursor());
  assert.deepEqual(ops, ["delete b.txt", "index a.md"]);
});

Deno.test("without a path list, incremental sync indexes by mtime and warns about deletions", async () => {
  const root = await tree({ "a.txt": "a", "b.txt": "b" });
  const full = source({ directory: root });
  await docs(full);
  const { paths: _, ...cursor } = full.syncCursor() as DirectoryCursor;
  await Deno.remove(`${root}/b.txt`);
  await write(root, "a.txt", "changed", new Date());
  const warnings: string[] = [];
  const logger = createLogger({
    level: "WARNING",
    sink: (record) => warnings.push(record.message),
  });
  assert.deepEqual(await incremental(source({ directory: root }, { logger }), cursor), [
    "index a.txt",
  ]);
  assert.match(warnings.join("\n"), /too many files to track deletions.*run a full sync/);
});

Deno.test("the sample folder indexes text and binary files", async () => {
  const found = await docs(source({ directory: SAMPLE_DIRECTORY }));
  assert.ok(found.size >= 10, `sample has ${found.size} files`);
  assert.match(String(found.get("README.md")![0].text), /Sample folder/);
  assert.ok(found.get("web/pixel.png")![1], "the PNG is an attachment");
});

Deno.test("cancellation stops the walk", async () => {
  const root = await tree({ "a.txt": "a", "b.txt": "b", "c.txt": "c" });
  const controller = new AbortController();
  const s = source({ directory: root }, { signal: controller.signal });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const item of s.getDocs()) {
      seen.push(String(splitDocItem(item)[0]._id));
      controller.abort(new Error("job canceled"));
    }
  }, /job canceled/);
  assert.equal(seen.length, 1);
});
