/**
 * Model-based property tests (fast-check): command sequences drawn from shrinkable arbitraries run
 * through the fast MatchingEngine (the system under test) and the naive ReferenceEngine (the model,
 * in whole-book market-data mode). After EVERY command:
 *   - both engines emitted byte-identical events and agree on l2() and stateHash();
 *   - the invariants of test/fixtures/engine/Invariants.ts hold: gap-free sequence from 1, quantity
 *     conserved per order, equal fill legs, no fill through a limit, no self-trade, book never
 *     crossed, price levels ordered and holding exactly the open resting orders, market data that
 *     rebuilds the book.
 * Two universes: a broad one (2 symbols with band and notional limits, 5 accounts for a 4-account
 * table, a 24-order pool, odd and invalid values) and a dense one (one symbol, 3 prices, 3 accounts:
 * many matches, icebergs, STP). On failure fast-check prints the shrunk command list, its seed and
 * path. Environment: PROP_SEED (default printed), PROP_RUNS (runs per property, default 6000).
 */
import fc from 'fast-check';
import t, { type Test } from 'tap';
import type { EngineConfig } from '../../engine/book/Engine.js';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import * as C from '../../engine/records/CommandRecord.js';
import { COMMAND_SIZE, CommandType } from '../../engine/records/CommandRecord.js';
import { OrderFlags, OrderType, Side, TimeInForce } from '../../engine/records/OrderCodes.js';
import { makeId } from '../../engine/records/OrderId.js';
import { ReferenceEngine } from '../../engine/reference/ReferenceEngine.js';
import { describeCommand } from '../fixtures/engine/commandText.js';
import { compareL2, eventsReport, sameEvents } from '../fixtures/engine/compareEngines.js';
import { Invariants } from '../fixtures/engine/Invariants.js';

const SEED = Number(process.env.PROP_SEED ?? 0x51de_c0de);
const RUNS = Number(process.env.PROP_RUNS ?? 6000);
const CONFIG: EngineConfig = { shardId: 1, maxOrders: 24, maxSymbols: 3, maxAccounts: 4 };
const SYMBOLS = [1, 2, 3];

// ---------------------------------------------------------------------------- command specs

/** A NEW_ORDER as drawn; `expireIn` is added to the engine clock at run time. */
interface NewSpec {
  k: 'new';
  sym: number;
  acct: number;
  side: number;
  type: number;
  tif: number;
  flags: number;
  stp: number;
  group: number;
  price: number;
  qty: number;
  stop: number;
  display: number;
  minQty: number;
  expireIn: number;
  clientId: number;
}
/** Targets are small order counters (resolved to shard ids); 'owner' = the target's own account/symbol. */
interface CancelSpec {
  k: 'cancel';
  target: number;
  acct: number | 'owner';
  sym: number | 'owner';
}
interface CancelClSpec {
  k: 'cancelCl';
  clientId: number;
  acct: number;
  sym: number;
}
interface AmendSpec {
  k: 'amend';
  target: number;
  acct: number | 'owner';
  sym: number | 'owner';
  price: number | 'same';
  qty: number | 'same';
}
interface MassSpec {
  k: 'mass';
  acct: number;
  sym: number;
  side: number;
}
interface TimeSpec {
  k: 'time';
}
interface OddSpec {
  k: 'odd';
  type: number;
  sym: number;
  price: number;
}
type Spec = (NewSpec | CancelSpec | CancelClSpec | AmendSpec | MassSpec | TimeSpec | OddSpec) & {
  dt: number;
};

interface Universe {
  readonly symbols: readonly number[];
  readonly accounts: number;
  readonly priceLo: number;
  readonly priceHi: number;
  readonly qtyHi: number;
  readonly groups: number;
  readonly targets: number;
  /** Weight of odd/invalid values (0 = none). */
  readonly odd: number;
}

const BROAD: Universe = {
  symbols: [1, 2],
  accounts: 5,
  priceLo: 95,
  priceHi: 105,
  qtyHi: 12,
  groups: 2,
  targets: 30,
  odd: 1,
};
const DENSE: Universe = {
  symbols: [1],
  accounts: 3,
  priceLo: 99,
  priceHi: 101,
  qtyHi: 6,
  groups: 1,
  targets: 20,
  odd: 0,
};

const ODD = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53, 1e300];

function withOdd(u: Universe, arb: fc.Arbitrary<number>, odd: readonly number[] = ODD): fc.Arbitrary<number> {
  if (u.odd === 0) return arb;
  return fc.oneof({ arbitrary: arb, weight: 25 }, { arbitrary: fc.constantFrom(...odd), weight: u.odd });
}

function specArbitrary(u: Universe): fc.Arbitrary<Spec> {
  const dt = fc.oneof(
    { arbitrary: fc.constant(0), weight: 3 },
    { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 2 },
  );
  const sym = withOdd(u, fc.constantFrom(...u.symbols), [3, 0, 70_000]);
  const acct = fc.integer({ min: 1, max: u.accounts });
  const side = withOdd(u, fc.constantFrom(Side.BUY, Side.SELL), [0, 3]);
  const price = withOdd(u, fc.integer({ min: u.priceLo, max: u.priceHi }), [...ODD, 89, 111]);
  const qty = withOdd(u, fc.integer({ min: 1, max: u.qtyHi }), [...ODD, 51]);
  const smallQty = fc.oneof(
    { arbitrary: fc.constant(0), weight: 4 },
    { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 1 },
  );
  const base = {
    sym,
    acct,
    side,
    flags: fc.oneof(
      { arbitrary: fc.constant(0), weight: 5 },
      { arbitrary: fc.constant(OrderFlags.POST_ONLY), weight: 1 },
    ),
    stp: withOdd(u, fc.integer({ min: 0, max: 3 }), [4]),
    group: fc.oneof(
      { arbitrary: fc.constant(0), weight: 4 },
      { arbitrary: fc.integer({ min: 1, max: u.groups }), weight: 1 },
    ),
    qty,
    display: smallQty,
    minQty: smallQty,
    expireIn: fc.integer({ min: 1, max: 25 }),
    clientId: fc.oneof(
      { arbitrary: fc.constant(0), weight: 2 },
      { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 1 },
    ),
    dt,
  };
  const order = (
    type: fc.Arbitrary<number>,
    tif: fc.Arbitrary<number>,
    px: fc.Arbitrary<number>,
    stop: fc.Arbitrary<number>,
  ) => fc.record({ ...base, k: fc.constant('new' as const), type, tif, price: px, stop });
  const gtcLike = fc.constantFrom(TimeInForce.GTC, TimeInForce.GTC, TimeInForce.GTD);
  const anyTif = withOdd(
    u,
    fc.constantFrom(TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTD),
    [0, 5],
  );
  const stopPrice = fc.integer({ min: u.priceLo, max: u.priceHi });
  const limit = order(fc.constant(OrderType.LIMIT), anyTif, price, fc.constant(0));
  const market = order(
    fc.constant(OrderType.MARKET),
    fc.constantFrom(TimeInForce.IOC, TimeInForce.FOK),
    fc.constant(0),
    fc.constant(0),
  );
  const stopMarket = order(fc.constant(OrderType.STOP), gtcLike, fc.constant(0), stopPrice);
  const stopLimit = order(fc.constant(OrderType.STOP_LIMIT), anyTif, price, stopPrice);
  // Any type/tif/flags combination, valid or not.
  const anything = fc.record({
    ...base,
    k: fc.constant('new' as const),
    type: fc.integer({ min: 0, max: 5 }),
    tif: fc.integer({ min: 0, max: 5 }),
    flags: fc.integer({ min: 0, max: 3 }),
    price,
    stop: withOdd(u, stopPrice),
  });
  const target = fc.integer({ min: 1, max: u.targets });
  const ownerOr = (arb: fc.Arbitrary<number>) =>
    fc.oneof({ arbitrary: fc.constant('owner' as const), weight: 6 }, { arbitrary: arb, weight: 1 });
  const cancel = fc.record({
    k: fc.constant('cancel' as const),
    target,
    acct: ownerOr(acct),
    sym: ownerOr(sym),
    dt,
  });
  const cancelCl = fc.record({
    k: fc.constant('cancelCl' as const),
    clientId: fc.integer({ min: 0, max: 4 }),
    acct,
    sym,
    dt,
  });
  const amend = fc.record({
    k: fc.constant('amend' as const),
    target,
    acct: ownerOr(acct),
    sym: ownerOr(sym),
    price: fc.oneof({ arbitrary: fc.constant('same' as const), weight: 1 }, { arbitrary: price, weight: 2 }),
    qty: fc.oneof({ arbitrary: fc.constant('same' as const), weight: 1 }, { arbitrary: qty, weight: 2 }),
    dt,
  });
  const mass = fc.record({
    k: fc.constant('mass' as const),
    acct,
    sym: fc.constantFrom(0, ...u.symbols, 3),
    side: fc.constantFrom(0, Side.BUY, Side.SELL, 3),
    dt,
  });
  const time = fc.record({ k: fc.constant('time' as const), dt: fc.integer({ min: 1, max: 30 }) });
  const odd = fc.record({
    k: fc.constant('odd' as const),
    type: fc.constantFrom(0, 8, 255, CommandType.ADD_SYMBOL),
    sym: fc.constantFrom(0, 1, 3, 70_000),
    price: fc.constantFrom(0, 1, 50, Number.NaN),
    dt,
  });
  const arbs: fc.WeightedArbitrary<Spec>[] = [
    { arbitrary: limit, weight: 12 },
    { arbitrary: market, weight: 2 },
    { arbitrary: stopMarket, weight: 2 },
    { arbitrary: stopLimit, weight: 2 },
    { arbitrary: cancel, weight: 3 },
    { arbitrary: cancelCl, weight: 1 },
    { arbitrary: amend, weight: 5 },
    { arbitrary: mass, weight: 1 },
    { arbitrary: time, weight: 1 },
  ];
  if (u.odd > 0) arbs.push({ arbitrary: anything, weight: 1 }, { arbitrary: odd, weight: 1 });
  return fc.oneof(...arbs);
}

// ---------------------------------------------------------------------------- model and real

interface Model {
  readonly ref: ReferenceEngine;
  readonly refSink: EventBuffer;
  readonly inv: Invariants;
  readonly cmd: DataView;
  /** Owner (account, symbol) of every order ever accepted, to aim cancels and amends. */
  readonly owners: Map<number, { acct: number; sym: number; price: number; qty: number }>;
  clock: number;
}
interface Real {
  readonly fast: MatchingEngine;
  readonly sink: EventBuffer;
}

function specText(s: Spec): string {
  const { k, dt, ...rest } = s;
  const fields = Object.entries(rest)
    .map(([key, v]) => `${key}=${Object.is(v, -0) ? '-0' : String(v)}`)
    .join(' ');
  return `${k}(${fields}${dt ? ` dt=${dt}` : ''})`;
}

/** Writes the command of `s` into `m.cmd` (resolving targets and relative times against the model). */
function encode(m: Model, s: Spec): void {
  const v = m.cmd;
  const ts = m.clock;
  const corr = m.ref.sequence + 1;
  switch (s.k) {
    case 'new': {
      const expire = s.tif === TimeInForce.GTD ? ts + s.expireIn : 0;
      C.writeHeader(v, 0, CommandType.NEW_ORDER, s.sym, s.acct, s.acct + 10, ts, corr, s.clientId);
      const display = s.type === OrderType.LIMIT || s.type === OrderType.STOP_LIMIT ? s.display : 0;
      const minQty = s.type === OrderType.LIMIT || s.type === OrderType.MARKET ? s.minQty : 0;
      C.writeNewOrder(
        v,
        0,
        s.side,
        s.type,
        s.tif,
        s.flags,
        s.stp,
        s.group,
        s.price,
        s.qty,
        s.stop,
        display,
        minQty,
        expire,
      );
      break;
    }
    case 'cancel': {
      const id = makeId(CONFIG.shardId, s.target);
      const o = m.owners.get(id);
      C.writeHeader(
        v,
        0,
        CommandType.CANCEL,
        s.sym === 'owner' ? (o?.sym ?? 1) : s.sym,
        s.acct === 'owner' ? (o?.acct ?? 1) : s.acct,
        7,
        ts,
        corr,
        0,
      );
      C.writeCancel(v, 0, id);
      break;
    }
    case 'cancelCl':
      C.writeHeader(v, 0, CommandType.CANCEL_BY_CLIENT_ID, s.sym, s.acct, 7, ts, corr, s.clientId);
      break;
    case 'amend': {
      const id = makeId(CONFIG.shardId, s.target);
      const o = m.owners.get(id);
      C.writeHeader(
        v,
        0,
        CommandType.AMEND,
        s.sym === 'owner' ? (o?.sym ?? 1) : s.sym,
        s.acct === 'owner' ? (o?.acct ?? 1) : s.acct,
        7,
        ts,
        corr,
        0,
      );
      C.writeAmend(
        v,
        0,
        id,
        s.price === 'same' ? (o?.price ?? 100) : s.price,
        s.qty === 'same' ? (o?.qty ?? 5) : s.qty,
      );
      break;
    }
    case 'mass':
      C.writeHeader(v, 0, CommandType.MASS_CANCEL, s.sym, s.acct, 7, ts, corr, 0);
      C.writeMassCancel(v, 0, s.side);
      break;
    case 'time':
      C.writeHeader(v, 0, CommandType.TIME_ADVANCE, 0, 0, 0, ts, corr, 0);
      break;
    case 'odd':
      C.writeHeader(v, 0, s.type, s.sym, 1, 7, ts, corr, 0);
      C.writeAddSymbol(v, 0, s.price, 200, 1, 50, 0, 0, 0);
      break;
  }
}

/** Processes the command in `m.cmd` on both engines and checks everything; throws on a violation. */
function step(m: Model, r: Real, what: string): void {
  m.refSink.clear();
  r.sink.clear();
  const nr = m.ref.process(m.cmd, 0, m.refSink);
  const nf = r.fast.process(m.cmd, 0, r.sink);
  const cmdText = describeCommand(m.cmd, 0);
  if (nr !== nf || !sameEvents(r.sink, m.refSink)) {
    throw new Error(
      `${what}: events differ\n${cmdText}\n${eventsReport('fast', r.sink, 'reference', m.refSink)}`,
    );
  }
  try {
    m.inv.observe(r.sink);
    m.inv.afterCommand(r.fast);
  } catch (err) {
    throw new Error(
      `${what}: ${(err as Error).message}\n${cmdText}\n${eventsReport('fast', r.sink, 'reference', m.refSink)}`,
    );
  }
  const l2 = compareL2(r.fast, m.ref, SYMBOLS, 64);
  if (l2 !== null) throw new Error(`${what}: l2 differs: ${l2}\n${cmdText}`);
  const hf = r.fast.stateHash();
  const hr = m.ref.stateHash();
  if (hf !== hr) throw new Error(`${what}: stateHash fast ${hf} reference ${hr}\n${cmdText}`);
  // Remember owners and current price/quantity of accepted and amended orders (for later targets).
  for (let i = 0; i < r.sink.count; i++) {
    const o = i * 128;
    const type = r.sink.view.getUint8(o);
    if (type === 1 || type === 5) {
      m.owners.set(r.sink.view.getFloat64(o + 40, true), {
        acct: r.sink.view.getUint32(o + 36, true),
        sym: r.sink.view.getUint32(o + 4, true),
        price: r.sink.view.getFloat64(o + 56, true),
        qty: r.sink.view.getFloat64(o + 72, true),
      });
    }
  }
}

class EngineStep implements fc.Command<Model, Real> {
  constructor(readonly spec: Spec) {}

  check(): boolean {
    return true;
  }

  run(m: Model, r: Real): void {
    m.clock += this.spec.dt;
    encode(m, this.spec);
    step(m, r, this.toString());
  }

  toString(): string {
    return specText(this.spec);
  }
}

function setup(): { model: Model; real: Real } {
  const model: Model = {
    ref: new ReferenceEngine(CONFIG, { fullMarketDataDiff: true }),
    refSink: new EventBuffer(64),
    inv: new Invariants(SYMBOLS),
    cmd: new DataView(new ArrayBuffer(COMMAND_SIZE)),
    owners: new Map(),
    clock: 1,
  };
  const real: Real = { fast: new MatchingEngine({ ...CONFIG, initialLevels: 2 }), sink: new EventBuffer(64) };
  // Symbol 1: plain. Symbol 2: 5% band around its reference, notional limit 2,000.
  const add = (id: number, maxNotional: number, band: number) => {
    C.writeHeader(model.cmd, 0, CommandType.ADD_SYMBOL, id, 0, 0, model.clock, 0, 0);
    C.writeAddSymbol(model.cmd, 0, 90, 110, 1, 50, maxNotional, 100, band);
    step(model, real, `ADD_SYMBOL ${id}`);
  };
  add(1, 0, 0);
  add(2, 2000, 500);
  return { model, real };
}

function runProperty(
  t: Test,
  name: string,
  u: Universe,
  seed: number,
  numRuns: number,
  maxCommands: number,
): void {
  t.comment(`${name}: seed ${seed}, ${numRuns} runs (PROP_SEED=${seed} PROP_RUNS=${numRuns})`);
  const started = performance.now();
  try {
    fc.assert(
      fc.property(fc.commands([specArbitrary(u).map((s) => new EngineStep(s))], { maxCommands }), (cmds) => {
        fc.modelRun(setup, cmds);
      }),
      { seed, numRuns },
    );
    t.pass(`${name}: ${numRuns} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    const cause = (err as Error).cause;
    const detail = cause instanceof Error ? `\n${cause.message}` : '';
    console.error(`${name}: property failed (seed ${seed})\n${(err as Error).message}${detail}`);
    t.fail(`${name}: property failed (seed ${seed}); see the counterexample above`);
  }
}

t.test('fast engine == reference engine, invariants after every command (broad universe)', (t) => {
  runProperty(t, 'broad', BROAD, SEED, RUNS, 40);
  t.end();
});

t.test('fast engine == reference engine, invariants after every command (dense universe)', (t) => {
  runProperty(t, 'dense', DENSE, SEED + 1, RUNS, 30);
  t.end();
});

t.test('the invariant checker catches a broken stream (self-test)', (t) => {
  const { model, real } = setup();
  const order = (acct: number, side: number): Spec => ({
    k: 'new',
    sym: 1,
    acct,
    side,
    type: OrderType.LIMIT,
    tif: TimeInForce.GTC,
    flags: 0,
    stp: 0,
    group: 0,
    price: 100,
    qty: 5,
    stop: 0,
    display: 0,
    minQty: 0,
    expireIn: 1,
    clientId: 0,
    dt: 0,
  });
  encode(model, order(1, Side.SELL));
  step(model, real, 'sell');
  encode(model, order(2, Side.BUY));
  step(model, real, 'buy');
  // The buy's events: ACCEPTED, FILL, L2_UPDATE, BBO. Replaying the FILL (renumbered) must fail:
  // both orders are closed, so it would trade quantity that does not exist.
  const replay = new EventBuffer(4);
  const at = replay.claim();
  replay.bytes.set(real.sink.bytes.subarray(128, 256), at);
  replay.view.setFloat64(at + 8, real.fast.sequence + 1, true);
  t.throws(() => model.inv.observe(replay), /not open/, 'a second fill of closed orders is refused');
  replay.view.setFloat64(at + 8, real.fast.sequence + 5, true);
  t.throws(() => model.inv.observe(replay), /seq/, 'a sequence gap is refused');
  t.end();
});
