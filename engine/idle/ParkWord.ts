/**
 * A park word: one int32 in shared memory through which a thread announces that it is about to sleep
 * (PARKED) so the thread that feeds it pays `Atomics.notify` only then, never on the common path.
 *
 * Protocol (race-free; every step is a sequentially consistent Atomics operation):
 *   waiter:    announce() (store PARKED) -> re-check its condition (Atomics.load) -> if nothing to do,
 *              wait() = Atomics.wait(word, PARKED, timeout) -> word back to RUNNING
 *   signaller: publish (Atomics.store) -> wake() = load the word; if PARKED, CAS it to RUNNING and
 *              Atomics.notify
 * Either the waiter's re-check sees the publication, or the signaller's load sees PARKED (both cannot
 * miss in one total order of SC operations). If the notify comes before the waiter sleeps, the word
 * is already RUNNING and Atomics.wait returns "not-equal" at once: no lost wake-up.
 *
 * Used by `Backoff` (worker threads, blocking `wait`) and by `RingReader.waitAsync` (the main thread,
 * `Atomics.waitAsync`, never blocks).
 * Thread-safety: exactly one waiter per word (the thread that owns it); any thread may call wake().
 */

/** Nobody waits on the word. */
export const RUNNING = 0;
/** The owner announced it is about to sleep or is sleeping. */
export const PARKED = 1;

/** Outcome of a wait: a signaller woke us. */
export const WOKEN = 0;
/** Outcome of a wait: no sleep happened (work was already there, or the wake came first). */
export const NOT_WAITED = 1;
/** Outcome of a wait: the timeout ran out. */
export const TIMED_OUT = 2;

export type WaitOutcome = typeof WOKEN | typeof NOT_WAITED | typeof TIMED_OUT;

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

/** Note: the project's lib is ES2022; Atomics.waitAsync is ES2024 but present in Node 20 (V8 11). */
const atomicsWaitAsync = (
  Atomics as unknown as {
    waitAsync(words: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult;
  }
).waitAsync;

const RESOLVED_NOT_WAITED: Promise<WaitOutcome> = Promise.resolve(NOT_WAITED);
const RESOLVED_TIMED_OUT: Promise<WaitOutcome> = Promise.resolve(TIMED_OUT);

export class ParkWord {
  readonly words: Int32Array;
  readonly index: number;
  private readonly afterAsyncWait: (v: 'ok' | 'timed-out') => WaitOutcome;

  /** `words` must view a SharedArrayBuffer; `index` is an int32 index into it. */
  constructor(words: Int32Array, index: number) {
    this.words = words;
    this.index = index;
    this.afterAsyncWait = (v) => {
      Atomics.store(this.words, this.index, RUNNING);
      return v === 'ok' ? WOKEN : TIMED_OUT;
    };
  }

  /** Owner: "I am about to sleep". Must be followed by a re-check of the condition (Atomics.load). */
  announce(): void {
    Atomics.store(this.words, this.index, PARKED);
  }

  /** Owner: the re-check found work; take the announcement back. */
  withdraw(): void {
    Atomics.store(this.words, this.index, RUNNING);
  }

  /** Whether the owner is parked or about to park (for diagnostics and tests). */
  isParked(): boolean {
    return Atomics.load(this.words, this.index) === PARKED;
  }

  /** Owner, worker threads only: sleeps until woken or `timeoutMs`; leaves the word RUNNING. */
  wait(timeoutMs: number): WaitOutcome {
    const r = Atomics.wait(this.words, this.index, PARKED, timeoutMs);
    Atomics.store(this.words, this.index, RUNNING);
    return r === 'ok' ? WOKEN : r === 'timed-out' ? TIMED_OUT : NOT_WAITED;
  }

  /** Owner, any thread (the main thread's way): resolves when woken or after `timeoutMs`; never blocks. */
  waitAsync(timeoutMs: number): Promise<WaitOutcome> {
    const r = atomicsWaitAsync(this.words, this.index, PARKED, timeoutMs);
    if (r.async) return r.value.then(this.afterAsyncWait);
    Atomics.store(this.words, this.index, RUNNING);
    return r.value === 'not-equal' ? RESOLVED_NOT_WAITED : RESOLVED_TIMED_OUT;
  }

  /**
   * Signaller: wakes the owner if it announced parking. Costs one Atomics.load when it did not (the
   * common path: no syscall). Call after publishing. Returns whether a notify was issued.
   */
  wake(): boolean {
    const words = this.words;
    const index = this.index;
    if (Atomics.load(words, index) !== PARKED) return false;
    // Note: the CAS (not a plain store) keeps a single notify per announcement when two
    // signallers race; a notify that finds nobody asleep is harmless.
    if (Atomics.compareExchange(words, index, PARKED, RUNNING) !== PARKED) return false;
    Atomics.notify(words, index, 1);
    return true;
  }
}
