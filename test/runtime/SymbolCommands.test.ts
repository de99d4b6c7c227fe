/**
 * ADD_SYMBOL commands from the symbol table: the price-range rule, the field mapping, and that the
 * demo symbols are accepted by the engine (SYMBOL_ADDED), which start-up depends on.
 */
import t from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MAX_PRICE_RANGE, MatchingEngine } from '../../engine/book/MatchingEngine.js';
import * as C from '../../engine/records/CommandRecord.js';
import { COMMAND_SIZE, CommandType } from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { EventType } from '../../engine/records/EventRecord.js';
import {
  DEFAULT_MAX_PRICE,
  priceRangeOf,
  writeAddSymbolCommand,
} from '../../engine/runtime/SymbolCommands.js';
import { SymbolTable } from '../../gateway/symbols/SymbolTable.js';

const base = {
  id: 7,
  minQtyLots: 1,
  maxQtyLots: 100,
  maxNotional: 0,
  priceBandBps: 0,
  referencePriceTicks: 0,
};

t.test('price range: explicit, around the reference, or the default', async (t) => {
  t.same(priceRangeOf({ ...base, minPriceTicks: 10, maxPriceTicks: 20, referencePriceTicks: 15 }), [10, 20]);
  t.same(priceRangeOf({ ...base, referencePriceTicks: 5_000_000 }), [2_500_000, 7_500_000]);
  t.same(priceRangeOf({ ...base, referencePriceTicks: 1 }), [1, 1]);
  t.same(priceRangeOf({ ...base, referencePriceTicks: 3 }), [2, 4]);
  t.same(priceRangeOf(base), [1, DEFAULT_MAX_PRICE]);
  const [lo, hi] = priceRangeOf({ ...base, referencePriceTicks: 2 ** 40 });
  t.ok(hi - lo < MAX_PRICE_RANGE, 'capped below the engine limit');
  t.equal(lo + (hi - lo) / 2, 2 ** 40, 'centred on the reference');
});

t.test('the record carries the symbol table fields; header timestamp 0', async (t) => {
  const v = new DataView(new ArrayBuffer(COMMAND_SIZE + 8));
  writeAddSymbolCommand(v, 8, { ...base, maxNotional: 1e14, priceBandBps: 1000, referencePriceTicks: 100 });
  t.equal(C.readType(v, 8), CommandType.ADD_SYMBOL);
  t.equal(C.readSymbolId(v, 8), 7);
  t.equal(C.readTimestamp(v, 8), 0);
  t.equal(v.getFloat64(8 + C.SYM_MIN_PRICE, true), 50);
  t.equal(v.getFloat64(8 + C.SYM_MAX_PRICE, true), 150);
  t.equal(v.getFloat64(8 + C.SYM_MAX_QTY, true), 100);
  t.equal(v.getFloat64(8 + C.SYM_MAX_NOTIONAL, true), 1e14);
  t.equal(v.getFloat64(8 + C.SYM_REFERENCE_PRICE, true), 100);
  t.equal(v.getUint32(8 + C.SYM_PRICE_BAND_BPS, true), 1000);
});

t.test('every demo symbol is accepted by the engine', async (t) => {
  const engine = new MatchingEngine({ shardId: 0, maxOrders: 16, maxSymbols: 8, maxAccounts: 4 });
  const events = new EventBuffer(8);
  const v = new DataView(new ArrayBuffer(COMMAND_SIZE));
  for (const s of SymbolTable.demo().symbols) {
    writeAddSymbolCommand(v, 0, s);
    events.clear();
    engine.process(v, 0, events);
    t.equal(E.readType(events.view, 0), EventType.SYMBOL_ADDED, `${s.name} added`);
  }
});
