/**
 * Fuzz through a live socket: WS_FUZZ_FRAMES (default 1 000 000) mutated frames derived from the
 * golden vectors (schema/vectors) and from valid orders for the demo symbols, sent in big chunks over
 * 4 logged-on connections to the real gateway with real shard workers. Asserts: the process and the
 * gateway stay alive (a normal client still trades afterwards), every answer is a well-formed frame,
 * and no invalid order is accepted: every ACCEPTED event of the fuzz accounts is checked against the
 * symbol's limits as it happens, and the OrderStore afterwards.
 * Deterministic: WS_FUZZ_SEED (printed) fixes the mutations.
 */
import t from 'tap';
import { ExchangeClient } from '../../client/index.js';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import * as E from '../../engine/records/EventRecord.js';
import { OrderType } from '../../engine/records/OrderCodes.js';
import { SymbolTable } from '../../gateway/symbols/SymbolTable.js';
import {
  Body,
  ClientEncoder,
  Direction,
  FrameVerifier,
  MessageReader,
  NewOrderFields,
} from '../../schema/index.js';
import { prng } from '../fixtures/engine/randomCommands.js';
import { startWsExchange } from '../fixtures/gateway/wsExchange.js';
import { loadVectors } from '../schema/fixtures/frames.js';

const FRAMES = Number(process.env.WS_FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.WS_FUZZ_SEED ?? 0x0f0e2025) >>> 0;
const CONNECTIONS = 4;
const CHUNK = 4096;
const ACCOUNTS = [901, 902, 903, 904];

const SYMBOLS = SymbolTable.demo().symbols;

/** Valid requests for the demo symbols: mutations of these reach the engine often. */
function seeds(): Uint8Array[] {
  const enc = new ClientEncoder();
  const out: Uint8Array[] = loadVectors()
    .map((v) => v.bin)
    .filter((b) => {
      const m = new MessageReader().wrap(b);
      return new FrameVerifier(Direction.Any).verify(b) !== 0 || m.bodyType < 32;
    });
  const o = new NewOrderFields();
  for (const s of SYMBOLS) {
    for (const side of [1, 2]) {
      o.symbolId = s.id;
      o.side = side;
      o.orderType = 1;
      o.timeInForce = 0;
      o.price = s.referencePriceTicks + (side === 1 ? -10 : 10);
      o.quantity = 5;
      o.clientOrderIdLo = 7;
      out.push(enc.newOrder(o).slice());
      o.timeInForce = 1; // IOC, crossing
      o.price = s.referencePriceTicks + (side === 1 ? 20 : -20);
      out.push(enc.newOrder(o).slice());
      o.orderType = 4;
      o.timeInForce = 0;
      o.stopPrice = s.referencePriceTicks + (side === 1 ? 100 : -100);
      out.push(enc.newOrder(o).slice());
      o.stopPrice = 0;
    }
    out.push(enc.cancel(s.id, 2 ** 40 * (s.id % 2) + 3).slice());
    out.push(enc.amend(s.id, 2 ** 40 * (s.id % 2) + 1, 0, 0, s.referencePriceTicks - 5, 4).slice());
  }
  enc.beginBatch();
  for (let i = 0; i < 16; i++) {
    const s = SYMBOLS[i % SYMBOLS.length];
    o.symbolId = s.id;
    o.side = 1 + (i & 1);
    o.orderType = 1;
    o.price = s.referencePriceTicks + (i & 1 ? 30 : -30);
    o.quantity = 1 + i;
    o.clientOrderIdLo = 100 + i;
    if (i % 4 === 3) enc.addCancel(s.id, 0, 0, 100 + i - 1);
    else enc.addNewOrder(o);
  }
  out.push(enc.endBatch().slice());
  out.push(enc.heartbeat(1, 2).slice());
  out.push(enc.massCancel(1, 2).slice());
  return out;
}

t.test(`${FRAMES} mutated frames through live sockets`, async (t) => {
  const ex = await startWsExchange({ shards: 2, rateLimit: 0, maxOrders: 1 << 16 });
  t.teardown(() => ex.stop());
  t.comment(`seed ${SEED} (WS_FUZZ_SEED), frames ${FRAMES} (WS_FUZZ_FRAMES)`);
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  const pool = seeds();
  const bySymbol = new Map(SYMBOLS.map((s) => [s.id, s]));
  const fuzzAccounts = new Set(ACCOUNTS);

  // Every order the engine accepts for a fuzz account is checked as it happens.
  let accepted = 0;
  const invalid: string[] = [];
  ex.gateway.addEventListener((_shard, v, o) => {
    if (E.readType(v, o) !== E.EventType.ACCEPTED || !fuzzAccounts.has(E.readAccountId(v, o))) return;
    accepted++;
    const s = bySymbol.get(E.readSymbolId(v, o));
    const side = E.readSide(v, o);
    const type = E.readU8(v, o, E.ORDER_TYPE);
    const tif = E.readU8(v, o, E.TIME_IN_FORCE);
    const price = E.readF64(v, o, E.PRICE);
    const qty = E.readF64(v, o, E.QUANTITY);
    const display = E.readF64(v, o, E.DISPLAY_QTY);
    const limit = type === OrderType.LIMIT || type === OrderType.STOP_LIMIT;
    const ok =
      s !== undefined &&
      (side === 1 || side === 2) &&
      type >= 1 &&
      type <= 4 &&
      tif >= 1 &&
      tif <= 4 &&
      Number.isSafeInteger(qty) &&
      qty >= s.minQtyLots &&
      qty <= s.maxQtyLots &&
      (limit ? price >= s.referencePriceTicks / 2 && price <= s.referencePriceTicks * 1.5 : price === 0) &&
      display >= 0 &&
      display <= qty;
    if (!ok && invalid.length < 10)
      invalid.push(JSON.stringify({ symbol: s?.id, side, type, tif, price, qty, display }));
  });

  // Connections, logged on.
  const conns: {
    ws: RawWebSocket;
    pings: number;
    pongs: number;
    answers: number;
    bad: number;
    closed: boolean;
  }[] = [];
  const verifier = new FrameVerifier(Direction.GatewayToClient);
  for (let i = 0; i < CONNECTIONS; i++) {
    const ws = await RawWebSocket.connect(ex.url);
    const c = { ws, pings: 0, pongs: 0, answers: 0, bad: 0, closed: false };
    ws.onMessage = (bytes, s, e) => {
      c.answers++;
      if (verifier.verify(bytes.subarray(s, e)) !== 0) c.bad++;
    };
    ws.onPong = () => {
      c.pongs++;
    };
    ws.onClose = () => {
      c.closed = true;
    };
    ws.send(new ClientEncoder().logon(await ex.token(ACCOUNTS[i])));
    conns.push(c);
  }
  const deadline = Date.now() + 5000;
  while (conns.some((c) => c.answers < 2) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  t.ok(
    conns.every((c) => c.answers >= 2),
    'all logged on',
  );
  const answersAtLogon = conns.reduce((n, c) => n + c.answers, 0);

  // Mutate and send: chunks of CHUNK frames per connection, at most 2 chunks unanswered (ping/pong).
  const scratch = new Uint8Array(70 * 1024);
  const started = performance.now();
  let sent = 0;
  let chunkNo = 0;
  const mutate = (): Uint8Array => {
    const seed = pool[int(pool.length)];
    let len = seed.length;
    scratch.set(seed);
    const kind = int(16);
    if (kind === 0) {
      len = int(seed.length + 1); // truncated
    } else if (kind === 1) {
      const extra = 1 + int(64); // garbage appended
      for (let i = 0; i < extra; i++) scratch[len + i] = int(256);
      len += extra;
    }
    const edits = 1 + int(4);
    for (let e = 0; e < edits && len > 0; e++) {
      const p = int(len);
      const what = int(4);
      if (what === 0) scratch[p] = int(256);
      else if (what === 1) scratch[p] ^= 1 << int(8);
      else if (what === 2 && p + 4 <= len) {
        const v = [0, 1, 2, 4, 8, 0x7f, 0x80, 0xff, 0xffff, 0x1fffff, 0x200000, 0x7fffffff, 0xffffffff][
          int(13)
        ];
        scratch[p] = v;
        scratch[p + 1] = v >>> 8;
        scratch[p + 2] = v >>> 16;
        scratch[p + 3] = v >>> 24;
      } else scratch[p] = 0;
    }
    return scratch.subarray(0, len);
  };
  while (sent < FRAMES) {
    for (let ci = 0; ci < CONNECTIONS && sent < FRAMES; ci++) {
      const c = conns[ci];
      if (c.closed) continue;
      const n = Math.min(CHUNK, FRAMES - sent);
      for (let i = 0; i < n; i++) c.ws.send(mutate());
      c.ws.ping();
      c.pings++;
      sent += n;
    }
    chunkNo++;
    const waitUntil = Date.now() + 10_000;
    while (conns.some((c) => !c.closed && c.pongs < c.pings - 1)) {
      if (Date.now() > waitUntil) {
        t.comment(
          JSON.stringify(
            ex
              .logs()
              .filter((l) => (l.level as number) >= 40)
              .slice(0, 5),
          ),
        );
        throw new Error(
          `no pong for chunk ${chunkNo - 1}: ${conns.map((c) => `${c.pongs}/${c.answers}/${c.ws.bufferedAmount}`).join(' ')}`,
        );
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  const until = Date.now() + 30_000;
  while (conns.some((c) => !c.closed && c.pongs < c.pings) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 300)); // the engine's last reports
  const seconds = (performance.now() - started) / 1000;
  const answers = conns.reduce((n, c) => n + c.answers, 0) - answersAtLogon;
  const stats = ex.orderEntry.stats;
  t.comment(
    `${sent} frames in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} frames/s): ${stats.invalidFrames} refused by the verifier, ` +
      `${accepted} orders accepted, ${answers} frames answered, ${conns.filter((c) => c.closed).length} connections closed`,
  );
  t.equal(
    conns.reduce((n, c) => n + c.bad, 0),
    0,
    'every answer verifies',
  );
  t.ok(stats.invalidFrames > sent / 10, 'many frames refused by the verifier');
  t.ok(accepted > 0, 'some mutants were valid orders');
  t.same(invalid, [], 'no invalid order accepted');
  // Afterwards: what the order store holds for the fuzz accounts is within the symbols' limits.
  let stored = 0;
  for (const account of ACCOUNTS) {
    for (const r of ex.gateway.orders.store.list(account, { statusMask: 0, symbolId: 0, side: 0 }, 1 << 30)
      .orders) {
      stored++;
      const s = bySymbol.get(r.symbolId);
      if (s === undefined || r.quantity < 0 || r.quantity > s.maxQtyLots || r.side < 1 || r.side > 2) {
        invalid.push(`stored ${r.orderId}`);
      }
    }
  }
  t.ok(stored > 0, `${stored} orders in the store`);
  t.same(invalid, [], 'store holds valid orders only');
  for (const c of conns) c.ws.terminate();

  // Alive: a normal client still trades.
  const client = await ExchangeClient.connect({ url: ex.url, token: await ex.token(77), reconnect: false });
  t.match(await client.placeOrder({ symbol: 'ETH/USD', side: 'buy', price: 290_000, quantity: 1 }), {
    ok: true,
  });
  await client.close();
  t.equal(ex.pipeline.health().healthy, true, 'engine healthy');
  t.ok(Body.Error > 0);
});
