/**
 * A test source that does not stop when asked: after `doc_count` documents its sync waits on a
 * promise that ignores the abort signal, and so does `close()` after a sync, as a source stuck in
 * a slow third-party call would. It exercises the hurried shutdown of a second SIGTERM in
 * tests/service_small_fixes_test.ts. Map it with
 * `sources: { stubborn: "<abs path>/tests/_stubborn_source.ts:StubbornDataSource" }`.
 *
 * @module
 */
import { TestDataSource } from "./fixtures/sources/test_source.ts";

/** Milliseconds the source hangs; far longer than any test waits. */
export const STUBBORN_HANG_MS = 120_000;

/** A promise that settles after {@linkcode STUBBORN_HANG_MS}, deaf to any abort signal. */
function hang(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, STUBBORN_HANG_MS));
}

/** {@linkcode TestDataSource} that hangs after its documents and, after a sync, when closed. */
export class StubbornDataSource extends TestDataSource {
  static override displayName = "Stubborn test source";
  #synced = false;

  override async *getDocs(): AsyncGenerator<Record<string, unknown>> {
    this.#synced = true;
    yield* super.getDocs();
    await hang();
  }

  override async close(): Promise<void> {
    // Check-ins close their instance too: only a syncing one hangs.
    if (this.#synced) await hang();
  }
}
