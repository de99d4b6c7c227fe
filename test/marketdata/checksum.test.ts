/**
 * The book checksum (Kraken v2 rule) byte by byte, the L2 mirror's ordering and seeding, and the
 * trade history's replay positions. Pure units, no sockets.
 */
import CRC32 from 'crc-32';
import t from 'tap';
import { ASK, BID, L2Book } from '../../gateway/marketdata/L2Book.js';
import { MarketDataError } from '../../gateway/marketdata/MarketDataError.js';
import { TradeHistory } from '../../gateway/marketdata/TradeHistory.js';
import { BookChecksum, incrementMantissa } from '../../schema/index.js';

t.test('the worked example of docs/marketdata.md', async (t) => {
  const c = new BookChecksum('0.01', '0.0001');
  const args = [[5000010, 5000020], [70000, 1000000], 2, [5000000, 4999990], [125000, 5000], 2] as const;
  t.equal(c.text(...args), '50000107000050000201000000500000012500049999905000');
  t.equal(c.compute(...args), 2724328597);
  t.equal(c.compute(...args), CRC32.str('50000107000050000201000000500000012500049999905000') >>> 0);
});

t.test('only the top 10 of each side count; increments with a mantissa', async (t) => {
  const c = new BookChecksum('0.05', '1');
  const prices = Array.from({ length: 12 }, (_, i) => 1000 + i);
  const qty = Array.from({ length: 12 }, () => 3);
  // price 1000 ticks of 0.05 = "50.00" -> "5000".
  t.equal(c.text([1000], [3], 1, [], [], 0), '50003');
  t.equal(c.text(prices, qty, 12, [], [], 0), c.text(prices.slice(0, 10), qty, 10, [], [], 0));
  t.equal(incrementMantissa('0.0001'), 1);
  t.equal(incrementMantissa('25'), 25);
  t.throws(() => incrementMantissa('-1'));
  t.equal(c.text([], [], 0, [], [], 0), '', 'empty book: no bytes');
});

t.test('L2Book keeps both sides best first; seed and reset', async (t) => {
  const b = new L2Book(1);
  for (const p of [100, 103, 101, 99, 102]) b.apply(BID, p, p, 1);
  for (let p = 200; p < 300; p++) b.apply(ASK, 500 - p, 1, 1); // grows past the initial capacity
  t.same(Array.from(b.bids.price.subarray(0, b.bids.count)), [103, 102, 101, 100, 99]);
  t.equal(b.asks.count, 100);
  t.equal(b.asks.price[0], 201);
  b.apply(BID, 101, 0, 0);
  t.same(Array.from(b.bids.price.subarray(0, b.bids.count)), [103, 102, 100, 99]);
  b.seed(BID, 100, 5);
  t.equal(b.bids.quantity[2], 105);
  t.equal(b.bids.orderCount[2], 2);
  b.seed(BID, 100, -105, -2);
  t.same(Array.from(b.bids.price.subarray(0, b.bids.count)), [103, 102, 99]);
  t.throws(() => b.seed(BID, 1.5, 1), MarketDataError);
  t.throws(() => b.apply(3, 1, 1, 1), MarketDataError);
  b.reset([{ side: ASK, price: 7, quantity: 1, orderCount: 1 }]);
  t.equal(b.depth, 1);
});

t.test('TradeHistory: overwrite-oldest ring and replay positions', async (t) => {
  t.throws(() => new TradeHistory(3), MarketDataError);
  const h = new TradeHistory(4);
  t.equal(h.firstAfter(0), 0);
  for (let s = 1; s <= 6; s++) h.append(s, 100 + s, 10, 1, 1, 60_000_000 * s);
  t.equal(h.size, 4);
  t.equal(h.oldestSeq, 3);
  t.equal(h.firstAfter(2), 0, 'from seq 3: the oldest held');
  t.equal(h.firstAfter(4), 2);
  t.equal(h.firstAfter(6), 4, 'nothing newer');
  t.equal(h.firstAfter(1), -1, 'seq 2 is gone');
  const s = h.stats24h(60_000_000 * 6);
  t.equal(s.volume, 6);
  t.equal(s.trades, 6);
});
