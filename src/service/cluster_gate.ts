/**
 * {@linkcode ClusterGate}: what the service loops do while Elasticsearch is unreachable or not
 * ready. The first loop that fails with a retriable error closes the gate; one probe per backoff
 * step checks the cluster, and every loop waits at the gate until a probe succeeds. The gate
 * then opens, but the outage is only over once a loop gets through a round: a loop failing
 * again meanwhile (a starting cluster that answers the probe but still refuses requests with
 * 503) closes it again silently, so the log says "unreachable" once and "reachable again" once.
 * While closed it warns on the first step, when the reason changes and every
 * {@linkcode DEFAULT_OUTAGE_REMINDER_SECONDS}; other steps log at debug level. Nothing is
 * counted against the error budget meanwhile.
 *
 * @module
 */
import { backoffDelay, sleep } from "../async/mod.ts";
import { statusOf } from "../errors/mod.ts";
import { describeFailure, isAuthFailure } from "../es/mod.ts";
import type { Logger } from "../log/mod.ts";

/** Longest wait between two probes of an unreachable cluster, in seconds. */
export const OUTAGE_MAX_BACKOFF_SECONDS = 10;
/** Seconds between two warnings about the same ongoing outage. */
export const DEFAULT_OUTAGE_REMINDER_SECONDS = 60;

/** Options of {@linkcode ClusterGate}. */
export interface ClusterGateOptions {
  /** Seconds of the first probe wait. */
  initial: number;
  /** Growth factor of the waits. */
  multiplier: number;
  /** Cap of one wait, seconds; default {@linkcode OUTAGE_MAX_BACKOFF_SECONDS}. */
  max?: number;
  /** Seconds between warnings of one outage; default {@linkcode DEFAULT_OUTAGE_REMINDER_SECONDS}. */
  reminder?: number;
  /** Stops probing and releases waiters (shutdown). */
  signal: AbortSignal;
  /** Where the cluster is, for messages. */
  host: string;
}

/** `up`: no outage; `down`: loops wait, probes run; `recovering`: open, not yet confirmed. */
export type GateState = "up" | "down" | "recovering";

interface Outage {
  since: number;
  /** Backoff step of the next probe; kept when a recovery fails, so the waits keep growing. */
  attempt: number;
  /** Pending while the gate is closed. */
  released?: Promise<void>;
  release?: () => void;
  warned?: { reason: string; what: string; at: number };
}

/**
 * "unreachable" for connection failures, "not ready" for HTTP answers (503 while starting).
 *
 * @example
 * ```ts
 * import { describeOutage } from "./cluster_gate.ts";
 * if (describeOutage(new Error("connect ECONNREFUSED")) !== "unreachable") throw new Error();
 * if (describeOutage({ meta: { statusCode: 503 } }) !== "not ready") throw new Error();
 * ```
 */
export function describeOutage(error: unknown): "unreachable" | "not ready" {
  return statusOf(error) === undefined ? "unreachable" : "not ready";
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
 * if (!gate.healthy || gate.state !== "recovering") throw new Error();
 * gate.reportSuccess();
 * if (gate.state as string !== "up") throw new Error();
 * ```
 */
export class ClusterGate {
  readonly #probe: () => Promise<void>;
  readonly #logger: Logger;
  readonly #options: ClusterGateOptions;
  #outage: Outage | undefined;

  constructor(probe: () => Promise<void>, logger: Logger, options: ClusterGateOptions) {
    this.#probe = probe;
    this.#logger = logger;
    this.#options = options;
  }

  /** False while the loops wait for the cluster. */
  get healthy(): boolean {
    return this.state !== "down";
  }

  /** Where the gate stands. */
  get state(): GateState {
    if (!this.#outage) return "up";
    return this.#outage.released ? "down" : "recovering";
  }

  /**
   * Records a retriable failure of `loop`. The first one of an outage starts probing (and
   * warns); during a recovery it closes the gate again without a new warning; while closed
   * (other loops failing on the same outage) it does nothing.
   */
  reportFailure(error: unknown, loop = "service"): void {
    if (this.#options.signal.aborted || this.state === "down") return;
    const outage: Outage = this.#outage ?? { since: Date.now(), attempt: 0 };
    if (this.#outage) {
      this.#logger.debug(
        `Elasticsearch at ${this.#options.host} answered the probe but the ${loop} loop failed (${
          describeFailure(error)
        }); waiting again`,
      );
    }
    this.#outage = outage;
    outage.released = new Promise<void>((resolve) => (outage.release = resolve));
    void this.#probeUntilUp(outage, error);
  }

  /** Records a loop round that reached the cluster: it ends a recovery. */
  reportSuccess(): void {
    const outage = this.#outage;
    if (!outage || outage.released) return;
    const seconds = ((Date.now() - outage.since) / 1000).toFixed(0);
    this.#logger.info(
      `Elasticsearch at ${this.#options.host} is reachable again after ${seconds}s; resuming`,
    );
    this.#outage = undefined;
  }

  /** Resolves at once when open, else when a probe succeeds or the signal aborts. */
  async ready(): Promise<void> {
    const released = this.#outage?.released;
    if (!released) return;
    const signal = this.#options.signal;
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      released.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** Warns on the first step, on a new reason and every `reminder` seconds; else debug. */
  #logStep(outage: Outage, error: unknown, wait: number): void {
    const reason = describeFailure(error);
    const what = describeOutage(error);
    const reminder = (this.#options.reminder ?? DEFAULT_OUTAGE_REMINDER_SECONDS) * 1000;
    const warned = outage.warned;
    const warn = !warned || warned.reason !== reason || Date.now() - warned.at >= reminder;
    const still = warned?.what === what ? "still " : "";
    const message =
      `Elasticsearch at ${this.#options.host} is ${still}${what} (${reason}); pausing the service loops, next attempt in ${
        (wait / 1000).toFixed(1)
      }s`;
    if (!warn) return this.#logger.debug(message);
    outage.warned = { reason, what, at: Date.now() };
    this.#logger.warning(message);
  }

  async #probeUntilUp(outage: Outage, firstError: unknown): Promise<void> {
    const { initial, multiplier, signal } = this.#options;
    const max = this.#options.max ?? OUTAGE_MAX_BACKOFF_SECONDS;
    let error = firstError;
    while (!signal.aborted) {
      const wait = backoffDelay(outage.attempt++, { initial, multiplier, max });
      this.#logStep(outage, error, wait);
      try {
        await sleep(wait, signal);
      } catch {
        break;
      }
      try {
        // A refusal of the credentials (401/403) is an answer: the cluster is up, and the loops'
        // own backoff of refused requests takes over (not "unreachable" forever).
        await this.#probe().catch((failure) => {
          if (!isAuthFailure(failure)) throw failure;
        });
        const release = outage.release;
        delete outage.released;
        release?.();
        return;
      } catch (failure) {
        error = failure;
      }
    }
    // Shutdown: let waiters go so that the loops can end.
    this.#outage = undefined;
    outage.release?.();
  }
}
