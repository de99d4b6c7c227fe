/**
 * Property-based fuzz of the public market-data WebSocket (/api/v1/ws/market) against the real
 * gateway (uWS on port 0) and real shard workers, with orders trading in the background the whole
 * time so every feed has state and live traffic.
 *
 * fast-check (random seed, printed; MD_FUZZ_SEED replays one, MD_FUZZ_RUNS scales the runs) drives
 * raw sockets with: random bytes, text frames, oversized frames, truncated / bit-flipped / overwritten
 * valid requests, and well-formed requests with out-of-range fields (unknown symbol ids, unknown
 * channel bits, odd conflate values, trades_from_seq reversed / huge / negative / past 2^53,
 * repeated Subscribe/Unsubscribe, foreign messages, Batches up to 256 items, bursts of frames); slow
 * readers (plain and conflating) that stop reading until the slow-reader policy acts and send
 * requests meanwhile; readers that stop reading and flood amplifying requests; and the REST book's
 * `depth` (the WebSocket requests have none).
 *
 * Every run is checked against a model written from docs/marketdata.md and docs/protocol.md:
 * - a frame that fails verification gets exactly one Error with the verifier's documented code
 *   (100-199); a text frame gets 102; a frame over 64 KiB or a text frame that is not UTF-8 closes
 *   that connection (uWS), nothing else;
 * - Subscribe/Unsubscribe/Batch get the documented 700-704 errors, in order, and nothing else
 *   (702 only when the wanted trades are gone; no 790 for a reader that keeps up);
 * - every channel added by a Subscribe gets its snapshot (BookSnapshot, OrderBookSnapshot,
 *   SymbolStatus), exactly once per add; every frame the gateway sends verifies;
 * - the gateway's own record of the connection's subscriptions equals the model's, and uWS topic
 *   subscriber counts equal what the open sessions hold;
 * - a plain slow reader is dropped; a conflating one gets the backlog, one Error 790, one fresh
 *   snapshot per channel held and the trades replays it asked for meanwhile; nothing is sent to a
 *   connection past its hard bound (uWS dropped a frame: it is closing);
 * - the server answers (a ping barrier after every run: no hang), /api/v1/health stays ok;
 * - a well-behaved raw subscriber (all channels of two symbols) and an SDK book opened before the
 *   fuzz see every per-channel seq consecutively (heartbeats included) during and after the fuzz,
 *   and end equal to the engine's own book;
 * - after the fuzz sockets close, connections, subscriptions and topic subscribers return to what
 *   the two good clients hold (no leak).
 * The gateway runs in this process: the test reads its sessions and counts its uWS sends directly.
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { type LocalBook, MarketDataClient, type OrderResult, RawWebSocket } from '../../client/index.js';
import type { L2Book } from '../../gateway/marketdata/L2Book.js';
import type { MdSession } from '../../gateway/marketdata/MarketDataGateway.js';
import { MdReason } from '../../gateway/marketdata/MdReason.js';
import { SymbolTable } from '../../gateway/symbols/SymbolTable.js';
import {
  BatchReader,
  BboReader,
  Body,
  BookSnapshotReader,
  BookUpdateReader,
  ClientEncoder,
  Direction,
  ErrorReader,
  FrameVerifier,
  MarketHeartbeatReader,
  MessageReader,
  NewOrderFields,
  OrderBookSnapshotReader,
  OrderEventReader,
  SubscribeReader,
  SymbolStatusReader,
  TradeReader,
  UnsubscribeReader,
  VerifyResult,
} from '../../schema/index.js';
import { until } from '../fixtures/until.js';
import { type MdExchange, prng, randomOrder, startMdExchange } from './fixtures/mdExchange.js';

const SEED = Number(process.env.MD_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.MD_FUZZ_RUNS ?? 1);
const BTC = 1;
const ETH = 2;
const SYMBOL_IDS = new Set(SymbolTable.demo().symbols.map((s) => s.id));
/** maxSymbolsPerConnection of this exchange: small, so TOO_MANY_SUBSCRIPTIONS is reachable. */
const MAX_SYMBOLS = 2;
const MAX_PAYLOAD = 64 * 1024;
const ALL = 31;
/** A run whose expected answer is larger than this is skipped (fc.pre): it could trip the slow-reader policy. */
const MAX_ANSWER_BYTES = 256 * 1024;
/** Error codes documented for this endpoint: docs/protocol.md (verification) and docs/marketdata.md. */
const DOCUMENTED = new Set<number>([
  ...Array.from({ length: 27 }, (_, i) => 100 + i),
  199,
  ...Object.values(MdReason),
]);

let ex: MdExchange;
let sessions: Set<MdSession>;

// ---------------------------------------------------------------------------- background trading

class Trader {
  orders = 0;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  start(seed: number): void {
    this.done = this.run(seed);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(seed: number): Promise<void> {
    const rnd = prng(seed);
    const a = await ex.client(301);
    const b = await ex.client(302);
    const resting: { c: typeof a; id: number; symbol: string | number }[] = [];
    const place = (c: typeof a, o: Parameters<typeof a.placeOrder>[0]) =>
      c
        .placeOrder(o)
        .then((r: OrderResult) => {
          if (r.ok && r.report.leavesQuantity > 0)
            resting.push({ c, id: r.report.orderId, symbol: o.symbol });
        })
        .catch(() => {});
    while (!this.stopped) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 8; i++, this.orders++) batch.push(place(rnd() < 0.5 ? a : b, randomOrder(rnd)));
      for (let i = 0; i < 2; i++, this.orders++) {
        const side = rnd() < 0.5 ? 'buy' : 'sell';
        const off = Math.floor(rnd() * 30) - (rnd() < 0.3 ? 20 : 2);
        const ticks = 300_000 + (side === 'buy' ? -off : off);
        batch.push(
          place(rnd() < 0.5 ? a : b, {
            symbol: 'ETH/USD',
            side,
            price: (ticks / 100).toFixed(2),
            quantity: ((1 + Math.floor(rnd() * 20)) / 1000).toFixed(3),
          }),
        );
      }
      // Keep the book (and so every snapshot) small: cancel the oldest resting orders.
      while (resting.length > 120) {
        const o = resting.shift()!;
        batch.push(o.c.cancel({ orderId: o.id, symbol: o.symbol }).catch(() => {}));
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const trader = new Trader();

// ---------------------------------------------------------------------------- the well-behaved subscriber

/**
 * A raw subscriber to every channel of some symbols that checks each per-channel seq: a snapshot
 * sets it, every delta must be the next one, every MarketHeartbeat must carry exactly the seq held.
 */
class SeqWatcher {
  /** symbolId -> last seq per channel index (trades, l2, bbo, l3, status); -1 = none yet. */
  readonly last = new Map<number, number[]>();
  readonly problems: string[] = [];
  readonly errors: number[] = [];
  frames = 0;
  deltas = 0;
  heartbeats = 0;
  closed = false;
  private readonly verifier = new FrameVerifier(Direction.GatewayToClient);
  private readonly m = new MessageReader();
  private readonly bookSnap = new BookSnapshotReader();
  private readonly bookUpd = new BookUpdateReader();
  private readonly l3Snap = new OrderBookSnapshotReader();
  private readonly l3Ev = new OrderEventReader();
  private readonly trade = new TradeReader();
  private readonly bbo = new BboReader();
  private readonly status = new SymbolStatusReader();
  private readonly hb = new MarketHeartbeatReader();
  private readonly err = new ErrorReader();

  constructor(
    readonly ws: RawWebSocket,
    symbols: number[],
  ) {
    ws.onMessage = (bytes, start, end) => this.frame(bytes.subarray(start, end));
    ws.onClose = (code, reason) => {
      this.closed = true;
      this.problems.push(`watcher closed: ${code} ${reason}`);
    };
    const enc = new ClientEncoder();
    for (const id of symbols) {
      this.last.set(id, [-1, -1, -1, -1, -1]);
      ws.send(enc.subscribe(id, ALL));
    }
  }

  private problem(text: string): void {
    if (this.problems.length < 20) this.problems.push(text);
  }

  /** A snapshot of channel `ch` (index) at `seq`. */
  private snapshot(id: number, ch: number, seq: number): void {
    const l = this.last.get(id);
    if (l === undefined) {
      this.problem(`snapshot for unsubscribed symbol ${id}`);
      return;
    }
    if (l[ch] >= 0) {
      this.problem(`second snapshot of ${id}/${ch} (at ${seq}, held ${l[ch]})`);
      return;
    }
    l[ch] = seq;
  }

  /** A delta of channel `ch`; `base` = it may start the stream (channels without a snapshot). */
  private delta(id: number, ch: number, seq: number, base: boolean): void {
    const l = this.last.get(id);
    if (l === undefined) {
      this.problem(`delta for unsubscribed symbol ${id}`);
      return;
    }
    this.deltas++;
    if (l[ch] < 0) {
      if (!base) this.problem(`delta ${id}/${ch} seq ${seq} before its snapshot`);
    } else if (seq !== l[ch] + 1) {
      this.problem(`gap on ${id}/${ch}: held ${l[ch]}, got ${seq}`);
    }
    l[ch] = seq;
  }

  private frame(f: Uint8Array): void {
    this.frames++;
    if (this.verifier.verify(f) !== VerifyResult.OK) {
      this.problem('a frame that does not verify');
      return;
    }
    const m = this.m.wrap(f);
    const pos = m.bodyPos;
    switch (m.bodyType) {
      case Body.BookSnapshot: {
        const r = this.bookSnap.wrap(f, pos);
        this.snapshot(r.symbolId, 1, r.seq);
        return;
      }
      case Body.OrderBookSnapshot: {
        const r = this.l3Snap.wrap(f, pos);
        this.snapshot(r.symbolId, 3, r.seq);
        return;
      }
      case Body.BookUpdate: {
        const r = this.bookUpd.wrap(f, pos);
        this.delta(r.symbolId, 1, r.seq, false);
        return;
      }
      case Body.OrderEvent: {
        const r = this.l3Ev.wrap(f, pos);
        this.delta(r.symbolId, 3, r.seq, false);
        return;
      }
      case Body.Trade: {
        const r = this.trade.wrap(f, pos);
        this.delta(r.symbolId, 0, r.seq, true);
        return;
      }
      case Body.Bbo: {
        const r = this.bbo.wrap(f, pos);
        this.delta(r.symbolId, 2, r.seq, true);
        return;
      }
      case Body.SymbolStatus: {
        // The current status on subscribe (nothing changes the status during this test).
        const r = this.status.wrap(f, pos);
        this.snapshot(r.symbolId, 4, r.seq);
        return;
      }
      case Body.MarketHeartbeat: {
        this.heartbeats++;
        const h = this.hb.wrap(f, pos);
        for (let i = 0; i < h.sequenceCount; i++) {
          const l = this.last.get(h.symbolId(i));
          if (l === undefined) {
            this.problem(`heartbeat for unsubscribed symbol ${h.symbolId(i)}`);
            continue;
          }
          const ch = Math.log2(h.channel(i));
          const seq = h.seq(i);
          if (l[ch] < 0 && (ch === 0 || ch === 2))
            l[ch] = seq; // trades / bbo: the stream's start
          else if (seq !== l[ch])
            this.problem(`heartbeat ${h.symbolId(i)}/${ch} seq ${seq} but held ${l[ch]}`);
        }
        return;
      }
      case Body.Error:
        this.errors.push(this.err.wrap(f, pos).code);
        {
          this.problem(`error ${this.errors[this.errors.length - 1]} on the good connection`);
          return;
        }
      default: {
        this.problem(`unexpected body ${m.bodyType}`);
        return;
      }
    }
  }
}

let watcher: SeqWatcher;
let md: MarketDataClient;
let sdkBook: LocalBook;

// ---------------------------------------------------------------------------- the requests

/** trades_from_seq: none, relative to the symbol's last trade seq at send time, absolute, or raw uint64 bits. */
type FromSpec =
  | { k: 'none' }
  | { k: 'rel'; d: number }
  | { k: 'abs'; v: number }
  | { k: 'raw'; lo: number; hi: number };

type Op =
  | { k: 'sub'; sym: number; ch: number; conflate: number; from: FromSpec }
  | { k: 'unsub'; sym: number; ch: number }
  | { k: 'hb' }
  | { k: 'foreign'; which: number };

type FrameSpec =
  | { k: 'op'; op: Op }
  | { k: 'batch'; ops: Op[] }
  | { k: 'resub'; sym: number; ch: number; from: FromSpec; times: number };

interface Wire {
  bytes: Uint8Array;
  binary: boolean;
}

const symbolArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(1, 2, 3) },
  { weight: 2, arbitrary: fc.constantFrom(0, 4, 255, 65535, 65536, 0xffffffff) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);
const channelsArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(1, 2, 4, 8, 16, 31) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 31 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const fromArb: fc.Arbitrary<FromSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ k: 'none' as const }) },
  { weight: 4, arbitrary: fc.integer({ min: -400, max: 20 }).map((d) => ({ k: 'rel' as const, d })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(1, 2 ** 32 - 1, 2 ** 32, 2 ** 52, 2 ** 53 - 1)
      .map((v) => ({ k: 'abs' as const, v })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        lo: fc.integer({ min: 0, max: 0xffffffff }),
        hi: fc.oneof(fc.constantFrom(0x200000, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat(0xffffffff)),
      })
      .map(({ lo, hi }) => ({ k: 'raw' as const, lo, hi })),
  },
);
const subArb: fc.Arbitrary<Op> = fc.record({
  k: fc.constant('sub' as const),
  sym: symbolArb,
  ch: channelsArb,
  conflate: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 255 })),
  from: fromArb,
});
const unsubArb: fc.Arbitrary<Op> = fc.record({
  k: fc.constant('unsub' as const),
  sym: symbolArb,
  ch: fc.oneof(fc.constant(0), channelsArb),
});
const foreignArb: fc.Arbitrary<Op> = fc.integer({ min: 0, max: 5 }).map((which) => ({ k: 'foreign', which }));
const batchOpArb = fc.oneof(
  { weight: 5, arbitrary: subArb },
  { weight: 3, arbitrary: unsubArb },
  { weight: 1, arbitrary: foreignArb },
);
const opArb = fc.oneof(
  { weight: 9, arbitrary: batchOpArb },
  { weight: 1, arbitrary: fc.constant<Op>({ k: 'hb' }) },
);
/** Frames: single requests, Batches of up to `maxBatch` items, Unsubscribe+Subscribe pairs up to `maxTimes` times. */
function frames(maxBatch: number, maxTimes: number): fc.Arbitrary<FrameSpec> {
  return fc.oneof(
    { weight: 5, arbitrary: opArb.map((op) => ({ k: 'op' as const, op })) },
    {
      weight: 3,
      arbitrary: fc
        .array(batchOpArb, { minLength: 1, maxLength: maxBatch })
        .map((ops) => ({ k: 'batch' as const, ops })),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('resub' as const),
        sym: symbolArb,
        ch: channelsArb,
        from: fromArb,
        times: fc.integer({ min: 1, max: maxTimes }),
      }),
    },
  );
}

const encoder = new ClientEncoder(70 * 1024);
/** Raw uint64 fields are written as this marker (+ item index) and then patched. */
const MARKER_HI = 0x1f;
const MARKER_LO = 0x5eed0000;

function tradesFrom(
  sym: number,
  from: FromSpec,
  item: number,
  raw: { lo: number; hi: number; item: number }[],
) {
  switch (from.k) {
    case 'none':
      return 0;
    case 'abs':
      return from.v;
    case 'rel': {
      const last = ex.gateway.marketData.hub.feed(sym)?.seq[0] ?? 1000;
      return Math.max(1, last + from.d);
    }
    case 'raw':
      raw.push({ lo: from.lo, hi: from.hi, item });
      return MARKER_HI * 2 ** 32 + MARKER_LO + item;
  }
}

function addOp(op: Op, item: number, raw: { lo: number; hi: number; item: number }[]): void {
  if (op.k === 'sub')
    encoder.addSubscribe(op.sym, op.ch, op.conflate, tradesFrom(op.sym, op.from, item, raw));
  else if (op.k === 'unsub') encoder.addUnsubscribe(op.sym, op.ch);
  else if (op.k === 'foreign') {
    if (op.which === 0) encoder.addNewOrder(validOrder());
    else if (op.which === 1) encoder.addCancel(BTC, 12345);
    else if (op.which === 2) encoder.addAmend(BTC, 12345, 0, 0, 5_000_000, 3);
    else encoder.addMassCancel(1);
  }
}

function validOrder(): NewOrderFields {
  const o = new NewOrderFields();
  o.symbolId = BTC;
  o.side = 1;
  o.orderType = 1;
  o.price = 4_000_000;
  o.quantity = 1;
  o.clientOrderIdLo = 42;
  return o;
}

function singleOp(op: Op, raw: { lo: number; hi: number; item: number }[]): Uint8Array {
  switch (op.k) {
    case 'sub':
      return encoder.subscribe(op.sym, op.ch, op.conflate, tradesFrom(op.sym, op.from, 0, raw));
    case 'unsub':
      return encoder.unsubscribe(op.sym, op.ch);
    case 'hb':
      return encoder.heartbeat(7, 1_700_000_000_000_000);
    case 'foreign':
      switch (op.which) {
        case 0:
          return encoder.newOrder(validOrder());
        case 1:
          return encoder.cancel(BTC, 12345);
        case 2:
          return encoder.amend(BTC, 12345, 0, 0, 5_000_000, 3);
        case 3:
          return encoder.massCancel(1);
        case 4:
          return encoder.logon('not-a-token');
        default:
          return encoder.cancelOnDisconnect(1000);
      }
  }
}

/** Overwrites each raw marker with its uint64 bits (negative, >= 2^53: not encodable otherwise). */
function patchRaw(bytes: Uint8Array, raw: { lo: number; hi: number; item: number }[]): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const r of raw) {
    let found = false;
    for (let p = 0; p + 8 <= bytes.length; p += 4) {
      if (dv.getUint32(p, true) === MARKER_LO + r.item && dv.getUint32(p + 4, true) === MARKER_HI) {
        dv.setUint32(p, r.lo, true);
        dv.setUint32(p + 4, r.hi, true);
        found = true;
        break;
      }
    }
    if (!found) throw new Error(`marker of item ${r.item} not found`);
  }
}

function encode(spec: FrameSpec): Wire {
  const raw: { lo: number; hi: number; item: number }[] = [];
  let bytes: Uint8Array;
  if (spec.k === 'op') bytes = singleOp(spec.op, raw).slice();
  else {
    encoder.beginBatch();
    if (spec.k === 'batch') for (const [i, op] of spec.ops.entries()) addOp(op, i, raw);
    else
      for (let i = 0; i < spec.times; i++) {
        addOp({ k: 'unsub', sym: spec.sym, ch: spec.ch }, 2 * i, raw);
        addOp({ k: 'sub', sym: spec.sym, ch: spec.ch, conflate: 0, from: spec.from }, 2 * i + 1, raw);
      }
    bytes = encoder.endBatch().slice();
  }
  patchRaw(bytes, raw);
  return { bytes, binary: true };
}

/** Valid requests, the seeds of the mutation property. */
function seedFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const raw: { lo: number; hi: number; item: number }[] = [];
  for (const sym of [1, 2, 3]) {
    out.push(encoder.subscribe(sym, ALL, 1, 5).slice());
    out.push(encoder.subscribe(sym, 2).slice());
    out.push(encoder.unsubscribe(sym, 8).slice());
    out.push(encoder.unsubscribe(sym, 0).slice());
  }
  out.push(singleOp({ k: 'hb' }, raw).slice());
  encoder.beginBatch();
  encoder.addUnsubscribe(BTC, 1);
  encoder.addSubscribe(BTC, 1, 0, 10);
  encoder.addSubscribe(ETH, 31, 1, 0);
  encoder.addUnsubscribe(ETH, 4);
  out.push(encoder.endBatch().slice());
  encoder.beginBatch();
  for (let i = 0; i < 40; i++) encoder.addSubscribe(1 + (i % 3), 1 << (i % 5));
  out.push(encoder.endBatch().slice());
  return out;
}

// ---------------------------------------------------------------------------- the model

interface Expected {
  code: number;
  /** 702 check resolved after the run: the history's oldest seq moves while the run is in flight. */
  replay?: { sym: number; from: number };
}

/** What docs/marketdata.md says a connection gets for a sequence of frames. */
class Model {
  readonly subs = new Map<number, number>();
  readonly errors: Expected[] = [];
  /** Snapshots expected per `${body}/${symbol}`. */
  readonly snapshots = new Map<string, number>();
  /** The connection is expected to be closed by uWS (oversized or not-UTF-8 frame). */
  closed = false;
  /**
   * The gateway is resynchronising this (conflating, slow) connection: a Subscribe sends no snapshot
   * now (the resync sends one for every channel held) and its trades_from_seq replay is deferred to
   * the resync (symbol -> from): the request is not lost.
   */
  resyncing = false;
  readonly deferred = new Map<number, number>();
  answerBytes = 0;
  private readonly verifier = new FrameVerifier(Direction.ClientToGateway);
  private readonly m = new MessageReader();
  private readonly batch = new BatchReader();
  private readonly sub = new SubscribeReader();
  private readonly unsub = new UnsubscribeReader();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  frame(w: Wire): void {
    if (this.closed) return;
    if (w.bytes.length > MAX_PAYLOAD) {
      this.closed = true;
      return;
    }
    if (!w.binary) {
      try {
        this.utf8.decode(w.bytes);
      } catch {
        this.closed = true;
        return;
      }
      this.error(VerifyResult.BAD_FILE_IDENTIFIER);
      return;
    }
    const rc = this.verifier.verify(w.bytes);
    if (rc !== VerifyResult.OK) {
      this.error(rc);
      return;
    }
    const m = this.m.wrap(w.bytes);
    switch (m.bodyType) {
      case Body.Heartbeat:
        return;
      case Body.Subscribe: {
        this.subscribe(w.bytes, m.bodyPos);
        return;
      }
      case Body.Unsubscribe: {
        this.unsubscribe(w.bytes, m.bodyPos);
        return;
      }
      case Body.Batch: {
        const b = this.batch.wrap(w.bytes, m.bodyPos);
        for (let i = 0; i < b.length; i++) {
          const type = b.opType(i);
          if (type === Body.Subscribe) this.subscribe(w.bytes, b.opPos(i));
          else if (type === Body.Unsubscribe) this.unsubscribe(w.bytes, b.opPos(i));
          else this.error(MdReason.UNSUPPORTED);
        }
        return;
      }
      default:
        this.error(MdReason.UNSUPPORTED);
    }
  }

  private error(code: number, replay?: { sym: number; from: number }): void {
    this.errors.push({ code, replay });
    this.answerBytes += 128;
  }

  private snap(body: number, sym: number, bytes: number): void {
    const k = `${body}/${sym}`;
    this.snapshots.set(k, (this.snapshots.get(k) ?? 0) + 1);
    this.answerBytes += bytes;
  }

  private subscribe(bytes: Uint8Array, pos: number): void {
    const r = this.sub.wrap(bytes, pos);
    const sym = r.symbolId;
    const ch = r.channels;
    if (!SYMBOL_IDS.has(sym)) {
      this.error(MdReason.UNKNOWN_SYMBOL);
      return;
    }
    if (ch === 0 || (ch & ~ALL) !== 0) {
      this.error(MdReason.INVALID_CHANNELS);
      return;
    }
    const held = this.subs.get(sym) ?? 0;
    if (held === 0 && this.subs.size >= MAX_SYMBOLS) {
      this.error(MdReason.TOO_MANY_SUBSCRIPTIONS);
      return;
    }
    const added = ch & ~held;
    this.subs.set(sym, held | ch);
    if (this.resyncing) {
      if (added & 1 && r.tradesFromSeq > 0) this.deferred.set(sym, r.tradesFromSeq);
      return;
    }
    const feed = ex.gateway.marketData.hub.feed(sym)!;
    if (added & 2)
      this.snap(Body.BookSnapshot, sym, 128 + 32 * (feed.book.bids.count + feed.book.asks.count));
    if (added & 8) this.snap(Body.OrderBookSnapshot, sym, 128 + 40 * feed.l3.size);
    if (added & 16) this.snap(Body.SymbolStatus, sym, 128);
    if (added & 4) this.answerBytes += 128;
    const from = r.tradesFromSeq;
    if (added & 1 && from > 0) {
      this.answerBytes += 96 * Math.max(0, Math.min(feed.trades.size + 64, feed.seq[0] + 64 - from));
      this.errors.push({ code: MdReason.TRADES_UNAVAILABLE, replay: { sym, from } });
    }
  }

  private unsubscribe(bytes: Uint8Array, pos: number): void {
    const r = this.unsub.wrap(bytes, pos);
    if (!SYMBOL_IDS.has(r.symbolId)) {
      this.error(MdReason.UNKNOWN_SYMBOL);
      return;
    }
    const held = this.subs.get(r.symbolId) ?? 0;
    const left = r.channels === 0 ? 0 : held & ~r.channels;
    if ((left & 1) === 0) this.deferred.delete(r.symbolId);
    if (left === 0) this.subs.delete(r.symbolId);
    else this.subs.set(r.symbolId, left);
  }
}

/** Oldest trade seq held per symbol (0 = none): a trades_from_seq below it minus one is gone (702). */
function oldestSeqs(): Map<number, number> {
  const m = new Map<number, number>();
  for (const id of SYMBOL_IDS) m.set(id, ex.gateway.marketData.hub.feed(id)!.trades.oldestSeq);
  return m;
}

/**
 * Does `got` match `want` in order? A replay expectation is an Error 702 that must appear when the
 * wanted trade was gone before the run (`from + 1 < oldest at send`), must not when it was still held
 * after it, and may either way in between. `prefix`: the connection was closed, answers may stop early.
 */
function matches(
  want: Expected[],
  got: number[],
  before: Map<number, number>,
  after: Map<number, number>,
  prefix: boolean,
): boolean {
  const kind = want.map((e) => {
    if (e.replay === undefined) return 'required';
    const { sym, from } = e.replay;
    if (from + 1 < before.get(sym)!) return 'required';
    if (from + 1 < after.get(sym)!) return 'optional';
    return 'absent';
  });
  // The positions of `got` reachable after each expectation (only optional ones branch).
  let states = new Set<number>([0]);
  for (let i = 0; i < want.length; i++) {
    const next = new Set<number>();
    for (const j of states) {
      const hit = j < got.length && got[j] === want[i].code;
      if (kind[i] === 'absent') next.add(j);
      else if (kind[i] === 'optional') {
        next.add(j);
        if (hit) next.add(j + 1);
      } else if (hit) next.add(j + 1);
      else if (prefix && j === got.length) next.add(j);
    }
    states = next;
  }
  return states.has(got.length);
}

// ---------------------------------------------------------------------------- one connection

/** One answer frame (errors, snapshots, trades; other deltas and heartbeats are not kept). */
interface Logged {
  body: number;
  sym: number;
  seq: number;
  code: number;
  text: string;
}

const R = {
  verifier: new FrameVerifier(Direction.GatewayToClient),
  m: new MessageReader(),
  error: new ErrorReader(),
  book: new BookSnapshotReader(),
  l3: new OrderBookSnapshotReader(),
  status: new SymbolStatusReader(),
  trade: new TradeReader(),
};
const SNAPSHOT_BODIES = new Set<number>([Body.BookSnapshot, Body.OrderBookSnapshot, Body.SymbolStatus]);
let runs = 0;
/** What the fuzz reached: error codes seen, snapshots, closes, runs skipped as too heavy. */
const tally = { codes: new Map<number, number>(), snapshots: 0, closes: 0, skipped: 0, frames: 0 };
let kept: RawWebSocket[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fuzz connection: its gateway session and a log of what it received. */
class Conn {
  readonly log: Logged[] = [];
  bad = 0;
  pongs = 0;
  close: { code: number; reason: string } | undefined = undefined;
  /** The gateway's uWS send() results for this connection: [backpressure, ok, dropped]. */
  readonly sends = [0, 0, 0];

  private constructor(
    readonly ws: RawWebSocket,
    readonly session: MdSession,
  ) {}

  static async open(): Promise<Conn> {
    const before = new Set(sessions);
    const ws = await RawWebSocket.connect(ex.mdUrl);
    const session = [...sessions].find((s) => !before.has(s));
    if (session === undefined) {
      ws.terminate();
      throw new Error('no gateway session for the new connection');
    }
    const c = new Conn(ws, session);
    // Count what the gateway sends (uWS: 2 = dropped past maxBackpressure, the connection is closing).
    const uws = session.ws!;
    const send = uws.send.bind(uws);
    (uws as { send: typeof uws.send }).send = (message, isBinary, compress) => {
      const rc = send(message, isBinary, compress);
      c.sends[rc]++;
      return rc;
    };
    ws.onMessage = (bytes, start, end) => c.frame(bytes.subarray(start, end));
    ws.onPong = () => {
      c.pongs++;
    };
    ws.onClose = (code, reason) => {
      c.close = { code, reason };
    };
    return c;
  }

  private frame(f: Uint8Array): void {
    if (R.verifier.verify(f) !== VerifyResult.OK) {
      this.bad++;
      return;
    }
    const m = R.m.wrap(f);
    const pos = m.bodyPos;
    const e: Logged = { body: m.bodyType, sym: -1, seq: -1, code: 0, text: '' };
    if (m.bodyType === Body.Error) {
      const r = R.error.wrap(f, pos);
      e.code = r.code;
      e.text = r.text ?? '';
    } else if (m.bodyType === Body.BookSnapshot) {
      e.sym = R.book.wrap(f, pos).symbolId;
    } else if (m.bodyType === Body.OrderBookSnapshot) {
      e.sym = R.l3.wrap(f, pos).symbolId;
    } else if (m.bodyType === Body.SymbolStatus) {
      e.sym = R.status.wrap(f, pos).symbolId;
    } else if (m.bodyType === Body.Trade) {
      const r = R.trade.wrap(f, pos);
      e.sym = r.symbolId;
      e.seq = r.seq;
    } else return;
    this.log.push(e);
  }

  /** Sends a ping and waits for its pong (uWS answers in order: every earlier frame was handled) or a close. */
  async barrier(what: string): Promise<void> {
    const n = this.pongs;
    this.ws.ping();
    await until(
      () => this.pongs > n || this.close !== undefined,
      `${what}: the ping barrier (does the server hang?)`,
      15_000,
      1,
    );
  }

  errors(from = 0, to = this.log.length): number[] {
    return this.log
      .slice(from, to)
      .filter((e) => e.body === Body.Error)
      .map((e) => e.code);
  }

  /** Snapshots received per `${body}/${symbol}` in log[from..]. */
  snapshots(from = 0): string {
    const m = new Map<string, number>();
    for (const e of this.log.slice(from))
      if (SNAPSHOT_BODIES.has(e.body)) m.set(`${e.body}/${e.sym}`, (m.get(`${e.body}/${e.sym}`) ?? 0) + 1);
    return JSON.stringify([...m].sort());
  }

  /** Every answer verifies; every error has a documented code and a text. */
  checkAnswers(where: string): void {
    if (this.bad !== 0) throw new Error(`${where}: ${this.bad} answers do not verify`);
    if (this.sends[2] > 1)
      throw new Error(`${where}: the gateway sent ${this.sends[2]} frames past the connection's hard bound`);
    for (const e of this.log) {
      if (e.body === Body.Error) tally.codes.set(e.code, (tally.codes.get(e.code) ?? 0) + 1);
      else if (SNAPSHOT_BODIES.has(e.body)) tally.snapshots++;
      if (e.body !== Body.Error) continue;
      if (!DOCUMENTED.has(e.code)) throw new Error(`${where}: undocumented error code ${e.code}`);
      if (e.text.length === 0) throw new Error(`${where}: error ${e.code} without a text`);
    }
    if (this.close !== undefined) tally.closes++;
  }

  /** The gateway's session holds what the model holds, and is neither resyncing nor closed. */
  checkSession(where: string, model: Model): void {
    const held = JSON.stringify([...this.session.subs].sort((x, y) => x[0] - y[0]));
    const want = JSON.stringify([...model.subs].sort((x, y) => x[0] - y[0]));
    if (held !== want) throw new Error(`${where}: the gateway holds ${held}, the model ${want}`);
    if (this.session.resyncing || !this.session.open)
      throw new Error(`${where}: session resyncing or closed`);
    checkTopics(where);
  }

  async released(where: string): Promise<void> {
    await until(() => !sessions.has(this.session), `${where}: the closed session is released`, 5000, 1);
    checkTopics(where);
  }

  /** 0: close handshake, 1: drop the TCP connection, 2: leave it open until the property ends. */
  finish(how: number): void {
    if (how === 0) this.ws.close();
    else if (how === 1) this.ws.terminate();
    else kept.push(this.ws);
  }
}

/** uWS topic subscriber counts equal what the open sessions hold (heartbeat topic: any channel). */
function checkTopics(where: string): void {
  const hub = ex.gateway.marketData.hub;
  for (const feed of hub.feeds.values()) {
    for (let i = 0; i < 6; i++) {
      let want = 0;
      for (const s of sessions) {
        if (s.resyncing) continue; // unsubscribed from its topics until the resync
        const bits = s.subs.get(feed.id) ?? 0;
        if (i === 5 ? bits !== 0 : (bits & (1 << i)) !== 0) want++;
      }
      const got = ex.gateway.app.numSubscribers(feed.topics[i]);
      if (got !== want)
        throw new Error(`${where}: ${feed.topics[i]} has ${got} subscribers, sessions hold ${want}`);
    }
  }
}

/**
 * One fuzz run: `frames` on a fresh connection, then the ping barrier; the answers and the
 * gateway's session are checked against the model; then the connection is closed (`finish`).
 */
async function run(frames: Wire[], finish: number): Promise<void> {
  runs++;
  const where = `run ${runs}`;
  const model = new Model();
  for (const f of frames) model.frame(f);
  if (model.answerBytes > MAX_ANSWER_BYTES) tally.skipped++;
  fc.pre(model.answerBytes <= MAX_ANSWER_BYTES);
  tally.frames += frames.length;
  const c = await Conn.open();
  let ok = false;
  try {
    const before = oldestSeqs();
    for (const f of frames) c.ws.send(f.bytes, f.binary);
    await c.barrier(where);
    if (model.closed && c.close === undefined)
      await until(() => c.close !== undefined, `${where}: the documented close`, 5000, 1);
    const after = oldestSeqs();
    c.checkAnswers(where);
    const errors = c.errors();
    if (!matches(model.errors, errors, before, after, model.closed)) {
      throw new Error(
        `${where}: errors ${JSON.stringify(errors)}, expected ${JSON.stringify(model.errors)} ` +
          `(oldest trade seqs before ${JSON.stringify([...before])}, after ${JSON.stringify([...after])})`,
      );
    }
    if (model.closed) {
      if (c.pongs > 0) throw new Error(`${where}: expected a close, got the pong`);
      await c.released(where);
    } else {
      if (c.close !== undefined)
        throw new Error(`${where}: unexpected close ${c.close.code} ${c.close.reason}`);
      const want = JSON.stringify([...model.snapshots].sort());
      if (c.snapshots() !== want) throw new Error(`${where}: snapshots ${c.snapshots()}, expected ${want}`);
      c.checkSession(where, model);
    }
    ok = true;
  } finally {
    if (!ok) c.ws.terminate();
  }
  if (!model.closed) c.finish(finish);
}

/** Outcomes of slow runs. */
const slowTally = { dropped: 0, resynced: 0, hardClosed: 0, deferred: 0, floodClosed: 0, floodResynced: 0 };

/**
 * A slow reader: subscribes to BTC (with L3), stops reading, and makes the gateway queue answers
 * (repeated L3 resubscriptions, a fresh snapshot each) until the slow-reader policy acts. A plain
 * connection must be dropped. A conflating one must be resynchronised: while the gateway holds it
 * unsubscribed it sends `window` (requests: errors still come at once, snapshots and trades replays
 * wait for the resync); then it reads again and must get everything in the documented order:
 * the backlog, Error 790, a fresh snapshot of every channel it holds, the trades it asked for.
 */
async function slowRun(conflate: boolean, channels: number, window: Wire[]): Promise<void> {
  runs++;
  const where = `slow run ${runs} (${conflate ? 'conflating' : 'plain'})`;
  const gw = ex.gateway.marketData;
  const feed = gw.hub.feed(BTC)!;
  const dropped0 = gw.statistics.dropped;
  const resynced0 = gw.statistics.resynced;
  const model = new Model();
  const c = await Conn.open();
  let ok = false;
  try {
    const sub: Wire = { bytes: encoder.subscribe(BTC, channels | 8, conflate ? 1 : 0).slice(), binary: true };
    model.frame(sub);
    c.ws.send(sub.bytes);
    await c.barrier(where);
    c.ws.pause();
    const deadline = Date.now() + 15_000;
    while (!c.session.resyncing && c.session.open && c.close === undefined) {
      if (Date.now() > deadline) throw new Error(`${where}: the slow-reader policy never acted`);
      const queued = c.session.ws?.getBufferedAmount() ?? 0;
      if (queued >= gw.policyBytes) {
        // Past the policy: its next check (after a flush, or the heartbeat tick) acts; wait for it
        // without queueing more, so the hard bound (twice the policy) is not what acts.
        await sleep(2);
        continue;
      }
      // Steps of ~128 KiB (the kernel's socket buffers fill first, then the gateway's queue).
      const pairs = Math.max(1, Math.min(128, Math.floor((128 * 1024) / (200 + 40 * feed.l3.size))));
      const f = encode({ k: 'resub', sym: BTC, ch: 8, from: { k: 'none' }, times: pairs });
      model.frame(f);
      c.ws.send(f.bytes);
      await sleep(queued === 0 ? 1 : 10);
    }
    if (!c.session.resyncing) {
      c.ws.resume();
      await until(() => c.close !== undefined, `${where}: the client sees the close`, 10_000, 1);
      c.checkAnswers(where);
      await c.released(where);
      // Closed by the policy (a plain reader: counted as dropped) or by uWS at the hard bound.
      if (conflate || gw.statistics.dropped <= dropped0) {
        if (c.sends[2] === 0) throw new Error(`${where}: closed, neither dropped nor at the hard bound`);
        slowTally.hardClosed++;
      } else slowTally.dropped++;
      ok = true;
      return;
    }
    if (!conflate) throw new Error(`${where}: a plain subscriber was resynchronised`);
    model.resyncing = true;
    for (const f of window) {
      model.frame(f);
      c.ws.send(f.bytes, f.binary);
    }
    await sleep(20);
    if (!c.session.resyncing) throw new Error(`${where}: the resync ended while the client was not reading`);
    model.resyncing = false;
    const before = oldestSeqs();
    c.ws.resume();
    const resynced = () => c.log.findIndex((e) => e.body === Body.Error && e.code === MdReason.RESYNCED);
    await until(() => resynced() >= 0 || c.close !== undefined, `${where}: Error 790`, 10_000, 1);
    await c.barrier(where);
    const after = oldestSeqs();
    c.checkAnswers(where);
    if (c.close !== undefined) throw new Error(`${where}: closed ${c.close.code} instead of resynchronised`);
    const mark = resynced();
    if (c.errors().filter((e) => e === MdReason.RESYNCED).length !== 1)
      throw new Error(`${where}: not one 790`);
    if (gw.statistics.resynced <= resynced0) throw new Error(`${where}: resync not counted`);
    const early = c.errors(0, mark);
    if (!matches(model.errors, early, before, after, false))
      throw new Error(`${where}: errors ${JSON.stringify(early)}, expected ${JSON.stringify(model.errors)}`);
    const late = c.errors(mark + 1);
    if (late.some((e) => e !== MdReason.TRADES_UNAVAILABLE) || late.length > model.deferred.size)
      throw new Error(`${where}: errors after the resync ${JSON.stringify(late)}`);
    // A fresh snapshot of every channel held, once.
    const want = new Map<string, number>();
    for (const [sym, bits] of model.subs) {
      if (bits & 2) want.set(`${Body.BookSnapshot}/${sym}`, 1);
      if (bits & 8) want.set(`${Body.OrderBookSnapshot}/${sym}`, 1);
      if (bits & 16) want.set(`${Body.SymbolStatus}/${sym}`, 1);
    }
    const wantSnaps = JSON.stringify([...want].sort());
    if (c.snapshots(mark + 1) !== wantSnaps)
      throw new Error(`${where}: snapshots after the resync ${c.snapshots(mark + 1)}, expected ${wantSnaps}`);
    // trades_from_seq asked during the resync: replayed after it (or Error 702), not lost.
    for (const [sym, from] of model.deferred) {
      slowTally.deferred++;
      const last = gw.hub.feed(sym)!.seq[0];
      if (from + 1 > last || late.includes(MdReason.TRADES_UNAVAILABLE)) continue;
      const got = c.log
        .slice(mark + 1)
        .some((e) => e.body === Body.Trade && e.sym === sym && e.seq === from + 1);
      if (!got) {
        const first = c.log.slice(mark + 1).find((e) => e.body === Body.Trade && e.sym === sym);
        throw new Error(
          `${where}: Subscribe(trades_from_seq ${from}) of symbol ${sym} sent during the resync was lost: ` +
            `no trade ${from + 1} after the resync (first trade after it: ${first?.seq}, last trade ${last})`,
        );
      }
    }
    c.checkSession(where, model);
    slowTally.resynced++;
    ok = true;
  } finally {
    if (!ok) c.ws.terminate();
  }
  c.ws.close();
}

/**
 * A flooding slow reader: stops reading, sends `frames` (often amplifying: every Unsubscribe +
 * Subscribe pair is answered with fresh snapshots and a trades replay), reads again after `pauseMs`.
 * Documented outcomes: answered in full, resynchronised (conflating), dropped or closed at the hard
 * bound (the client then sees a close); never served past the hard bound, never a hang; what the
 * gateway holds for a surviving connection is what the model holds.
 */
async function floodRun(frames: Wire[], pauseMs: number): Promise<void> {
  runs++;
  const where = `flood run ${runs}`;
  const model = new Model();
  for (const f of frames) model.frame(f);
  tally.frames += frames.length;
  const c = await Conn.open();
  let ok = false;
  try {
    const before = oldestSeqs();
    c.ws.pause();
    for (const f of frames) c.ws.send(f.bytes, f.binary);
    await sleep(pauseMs);
    c.ws.resume();
    await c.barrier(where);
    await until(() => !c.session.resyncing || c.close !== undefined, `${where}: the resync`, 10_000, 1);
    if (c.close === undefined) await c.barrier(where);
    const after = oldestSeqs();
    c.checkAnswers(where);
    if (c.close !== undefined || !c.session.open) {
      await until(() => c.close !== undefined, `${where}: the client sees the close`, 10_000, 1);
      await c.released(where);
      slowTally.floodClosed++;
    } else {
      const errors = c.errors();
      const resynced = errors.includes(MdReason.RESYNCED);
      if (resynced) slowTally.floodResynced++;
      // A resync defers trades replays (and so their 702) to after the 790 notice.
      const strip = (codes: number[]) =>
        codes.filter((e) => e !== MdReason.RESYNCED && e !== MdReason.TRADES_UNAVAILABLE);
      const same = resynced
        ? JSON.stringify(strip(errors)) === JSON.stringify(strip(model.errors.map((e) => e.code)))
        : matches(model.errors, errors, before, after, false);
      if (!same)
        throw new Error(
          `${where}: errors ${JSON.stringify(errors)}, expected ${JSON.stringify(model.errors)}`,
        );
      c.checkSession(where, model);
    }
    ok = true;
  } finally {
    if (!ok) c.ws.terminate();
  }
  if (c.close === undefined) c.ws.close();
}

// ---------------------------------------------------------------------------- the test

async function healthy(t: Test): Promise<void> {
  const res = await fetch(`${ex.httpUrl}/api/v1/health`);
  const body = (await res.json()) as { status: string };
  t.equal(res.status, 200, 'health: 200');
  t.equal(body.status, 'ok', 'health: ok');
}

/** Closes the connections kept open by runs, then checks nothing is left but the two good clients. */
async function released(t: Test, what: string): Promise<void> {
  for (const ws of kept) ws.close();
  kept = [];
  const st = ex.gateway.marketData;
  await until(() => st.statistics.connections === 2, `${what}: fuzz connections released`, 10_000);
  t.equal(st.statistics.connections, 2, `${what}: only the two good connections are left`);
  t.equal(st.statistics.subscriptions, 2 * 5 + 3, `${what}: only their subscriptions are left`);
  checkTopics(what);
  t.same(watcher.problems, [], `${what}: the good subscriber saw every seq in order`);
  t.equal(
    sdkBook.gaps + sdkBook.checksumFailures + sdkBook.resyncs,
    0,
    `${what}: the SDK book never resynced`,
  );
  await healthy(t);
  const codes = [...tally.codes].sort((x, y) => x[0] - y[0]).map(([c, n]) => `${c}x${n}`);
  t.pass(
    `${what}: ${tally.frames} frames, errors ${codes.join(' ')}, ${tally.snapshots} snapshots, ` +
      `${tally.closes} closes, ${tally.skipped} runs skipped as too heavy`,
  );
  tally.codes.clear();
  tally.snapshots = tally.closes = tally.skipped = tally.frames = 0;
}

function assertOptions(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS)) };
}

t.before(async () => {
  // Note: no request rate limit here (its bursts model every request as served); slowSubscriber.test.ts
  // tests the limit.
  ex = await startMdExchange({
    heartbeatMs: 50,
    tradeHistory: 256,
    maxSymbolsPerConnection: MAX_SYMBOLS,
    requestRate: 0,
  });
  sessions = (ex.gateway.marketData as unknown as { sessions: Set<MdSession> }).sessions;
  trader.start(SEED);
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  await until(() => feed.seq[0] > 300, 'the first 300 trades (the history wraps)');
  watcher = new SeqWatcher(await RawWebSocket.connect(ex.mdUrl), [BTC, ETH]);
  md = await MarketDataClient.connect({ url: ex.mdUrl });
  sdkBook = md.subscribe('BTC/USD', ['l2', 'bbo', 'trades']);
  await until(() => sdkBook.synced && watcher.last.get(BTC)![1] >= 0, 'the good subscribers synced');
});
t.teardown(async () => {
  await trader.stop();
  await ex.stop();
});

t.comment(`seed ${SEED} (MD_FUZZ_SEED), runs x${RUNS} (MD_FUZZ_RUNS)`);

t.test('garbage: random bytes, text and oversized frames', async (t) => {
  const started = performance.now();
  const wire: fc.Arbitrary<Wire> = fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ bytes, binary: true })) },
    {
      weight: 3,
      // Random bytes behind a plausible header: root offset + EXv1, so the verifier digs deeper.
      arbitrary: fc
        .record({
          root: fc.integer({ min: 0, max: 64 }),
          body: fc.uint8Array({ minLength: 8, maxLength: 200 }),
        })
        .map(({ root, body }) => {
          const bytes = new Uint8Array(8 + body.length);
          new DataView(bytes.buffer).setUint32(0, root * 4, true);
          bytes.set([0x45, 0x58, 0x76, 0x31], 4);
          bytes.set(body, 8);
          return { bytes, binary: true };
        }),
    },
    {
      weight: 2,
      arbitrary: fc.string({ maxLength: 100 }).map((s) => ({ bytes: Buffer.from(s), binary: false })),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ bytes, binary: false })) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: MAX_PAYLOAD - 2, max: MAX_PAYLOAD + 1024 })
        .map((n) => ({ bytes: new Uint8Array(n).fill(0x45), binary: true })),
    },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(wire, { minLength: 1, maxLength: 8 }), fc.nat(2), async (frames, finish) =>
      run(frames, finish),
    ),
    assertOptions(100),
  );
  t.pass(`garbage: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await released(t, 'garbage');
});

t.test('mutated valid requests: truncated, bit-flipped, overwritten', async (t) => {
  const started = performance.now();
  const seeds = seedFrames();
  const edit = fc.record({
    at: fc.nat(),
    what: fc.integer({ min: 0, max: 3 }),
    value: fc.oneof(
      fc.nat(255),
      fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x1fffff, 0x200000, 0x7fffffff, 0xffffffff),
    ),
  });
  const mutant = fc
    .record({
      seed: fc.nat(seeds.length - 1),
      cut: fc.option(fc.nat(), { freq: 3 }),
      edits: fc.array(edit, { minLength: 0, maxLength: 4 }),
    })
    .map(({ seed, cut, edits }): Wire => {
      const src = seeds[seed];
      let bytes = src.slice();
      if (cut !== null) bytes = bytes.subarray(0, cut % (src.length + 1)).slice();
      const dv = new DataView(bytes.buffer);
      for (const e of edits) {
        if (bytes.length === 0) break;
        const p = e.at % bytes.length;
        if (e.what === 0) bytes[p] ^= 1 << (e.value & 7);
        else if (e.what === 1) bytes[p] = e.value & 0xff;
        else if (e.what === 2 && (p & ~3) + 4 <= bytes.length) dv.setUint32(p & ~3, e.value >>> 0, true);
        else bytes[p] = 0;
      }
      return { bytes, binary: true };
    });
  let accepted = 0;
  const verifier = new FrameVerifier(Direction.ClientToGateway);
  await fc.assert(
    fc.asyncProperty(fc.array(mutant, { minLength: 1, maxLength: 10 }), fc.nat(2), async (frames, finish) => {
      for (const f of frames) if (verifier.verify(f.bytes) === VerifyResult.OK) accepted++;
      await run(frames, finish);
    }),
    assertOptions(120),
  );
  t.ok(accepted > 0, `some mutants still verified (${accepted}) and were served as requests`);
  t.pass(`mutants: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await released(t, 'mutants');
});

t.test('well-formed requests with out-of-range fields, repeated and batched', async (t) => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(
      fc.array(frames(24, 128), { minLength: 1, maxLength: 12 }),
      fc.nat(2),
      async (specs, finish) => run(specs.map(encode), finish),
    ),
    assertOptions(150),
  );
  t.pass(`requests: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await released(t, 'requests');
});

t.test('bursts: hundreds of requests back to back', async (t) => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(
      fc.array(frames(8, 4), { minLength: 200, maxLength: 600, size: 'max' }),
      fc.nat(2),
      async (specs, finish) => run(specs.map(encode), finish),
    ),
    { ...assertOptions(6), maxSkipsPerRun: 1000 },
  );
  t.pass(`bursts: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await released(t, 'bursts');
});

// The WebSocket requests have no depth; the REST book has (docs/marketdata.md: `depth` 0/absent =
// whole book, else an integer in 0..100000; anything else 400 INVALID_PARAMETER).
t.test('REST book depth: zero, huge, negative, malformed', async (t) => {
  const depthArb = fc.oneof(
    fc.integer({ min: -1000, max: 10 ** 12 }).map(String),
    fc.constantFrom(
      '',
      '0',
      '1',
      '100000',
      '100001',
      'abc',
      '1e3',
      '0x10',
      '1.5',
      '-0',
      ' 5',
      'NaN',
      'Infinity',
    ),
    fc.string({ maxLength: 12 }).filter((v) => !/^0\d/.test(v)),
  );
  await fc.assert(
    fc.asyncProperty(depthArb, async (depth) => {
      const res = await fetch(`${ex.httpUrl}/api/v1/book/BTC-USD?depth=${encodeURIComponent(depth)}`);
      const body = (await res.json()) as { bids?: unknown[]; asks?: unknown[]; error?: { code: string } };
      const n = depth === '' ? 0 : /^(0|[1-9]\d*)$/.test(depth) ? Number(depth) : -1;
      if (n >= 0 && n <= 100_000) {
        if (res.status !== 200) throw new Error(`depth ${JSON.stringify(depth)}: status ${res.status}`);
        if (n > 0 && (body.bids!.length > n || body.asks!.length > n))
          throw new Error(`depth ${n}: ${body.bids!.length} bids, ${body.asks!.length} asks`);
      } else if (res.status !== 400 || body.error?.code !== 'INVALID_PARAMETER') {
        throw new Error(`depth ${JSON.stringify(depth)}: status ${res.status} ${JSON.stringify(body.error)}`);
      }
    }),
    assertOptions(60),
  );
  await healthy(t);
});

t.test('slow readers: dropped, or resynchronised with every request honoured', async (t) => {
  const started = performance.now();
  // Requests sent during the resync window; often the documented trades gap recovery.
  const recovery: fc.Arbitrary<FrameSpec> = fc.record({
    k: fc.constant('resub' as const),
    sym: fc.constantFrom(1, 2),
    ch: fc.integer({ min: 0, max: 31 }).map((ch) => ch | 1),
    from: fc.integer({ min: -300, max: 5 }).map((d) => ({ k: 'rel' as const, d })),
    times: fc.constant(1),
  });
  const window = fc
    .array(fc.oneof(frames(8, 2), recovery), { maxLength: 8 })
    .map((specs) => specs.map(encode));
  await fc.assert(
    fc.asyncProperty(
      fc.nat(3).map((n) => n > 0),
      fc.integer({ min: 0, max: 31 }),
      window,
      async (conflate, channels, w) => slowRun(conflate, channels, w),
    ),
    assertOptions(8),
  );
  const gw = ex.gateway.marketData;
  t.ok(slowTally.resynced > 0, `resynchronised ${slowTally.resynced} times`);
  t.pass(
    `slow readers: ${slowTally.dropped} dropped, ${slowTally.resynced} resynchronised ` +
      `(${slowTally.deferred} trades replays asked during a resync), ${slowTally.hardClosed} closed at the hard bound`,
  );
  t.ok(
    gw.statistics.maxBufferedSeen <= gw.maxBackpressureBytes,
    `largest queue seen ${gw.statistics.maxBufferedSeen} <= bound ${gw.maxBackpressureBytes}`,
  );
  t.pass(`slow readers: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await released(t, 'slow readers');
});

// Regression (found by the slow-reader property): a conflating subscriber that was being resynchronised
// asked for the trades it missed (Unsubscribe + Subscribe(Trades, trades_from_seq) in one Batch, the
// documented gap recovery) before the RESYNCED notice reached it. The gateway dropped the request:
// after the resync the live trades started without the replay and without Error 702.
t.test('regression: a trades replay asked during a resync is served after it', async (t) => {
  const recovery = encode({ k: 'resub', sym: BTC, ch: 1, from: { k: 'rel', d: -10 }, times: 1 });
  const resynced = slowTally.resynced;
  await slowRun(true, 1, [recovery]);
  t.equal(slowTally.resynced, resynced + 1, 'resynchronised, and the ten missed trades were replayed');
  await released(t, 'regression');
});

t.test('flooding slow readers: amplifying requests without reading', async (t) => {
  const started = performance.now();
  const heavy: fc.Arbitrary<FrameSpec> = fc.record({
    k: fc.constant('resub' as const),
    sym: fc.constantFrom(1, 2),
    ch: fc.integer({ min: 1, max: 31 }),
    from: fc.oneof(
      fc.constant({ k: 'none' as const }),
      fc.integer({ min: -300, max: 0 }).map((d) => ({ k: 'rel' as const, d })),
    ),
    times: fc.integer({ min: 16, max: 128 }),
  });
  const flood = fc.array(
    fc.oneof({ weight: 3, arbitrary: heavy }, { weight: 1, arbitrary: frames(24, 16) }),
    {
      minLength: 4,
      maxLength: 16,
    },
  );
  await fc.assert(
    fc.asyncProperty(flood, fc.integer({ min: 0, max: 200 }), async (specs, pauseMs) =>
      floodRun(specs.map(encode), pauseMs),
    ),
    assertOptions(6),
  );
  t.pass(
    `floods: ${slowTally.floodClosed} closed, ${slowTally.floodResynced} resynchronised, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await released(t, 'floods');
});

// Regression (found while fuzzing floods): a reader that stopped reading and sent a few Batches of
// 128 x [Unsubscribe(BTC, all), Subscribe(BTC, all, trades_from_seq = oldest held)] made the gateway
// encode ~400 000 frames (snapshots, replayed trades) that uWS dropped because the connection was
// past its hard bound and closing: the main thread froze ~0.5 s here, seconds with the default
// 8192-trade history, for every subscriber and order-entry session.
t.test('regression: a connection past its hard bound is not served any more', async (t) => {
  const feed = ex.gateway.marketData.hub.feed(BTC)!;
  encoder.beginBatch();
  for (let i = 0; i < 128; i++) {
    encoder.addUnsubscribe(BTC, 0);
    encoder.addSubscribe(BTC, ALL, 0, feed.trades.oldestSeq);
  }
  const amplify = encoder.endBatch().slice();
  const closedAtBound = ex.gateway.marketData.statistics.closedAtBound;
  const c = await Conn.open();
  c.ws.pause();
  for (let i = 0; i < 16; i++) c.ws.send(amplify);
  await until(() => !sessions.has(c.session), 'the connection closed at its hard bound', 10_000);
  c.ws.resume();
  await until(() => c.close !== undefined, 'the client sees the close', 10_000);
  t.equal(c.sends[2], 1, 'one frame dropped at the bound, then nothing more was encoded for it');
  t.equal(ex.gateway.marketData.statistics.closedAtBound, closedAtBound + 1, 'counted (closed_at_bound)');
  const metrics = await (await fetch(`${ex.httpUrl}/metrics`)).text();
  t.match(
    metrics,
    `exchange_md_slow_subscribers_total{action="closed_at_bound"} ${closedAtBound + 1}`,
    'and exported in /metrics',
  );
  await released(t, 'regression');
});

t.test('the good subscribers kept every seq and end equal to the engine', async (t) => {
  await trader.stop();
  const hub = ex.gateway.marketData.hub;
  const caughtUp = () =>
    [BTC, ETH].every((id) => {
      const feed = hub.feed(id)!;
      const l = watcher.last.get(id)!;
      return [0, 1, 2, 3].every((ch) => l[ch] === feed.seq[ch]);
    }) && sdkBook.seq === hub.feed(BTC)!.seq[1];
  await until(caughtUp, 'the good subscribers at the last seq of every channel', 10_000);
  t.comment(`${trader.orders} orders traded during the fuzz, ${runs} fuzz runs`);
  t.ok(
    watcher.deltas > 1000 && watcher.heartbeats > 20,
    `${watcher.deltas} deltas, ${watcher.heartbeats} heartbeats checked`,
  );
  t.same(watcher.problems, [], 'no gap, no error, no stray frame on the good connection');
  const levels = (b: L2Book) =>
    [b.bids, b.asks].map((s) => Array.from(s.price.subarray(0, s.count)).join()).join('|') +
    [b.bids, b.asks].map((s) => Array.from(s.quantity.subarray(0, s.count)).join()).join('|');
  t.equal(levels(sdkBook.book), levels(ex.oracle.get(BTC)!), "the SDK book equals the engine's");
  t.equal(sdkBook.gaps + sdkBook.checksumFailures + sdkBook.resyncs, 0, 'the SDK book never resynced');
  await healthy(t);
  watcher.ws.close();
  await md.close();
  await until(() => ex.gateway.marketData.statistics.connections === 0, 'all connections released', 10_000);
  t.equal(ex.gateway.marketData.statistics.subscriptions, 0, 'no subscription left');
  checkTopics('end');
  for (const feed of hub.feeds.values())
    for (const topic of feed.topics) t.equal(ex.gateway.app.numSubscribers(topic), 0, `${topic}: released`);
});
