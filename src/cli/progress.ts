/**
 * Progress of a running sync job, as `job start --wait` and the demo show it: in a terminal a
 * live single line (documents indexed and deleted, rate, elapsed time) redrawn in place; without
 * a terminal a log line every `service.progress_interval` seconds (time-based, never per N
 * documents), carrying the connector id, job id and service type like every job log line.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { JobStatus, SyncJob } from "../protocol/types.ts";
import { TERMINAL_JOB_STATUSES } from "../protocol/types.ts";

/** Milliseconds between two redraws of the live line in a terminal. */
export const DEFAULT_LIVE_REDRAW_MS = 250;
/** Milliseconds between two reads of the job document while watching it. */
export const DEFAULT_JOB_POLL_MS = 1000;

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const CLEAR_LINE = "\r\x1b[2K";

/** What the progress display shows of a job. */
export interface ProgressSnapshot {
  status: JobStatus | string;
  indexed: number;
  deleted: number;
  /** When the job started running (epoch ms); undefined while it waits for a service. */
  startedAt?: number;
}

/**
 * A count with thousands separators.
 *
 * @example
 * ```ts
 * import { formatCount } from "./progress.ts";
 * if (formatCount(1234567) !== "1,234,567") throw new Error();
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Elapsed time as `m:ss`, or `h:mm:ss` from one hour on.
 *
 * @example
 * ```ts
 * import { formatElapsed } from "./progress.ts";
 * if (formatElapsed(62_000) !== "1:02" || formatElapsed(3_723_000) !== "1:02:03") throw new Error();
 * ```
 */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * Documents per second, one decimal below 100.
 *
 * @example
 * ```ts
 * import { formatRate } from "./progress.ts";
 * if (formatRate(25, 10_000) !== "2.5 docs/s" || formatRate(5, 0) !== "0.0 docs/s") throw new Error();
 * ```
 */
export function formatRate(documents: number, ms: number): string {
  const rate = ms > 0 ? documents / (ms / 1000) : 0;
  return rate >= 100 ? `${formatCount(rate)} docs/s` : `${rate.toFixed(1)} docs/s`;
}

/**
 * The progress text of a job at `now`: counts, rate and elapsed time, or that it waits.
 *
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * const text = formatProgress({ status: "in_progress", indexed: 1200, deleted: 0, startedAt: 0 }, 60_000);
 * if (text !== "1,200 indexed, 0 deleted, 20.0 docs/s, 1:00 elapsed") throw new Error(text);
 * ```
 */
export function formatProgress(snapshot: ProgressSnapshot, now: number): string {
  if (snapshot.startedAt === undefined) {
    return snapshot.status === "pending"
      ? "waiting for a connector service to pick up the job (pending)"
      : `waiting (${snapshot.status})`;
  }
  const elapsed = now - snapshot.startedAt;
  const text = `${formatCount(snapshot.indexed)} indexed, ${
    formatCount(snapshot.deleted)
  } deleted, ${formatRate(snapshot.indexed + snapshot.deleted, elapsed)}, ${
    formatElapsed(elapsed)
  } elapsed`;
  return snapshot.status === "in_progress" ? text : `${text} (${snapshot.status})`;
}

/**
 * The snapshot of a job document.
 *
 * @example
 * ```ts
 * import { snapshotOf } from "./progress.ts";
 * const s = snapshotOf({ id: "j", seqNo: 0, primaryTerm: 1, doc: {
 *   status: "in_progress", indexed_document_count: 4, deleted_document_count: 1,
 *   started_at: "2024-01-01T00:00:00Z" } as never });
 * if (s.indexed !== 4 || s.startedAt !== Date.parse("2024-01-01T00:00:00Z")) throw new Error();
 * ```
 */
export function snapshotOf(job: SyncJob): ProgressSnapshot {
  const started = job.doc.started_at ? Date.parse(job.doc.started_at) : NaN;
  const snapshot: ProgressSnapshot = {
    status: job.doc.status,
    indexed: job.doc.indexed_document_count ?? 0,
    deleted: job.doc.deleted_document_count ?? 0,
  };
  if (!Number.isNaN(started)) snapshot.startedAt = started;
  return snapshot;
}

/** Options of {@linkcode ProgressReporter}. */
export interface ProgressReporterOptions {
  /** True: a live line redrawn in place; false: a log line every `intervalSeconds`. */
  terminal: boolean;
  /** Receives the log lines when not in a terminal (give it the job's fields). */
  logger: Logger;
  /** Seconds between log lines when not in a terminal (`service.progress_interval`). */
  intervalSeconds: number;
  /** Prefix of every line, e.g. `Sync job abc`. */
  label: string;
  /** Writes raw text for the live line (default: standard error). */
  write?: (text: string) => void;
  /** Columns of the terminal (the live line is cut to fit); default: asked from stderr. */
  columns?: () => number | undefined;
  /** Clock (epoch ms); default `Date.now`. */
  now?: () => number;
  /** Start no timers: the caller calls {@linkcode ProgressReporter.tick} (tests). */
  manual?: boolean;
}

const encoder = new TextEncoder();

function stderrColumns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

/**
 * Shows the progress of one job. Feed it snapshots with {@linkcode ProgressReporter.update};
 * it draws (terminal) or logs (otherwise) on its own timer until {@linkcode ProgressReporter.stop}.
 *
 * @example
 * ```ts
 * import { ProgressReporter } from "./progress.ts";
 * import { createLogger } from "../log/mod.ts";
 * const lines: string[] = [];
 * let now = 0;
 * const reporter = new ProgressReporter({
 *   terminal: false, intervalSeconds: 10, label: "Sync job j1", manual: true, now: () => now,
 *   logger: createLogger({ level: "INFO", sink: (r) => lines.push(r.message) }),
 * });
 * reporter.update({ status: "in_progress", indexed: 50, deleted: 0, startedAt: 0 });
 * now = 10_000;
 * reporter.tick();
 * reporter.stop();
 * if (lines.length !== 1 || !lines[0]!.includes("50 indexed")) throw new Error(lines.join());
 * ```
 */
export class ProgressReporter {
  readonly #options: ProgressReporterOptions;
  readonly #now: () => number;
  readonly #write: (text: string) => void;
  #snapshot: ProgressSnapshot = { status: "pending", indexed: 0, deleted: 0 };
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;
  #drawn = false;
  #lastLog: number;
  #stopped = false;

  constructor(options: ProgressReporterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#lastLog = this.#now();
    if (!options.manual) {
      const every = options.terminal
        ? DEFAULT_LIVE_REDRAW_MS
        : Math.max(0.05, options.intervalSeconds) * 1000;
      this.#timer = setInterval(() => this.tick(), every);
    }
  }

  /** The latest snapshot. */
  get snapshot(): ProgressSnapshot {
    return this.#snapshot;
  }

  /** Records the latest state of the job (drawn on the next tick). */
  update(snapshot: ProgressSnapshot): void {
    this.#snapshot = snapshot;
  }

  /** Redraws the live line, or writes a log line when the interval has passed. */
  tick(): void {
    if (this.#stopped) return;
    const now = this.#now();
    const text = `${this.#options.label}: ${formatProgress(this.#snapshot, now)}`;
    if (this.#options.terminal) {
      const spinner = SPINNER[this.#frame++ % SPINNER.length];
      let line = `${spinner} ${text}`;
      const columns = (this.#options.columns ?? stderrColumns)();
      if (columns !== undefined && columns > 4 && line.length > columns - 1) {
        line = line.slice(0, columns - 2) + "…";
      }
      this.#write(CLEAR_LINE + line);
      this.#drawn = true;
      return;
    }
    if (now - this.#lastLog < this.#options.intervalSeconds * 1000 - 50) return;
    this.#lastLog = now;
    this.#options.logger.info(text, {
      job_status: this.#snapshot.status,
      indexed_document_count: this.#snapshot.indexed,
      deleted_document_count: this.#snapshot.deleted,
    });
  }

  /** Clears the live line before other output is written to the terminal. */
  clear(): void {
    if (this.#drawn) {
      this.#write(CLEAR_LINE);
      this.#drawn = false;
    }
  }

  /** Stops the timer and clears the live line. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
  }

  /** Same as {@linkcode ProgressReporter.stop}, for `using`. */
  [Symbol.dispose](): void {
    this.stop();
  }
}

/** Options of {@linkcode watchJob}. */
export interface WatchJobOptions {
  /** Receives every snapshot read. */
  reporter?: ProgressReporter;
  /** Milliseconds between reads (default {@linkcode DEFAULT_JOB_POLL_MS}). */
  pollMs?: number;
  /** Stops watching (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Reads a job every `pollMs` until it reaches a terminal status (`completed`, `canceled`,
 * `error`) and returns it as last read. Read failures are retried at the next poll; a job that
 * disappears is an error.
 *
 * @example
 * ```ts
 * import { watchJob } from "./progress.ts";
 * const done = { id: "j", seqNo: 0, primaryTerm: 1, doc: { status: "completed" } } as never;
 * const job = await watchJob({ get: () => Promise.resolve(done) }, "j", { pollMs: 1 });
 * if (job.doc.status !== "completed") throw new Error();
 * ```
 */
export async function watchJob(
  jobs: { get(id: string): Promise<SyncJob | undefined> },
  jobId: string,
  options: WatchJobOptions = {},
): Promise<SyncJob> {
  const pollMs = options.pollMs ?? DEFAULT_JOB_POLL_MS;
  let failures = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    let job: SyncJob | undefined;
    try {
      job = await jobs.get(jobId);
      failures = 0;
    } catch (error) {
      // A passing outage must not end the wait; a persistent one must.
      if (++failures >= 30) throw error;
    }
    if (job === undefined && failures === 0) {
      throw new Error(`Sync job ${jobId} disappeared while it was watched`);
    }
    if (job) {
      options.reporter?.update(snapshotOf(job));
      if (TERMINAL_JOB_STATUSES.includes(job.doc.status)) return job;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        options.signal?.removeEventListener("abort", abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(options.signal?.reason);
      }
      options.signal?.addEventListener("abort", abort, { once: true });
    });
  }
}
