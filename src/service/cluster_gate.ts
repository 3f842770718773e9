/**
 * {@linkcode ClusterGate}: what the service loops do while Elasticsearch is unreachable. The
 * first loop that fails with a retriable error closes the gate; one probe per backoff step
 * checks the cluster (one log line per step, whatever the number of loops), and every loop waits
 * at the gate until a probe succeeds. Nothing is counted against the error budget meanwhile.
 *
 * @module
 */
import { describeFailure } from "../es/mod.ts";
import { backoffDelay, sleep } from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Longest wait between two probes of an unreachable cluster, in seconds. */
export const OUTAGE_MAX_BACKOFF_SECONDS = 10;

/** Options of {@linkcode ClusterGate}. */
export interface ClusterGateOptions {
  /** Seconds of the first probe wait. */
  initial: number;
  /** Growth factor of the waits. */
  multiplier: number;
  /** Cap of one wait, seconds; default {@linkcode OUTAGE_MAX_BACKOFF_SECONDS}. */
  max?: number;
  /** Stops probing and releases waiters (shutdown). */
  signal: AbortSignal;
  /** Where the cluster is, for messages. */
  host: string;
}

/**
 * Shared outage state of one service process.
 *
 * @example
 * ```ts
 * import { ClusterGate } from "./cluster_gate.ts";
 * import { nullLogger } from "../log/mod.ts";
 * let up = false;
 * const gate = new ClusterGate(async () => { if (!up) throw new Error("down"); }, nullLogger, {
 *   initial: 0.01, multiplier: 1, signal: new AbortController().signal, host: "test",
 * });
 * gate.reportFailure(new Error("connection refused"));
 * if (gate.healthy) throw new Error();
 * up = true;
 * await gate.ready();
 * if (!gate.healthy) throw new Error();
 * ```
 */
export class ClusterGate {
  readonly #probe: () => Promise<void>;
  readonly #logger: Logger;
  readonly #options: ClusterGateOptions;
  #down: { since: number; released: Promise<void>; release: () => void } | undefined;

  constructor(probe: () => Promise<void>, logger: Logger, options: ClusterGateOptions) {
    this.#probe = probe;
    this.#logger = logger;
    this.#options = options;
  }

  /** False while an outage is being waited out. */
  get healthy(): boolean {
    return this.#down === undefined;
  }

  /**
   * Records a retriable failure. The first one of an outage logs a warning and starts probing;
   * later ones (other loops failing on the same outage) are silent.
   */
  reportFailure(error: unknown): void {
    if (this.#down || this.#options.signal.aborted) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#down = { since: Date.now(), released, release };
    void this.#probeUntilUp(describeFailure(error));
  }

  /** Resolves at once when healthy, else when the cluster is back or the signal aborts. */
  async ready(): Promise<void> {
    const down = this.#down;
    if (!down) return;
    const signal = this.#options.signal;
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      down.released.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  async #probeUntilUp(firstReason: string): Promise<void> {
    const { initial, multiplier, signal, host } = this.#options;
    const max = this.#options.max ?? OUTAGE_MAX_BACKOFF_SECONDS;
    let reason = firstReason;
    for (let attempt = 0; !signal.aborted; attempt++) {
      const wait = backoffDelay(attempt, { initial, multiplier, max });
      const what = attempt === 0 ? "is unreachable" : "is still unreachable";
      this.#logger.warning(
        `Elasticsearch at ${host} ${what} (${reason}); pausing the service loops, next attempt in ${
          (wait / 1000).toFixed(1)
        }s`,
      );
      try {
        await sleep(wait, signal);
      } catch {
        break;
      }
      try {
        await this.#probe();
        const down = this.#down!;
        const seconds = ((Date.now() - down.since) / 1000).toFixed(0);
        this.#logger.info(
          `Elasticsearch at ${host} is reachable again after ${seconds}s; resuming`,
        );
        this.#down = undefined;
        down.release();
        return;
      } catch (error) {
        reason = describeFailure(error);
      }
    }
    // Shutdown: let waiters go so that the loops can end.
    const down = this.#down;
    this.#down = undefined;
    down?.release();
  }
}
