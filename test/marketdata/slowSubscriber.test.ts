/**
 * Slow subscribers and resource release on the public feed (real gateway, real shard workers, raw
 * TCP WebSocket clients that stop reading). The gateway runs with a small bound (64 KiB queued per
 * connection, policy at 32 KiB) so the kernel socket buffers fill quickly; orders keep flowing until
 * the policy has acted. Asserted: the drop policy closes a plain subscriber, the conflation policy
 * resynchronises a conflating one (Error 790, then a fresh snapshot that rebuilds the book exactly),
 * no connection's queue ever exceeded the bound, and unsubscribe / close release every topic.
 */
import t from 'tap';
import { MarketDataClient, RawWebSocket } from '../../client/index.js';
import { MdReason } from '../../gateway/marketdata/MdReason.js';
import {
  Body,
  Channel,
  ClientEncoder,
  Direction,
  ErrorReader,
  FrameVerifier,
  MessageReader,
  VerifyResult,
} from '../../schema/index.js';
import { until } from '../fixtures/until.js';
import { type MdExchange, prng, randomOrder, startMdExchange } from './fixtures/mdExchange.js';

const BOUND = 64 * 1024;
const BTC = 1;
let ex: MdExchange;
t.before(async () => {
  ex = await startMdExchange({
    maxBackpressureBytes: BOUND,
    policyBytes: BOUND / 2,
    checkIntervalMs: 1,
    heartbeatMs: 100,
  });
});
t.teardown(() => ex.stop());

/** Trades until `done()` (at most `max` orders; the test fails if the policy never acts). */
async function tradeUntil(done: () => boolean, seed: number, max = 200_000): Promise<number> {
  const rnd = prng(seed);
  const a = await ex.client(301);
  const b = await ex.client(302);
  let n = 0;
  while (!done() && n < max) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 128; i++, n++)
      batch.push((i % 2 ? a : b).placeOrder(randomOrder(rnd)).catch(() => {}));
    await Promise.all(batch);
  }
  return n;
}

function subscribeAll(ws: RawWebSocket, conflate: number): void {
  ws.send(
    new ClientEncoder().subscribe(BTC, Channel.L2 | Channel.L3 | Channel.Trades | Channel.Bbo, conflate),
  );
}

t.test('a subscriber that never reads is dropped; the queue never passes the bound', async (t) => {
  const stats = ex.gateway.marketData.statistics;
  const dropped0 = stats.dropped;
  const ws = await RawWebSocket.connect(ex.mdUrl);
  let closed = false;
  ws.onClose = () => {
    closed = true;
  };
  subscribeAll(ws, 0);
  await until(() => ex.gateway.marketData.statistics.subscriptions >= 4, 'subscribed');
  ws.pause();
  const orders = await tradeUntil(() => ex.gateway.marketData.statistics.dropped > dropped0, 1);
  t.ok(ex.gateway.marketData.statistics.dropped > dropped0, `dropped after ${orders} orders`);
  t.ok(
    ex.gateway.marketData.statistics.maxBufferedSeen <= BOUND,
    `largest queue seen ${ex.gateway.marketData.statistics.maxBufferedSeen} <= bound ${BOUND}`,
  );
  ws.resume();
  await until(() => closed, 'the client sees its connection closed');
  await until(() => ex.gateway.marketData.statistics.connections === 0, 'the session is released');
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  for (const topic of feed.topics) t.equal(ex.gateway.app.numSubscribers(topic), 0, `${topic}: released`);
});

t.test('a conflating subscriber that falls behind is resynchronised with fresh snapshots', async (t) => {
  const resynced0 = ex.gateway.marketData.statistics.resynced;
  const md = await MarketDataClient.connect({ url: ex.mdUrl });
  const codes: number[] = [];
  md.on('gatewayError', (code) => codes.push(code));
  const book = md.subscribe('BTC/USD', ['l2', 'l3', 'trades', 'bbo'], { conflate: true });
  await until(() => book.synced, 'first snapshot');
  // Stop reading: the raw socket under the SDK client.
  const raw = (md as unknown as { ws: RawWebSocket }).ws;
  raw.pause();
  const hub = ex.gateway.marketData;
  const orders = await tradeUntil(() => {
    for (const s of (hub as unknown as { sessions: Set<{ resyncing: boolean }> }).sessions)
      if (s.resyncing) return true;
    return false;
  }, 2);
  t.pass(`policy acted after ${orders} orders`);
  t.ok(
    hub.statistics.maxBufferedSeen <= BOUND,
    `largest queue seen ${hub.statistics.maxBufferedSeen} <= bound ${BOUND}`,
  );
  raw.resume();
  await until(() => hub.statistics.resynced > resynced0, 'resync sent once drained');
  const feed = hub.hub.feed(BTC)!;
  await until(
    () => codes.includes(MdReason.RESYNCED) && book.seq === feed.seq[1],
    'client caught up after the resync',
  );
  t.equal(book.checksumFailures, 0, 'no checksum failure');
  t.equal(book.computeChecksum(), feed.lastChecksum, 'resynchronised book matches');
  const oracle = ex.oracle.get(BTC)!;
  t.same(
    Array.from(book.book.bids.price.subarray(0, book.book.bids.count)),
    Array.from(oracle.bids.price.subarray(0, oracle.bids.count)),
    'bid prices = engine',
  );
  t.same(
    Array.from(book.book.asks.quantity.subarray(0, book.book.asks.count)),
    Array.from(oracle.asks.quantity.subarray(0, oracle.asks.count)),
    'ask quantities = engine',
  );
  await md.close();
  await until(() => hub.statistics.connections === 0, 'released');
});

/** A raw market-data socket that records every frame's body type and every Error's code. */
async function rawMd(url: string) {
  const ws = await RawWebSocket.connect(url);
  const verifier = new FrameVerifier(Direction.GatewayToClient);
  const m = new MessageReader();
  const err = new ErrorReader();
  const errors: number[] = [];
  const bodies: number[] = [];
  ws.onMessage = (bytes, start, end) => {
    const f = bytes.subarray(start, end);
    if (verifier.verify(f) !== VerifyResult.OK) return;
    const r = m.wrap(f);
    bodies.push(r.bodyType);
    if (r.bodyType === Body.Error) errors.push(err.wrap(f, r.bodyPos).code);
  };
  return { ws, errors, bodies };
}

t.test('unsubscribe releases every topic; errors for bad requests', async (t) => {
  const { ws, errors, bodies } = await rawMd(ex.mdUrl);
  const enc = new ClientEncoder();
  ws.send(enc.subscribe(BTC, 31, 0));
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  await until(() => ex.gateway.app.numSubscribers(feed.topics[5]) === 1, 'subscribed');
  for (const topic of feed.topics) t.equal(ex.gateway.app.numSubscribers(topic), 1, `${topic}: subscribed`);
  await until(
    () => bodies.includes(Body.BookSnapshot) && bodies.includes(Body.OrderBookSnapshot),
    'snapshots',
  );
  await until(() => bodies.includes(Body.MarketHeartbeat), 'a heartbeat');
  ws.send(enc.unsubscribe(BTC, Channel.L3));
  await until(() => ex.gateway.app.numSubscribers(feed.topics[3]) === 0, 'l3 released');
  t.equal(ex.gateway.app.numSubscribers(feed.topics[1]), 1, 'l2 kept');
  ws.send(enc.unsubscribe(BTC, 0));
  await until(() => ex.gateway.app.numSubscribers(feed.topics[5]) === 0, 'all released');
  for (const topic of feed.topics) t.equal(ex.gateway.app.numSubscribers(topic), 0, `${topic}: released`);
  t.equal(ex.gateway.marketData.statistics.subscriptions, 0, 'no subscription held');
  ws.send(enc.subscribe(999, Channel.L2));
  ws.send(enc.subscribe(BTC, 0));
  ws.send(enc.massCancel(0));
  ws.send(enc.subscribe(BTC, Channel.Trades, 0, 1));
  await until(() => errors.length >= 3, 'errors');
  t.same(errors.slice(0, 3), [MdReason.UNKNOWN_SYMBOL, MdReason.INVALID_CHANNELS, MdReason.UNSUPPORTED]);
  ws.close();
  await until(() => ex.gateway.marketData.statistics.connections === 0, 'closed');
});

t.test('requests past the rate limit are refused with RATE_LIMITED; the bucket refills', async (t) => {
  const limited = await startMdExchange({ requestRate: 1, requestBurst: 4 });
  t.teardown(() => limited.stop());
  const { ws, errors, bodies } = await rawMd(limited.mdUrl);
  const enc = new ClientEncoder();
  const feed = limited.gateway.marketData.hub.feed(BTC)!;
  // A burst of 4 Subscribes is admitted, the 5th refused (heartbeats and Unsubscribe are free).
  ws.send(enc.heartbeat(1, 1));
  for (const channel of [Channel.Trades, Channel.L2, Channel.Bbo, Channel.Status, Channel.L3])
    ws.send(enc.subscribe(BTC, channel, 0));
  ws.send(enc.unsubscribe(BTC, Channel.Trades));
  await until(
    () => errors.length >= 1 && limited.gateway.app.numSubscribers(feed.topics[0]) === 0,
    'the refusal',
    5_000,
  );
  t.same(errors, [MdReason.RATE_LIMITED], 'the 5th Subscribe refused');
  t.equal(limited.gateway.marketData.statistics.rateLimited, 1, 'counted');
  t.equal(limited.gateway.app.numSubscribers(feed.topics[3]), 0, 'the refused L3 subscription was not made');
  t.equal(limited.gateway.app.numSubscribers(feed.topics[1]), 1, 'the admitted ones were');
  t.equal(
    limited.gateway.app.numSubscribers(feed.topics[0]),
    0,
    'the Unsubscribe was served with the bucket empty',
  );
  // 1 per second refill (slow, so a loaded machine cannot refill the bucket mid-burst): a Subscribe is
  // admitted again a second later.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  ws.send(enc.subscribe(BTC, Channel.L3, 0));
  await until(() => bodies.includes(Body.OrderBookSnapshot), 'the L3 snapshot', 5_000);
  t.equal(limited.gateway.app.numSubscribers(feed.topics[3]), 1, 'L3 subscribed after the refill');
  t.equal(errors.length, 1, 'no further refusal');
  const metrics = await (await fetch(`${limited.httpUrl}/metrics`)).text();
  t.match(metrics, 'exchange_md_requests_rate_limited_total 1', 'exported in /metrics');
  ws.close();
  await until(() => limited.gateway.marketData.statistics.connections === 0, 'closed', 5_000);
});
