/**
 * Deterministic command streams for the differential tests and the engine benchmark.
 *
 * A generator is driven by a seed (mulberry32, never Math.random) and by feedback: after writing a
 * command with `next()`, the caller processes it through a model engine and hands the resulting
 * events to `observe()`; the generator also reads the model's best prices with `Engine.l2()`. So it
 * aims cancels and amends at orders that are really open, places stops near the last trade so they
 * trigger, and keeps the book near a target size. Same seed + deterministic model = same stream.
 *
 * Two mixes:
 *  - `mixed`: every command and order type in realistic proportions, over four symbols (one with a
 *    price band and notional limit, one with a min quantity, one with prices near 2^50), hot accounts
 *    and trade groups (STP), icebergs, stops that trigger, GTD orders and time jumps, amends that keep
 *    or lose priority, mass cancels, floods that fill the order pool, and invalid commands of every
 *    kind (bad fields, NaN, -0, unknown ids, duplicates, stale timestamps, unknown command types).
 *    Meant for `MIXED_CONFIG`.
 *  - `exchangeCore`: the exchange-core benchmark mix after a prefill of about 1,000 resting orders
 *    over about 750 price levels: 9% GTC limit, 3% IOC limit, 6% cancel, 82% move (amend price),
 *    1,000 accounts, about 6% of commands trading (tuned by feedback). Every command is valid, and the
 *    n-th NEW_ORDER gets order id n (shard 0). Meant for `EXCHANGE_CORE_CONFIG`.
 *
 * Used by test/engine/differential.test.ts and bench/engine/engine.bench.ts. Allocates (test/bench
 * setup only). Thread-safety: single-threaded.
 */
import type { Engine, EngineConfig } from '../book/Engine.js';
import type { EventSink } from '../book/EventSink.js';
import * as C from '../records/CommandRecord.js';
import { COMMAND_SIZE, CommandType } from '../records/CommandRecord.js';
import { EVENT_SIZE } from '../records/EventRecord.js';
import { OrderFlags, OrderType, Side, TimeInForce } from '../records/OrderCodes.js';
import { type LiveOrder, LiveOrders } from './LiveOrders.js';
import { Prng } from './Prng.js';

export type Mix = 'mixed' | 'exchangeCore';

export interface GeneratorOptions {
  readonly seed: number;
  readonly mix: Mix;
  /** exchangeCore: resting orders placed before the mix (default 1000). */
  readonly resting?: number;
  /** exchangeCore: accounts 1..accounts (default 1000). */
  readonly accounts?: number;
  /** exchangeCore: target fraction of commands that trade (default 0.06). */
  readonly tradingFraction?: number;
}

/** Engine configuration the `mixed` streams are made for (small pools, so they fill up). */
export const MIXED_CONFIG: EngineConfig = { shardId: 3, maxOrders: 3000, maxSymbols: 6, maxAccounts: 300 };
/** Engine configuration the `exchangeCore` streams are made for. */
export const EXCHANGE_CORE_CONFIG: EngineConfig = {
  shardId: 0,
  maxOrders: 1 << 16,
  maxSymbols: 4,
  maxAccounts: 1024,
};

interface SymbolSpec {
  readonly id: number;
  readonly minPrice: number;
  readonly maxPrice: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly maxNotional: number;
  readonly referencePrice: number;
  readonly bandBps: number;
  /** Starting mid price and usual order quantity range. */
  readonly mid: number;
  readonly qtyLo: number;
  readonly qtyHi: number;
}

const BIG = 2 ** 50;
const MIXED_SYMBOLS: readonly SymbolSpec[] = [
  {
    id: 1,
    minPrice: 1,
    maxPrice: 200_000,
    minQty: 1,
    maxQty: 1_000_000,
    maxNotional: 0,
    referencePrice: 0,
    bandBps: 0,
    mid: 10_000,
    qtyLo: 1,
    qtyHi: 50,
  },
  {
    id: 2,
    minPrice: 5_000,
    maxPrice: 15_000,
    minQty: 1,
    maxQty: 5_000,
    maxNotional: 3_000_000,
    referencePrice: 10_000,
    bandBps: 500,
    mid: 10_000,
    qtyLo: 1,
    qtyHi: 40,
  },
  {
    id: 3,
    minPrice: 1,
    maxPrice: 1_000,
    minQty: 10,
    maxQty: 100_000,
    maxNotional: 0,
    referencePrice: 500,
    bandBps: 0,
    mid: 500,
    qtyLo: 10,
    qtyHi: 500,
  },
  {
    id: 700,
    minPrice: BIG,
    maxPrice: BIG + 1_000_000,
    minQty: 1,
    maxQty: 100,
    maxNotional: 2 ** 53 - 1,
    referencePrice: BIG + 500_000,
    bandBps: 1,
    mid: BIG + 500_000,
    qtyLo: 1,
    qtyHi: 9,
  },
];
const EC_SYMBOL: SymbolSpec = {
  id: 1,
  minPrice: 1,
  maxPrice: 200_000,
  minQty: 1,
  maxQty: 1_000_000_000,
  maxNotional: 0,
  referencePrice: 0,
  bandBps: 0,
  mid: 100_000,
  qtyLo: 1,
  qtyHi: 200,
};
/** exchangeCore: a passive order sits 1..EC_RANGE ticks behind the touch (about 750 levels for 1,000 orders). */
const EC_RANGE = 820;

/** Odd values for fields that must be integers. */
const ODD_NUMBERS = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  0.5,
  1.5,
  2 ** 53,
  -0,
  -(2 ** 60),
];

/** Fields of a NEW_ORDER before it is written. */
interface OrderFields {
  symbolId: number;
  accountId: number;
  sessionId: number;
  clientOrderId: number;
  side: number;
  orderType: number;
  timeInForce: number;
  flags: number;
  stpMode: number;
  tradeGroup: number;
  price: number;
  quantity: number;
  stopPrice: number;
  displayQty: number;
  minQty: number;
  expireTime: number;
}

export class CommandGenerator {
  readonly mix: Mix;
  readonly seed: number;
  /** Open orders of the model, from the observed events. */
  readonly live = new LiveOrders();
  /** Number of commands written so far. */
  count = 0;
  /** Commands written before the mix proper (ADD_SYMBOLs, prefill). */
  readonly setupCount: number;
  /** Commands whose events had at least one FILL. */
  tradingCommands = 0;
  /** exchangeCore: NEW_ORDERs written (the n-th gets order id n). */
  newOrders = 0;

  private readonly rng: Prng;
  private readonly model: Engine;
  private readonly symbols: readonly SymbolSpec[];
  private readonly accounts: number;
  private readonly resting: number;
  private readonly tradingFraction: number;
  private readonly top = new Float64Array(3);
  /** The generator's clock: the engine's `now` after every command with a fresh timestamp. */
  private clock = 0;
  private nextClientOrderId = 1;
  /** mixed: step of the running two-sided stop scenario (-1 = none), its symbol and last price. */
  private scenarioStep = -1;
  private scenarioSymbol: SymbolSpec = MIXED_SYMBOLS[0];
  private scenarioLast = 0;
  /** exchangeCore feedback: probability that a move crosses the spread; IOC size scale. */
  private moveCross = 0.02;
  private gtcCross = 0.05;
  private iocMax = 20;
  private windowCommands = 0;
  private windowTrading = 0;

  /** `model` is the engine whose events are passed to `observe()` (it is queried for best prices). */
  constructor(options: GeneratorOptions, model: Engine) {
    this.mix = options.mix;
    this.seed = options.seed;
    this.rng = new Prng(options.seed);
    this.model = model;
    this.symbols = options.mix === 'mixed' ? MIXED_SYMBOLS : [EC_SYMBOL];
    this.accounts = options.accounts ?? 1000;
    this.resting = options.resting ?? 1000;
    this.tradingFraction = options.tradingFraction ?? 0.06;
    this.setupCount = CommandGenerator.setupCountOf(options);
  }

  /** Number of setup commands (ADD_SYMBOLs, prefill) a generator with these options writes first. */
  static setupCountOf(options: GeneratorOptions): number {
    return options.mix === 'mixed' ? MIXED_SYMBOLS.length : 1 + (options.resting ?? 1000);
  }

  /** Writes the next command record at `view[off .. off + COMMAND_SIZE)`. */
  next(view: DataView, off: number): void {
    const i = this.count++;
    if (i < this.symbols.length) {
      this.writeAddSymbol(view, off, this.symbols[i], 0);
    } else if (this.mix === 'exchangeCore') {
      if (i < this.setupCount) this.ecPrefill(view, off, i);
      else this.ecNext(view, off, i);
    } else {
      this.mixedNext(view, off, i);
    }
  }

  /** Folds the model's events for the latest command (`count` records at `view[off ..]`). */
  observe(view: DataView, off: number, count: number): void {
    this.live.observe(view, off, count);
    const traded = this.live.fills > 0 ? 1 : 0;
    this.tradingCommands += traded;
    if (this.count > this.setupCount) {
      this.windowCommands++;
      this.windowTrading += traded;
    }
  }

  // ------------------------------------------------------------------ helpers

  private best(symbolId: number, side: number): number {
    return this.model.l2(symbolId, side, this.top) > 0 ? this.top[0] : 0;
  }

  private mid(s: SymbolSpec): number {
    const bid = this.best(s.id, Side.BUY);
    const ask = this.best(s.id, Side.SELL);
    if (bid > 0 && ask > 0) return Math.floor((bid + ask) / 2);
    if (bid > 0) return bid + 1;
    if (ask > 0) return ask - 1;
    return this.live.lastTradePrice.get(s.id) ?? s.mid;
  }

  private clamp(s: SymbolSpec, price: number): number {
    return Math.min(s.maxPrice, Math.max(s.minPrice, price));
  }

  /** A price that does not cross: `offset` ticks behind the opposite best (or the mid). */
  private passivePrice(s: SymbolSpec, side: number, offset: number): number {
    if (side === Side.BUY) {
      const ask = this.best(s.id, Side.SELL);
      return this.clamp(s, (ask > 0 ? ask : this.mid(s) + 1) - offset);
    }
    const bid = this.best(s.id, Side.BUY);
    return this.clamp(s, (bid > 0 ? bid : this.mid(s) - 1) + offset);
  }

  /** A price that crosses the opposite best by 0..`through` ticks. */
  private aggressivePrice(s: SymbolSpec, side: number, through: number): number {
    const opposite = this.best(s.id, side === Side.BUY ? Side.SELL : Side.BUY);
    const base = opposite > 0 ? opposite : this.mid(s);
    const d = this.rng.int(0, through);
    return this.clamp(s, side === Side.BUY ? base + d : base - d);
  }

  /** Geometric-ish offset 1..cap with mean about `scale`. */
  private offset(scale: number, cap: number): number {
    return Math.min(cap, 1 + Math.floor(-Math.log(1 - this.rng.float()) * scale));
  }

  private header(
    view: DataView,
    off: number,
    type: number,
    symbolId: number,
    accountId: number,
    clientOrderId: number,
    ts: number,
  ) {
    const session = (accountId % 13) + 1;
    C.writeHeader(view, off, type, symbolId, accountId, session, ts, this.count, clientOrderId);
  }

  private writeOrder(view: DataView, off: number, f: OrderFields, ts: number): void {
    C.writeHeader(
      view,
      off,
      CommandType.NEW_ORDER,
      f.symbolId,
      f.accountId,
      f.sessionId,
      ts,
      this.count,
      f.clientOrderId,
    );
    C.writeNewOrder(
      view,
      off,
      f.side,
      f.orderType,
      f.timeInForce,
      f.flags,
      f.stpMode,
      f.tradeGroup,
      f.price,
      f.quantity,
      f.stopPrice,
      f.displayQty,
      f.minQty,
      f.expireTime,
    );
  }

  private writeAddSymbol(view: DataView, off: number, s: SymbolSpec, ts: number): void {
    this.header(view, off, CommandType.ADD_SYMBOL, s.id, 0, 0, ts);
    C.writeAddSymbol(
      view,
      off,
      s.minPrice,
      s.maxPrice,
      s.minQty,
      s.maxQty,
      s.maxNotional,
      s.referencePrice,
      s.bandBps,
    );
  }

  // ------------------------------------------------------------------ exchangeCore mix

  private ecPrefill(view: DataView, off: number, i: number): void {
    const s = EC_SYMBOL;
    const side = i % 2 === 0 ? Side.BUY : Side.SELL;
    const delta = this.rng.int(1, EC_RANGE);
    const price = side === Side.BUY ? s.mid - delta : s.mid + delta;
    this.ecOrder(view, off, side, price, this.rng.int(s.qtyLo, s.qtyHi), TimeInForce.GTC, i);
  }

  private ecOrder(
    view: DataView,
    off: number,
    side: number,
    price: number,
    qty: number,
    tif: number,
    ts: number,
  ) {
    const account = this.rng.int(1, this.accounts);
    this.header(view, off, CommandType.NEW_ORDER, EC_SYMBOL.id, account, 0, ts);
    C.writeNewOrder(view, off, side, OrderType.LIMIT, tif, 0, 0, 0, price, qty, 0, 0, 0, 0);
    this.newOrders++;
  }

  private ecNext(view: DataView, off: number, i: number): void {
    const s = EC_SYMBOL;
    const rng = this.rng;
    if (this.windowCommands >= 2000) this.ecTune();
    const kind = rng.weighted([9, 3, 6, 82]);
    let x = this.live.random(rng);
    if (kind === 0 || x === undefined) {
      const side = rng.chance(0.5) ? Side.BUY : Side.SELL;
      const price = rng.chance(this.gtcCross) ? this.aggressivePrice(s, side, 2) : this.ecPassive(side);
      this.ecOrder(view, off, side, price, rng.int(s.qtyLo, s.qtyHi), TimeInForce.GTC, i);
    } else if (kind === 1) {
      const side = rng.chance(0.5) ? Side.BUY : Side.SELL;
      this.ecOrder(
        view,
        off,
        side,
        this.aggressivePrice(s, side, 1),
        rng.int(1, this.iocMax),
        TimeInForce.IOC,
        i,
      );
    } else if (kind === 2) {
      this.header(view, off, CommandType.CANCEL, s.id, x.accountId, 0, i);
      C.writeCancel(view, off, x.id);
    } else {
      let price: number;
      if (rng.chance(this.moveCross)) {
        // Note: the smallest of three random orders crosses, to the opposite best only, so a
        // crossing move mostly fills itself and leaves the maker partly filled: each such move
        // closes about one order, which the 9% GTC - 6% cancel inflow can replace.
        for (let k = 0; k < 2; k++) {
          const y = this.live.random(rng)!;
          if (y.leavesQty < x.leavesQty) x = y;
        }
        price = this.aggressivePrice(s, x.side, 0);
      } else {
        const mid = this.mid(s);
        const behind = x.side === Side.BUY ? mid - x.price : x.price - mid;
        // Small steps around the old price; orders that drifted too far come back towards the touch.
        price = behind > EC_RANGE ? this.ecPassive(x.side) : x.price + rng.int(-8, 8);
        const opposite = this.best(s.id, x.side === Side.BUY ? Side.SELL : Side.BUY);
        if (opposite > 0 && (x.side === Side.BUY ? price >= opposite : price <= opposite)) {
          price = x.side === Side.BUY ? opposite - 1 : opposite + 1;
        }
        if (price === x.price) price += x.side === Side.BUY ? -1 : 1;
        price = this.clamp(s, price);
      }
      this.header(view, off, CommandType.AMEND, s.id, x.accountId, 0, i);
      C.writeAmend(view, off, x.id, price, x.quantity);
    }
  }

  private ecPassive(side: number): number {
    return this.passivePrice(EC_SYMBOL, side, this.rng.int(1, EC_RANGE));
  }

  /**
   * Feedback every 2,000 commands. Crossing moves are what make trades and each closes about one
   * order, so the move crossing rate steers the trading fraction, aiming a little lower while the
   * book is below its target size and a little higher above it; IOC size and the crossing rate of
   * new GTC orders steer the book size too.
   */
  private ecTune(): void {
    const size = this.live.size;
    const low = size < this.resting * 0.97;
    const high = size > this.resting * 1.03;
    const target = this.tradingFraction * (low ? 0.9 : high ? 1.1 : 1);
    const rate = this.windowTrading / this.windowCommands;
    const f = rate < target ? 1.1 : 1 / 1.1;
    this.moveCross = Math.min(0.2, Math.max(0.0005, this.moveCross * f));
    if (low) {
      this.iocMax = Math.max(1, Math.floor(this.iocMax * 0.8));
      this.gtcCross = Math.max(0.002, this.gtcCross * 0.8);
    } else if (high) {
      this.iocMax = Math.min(2000, Math.ceil(this.iocMax * 1.25));
      this.gtcCross = Math.min(0.5, this.gtcCross * 1.25);
    }
    this.windowCommands = 0;
    this.windowTrading = 0;
  }

  // ------------------------------------------------------------------ mixed

  /**
   * A crossing price, or (more often when the book is thin) a passive one: keeps the `mixed` book
   * near its target size whatever the seed.
   */
  private takerPrice(s: SymbolSpec, side: number, through: number): number {
    const live = this.live.size;
    const p = live < 800 ? 0.15 : live < 1500 ? 0.5 : 1;
    return this.rng.chance(p)
      ? this.aggressivePrice(s, side, through)
      : this.passivePrice(s, side, this.offset(6, 300));
  }

  private mixedNext(view: DataView, off: number, i: number): void {
    const rng = this.rng;
    // Timestamps: mostly fresh (the clock moves 0..3), sometimes stale, NaN or fractional.
    if (rng.chance(0.6)) this.clock += rng.int(0, 3);
    let ts = this.clock;
    const odd = rng.float();
    if (odd < 0.01) ts = this.clock - rng.int(1, 50);
    else if (odd < 0.012) ts = Number.NaN;
    else if (odd < 0.014) ts = this.clock + 0.5;

    if (this.scenarioStep >= 0 || rng.chance(0.01)) {
      if (this.twoSidedStops(view, off, ts)) return;
    }
    // Phases: a flood that fills the order pool, then a drain by mass cancels.
    const phase = i % 200_000;
    const live = this.live.size;
    if (phase >= 100_000 && phase < 104_000) {
      this.mixedNewOrder(view, off, ts, 'flood');
      return;
    }
    if (phase === 104_000) {
      // The flood's wide orders of account 1 go in one command: thousands of levels touched.
      this.header(view, off, CommandType.MASS_CANCEL, 0, 1, 0, ts);
      C.writeMassCancel(view, off, 0);
      return;
    }
    const newWeight = live < 1000 ? 40 : live < 1800 ? 25 : 4;
    const massWeight = live > 2000 ? 6 : 0.4;
    const kind = rng.weighted([newWeight, 8, 2.5, 38, massWeight, 2, 0.15, 0.1]);
    switch (kind) {
      case 0:
        this.mixedNewOrder(view, off, ts, 'normal');
        break;
      case 1:
        this.mixedCancel(view, off, ts);
        break;
      case 2:
        this.mixedCancelByClientId(view, off, ts);
        break;
      case 3:
        this.mixedAmend(view, off, ts);
        break;
      case 4:
        this.mixedMassCancel(view, off, ts);
        break;
      case 5:
        this.clock += rng.int(1, 400);
        this.header(view, off, CommandType.TIME_ADVANCE, 0, 0, 0, this.clock);
        break;
      case 6:
        this.mixedAddSymbol(view, off, ts);
        break;
      default:
        this.header(
          view,
          off,
          rng.pick([0, 8, 9, 200, 255]),
          rng.pick([0, 1, 2]),
          rng.int(1, 20),
          rng.int(0, 5),
          ts,
        );
        view.setUint8(off + C.SIDE, rng.int(0, 3));
        view.setFloat64(off + C.PRICE, rng.int(0, 100), true);
    }
  }

  /**
   * A scenario over five consecutive commands that makes one stop wave hold both BUY and SELL
   * stops: an ask just below the last trade price L, a SELL stop at L-1, a BUY stop at L+1, an ask at
   * L+2, then a BUY IOC sweep through L+3 whose fills span both stop prices. Returns false when it
   * cannot run (no trade yet, or the prices do not fit), leaving the command to the normal mix.
   */
  private twoSidedStops(view: DataView, off: number, ts: number): boolean {
    const rng = this.rng;
    if (this.scenarioStep < 0) {
      const s = this.symbols[rng.int(0, 2)];
      const last = this.live.lastTradePrice.get(s.id);
      const bid = this.best(s.id, Side.BUY);
      if (last === undefined || last - 1 <= bid || last + 3 > s.maxPrice) return false;
      this.scenarioSymbol = s;
      this.scenarioLast = last;
      this.scenarioStep = 0;
    }
    const s = this.scenarioSymbol;
    const step = this.scenarioStep;
    this.scenarioStep = step === 4 ? -1 : step + 1;
    const last = this.scenarioLast;
    const accountId = rng.int(9, 250);
    const f: OrderFields = {
      symbolId: s.id,
      accountId,
      sessionId: (accountId % 13) + 1,
      clientOrderId: 0,
      side: Side.SELL,
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.GTC,
      flags: 0,
      stpMode: 0,
      tradeGroup: 0,
      price: last - 1,
      quantity: s.qtyLo,
      stopPrice: 0,
      displayQty: 0,
      minQty: 0,
      expireTime: 0,
    };
    if (step === 1 || step === 2) {
      f.side = step === 1 ? Side.SELL : Side.BUY;
      f.stopPrice = step === 1 ? last - 1 : last + 1;
      f.orderType = rng.chance(0.5) ? OrderType.STOP : OrderType.STOP_LIMIT;
      f.price = f.orderType === OrderType.STOP ? 0 : step === 1 ? last - 3 : last + 3;
      f.quantity = rng.int(s.qtyLo, s.qtyHi);
    } else if (step === 3) {
      f.price = last + 2;
    } else if (step === 4) {
      f.side = Side.BUY;
      f.timeInForce = TimeInForce.IOC;
      f.price = last + 3;
      f.quantity = s.qtyHi * 4;
    }
    this.writeOrder(view, off, f, ts);
    return true;
  }

  private pickSymbol(): SymbolSpec {
    return this.symbols[this.rng.weighted([5, 3, 2, 1])];
  }

  /** Accounts: a few hot ones (so they meet themselves: STP), many ordinary, rarely a new one. */
  private pickAccount(): number {
    const r = this.rng.float();
    if (r < 0.3) return this.rng.int(1, 8);
    if (r < 0.995) return this.rng.int(1, 250);
    return this.rng.int(251, 5000);
  }

  private mixedNewOrder(view: DataView, off: number, ts: number, mode: 'normal' | 'flood'): void {
    const rng = this.rng;
    const s = this.pickSymbol();
    const side = rng.chance(0.5) ? Side.BUY : Side.SELL;
    const accountId = this.pickAccount();
    const f: OrderFields = {
      symbolId: s.id,
      accountId,
      sessionId: (accountId % 13) + 1,
      clientOrderId: rng.chance(0.5) ? 0 : this.nextClientOrderId++,
      side,
      orderType: OrderType.LIMIT,
      timeInForce: TimeInForce.GTC,
      flags: 0,
      stpMode: rng.chance(0.6) ? 0 : rng.int(0, 3),
      tradeGroup: rng.chance(0.85) ? 0 : rng.int(1, 4),
      price: this.passivePrice(s, side, this.offset(6, 300)),
      quantity: rng.chance(0.1) ? rng.int(s.qtyLo, s.qtyHi * 6) : rng.int(s.qtyLo, s.qtyHi),
      stopPrice: 0,
      displayQty: 0,
      minQty: 0,
      expireTime: 0,
    };
    // Rarely a price far from the touch: the edges of the symbol's range or anywhere in it (sparse
    // levels, far-apart best prices), passive or crossing everything.
    const far = rng.float();
    if (far < 0.01) f.price = side === Side.BUY ? s.minPrice : s.maxPrice;
    else if (far < 0.015) f.price = side === Side.BUY ? s.maxPrice : s.minPrice;
    else if (far < 0.03) f.price = rng.int(s.minPrice, s.maxPrice);
    if (mode === 'flood') {
      // Most of the flood: account 1, passive prices spread over the whole range (sparse levels).
      if (rng.chance(0.75)) {
        f.accountId = 1;
        f.sessionId = 2;
        const bid = this.best(s.id, Side.BUY);
        const ask = this.best(s.id, Side.SELL);
        f.price =
          side === Side.BUY
            ? rng.int(s.minPrice, Math.max(s.minPrice, (ask || s.mid) - 1))
            : rng.int(Math.min(s.maxPrice, (bid || s.mid) + 1), s.maxPrice);
      }
      this.writeOrder(view, off, f, ts);
      return;
    }
    const kind = rng.weighted([30, 12, 8, 4, 8, 6, 6, 7, 6, 6, 3, 8]);
    switch (kind) {
      case 0: // passive GTC limit (as initialised)
        break;
      case 1: // aggressive GTC limit
        f.price = this.takerPrice(s, side, 5);
        break;
      case 2: // IOC
        f.timeInForce = TimeInForce.IOC;
        f.price = rng.chance(0.8) ? this.takerPrice(s, side, 5) : f.price;
        break;
      case 3: // FOK
        f.timeInForce = TimeInForce.FOK;
        f.price = this.takerPrice(s, side, 8);
        break;
      case 4: // GTD
        f.timeInForce = TimeInForce.GTD;
        f.expireTime = this.clock + rng.int(1, 600);
        if (rng.chance(0.3)) f.price = this.takerPrice(s, side, 3);
        break;
      case 5: // market
        f.orderType = OrderType.MARKET;
        f.timeInForce = rng.chance(0.7) ? TimeInForce.IOC : TimeInForce.FOK;
        f.price = 0;
        break;
      case 6: // stop (market)
      case 7: {
        // stop-limit
        const last = this.live.lastTradePrice.get(s.id) ?? this.mid(s);
        const d = rng.int(0, 8);
        f.orderType = kind === 6 ? OrderType.STOP : OrderType.STOP_LIMIT;
        f.stopPrice = this.clamp(s, side === Side.BUY ? last + d : last - d);
        // Note: a SELL stop between the best ask and the last trade (or a BUY stop between the last
        // trade and the best bid) triggers in the same wave as BUY (SELL) stops when a sweep
        // crosses the last price: waves with both sides, in stop-book order.
        const bid = this.best(s.id, Side.BUY);
        const ask = this.best(s.id, Side.SELL);
        if (rng.chance(0.4)) {
          if (side === Side.SELL && ask > 0 && ask < last) f.stopPrice = rng.int(ask, last - 1);
          if (side === Side.BUY && bid > last) f.stopPrice = rng.int(last + 1, bid);
        }
        if (kind === 6) {
          f.price = 0;
          f.timeInForce = rng.chance(0.8) ? TimeInForce.GTC : TimeInForce.GTD;
        } else {
          f.price = this.clamp(
            s,
            side === Side.BUY ? f.stopPrice + rng.int(-2, 4) : f.stopPrice - rng.int(-2, 4),
          );
          f.timeInForce = rng.pick([
            TimeInForce.GTC,
            TimeInForce.GTC,
            TimeInForce.IOC,
            TimeInForce.FOK,
            TimeInForce.GTD,
          ]);
          if (rng.chance(0.15)) f.displayQty = rng.int(1, f.quantity);
        }
        if (f.timeInForce === TimeInForce.GTD) f.expireTime = this.clock + rng.int(1, 600);
        break;
      }
      case 8: // post-only
        f.flags = OrderFlags.POST_ONLY;
        if (rng.chance(0.3)) f.price = this.takerPrice(s, side, 2);
        if (rng.chance(0.2)) {
          f.timeInForce = TimeInForce.GTD;
          f.expireTime = this.clock + rng.int(1, 600);
        }
        break;
      case 9: // iceberg
        f.quantity = rng.int(s.qtyLo * 2, s.qtyHi * 4);
        f.displayQty = rng.int(1, Math.max(1, Math.floor(f.quantity / 3)));
        if (rng.chance(0.3)) f.price = this.takerPrice(s, side, 3);
        break;
      case 10: // minQty
        f.minQty = rng.int(1, f.quantity);
        f.price = this.takerPrice(s, side, 4);
        if (rng.chance(0.3)) f.timeInForce = TimeInForce.IOC;
        if (rng.chance(0.2)) {
          f.orderType = OrderType.MARKET;
          f.timeInForce = TimeInForce.IOC;
          f.price = 0;
        }
        break;
      default:
        this.spoil(f, s);
    }
    // A duplicate client order id of a live order of the same account and symbol.
    if (rng.chance(0.03)) {
      const x = this.live.random(rng);
      if (x !== undefined && x.clientOrderId !== 0) {
        f.symbolId = x.symbolId;
        f.accountId = x.accountId;
        f.clientOrderId = x.clientOrderId;
      }
    }
    this.writeOrder(view, off, f, ts);
  }

  /** Makes one field of a NEW_ORDER invalid (or odd but valid, such as -0). */
  private spoil(f: OrderFields, s: SymbolSpec): void {
    const rng = this.rng;
    const odd = rng.pick(ODD_NUMBERS);
    switch (rng.int(0, 27)) {
      case 0:
        f.side = rng.pick([0, 3, 255]);
        break;
      case 1:
        f.orderType = rng.pick([0, 5, 255]);
        break;
      case 2:
        f.timeInForce = rng.pick([0, 5, 255]);
        break;
      case 3:
        f.orderType = OrderType.MARKET;
        f.price = 0;
        f.timeInForce = rng.pick([TimeInForce.GTC, TimeInForce.GTD]);
        break;
      case 4:
        f.orderType = OrderType.STOP;
        f.price = 0;
        f.stopPrice = s.mid;
        f.timeInForce = rng.pick([TimeInForce.IOC, TimeInForce.FOK]);
        break;
      case 5:
        f.flags = rng.pick([2, 3, 128]);
        break;
      case 6:
        f.flags = OrderFlags.POST_ONLY;
        f.timeInForce = TimeInForce.IOC;
        break;
      case 7:
        f.stpMode = rng.int(4, 255);
        break;
      case 8:
        f.clientOrderId = odd;
        break;
      case 9:
        f.quantity = odd;
        break;
      case 10:
        f.quantity = rng.chance(0.5) ? s.minQty - 1 : s.maxQty + 1;
        break;
      case 11:
        f.price = odd;
        break;
      case 12:
        f.price = rng.chance(0.5) ? s.minPrice - 1 : s.maxPrice + 1;
        break;
      case 13:
        f.orderType = OrderType.MARKET;
        f.timeInForce = TimeInForce.IOC;
        f.price = rng.pick([1, Number.NaN, -0]);
        break;
      case 14:
        f.stopPrice = odd;
        if (rng.chance(0.5)) f.orderType = OrderType.STOP_LIMIT;
        break;
      case 15:
        f.displayQty = rng.pick([f.quantity + 1, odd]);
        break;
      case 16:
        f.displayQty = 1;
        f.timeInForce = TimeInForce.IOC;
        break;
      case 17:
        f.minQty = rng.pick([f.quantity + 1, odd]);
        break;
      case 18:
        f.orderType = OrderType.STOP_LIMIT;
        f.stopPrice = f.price;
        f.minQty = 1;
        break;
      case 19:
        f.timeInForce = TimeInForce.GTD;
        f.expireTime = rng.pick([this.clock, this.clock - 1, Number.NaN, 0.5]);
        break;
      case 20:
        f.expireTime = rng.pick([1, Number.NaN, -0]);
        break;
      case 21: // on, just inside or just outside the band (symbol 2)
        f.symbolId = 2;
        f.price = this.bandEdge(MIXED_SYMBOLS[1]);
        break;
      case 22: // notional (symbol 2 by price, symbol 700 by size)
        f.symbolId = rng.chance(0.5) ? 2 : 700;
        f.quantity = f.symbolId === 2 ? rng.int(300, 5_000) : rng.int(8, 100);
        f.price = f.symbolId === 2 ? 10_000 : BIG + 500_000;
        if (rng.chance(0.3)) {
          f.orderType = OrderType.MARKET;
          f.timeInForce = TimeInForce.IOC;
          f.price = 0;
        }
        break;
      case 23: {
        // a stop on the wrong side of the last trade
        const last = this.live.lastTradePrice.get(s.id) ?? s.mid;
        f.orderType = OrderType.STOP;
        f.price = 0;
        f.stopPrice = this.clamp(s, f.side === Side.BUY ? last - rng.int(0, 3) : last + rng.int(0, 3));
        break;
      }
      case 24:
        f.symbolId = rng.pick([0, 5, 6, 9, 70_000]);
        break;
      case 25: // -0 in fields that accept 0
        f.clientOrderId = -0;
        f.displayQty = -0;
        f.minQty = -0;
        f.expireTime = -0;
        f.stopPrice = -0;
        break;
      case 26:
        f.orderType = OrderType.MARKET;
        f.timeInForce = TimeInForce.FOK;
        f.price = -0;
        break;
      default:
        f.accountId = rng.int(5001, 100_000);
    }
  }

  /** A price at (or one tick either side of) the edge of a symbol's price band around its reference. */
  private bandEdge(s: SymbolSpec): number {
    const ref = this.live.lastTradePrice.get(s.id) ?? s.referencePrice;
    const width = Math.floor((ref * s.bandBps) / 10_000) + this.rng.int(-1, 1);
    return this.clamp(s, this.rng.chance(0.5) ? ref + width : ref - width);
  }

  /** A live order (optionally of one kind), trying a few random picks. */
  private pickLive(pred: (x: LiveOrder) => boolean): LiveOrder | undefined {
    for (let k = 0; k < 8; k++) {
      const x = this.live.random(this.rng);
      if (x !== undefined && pred(x)) return x;
    }
    return undefined;
  }

  private deadId(): number {
    const closed = this.live.closed;
    return closed.length > 0 ? this.rng.pick(closed) : 0;
  }

  private mixedCancel(view: DataView, off: number, ts: number): void {
    const rng = this.rng;
    const x = this.live.random(rng);
    const r = rng.float();
    let symbolId = x?.symbolId ?? 1;
    let accountId = x?.accountId ?? 1;
    let id = x?.id ?? 0;
    if (x === undefined || r < 0.05) id = rng.pick([Number.NaN, 0, -1, 2 ** 53, 2 ** 40 * 3 + 10 ** 9]);
    else if (r < 0.1) accountId += 1;
    else if (r < 0.14) symbolId = rng.pick([1, 2, 3, 700, 9]);
    else if (r < 0.2) id = this.deadId();
    this.header(view, off, CommandType.CANCEL, symbolId, accountId, 0, ts);
    C.writeCancel(view, off, id);
  }

  private mixedCancelByClientId(view: DataView, off: number, ts: number): void {
    const rng = this.rng;
    const x = this.pickLive((o) => o.clientOrderId !== 0);
    if (x !== undefined && rng.chance(0.85)) {
      this.header(view, off, CommandType.CANCEL_BY_CLIENT_ID, x.symbolId, x.accountId, x.clientOrderId, ts);
    } else {
      const clientOrderId = rng.pick([0, -0, Number.NaN, rng.int(1, this.nextClientOrderId)]);
      this.header(
        view,
        off,
        CommandType.CANCEL_BY_CLIENT_ID,
        rng.pick([1, 2, 3, 9]),
        this.pickAccount(),
        clientOrderId,
        ts,
      );
    }
  }

  private mixedAmend(view: DataView, off: number, ts: number): void {
    const rng = this.rng;
    const x = rng.chance(0.9) ? this.pickLive((o) => !o.isStop) : this.live.random(rng);
    if (x === undefined) {
      this.mixedNewOrder(view, off, ts, 'normal');
      return;
    }
    const s = this.symbols.find((y) => y.id === x.symbolId) ?? this.symbols[0];
    let symbolId = x.symbolId;
    let accountId = x.accountId;
    let id = x.id;
    let price = x.price;
    let qty = x.quantity;
    const opposite = x.side === Side.BUY ? Side.SELL : Side.BUY;
    switch (rng.weighted([18, 12, 30, 10, 3, 8, 12])) {
      case 0: // quantity down, same price: keeps priority
        qty = x.filledQty + rng.int(1, Math.max(1, x.leavesQty));
        break;
      case 1: // quantity up: loses priority
        qty = x.quantity + rng.int(1, 30);
        break;
      case 2: {
        // small price move; mostly kept passive, sometimes onto the touch
        price = this.clamp(s, x.price + (rng.chance(0.5) ? -1 : 1) * rng.int(1, 6));
        const best = this.best(x.symbolId, opposite);
        if (best > 0 && rng.chance(0.9) && (x.side === Side.BUY ? price >= best : price <= best)) {
          price = this.clamp(s, x.side === Side.BUY ? best - 1 : best + 1);
        }
        break;
      }
      case 3: // move through the opposite side
        price = this.takerPrice(s, x.side, 4);
        break;
      case 4: // no change
        break;
      case 5: // both
        price = this.passivePrice(s, x.side, this.offset(6, 300));
        qty = x.filledQty + rng.int(1, x.leavesQty + 20);
        break;
      default:
        switch (rng.int(0, 10)) {
          case 0:
            qty = x.filledQty;
            break;
          case 1:
            qty = rng.pick(ODD_NUMBERS);
            break;
          case 2:
            price = rng.pick(ODD_NUMBERS);
            break;
          case 3:
            price = rng.chance(0.5) ? s.minPrice - 1 : s.maxPrice + 1;
            break;
          case 4:
            qty = rng.chance(0.5) ? s.minQty - 1 : s.maxQty + 1;
            break;
          case 5: // the band edge (symbol 2) or a deep cross
            price =
              x.symbolId === 2
                ? this.bandEdge(s)
                : this.clamp(s, x.side === Side.BUY ? price + 1000 : price - 1000);
            break;
          case 6:
            qty = x.filledQty + 5000; // notional (symbols 2 and 700)
            break;
          case 7:
            accountId += 1;
            break;
          case 8:
            symbolId = rng.pick([1, 2, 3, 700, 9]);
            break;
          case 9:
            id = this.deadId();
            break;
          default: // a post-only (or any) order moved onto the opposite best
            price = this.best(x.symbolId, opposite) || price;
        }
    }
    this.header(view, off, CommandType.AMEND, symbolId, accountId, 0, ts);
    C.writeAmend(view, off, id, price, qty);
  }

  private mixedMassCancel(view: DataView, off: number, ts: number): void {
    const rng = this.rng;
    const x = this.live.random(rng);
    const accountId = x !== undefined && rng.chance(0.8) ? x.accountId : this.pickAccount();
    const r = rng.float();
    const symbolId = r < 0.5 ? 0 : r < 0.95 ? (x?.symbolId ?? 1) : rng.pick([9, 70_000]);
    const side = rng.chance(0.02) ? rng.int(3, 255) : rng.pick([0, Side.BUY, Side.SELL]);
    this.header(view, off, CommandType.MASS_CANCEL, symbolId, accountId, 0, ts);
    C.writeMassCancel(view, off, side);
  }

  private mixedAddSymbol(view: DataView, off: number, ts: number): void {
    const rng = this.rng;
    const id = rng.pick([0, 1, 5, 6, 8, 9, 65_535, 65_536, 70_000]);
    const spec: SymbolSpec = { ...MIXED_SYMBOLS[0], id };
    const bad = rng.int(0, 10);
    const odd = rng.pick(ODD_NUMBERS);
    const v = {
      minPrice: bad === 0 ? odd : spec.minPrice,
      maxPrice: bad === 1 ? rng.pick([odd, 0, spec.minPrice + 2 ** 24]) : spec.maxPrice,
      minQty: bad === 2 ? odd : spec.minQty,
      maxQty: bad === 3 ? rng.pick([odd, 0]) : spec.maxQty,
      maxNotional: bad === 4 ? rng.pick([odd, -5]) : rng.pick([0, -0, 10 ** 9]),
      referencePrice: bad === 5 ? rng.pick([odd, spec.maxPrice + 1]) : rng.pick([0, -0, 100, 199_999]),
      band: rng.pick([0, 1, 10_000, 4_294_967_295]),
    };
    this.header(view, off, CommandType.ADD_SYMBOL, id, rng.int(0, 9), 0, ts);
    C.writeAddSymbol(
      view,
      off,
      v.minPrice,
      v.maxPrice,
      v.minQty,
      v.maxQty,
      v.maxNotional,
      v.referencePrice,
      v.band,
    );
  }
}

/** An EventSink that keeps only the latest command's events (grows as needed). */
export class LastCommandSink implements EventSink {
  view: DataView;
  private bytes: Uint8Array;
  count = 0;

  constructor() {
    this.bytes = new Uint8Array(256 * EVENT_SIZE);
    this.view = new DataView(this.bytes.buffer);
  }

  claim(): number {
    const at = this.count * EVENT_SIZE;
    if (at + EVENT_SIZE > this.bytes.length) {
      const next = new Uint8Array(this.bytes.length * 2);
      next.set(this.bytes);
      this.bytes = next;
      this.view = new DataView(next.buffer);
    }
    this.count++;
    return at;
  }

  commit(): void {}

  /** Forgets the events (call before each command). */
  reset(): void {
    this.count = 0;
  }
}

/**
 * Generates `count` commands (setup included) into one buffer, running each through `model` (a fresh
 * engine configured for the mix) so the generator sees its outcome. Returns the command bytes and
 * the model after the stream (its stateHash and counters are what a replay must reproduce).
 */
export function generateCommands(
  options: GeneratorOptions,
  count: number,
  model: Engine,
): { bytes: Uint8Array; generator: CommandGenerator; events: number } {
  const bytes = new Uint8Array(count * COMMAND_SIZE);
  const view = new DataView(bytes.buffer);
  const gen = new CommandGenerator(options, model);
  const sink = new LastCommandSink();
  let events = 0;
  for (let i = 0; i < count; i++) {
    const off = i * COMMAND_SIZE;
    gen.next(view, off);
    sink.reset();
    events += model.process(view, off, sink);
    gen.observe(sink.view, 0, sink.count);
  }
  return { bytes, generator: gen, events };
}
