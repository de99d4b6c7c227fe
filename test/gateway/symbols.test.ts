import t from 'tap';
import { DEMO_SYMBOLS, SymbolTable, shardOf } from '../../gateway/symbols/SymbolTable.js';

t.test('demo symbols convert to ticks and lots', async (t) => {
  const table = SymbolTable.demo();
  const btc = table.byNameOrUndefined('BTC/USD');
  t.match(btc, {
    id: 1,
    tickSize: '0.01',
    lotSize: '0.0001',
    minQtyLots: 1,
    maxQtyLots: 10_000_000,
    referencePriceTicks: 5_000_000,
    priceBandBps: 1000,
  });
  // 100,000,000 USD in units of 0.01 x 0.0001 = 1e-6 USD.
  t.equal(btc?.maxNotional, 100_000_000_000_000);
  t.equal(table.byIdOrUndefined(2)?.name, 'ETH/USD');
  t.equal(table.byIdOrUndefined(99), undefined);
  t.equal(table.symbols.length, DEMO_SYMBOLS.length);
});

t.test('shard assignment is symbol id modulo shard count', async (t) => {
  t.equal(shardOf(1, 1), 0);
  t.equal(shardOf(5, 2), 1);
  t.equal(shardOf(6, 3), 0);
});

t.test('bad symbol files are refused with the value named', async (t) => {
  const base = { id: 1, name: 'A/B', tickSize: '0.01', lotSize: '1', maxQty: '10' };
  const bad: [unknown, RegExp][] = [
    [[], /non-empty/],
    [[{ ...base, id: 0 }], /id must be/],
    [[{ ...base, name: 'btc-usd' }], /name must look like/],
    [[{ ...base, tickSize: '0' }], /tickSize/],
    [[{ ...base, lotSize: 'abc' }], /lotSize/],
    [[{ ...base, maxQty: '0.5' }], /maxQty.*not a multiple/],
    [[{ ...base, minQty: '20' }], /minQty <= maxQty/],
    [[{ ...base, priceBandBps: -1 }], /priceBandBps/],
    [[{ ...base, referencePrice: '1.001' }], /referencePrice/],
    [[{ ...base, maxQty: '-5' }], /maxQty/],
    [[base, { ...base, name: 'C/D' }], /duplicate symbol id 1/],
    [[base, { ...base, id: 2 }], /duplicate symbol name "A\/B"/],
    [[null], /expected an object/],
  ];
  for (const [entries, re] of bad) {
    t.throws(
      () => new SymbolTable(entries as never),
      { code: 'EXC_ERR_CONFIG', message: re },
      JSON.stringify(entries),
    );
  }
});
