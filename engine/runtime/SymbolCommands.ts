/**
 * The ADD_SYMBOL command that configures a symbol in its shard's engine, built from the symbol table.
 * The pipeline writes one per symbol into the owning shard's command ring at start-up, so the command
 * stream (and the WAL that records it) rebuilds the configuration on replay.
 *
 * Mapping (engine units are integer ticks and lots):
 *   minQty, maxQty      <- minQtyLots, maxQtyLots
 *   maxNotional         <- maxNotional (ticks x lots)
 *   referencePrice      <- referencePriceTicks (0 = none until the first trade)
 *   priceBandBps        <- priceBandBps
 *   minPrice, maxPrice  <- minPriceTicks/maxPriceTicks when the spec has them; otherwise half to one
 *                          and a half times the reference price (BTC/USD at 50,000.00 with 0.01
 *                          ticks: 25,000.00 .. 75,000.00), and 1 .. 2^20 ticks without a reference.
 * The engine direct-maps the price range (about 16.5 bytes per tick for the four ladders, allocated
 * zeroed, so untouched pages cost no memory) and needs `maxPrice - minPrice < 2^24`; the derived
 * range is capped to that. Header: timestamp 0 (configuration is timeless: it does not move the
 * engine's clock), accountId, sessionId, correlationId and clientOrderId 0.
 * Thread-safety: pure functions over a caller-owned DataView.
 */
import { MAX_PRICE_RANGE } from '../book/MatchingEngine.js';
import * as C from '../records/CommandRecord.js';
import { CommandType } from '../records/CommandRecord.js';

/** The fields of a symbol the engine needs (`SymbolSpec` of the symbol table has them). */
export interface SymbolLimits {
  readonly id: number;
  readonly minQtyLots: number;
  readonly maxQtyLots: number;
  readonly maxNotional: number;
  readonly priceBandBps: number;
  readonly referencePriceTicks: number;
  /** Optional explicit price range in ticks. */
  readonly minPriceTicks?: number;
  readonly maxPriceTicks?: number;
}

/** Price range used when a symbol has neither an explicit range nor a reference price. */
export const DEFAULT_MAX_PRICE = 2 ** 20;

/** The [minPrice, maxPrice] in ticks that the ADD_SYMBOL command of `s` carries. */
export function priceRangeOf(s: SymbolLimits): [number, number] {
  if (s.minPriceTicks !== undefined && s.maxPriceTicks !== undefined)
    return [s.minPriceTicks, s.maxPriceTicks];
  const ref = s.referencePriceTicks;
  if (!(ref > 0)) return [1, DEFAULT_MAX_PRICE];
  const half = Math.min(Math.floor(ref / 2), (MAX_PRICE_RANGE - 2) / 2);
  return [Math.max(1, ref - half), ref + half];
}

/** Writes the ADD_SYMBOL command record for `s` at `view[offset .. offset + COMMAND_SIZE)`. */
export function writeAddSymbolCommand(view: DataView, offset: number, s: SymbolLimits): void {
  const [minPrice, maxPrice] = priceRangeOf(s);
  C.writeHeader(view, offset, CommandType.ADD_SYMBOL, s.id, 0, 0, 0, 0, 0);
  C.writeAddSymbol(
    view,
    offset,
    minPrice,
    maxPrice,
    s.minQtyLots,
    s.maxQtyLots,
    s.maxNotional,
    s.referencePriceTicks,
    s.priceBandBps,
  );
}
