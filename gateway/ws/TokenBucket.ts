/**
 * A token bucket: `ratePerSecond` tokens flow in continuously up to `burst`; each order request
 * takes one. Used per WebSocket session for the order rate limit (WS_RATE_LIMIT, WS_RATE_BURST).
 *
 * Refilled lazily from a caller-supplied clock reading (milliseconds, monotonic) so a frame reads the
 * clock once for all its batch items. A rate of 0 disables the limit. No allocation.
 * Thread-safety: owned by one session on the main thread.
 */
export class TokenBucket {
  private readonly perMs: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    if (!(ratePerSecond >= 0) || !(burst >= 1)) {
      throw new RangeError(`TokenBucket needs rate >= 0 and burst >= 1, got ${ratePerSecond}/${burst}`);
    }
    this.perMs = ratePerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
    this.last = nowMs;
  }

  /** False when the limit is off (rate 0). */
  get enabled(): boolean {
    return this.perMs > 0;
  }

  /** Adds what flowed in since the last refill (call once per frame). */
  refill(nowMs: number): void {
    const dt = nowMs - this.last;
    if (dt <= 0) return;
    this.last = nowMs;
    const t = this.tokens + dt * this.perMs;
    this.tokens = Math.min(t, this.burst);
  }

  /** Takes one token; false when none is left (the request is refused, not delayed). */
  take(): boolean {
    if (this.perMs === 0) return true;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
