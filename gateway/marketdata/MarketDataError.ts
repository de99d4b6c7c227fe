/**
 * Misuse and configuration errors of the market-data feed (gateway/marketdata/), code
 * EXC_ERR_MARKET_DATA. Expected outcomes (unknown symbol in a Subscribe, slow subscriber) are
 * numeric reason codes on the wire, never these. Thread-safety: plain class.
 */
import { ExchangeError } from '../../engine/errors.js';

export class MarketDataError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_MARKET_DATA', message);
  }
}
