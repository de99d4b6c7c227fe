/**
 * CandlePool: OHLCV candles computed off the hot path in a piscina worker pool (candleWorker.ts),
 * from a copy of a symbol's recent trade history (so candles cover what that bounded buffer holds).
 *
 * Bounded: at most `maxQueue` tasks wait; a request past that is refused at once with
 * CandleOutcome.BUSY (the REST API answers 503 with the JSON error shape) instead of queueing
 * without limit. Callers: MarketDataApi. Thread-safety: main thread only (piscina owns the workers).
 */
import { Piscina } from 'piscina';
import type { CandleResult, CandleTask } from './candleWorker.js';
import { MarketDataError } from './MarketDataError.js';
import type { TradeHistory } from './TradeHistory.js';

const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER_URL = new URL(`./candleWorker${EXTENSION}`, import.meta.url);

/**
 * Supported intervals and their length in microseconds. A null-prototype table: it is indexed with
 * request strings, and "constructor", "__proto__" or "toString" must not find Object.prototype members.
 */
export const CANDLE_INTERVALS: Readonly<Record<string, number>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, number>, {
    '1m': 60e6,
    '5m': 300e6,
    '15m': 900e6,
    '1h': 3600e6,
    '4h': 14400e6,
    '1d': 86400e6,
  }),
);

export interface CandlePoolOptions {
  /** Worker threads (default 1). */
  readonly threads?: number;
  /** Tasks allowed to wait for a worker (default 64). */
  readonly maxQueue?: number;
}

export const CandleOutcome = { BUSY: -1 } as const;

export class CandlePool {
  readonly maxQueue: number;
  private readonly pool: Piscina<CandleTask, CandleResult>;
  private waiting = 0;

  constructor(options: CandlePoolOptions = {}) {
    const threads = options.threads ?? 1;
    this.maxQueue = options.maxQueue ?? 64;
    if (!Number.isInteger(threads) || threads < 1)
      throw new MarketDataError(`candle threads must be >= 1, got ${threads}`);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) {
      throw new MarketDataError(`candle maxQueue must be >= 1, got ${this.maxQueue}`);
    }
    this.pool = new Piscina<CandleTask, CandleResult>({
      filename: WORKER_URL.href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 30_000,
      execArgv: process.execArgv,
    });
  }

  /** Candles of the trades in `history`, or CandleOutcome.BUSY when the queue is full. */
  run(
    history: TradeHistory,
    intervalUs: number,
    limit: number,
  ): Promise<CandleResult> | typeof CandleOutcome.BUSY {
    if (this.waiting >= this.maxQueue) return CandleOutcome.BUSY;
    const n = history.size;
    const price = new Float64Array(n);
    const quantity = new Float64Array(n);
    const timestampUs = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = history.index(k);
      price[k] = history.price[i];
      quantity[k] = history.quantity[i];
      timestampUs[k] = history.timestampUs[i];
    }
    this.waiting++;
    const task: CandleTask = { price, quantity, timestampUs, intervalUs, limit };
    return this.pool
      .run(task, { transferList: [price.buffer, quantity.buffer, timestampUs.buffer] as ArrayBuffer[] })
      .finally(() => {
        this.waiting--;
      });
  }

  /** Tasks submitted and not finished. */
  get pending(): number {
    return this.waiting;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
