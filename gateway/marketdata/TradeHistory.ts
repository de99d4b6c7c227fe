/**
 * TradeHistory: a bounded ring of one symbol's most recent public trades (typed-array columns,
 * power-of-two capacity, overwrite-oldest). Serves gap recovery (Subscribe.trades_from_seq), the
 * REST trades endpoint and the candle workers' input; plus 24 h rolling statistics per minute bucket
 * (volume, high, low, first price) for the ticker, kept in O(1) per trade.
 *
 * Policy when full: the oldest trade is overwritten; a replay that asks for a trade no longer held
 * gets MdReason.TRADES_UNAVAILABLE. Memory is fixed at construction.
 * Callers: MarketDataHub (append, main thread), MarketDataGateway and MarketDataApi (read).
 * Thread-safety: main thread only.
 */
import { MarketDataError } from './MarketDataError.js';

const MINUTES_24H = 1440;
const MINUTE_US = 60_000_000;

export class TradeHistory {
  readonly capacity: number;
  private readonly mask: number;
  /** Trades ever appended (the ring holds the last min(total, capacity)). */
  total = 0;
  readonly seq: Float64Array;
  readonly tradeId: Float64Array;
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  readonly timestampUs: Float64Array;
  readonly side: Uint8Array;
  // 24 h statistics, one bucket per minute.
  private readonly bucketMinute = new Float64Array(MINUTES_24H).fill(-1);
  private readonly bucketVolume = new Float64Array(MINUTES_24H);
  private readonly bucketHigh = new Float64Array(MINUTES_24H);
  private readonly bucketLow = new Float64Array(MINUTES_24H);
  private readonly bucketOpen = new Float64Array(MINUTES_24H);
  private readonly bucketCount = new Float64Array(MINUTES_24H);

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0) {
      throw new MarketDataError(`trade history capacity must be a power of two >= 2, got ${capacity}`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.seq = new Float64Array(capacity);
    this.tradeId = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
    this.quantity = new Float64Array(capacity);
    this.timestampUs = new Float64Array(capacity);
    this.side = new Uint8Array(capacity);
  }

  append(
    seq: number,
    tradeId: number,
    price: number,
    quantity: number,
    side: number,
    timestampUs: number,
  ): void {
    const i = this.total & this.mask;
    this.seq[i] = seq;
    this.tradeId[i] = tradeId;
    this.price[i] = price;
    this.quantity[i] = quantity;
    this.side[i] = side;
    this.timestampUs[i] = timestampUs;
    this.total++;
    const minute = Math.floor(timestampUs / MINUTE_US);
    const b = minute % MINUTES_24H;
    if (this.bucketMinute[b] !== minute) {
      this.bucketMinute[b] = minute;
      this.bucketVolume[b] = 0;
      this.bucketCount[b] = 0;
      this.bucketHigh[b] = price;
      this.bucketLow[b] = price;
      this.bucketOpen[b] = price;
    }
    this.bucketVolume[b] += quantity;
    this.bucketCount[b]++;
    if (price > this.bucketHigh[b]) this.bucketHigh[b] = price;
    if (price < this.bucketLow[b]) this.bucketLow[b] = price;
  }

  /** Trades held now. */
  get size(): number {
    return Math.min(this.total, this.capacity);
  }

  /** Ring index of the k-th held trade, oldest first (0 <= k < size). */
  index(k: number): number {
    return (this.total - this.size + k) & this.mask;
  }

  /** Seq of the oldest trade held (0 = none). */
  get oldestSeq(): number {
    return this.size === 0 ? 0 : this.seq[this.index(0)];
  }

  /** Position k of the first held trade with seq > `afterSeq`, or -1 when that trade is no longer held. */
  firstAfter(afterSeq: number): number {
    const n = this.size;
    if (n === 0) return afterSeq >= 0 ? 0 : -1;
    const oldest = this.seq[this.index(0)];
    if (afterSeq + 1 < oldest) return -1;
    // Seqs are consecutive within a symbol.
    const k = afterSeq + 1 - oldest;
    return Math.min(k, n);
  }

  /** Rolling 24 h statistics ending at `nowUs` (minute granularity). */
  stats24h(nowUs: number): { volume: number; trades: number; high: number; low: number; open: number } {
    const now = Math.floor(nowUs / MINUTE_US);
    let volume = 0;
    let trades = 0;
    let high = 0;
    let low = 0;
    let open = 0;
    let openMinute = Number.POSITIVE_INFINITY;
    for (let b = 0; b < MINUTES_24H; b++) {
      const m = this.bucketMinute[b];
      if (m < 0 || m <= now - MINUTES_24H || m > now) continue;
      volume += this.bucketVolume[b];
      trades += this.bucketCount[b];
      if (high === 0 || this.bucketHigh[b] > high) high = this.bucketHigh[b];
      if (low === 0 || this.bucketLow[b] < low) low = this.bucketLow[b];
      if (m < openMinute) {
        openMinute = m;
        open = this.bucketOpen[b];
      }
    }
    return { volume, trades, high, low, open };
  }
}
