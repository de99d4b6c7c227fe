/**
 * Piscina worker: aggregates trades into OHLCV candles, off the gateway's main thread.
 *
 * Input: the trades of one symbol (parallel columns, oldest first, timestamps in microseconds), the
 * interval and the number of most recent candles wanted. Output: parallel columns of the candles,
 * oldest first, only intervals that had trades. Prices and volumes stay integer ticks and lots.
 * Callers: CandlePool (piscina). Thread-safety: pure function, one task at a time per worker.
 */

export interface CandleTask {
  readonly price: Float64Array;
  readonly quantity: Float64Array;
  readonly timestampUs: Float64Array;
  readonly intervalUs: number;
  readonly limit: number;
}

export interface CandleResult {
  readonly openTimeUs: number[];
  readonly open: number[];
  readonly high: number[];
  readonly low: number[];
  readonly close: number[];
  readonly volume: number[];
  readonly trades: number[];
}

export default function candles(task: CandleTask): CandleResult {
  const out: CandleResult = {
    openTimeUs: [],
    open: [],
    high: [],
    low: [],
    close: [],
    volume: [],
    trades: [],
  };
  const { price, quantity, timestampUs, intervalUs } = task;
  let last = -1;
  for (let i = 0; i < price.length; i++) {
    const start = Math.floor(timestampUs[i] / intervalUs) * intervalUs;
    const p = price[i];
    if (last < 0 || start !== out.openTimeUs[last]) {
      out.openTimeUs.push(start);
      out.open.push(p);
      out.high.push(p);
      out.low.push(p);
      out.close.push(p);
      out.volume.push(0);
      out.trades.push(0);
      last++;
    }
    if (p > out.high[last]) out.high[last] = p;
    if (p < out.low[last]) out.low[last] = p;
    out.close[last] = p;
    out.volume[last] += quantity[i];
    out.trades[last]++;
  }
  const from = Math.max(0, out.openTimeUs.length - task.limit);
  if (from === 0) return out;
  return {
    openTimeUs: out.openTimeUs.slice(from),
    open: out.open.slice(from),
    high: out.high.slice(from),
    low: out.low.slice(from),
    close: out.close.slice(from),
    volume: out.volume.slice(from),
    trades: out.trades.slice(from),
  };
}
