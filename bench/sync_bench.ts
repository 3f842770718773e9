// deno-lint-ignore-file no-console
/**
 * Sync engine benchmark: a full sync of N synthetic documents through `runContentSync` (the real
 * engine, default `elasticsearch.bulk` settings) against a real Elasticsearch, then raw bulk
 * loads of the same documents with no framework (a few chunk sizes and concurrencies, the best
 * one reported), in the same run; and the same sync through a sandboxed copy of the benchmark's
 * source (served over loopback http, pinned by integrity, run in a Worker with no permissions as
 * a URL-loaded source is). Each load runs in its own subprocess, which reports its docs/s and its
 * peak RSS (`VmHWM`).
 *
 * ```sh
 * deno task bench                       # 100k documents; ES_URL or the local stack
 * deno task bench --docs 1000000
 * deno task bench --docs 20000 --raw 500x2,1000x4   # raw configurations: <docs per request>x<requests in flight>
 * deno task bench --skip-sandboxed     # without the sandboxed-source runs
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Client } from "@elastic/elasticsearch";
import {
  type BulkConfig,
  DEFAULT_BULK_MAX_CONCURRENCY,
  DEFAULT_CHUNK_SIZE,
  defaultConfig,
} from "../src/config/mod.ts";
import { createEsClient } from "../src/es/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import type { SyncJob } from "../src/protocol/types.ts";
import type { DataSource, DataSourceClass, DocItem } from "../src/source/types.ts";
import { createSource, SourceRegistry } from "../src/source/mod.ts";
import { integrityOf } from "../src/source/sandbox/mod.ts";
import { CONTENT_INDEX_MAPPINGS } from "../src/sync/content_index.ts";
import { emptyStats, runContentSync } from "../src/sync/mod.ts";
import { createLimiter } from "../src/async/mod.ts";

/** Documents of a default run. */
const DEFAULT_DOCS = 100_000;
/** Raw bulk configurations tried by default: docs per request × requests in flight. */
const DEFAULT_RAW_CONFIGS = "250x5,500x4,1000x3,2000x2";
/** Raw configurations are compared on at most this many documents; the best runs on all. */
const DEFAULT_CALIBRATION_DOCS = 100_000;
/** `chunk_max_mem_size` (MiB) of the matched sync, so that `chunk_size` alone sizes batches. */
const MATCHED_CHUNK_MAX_MEM_SIZE = 16;
/** Measured rounds (sync, raw, matched sync) below 1M documents; 1 from 1M up. */
const DEFAULT_ROUNDS = 2;
/** Raw loads add the fields the engine adds (control fields, job stamp): BENCH_RAW_SHAPED=1. */
const SHAPED = Deno.env.get("BENCH_RAW_SHAPED") === "1";
/** V8 flags of every child unless `--v8-flags` says otherwise: those `deno task start` runs with. */
const DEFAULT_BENCH_V8_FLAGS = "--max-semi-space-size=2";
/** Documents of the warm-up load that precedes the measured ones. */
const WARMUP_DOCS = 20_000;

const WORDS = (
  "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho " +
  "sigma tau upsilon phi chi psi omega report memo invoice contract meeting project budget " +
  "quarter revenue customer support ticket release feature bug fix deploy cluster index search " +
  "document connector sync schedule pipeline mapping shard replica node query filter score " +
  "north south east west spring summer autumn winter red green blue yellow black white"
).split(" ");

/** The i-th synthetic document (deterministic, about 700 bytes as JSON). */
export function syntheticDoc(i: number): Record<string, unknown> & { _id: string } {
  let seed = (Math.imul(i + 1, 2654435761) >>> 0) || 1;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const words = (n: number) => {
    let out = "";
    for (let k = 0; k < n; k++) out += (k ? " " : "") + WORDS[next() % WORDS.length];
    return out;
  };
  const time = Date.UTC(2026, 0, 1) + (next() % 31536000) * 1000;
  return {
    _id: `doc-${i}`,
    title: words(6),
    body: words(70),
    author: `${WORDS[next() % WORDS.length]}.${WORDS[next() % WORDS.length]}@example.com`,
    tags: [words(1), words(1), words(1)],
    size: next() % 1_000_000,
    created_at: new Date(time).toISOString(),
    _timestamp: new Date(time + 3600_000).toISOString(),
  };
}

async function* syntheticDocs(count: number): AsyncGenerator<DocItem> {
  for (let i = 0; i < count; i++) yield syntheticDoc(i);
}

/** The same generator as a source module of its own, for the sandboxed runs. */
function syntheticSourceModule(): string {
  return `const WORDS = ${JSON.stringify(WORDS)};
${syntheticDoc.toString()}
export class SyntheticDataSource {
  static getDefaultConfiguration() { return { docs: { label: "Documents", type: "int", value: 0 } }; }
  constructor(configuration) { this.docs = Number(configuration.docs.value); }
  async ping() {}
  async *getDocs() { for (let i = 0; i < this.docs; i++) yield syntheticDoc(i); }
}
`;
}

/** A sandboxed copy of the benchmark's source: served over loopback http, pinned, no grants. */
async function sandboxedSource(docs: number, logger: ReturnType<typeof createLogger>) {
  const text = syntheticSourceModule();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(text, { headers: { "content-type": "application/javascript" } }),
  );
  const integrity = await integrityOf(new TextEncoder().encode(text), "sha256");
  const fqn = `http://127.0.0.1:${server.addr.port}/synthetic.js:SyntheticDataSource`;
  const registry = new SourceRegistry({ bench: fqn }, {
    baseDir: "/",
    grants: { bench: { net: [], read: [], env: [], integrity } },
  });
  const sourceClass = await registry.load("bench");
  const source = createSource(sourceClass, { docs: { value: docs } }, {
    logger,
    maxFileSize: 10485760,
    signal: new AbortController().signal,
  });
  return { source, sourceClass, close: () => Promise.all([source.close?.(), server.shutdown()]) };
}

function peakRssBytes(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = status.match(/VmHWM:\s+(\d+)\s+kB/);
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall back to the sampled maximum
  }
  return 0;
}

function sampler(): { stop: () => number } {
  let max = Deno.memoryUsage().rss;
  const trace = Deno.env.get("BENCH_TRACE_MEMORY") === "1";
  let ticks = 0;
  const timer = setInterval(() => {
    const usage = Deno.memoryUsage();
    max = Math.max(max, usage.rss);
    if (trace && ++ticks % 10 === 0) {
      console.error(
        `rss ${mib(usage.rss)} heap ${mib(usage.heapUsed)}/${mib(usage.heapTotal)} external ${
          mib(usage.external)
        }`,
      );
    }
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, Deno.memoryUsage().rss);
    },
  };
}

function clientFor(url: string): Client {
  return createEsClient({ ...defaultConfig().elasticsearch, host: url });
}

interface ChildReport {
  docs: number;
  seconds: number;
  docsPerSecond: number;
  peakRss: number;
  sampledRss: number;
  indexed?: number;
}

/** Child: a full sync of `docs` documents into `index` through the engine. */
async function childSync(
  url: string,
  index: string,
  docs: number,
  bulk: Partial<BulkConfig>,
  sandboxed = false,
): Promise<ChildReport> {
  const client = clientFor(url);
  const rss = sampler();
  const job: SyncJob = {
    id: `bench-${Date.now()}`,
    seqNo: 0,
    primaryTerm: 1,
    doc: {
      cancelation_requested_at: null,
      canceled_at: null,
      completed_at: null,
      connector: {
        id: "bench",
        configuration: {},
        filtering: null,
        index_name: index,
        language: null,
        pipeline: null,
        service_type: "bench",
      },
      created_at: new Date().toISOString(),
      deleted_document_count: 0,
      error: null,
      indexed_document_count: 0,
      indexed_document_volume: 0,
      job_type: "full",
      last_seen: null,
      metadata: {},
      started_at: null,
      status: "in_progress",
      total_document_count: null,
      trigger_method: "on_demand",
      worker_hostname: "bench",
    },
  };
  const logger = createLogger({
    level: "WARNING",
    sink: (r) => {
      if (!r.message.includes("does not exist")) console.error(r.level, r.message);
    },
  });
  // A sandboxed run pays for its worker and module load inside the measured time.
  const started = performance.now();
  const sandbox = sandboxed ? await sandboxedSource(docs, logger) : undefined;
  const source: DataSource = sandbox?.source ??
    { ping: () => Promise.resolve(), getDocs: () => syntheticDocs(docs) };
  const sourceClass = sandbox?.sourceClass ??
    { getDefaultConfiguration: () => ({}) } as unknown as DataSourceClass;
  const result = await runContentSync({
    job,
    source,
    sourceClass,
    client,
    bulk: { ...defaultConfig().elasticsearch.bulk, ...bulk },
    maxFileSize: 10485760,
    logger,
    signal: new AbortController().signal,
    stats: emptyStats(),
  });
  await sandbox?.close();
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  if (result.totalDocumentCount !== docs) {
    throw new Error(`sync indexed ${result.totalDocumentCount} of ${docs} documents`);
  }
  return {
    docs,
    seconds,
    docsPerSecond: docs / seconds,
    peakRss: peakRssBytes(),
    sampledRss: rss.stop(),
    indexed: result.stats.indexed_document_count,
  };
}

/** Child: a raw bulk load (`fetch`, NDJSON built by hand) of `docs` documents into `index`. */
async function childRaw(
  url: string,
  index: string,
  docs: number,
  perRequest: number,
  inFlight: number,
): Promise<ChildReport> {
  const rss = sampler();
  const started = performance.now();
  const put = await fetch(`${url}/${index}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mappings: CONTENT_INDEX_MAPPINGS }),
  });
  if (!put.ok) throw new Error(`create ${index}: ${put.status} ${await put.text()}`);
  const limiter = createLimiter(inFlight);
  const send = async (body: string) => {
    for (;;) {
      const response = await fetch(`${url}/${index}/_bulk?filter_path=errors`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
      const text = await response.text();
      if (response.status === 429) continue;
      if (!response.ok || text.includes('"errors":true')) {
        throw new Error(`bulk: ${response.status} ${text.slice(0, 300)}`);
      }
      return;
    }
  };
  let body = "";
  let count = 0;
  for (let i = 0; i < docs; i++) {
    const { _id, ...doc } = syntheticDoc(i);
    const source = SHAPED
      ? {
        ...doc,
        id: _id,
        _extract_binary_content: true,
        _reduce_whitespace: true,
        _run_ml_inference: true,
        _sync_job_id: "bench-mx0000000",
      }
      : { ...doc, id: _id };
    body += `{"index":{"_id":${JSON.stringify(_id)}}}\n${JSON.stringify(source)}\n`;
    if (++count === perRequest) {
      const batch = body;
      await limiter.spawn(() => send(batch));
      body = "";
      count = 0;
    }
  }
  if (count > 0) await limiter.spawn(() => send(body));
  await limiter.drain();
  await fetch(`${url}/${index}/_refresh`, { method: "POST" }).then((r) => r.body?.cancel());
  const seconds = (performance.now() - started) / 1000;
  const counted = await (await fetch(`${url}/${index}/_count`)).json() as { count: number };
  if (counted.count !== docs) throw new Error(`raw load indexed ${counted.count} of ${docs}`);
  return {
    docs,
    seconds,
    docsPerSecond: docs / seconds,
    peakRss: peakRssBytes(),
    sampledRss: rss.stop(),
  };
}

async function runChild(args: string[], v8Flags?: string): Promise<ChildReport> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // As `deno task start` runs: no lockfile writes, Workers with permissions of their own.
      "--no-lock",
      "--unstable-worker-options",
      ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
      new URL(import.meta.url).pathname,
      "--child",
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout);
  const line = text.split("\n").find((l) => l.startsWith("REPORT "));
  if (!output.success || !line) throw new Error(`child ${args.join(" ")} failed:\n${text}`);
  return JSON.parse(line.slice("REPORT ".length)) as ChildReport;
}

async function esUrlOrStack(): Promise<string> {
  const fromEnv = Deno.env.get("ES_URL");
  if (fromEnv) return fromEnv.replace(/\/+$/, "");
  console.log("ES_URL is not set: starting the local stack (deno task stack up es)");
  const stack = new URL("../scripts/stack.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", stack, "up", "es"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const match = new TextDecoder().decode(out.stdout).match(/ES_URL=(\S+)/);
  if (!out.success || !match) throw new Error("Cannot start Elasticsearch with scripts/stack.ts");
  return match[1]!;
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const rate = (r: ChildReport) => `${Math.round(r.docsPerSecond).toLocaleString("en")} docs/s`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "string" },
      docs: { type: "string" },
      es: { type: "string" },
      index: { type: "string" },
      raw: { type: "string" },
      "per-request": { type: "string" },
      "in-flight": { type: "string" },
      "chunk-size": { type: "string" },
      "max-concurrency": { type: "string" },
      calibrate: { type: "string" },
      "v8-flags": { type: "string" },
      "skip-matched": { type: "boolean" },
      "skip-sandboxed": { type: "boolean" },
      sandboxed: { type: "boolean" },
      rounds: { type: "string" },
    },
  });
  const docs = Number(values.docs ?? DEFAULT_DOCS);
  if (values.child) {
    const url = values.es!;
    const index = values.index!;
    const bulk: Partial<BulkConfig> = {};
    if (values["chunk-size"]) {
      bulk.chunk_size = Number(values["chunk-size"]);
      bulk.chunk_max_mem_size = MATCHED_CHUNK_MAX_MEM_SIZE;
    }
    if (values["max-concurrency"]) bulk.max_concurrency = Number(values["max-concurrency"]);
    const report = values.child === "sync"
      ? await childSync(url, index, docs, bulk, values.sandboxed === true)
      : await childRaw(
        url,
        index,
        docs,
        Number(values["per-request"]),
        Number(values["in-flight"]),
      );
    console.log(`REPORT ${JSON.stringify(report)}`);
    return;
  }

  const url = values.es ?? await esUrlOrStack();
  const client = clientFor(url);
  // `--v8-flags=` (empty) measures with V8's defaults.
  const v8Flags = values["v8-flags"] ?? DEFAULT_BENCH_V8_FLAGS;
  const prefix = `bench-${Date.now().toString(36)}`;
  const calibrateDocs = Math.min(docs, Number(values.calibrate ?? DEFAULT_CALIBRATION_DOCS));
  const configs = (values.raw ?? DEFAULT_RAW_CONFIGS).split(",").map((c) => {
    const [perRequest, inFlight] = c.split("x").map(Number);
    return { perRequest: perRequest!, inFlight: inFlight! };
  });
  const cpus = navigator.hardwareConcurrency;
  const memory = Deno.systemMemoryInfo().total;
  console.log(
    `Benchmark: ${docs.toLocaleString("en")} documents against ${url} (${cpus} cores, ${
      (memory / 1073741824).toFixed(0)
    } GiB${v8Flags ? `, children with --v8-flags=${v8Flags}` : ""})`,
  );
  const created: string[] = [];
  const run = async (name: string, args: string[], count = docs) => {
    const index = `${prefix}-${name}`;
    created.push(index);
    try {
      return await runChild(
        [...args, "--es", url, "--index", index, "--docs", String(count)],
        v8Flags,
      );
    } finally {
      await client.indices.delete({ index, ignore_unavailable: true });
    }
  };
  const raw = (c: { perRequest: number; inFlight: number }, count = docs) =>
    run(`raw-${c.perRequest}x${c.inFlight}-${count}`, [
      "raw",
      "--per-request",
      String(c.perRequest),
      "--in-flight",
      String(c.inFlight),
    ], count);
  try {
    // Warm the node up (JIT, caches) so that no measured load pays for it.
    await raw({ perRequest: 500, inFlight: 2 }, Math.min(docs, WARMUP_DOCS));

    let best: { report: ChildReport; config: (typeof configs)[number] } | undefined;
    for (const c of configs) {
      const report = await raw(c, calibrateDocs);
      console.log(
        `raw bulk, ${c.perRequest} docs/request x ${c.inFlight} in flight${
          calibrateDocs < docs ? ` (${calibrateDocs.toLocaleString("en")} docs)` : ""
        }: ${rate(report)}, peak RSS ${mib(report.peakRss)}`,
      );
      if (!best || report.docsPerSecond > best.report.docsPerSecond) best = { report, config: c };
    }
    if (!best) throw new Error("no raw configuration given");
    const bestLabel = `${best.config.perRequest} docs/request x ${best.config.inFlight}`;
    // Interleave the measured loads so that a busy neighbour or a merge does not favour one side;
    // each side keeps its best full-size run.
    const rounds = Number(values.rounds ?? (docs >= 1_000_000 ? 1 : DEFAULT_ROUNDS));
    const syncRuns: ChildReport[] = [];
    const sandboxedRuns: ChildReport[] = [];
    const matchedRuns: ChildReport[] = [];
    const rawRuns: ChildReport[] = calibrateDocs === docs ? [best.report] : [];
    for (let round = 1; round <= rounds; round++) {
      const sync = await run(`sync-${round}`, ["sync"]);
      syncRuns.push(sync);
      console.log(
        `sync, default bulk settings (chunk_size ${DEFAULT_CHUNK_SIZE} lines, ${DEFAULT_BULK_MAX_CONCURRENCY} in flight): ${
          rate(sync)
        } in ${sync.seconds.toFixed(1)} s, peak RSS ${mib(sync.peakRss)}`,
      );
      if (!values["skip-sandboxed"]) {
        const boxed = await run(`sync-sandboxed-${round}`, ["sync", "--sandboxed"]);
        sandboxedRuns.push(boxed);
        console.log(
          `sync, sandboxed copy of the source (loopback http, a Worker without permissions): ${
            rate(boxed)
          } in ${boxed.seconds.toFixed(1)} s, peak RSS ${mib(boxed.peakRss)}`,
        );
      }
      const rawRun = await raw(best.config, docs);
      rawRuns.push(rawRun);
      console.log(`raw bulk, ${bestLabel}, all documents: ${rate(rawRun)}`);
      if (values["skip-matched"]) continue;
      const matched = await run(`sync-matched-${round}`, [
        "sync",
        "--chunk-size",
        String(best.config.perRequest * 2),
        "--max-concurrency",
        String(best.config.inFlight),
      ]);
      matchedRuns.push(matched);
      console.log(
        `sync, bulk settings of the best raw load (${bestLabel}): ${rate(matched)} in ${
          matched.seconds.toFixed(1)
        } s, peak RSS ${mib(matched.peakRss)}`,
      );
    }
    const fastest = (runs: ChildReport[]) =>
      runs.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a));
    const reference = fastest(rawRuns);
    const pct = (r: ChildReport) =>
      `${(r.docsPerSecond / reference.docsPerSecond * 100).toFixed(1)}%`;
    const sync = fastest(syncRuns);
    console.log(`\nraw bulk reference (best full-size run): ${rate(reference)} (${bestLabel})`);
    console.log(`sync / raw, default settings: ${rate(sync)}, ${pct(sync)}`);
    if (matchedRuns.length > 0) {
      const matched = fastest(matchedRuns);
      console.log(
        `sync / raw, matched settings: ${rate(matched)}, ${pct(matched)} (target >= 85%)`,
      );
    }
    const peak = Math.max(...syncRuns.map((r) => r.peakRss));
    console.log(
      `sync peak RSS (default settings): ${mib(peak)} (target < 200 MiB at 1M documents)`,
    );
    if (sandboxedRuns.length > 0) {
      const boxed = fastest(sandboxedRuns);
      const boxedPeak = Math.max(...sandboxedRuns.map((r) => r.peakRss));
      console.log(
        `sandboxed / plain sync: ${rate(boxed)} vs ${rate(sync)}, ${
          (boxed.docsPerSecond / sync.docsPerSecond * 100).toFixed(1)
        }% (target > 90%); peak RSS ${mib(boxedPeak)} vs ${mib(peak)}, ${
          ((boxedPeak - peak) / 1048576).toFixed(1)
        } MiB more (target < 20 MiB)`,
      );
    }
  } finally {
    for (const index of created) await client.indices.delete({ index, ignore_unavailable: true });
    await client.close();
  }
}

if (import.meta.main) await main();
