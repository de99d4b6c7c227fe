/**
 * The naive reference matching engine: docs/matching.md implemented with obvious code (order objects,
 * arrays kept sorted, linear scans, Maps), to be compared byte for byte with the fast
 * `engine/book/MatchingEngine.ts` by the differential and property tests. It shares only the
 * contract with the fast engine: the record layouts and writers (`engine/records/*`), the
 * `Engine`/`EventSink` interfaces and `StateHasher`; none of the fast book's data structures.
 *
 * Market data (section 8) is computed by comparing every level a command touched (its L2 value is
 * remembered the first time the command touches it) with its value at the end; with
 * `fullMarketDataDiff` it instead snapshots every level of every symbol before the command and
 * compares the whole book, which is slower and even more obviously right (the property tests use it).
 *
 * Comments cite the sections of docs/matching.md. Called by tests and benchmarks only.
 * Thread-safety: single-threaded.
 */
import type { Engine, EngineConfig } from '../book/Engine.js';
import type { EventSink } from '../book/EventSink.js';
import { StateHasher } from '../book/StateHasher.js';
import { EngineConfigError } from '../EngineError.js';
import { Reason } from '../ResultCodes.js';
import * as C from '../records/CommandRecord.js';
import { CommandType } from '../records/CommandRecord.js';
import * as E from '../records/EventRecord.js';
import { EventType } from '../records/EventRecord.js';
import { OrderFlags, OrderType, Side, StpMode, TimeInForce } from '../records/OrderCodes.js';
import { MAX_SHARD_ID, makeId } from '../records/OrderId.js';
import { type BookSide, displayed, type RefOrder, RefSymbol } from './ReferenceBook.js';

const isInt = Number.isSafeInteger;

/** Turns -0 into 0: an order stores and echoes +0 (docs/matching.md section 1, "-0"). */
const plain = (x: number): number => (x === 0 ? 0 : x);

export interface ReferenceOptions {
  /** Compare the whole book before/after every command for market data (slow, for small tests). */
  readonly fullMarketDataDiff?: boolean;
}

/** An L2 value: (displayed quantity, order count). */
interface LevelValue {
  qty: number;
  count: number;
}

export class ReferenceEngine implements Engine {
  private readonly config: EngineConfig;
  private readonly fullDiff: boolean;

  // State (section 2).
  private seq = 0;
  private now = 0;
  private orderCounter = 0;
  private tradeCounter = 0;
  private readonly symbols = new Map<number, RefSymbol>();
  /** The keys of `symbols`, ascending. */
  private symbolIds: number[] = [];
  private readonly accounts = new Set<number>();
  /** Open orders by order id. */
  private readonly open = new Map<number, RefOrder>();
  /** Open orders of each account. */
  private readonly openByAccount = new Map<number, Set<RefOrder>>();
  /** Open GTD orders. */
  private readonly openGtd = new Set<RefOrder>();

  // The command being processed.
  private sink: EventSink | null = null;
  private written = 0;
  private correlationId = 0;
  private sessionId = 0;
  /** Prices of the FILLs since the last stop evaluation (section 7). */
  private fillPrices: number[] = [];
  /** L2 value before the command of every level it touched: symbolId -> [bids, asks] -> price -> value. */
  private before = new Map<number, Map<number, LevelValue>[]>();
  /** BBO of every symbol before the command. */
  private bboBefore = new Map<number, number[]>();

  constructor(config: EngineConfig, options: ReferenceOptions = {}) {
    if (!Number.isInteger(config.shardId) || config.shardId < 0 || config.shardId > MAX_SHARD_ID) {
      throw new EngineConfigError(`shardId must be an integer in 0..${MAX_SHARD_ID}, got ${config.shardId}`);
    }
    this.config = config;
    this.fullDiff = options.fullMarketDataDiff === true;
  }

  get sequence(): number {
    return this.seq;
  }

  // ------------------------------------------------------------------ section 3

  process(cmd: DataView, offset: number, sink: EventSink): number {
    C.checkCapacity(cmd, offset);
    this.sink = sink;
    this.written = 0;
    this.correlationId = C.readCorrelationId(cmd, offset);
    this.sessionId = C.readSessionId(cmd, offset);
    this.fillPrices = [];
    this.rememberBefore();

    // Step 1: time.
    const t = C.readTimestamp(cmd, offset);
    if (isInt(t) && t > this.now) {
      this.now = t;
      this.expireDue();
    }

    // Steps 2 and 3.
    const type = C.readType(cmd, offset);
    let reason: number = Reason.NONE;
    switch (type) {
      case CommandType.NEW_ORDER:
        reason = this.newOrder(cmd, offset);
        break;
      case CommandType.CANCEL:
        reason = this.cancel(cmd, offset, false);
        break;
      case CommandType.CANCEL_BY_CLIENT_ID:
        reason = this.cancel(cmd, offset, true);
        break;
      case CommandType.AMEND:
        reason = this.amend(cmd, offset, false);
        break;
      case CommandType.AMEND_BY_CLIENT_ID:
        reason = this.amend(cmd, offset, true);
        break;
      case CommandType.MASS_CANCEL:
        reason = this.massCancel(cmd, offset);
        break;
      case CommandType.TIME_ADVANCE:
        break;
      case CommandType.ADD_SYMBOL:
        reason = this.addSymbol(cmd, offset);
        break;
      default:
        reason = Reason.UNKNOWN_COMMAND;
    }
    if (reason !== Reason.NONE) this.emitReject(cmd, offset, reason);
    if (
      type === CommandType.NEW_ORDER ||
      type === CommandType.AMEND ||
      type === CommandType.AMEND_BY_CLIENT_ID
    ) {
      const sym = this.symbols.get(C.readSymbolId(cmd, offset));
      if (sym !== undefined) this.triggerStops(sym);
    }

    // Step 4.
    this.marketData();
    sink.commit();
    this.sink = null;
    return this.written;
  }

  /** Step 1: expire every open GTD order with expireTime <= now, by (expireTime, orderId). */
  private expireDue(): void {
    const due = [...this.openGtd].filter((o) => o.expireTime <= this.now);
    due.sort((a, b) => a.expireTime - b.expireTime || a.id - b.id);
    for (const o of due) {
      this.takeOut(o);
      this.emitOrder(EventType.EXPIRED, Reason.GTD_EXPIRED, o, true);
    }
  }

  // ------------------------------------------------------------------ section 5.1

  private newOrder(c: DataView, co: number): number {
    const sym = this.symbols.get(C.readSymbolId(c, co));
    if (sym === undefined) return Reason.UNKNOWN_SYMBOL;
    const side = C.readSide(c, co);
    if (side !== Side.BUY && side !== Side.SELL) return Reason.INVALID_SIDE;
    const type = C.readOrderType(c, co);
    if (type < OrderType.LIMIT || type > OrderType.STOP_LIMIT) return Reason.INVALID_ORDER_TYPE;
    const tif = C.readTimeInForce(c, co);
    const gtcOrGtd = tif === TimeInForce.GTC || tif === TimeInForce.GTD;
    const iocOrFok = tif === TimeInForce.IOC || tif === TimeInForce.FOK;
    if (
      tif < TimeInForce.GTC ||
      tif > TimeInForce.GTD ||
      (type === OrderType.MARKET && !iocOrFok) ||
      (type === OrderType.STOP && !gtcOrGtd)
    ) {
      return Reason.INVALID_TIME_IN_FORCE;
    }
    const flags = C.readFlags(c, co);
    const postOnly = (flags & OrderFlags.POST_ONLY) !== 0;
    if ((flags & ~OrderFlags.POST_ONLY) !== 0 || (postOnly && (type !== OrderType.LIMIT || !gtcOrGtd))) {
      return Reason.INVALID_FLAGS;
    }
    const stpMode = C.readStpMode(c, co);
    if (stpMode > 3) return Reason.INVALID_STP_MODE;
    const clientOrderId = C.readClientOrderId(c, co);
    if (!isInt(clientOrderId) || clientOrderId < 0) return Reason.INVALID_CLIENT_ORDER_ID;
    const quantity = C.readQuantity(c, co);
    if (!isInt(quantity) || quantity < 1) return Reason.INVALID_QUANTITY;
    if (quantity < sym.minQty) return Reason.QUANTITY_BELOW_MIN;
    if (quantity > sym.maxQty) return Reason.QUANTITY_ABOVE_MAX;
    const hasLimitPrice = type === OrderType.LIMIT || type === OrderType.STOP_LIMIT;
    const price = C.readPrice(c, co);
    if (hasLimitPrice) {
      if (!isInt(price) || price < 1) return Reason.INVALID_PRICE;
      if (price < sym.minPrice || price > sym.maxPrice) return Reason.PRICE_OUT_OF_RANGE;
    } else if (price !== 0) {
      return Reason.INVALID_PRICE;
    }
    const isStop = type === OrderType.STOP || type === OrderType.STOP_LIMIT;
    const stopPrice = C.readStopPrice(c, co);
    if (isStop) {
      if (!isInt(stopPrice) || stopPrice < 1) return Reason.INVALID_STOP_PRICE;
      if (stopPrice < sym.minPrice || stopPrice > sym.maxPrice) return Reason.PRICE_OUT_OF_RANGE;
    } else if (stopPrice !== 0) {
      return Reason.INVALID_STOP_PRICE;
    }
    const displayQty = C.readDisplayQty(c, co);
    if (
      displayQty !== 0 &&
      (!isInt(displayQty) || displayQty < 1 || displayQty > quantity || !hasLimitPrice || !gtcOrGtd)
    ) {
      return Reason.INVALID_DISPLAY_QTY;
    }
    const minQty = C.readMinQty(c, co);
    if (
      minQty !== 0 &&
      (!isInt(minQty) ||
        minQty < 1 ||
        minQty > quantity ||
        (type !== OrderType.LIMIT && type !== OrderType.MARKET))
    ) {
      return Reason.INVALID_MIN_QTY;
    }
    const expireTime = C.readExpireTime(c, co);
    if (tif === TimeInForce.GTD) {
      if (!isInt(expireTime)) return Reason.INVALID_EXPIRE_TIME;
      if (expireTime <= this.now) return Reason.EXPIRE_TIME_IN_PAST;
    } else if (expireTime !== 0) {
      return Reason.INVALID_EXPIRE_TIME;
    }
    const ref = sym.reference();
    if (hasLimitPrice && this.outsideBand(sym, price)) return Reason.PRICE_OUTSIDE_BAND;
    if (sym.maxNotional > 0) {
      const p = hasLimitPrice ? price : ref;
      if (p > 0 && p * quantity > sym.maxNotional) return Reason.MAX_NOTIONAL_EXCEEDED;
    }
    const last = sym.lastTradePrice;
    if (isStop && last > 0) {
      if ((side === Side.BUY && last >= stopPrice) || (side === Side.SELL && last <= stopPrice)) {
        return Reason.STOP_ALREADY_TRIGGERED;
      }
    }
    const accountId = C.readAccountId(c, co);
    if (clientOrderId !== 0 && this.findByClientOrderId(sym.symbolId, accountId, clientOrderId)) {
      return Reason.DUPLICATE_CLIENT_ORDER_ID;
    }
    if (postOnly && this.wouldTake(sym, side, price)) return Reason.POST_ONLY_WOULD_TAKE;
    if (!this.accounts.has(accountId) && this.accounts.size >= this.config.maxAccounts) {
      return Reason.ACCOUNT_TABLE_FULL;
    }
    if (this.open.size >= this.config.maxOrders) return Reason.ORDER_POOL_FULL;

    this.accounts.add(accountId);
    this.orderCounter++;
    const o: RefOrder = {
      id: makeId(this.config.shardId, this.orderCounter),
      clientOrderId: plain(clientOrderId),
      accountId,
      sessionId: C.readSessionId(c, co),
      tradeGroup: C.readTradeGroup(c, co),
      symbolId: sym.symbolId,
      side,
      orderType: type,
      timeInForce: tif,
      flags,
      stpMode,
      price: plain(price),
      stopPrice: plain(stopPrice),
      quantity,
      filledQty: 0,
      leavesQty: quantity,
      displayQty: plain(displayQty),
      visibleQty: displayQty !== 0 ? Math.min(displayQty, quantity) : quantity,
      expireTime: plain(expireTime),
      minQty: plain(minQty),
      place: 'taker',
    };
    this.open.set(o.id, o);
    let mine = this.openByAccount.get(accountId);
    if (mine === undefined) {
      mine = new Set();
      this.openByAccount.set(accountId, mine);
    }
    mine.add(o);
    if (tif === TimeInForce.GTD) this.openGtd.add(o);
    this.emitOrder(EventType.ACCEPTED, Reason.NONE, o, false);
    if (isStop) {
      o.place = 'stop';
      sym.addStop(o);
    } else {
      this.execute(sym, o);
    }
    return Reason.NONE;
  }

  /** The price band check of 5.1 step 15 (true when it fails). */
  private outsideBand(sym: RefSymbol, price: number): boolean {
    const ref = sym.reference();
    if (sym.priceBandBps === 0 || ref <= 0) return false;
    return Math.abs(price - ref) * 10000 > ref * sym.priceBandBps;
  }

  /** 5.1 step 19: the opposite side has a level at a price acceptable to a `side` order at `price`. */
  private wouldTake(sym: RefSymbol, side: number, price: number): boolean {
    const best = sym.oppositeOf(side).best();
    if (best === undefined) return false;
    return side === Side.BUY ? best.price <= price : best.price >= price;
  }

  private findByClientOrderId(
    symbolId: number,
    accountId: number,
    clientOrderId: number,
  ): RefOrder | undefined {
    for (const o of this.openByAccount.get(accountId) ?? []) {
      if (o.symbolId === symbolId && o.clientOrderId !== 0 && o.clientOrderId === clientOrderId) return o;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ section 5.2

  /**
   * The open order a CANCEL/AMEND names (by order id) or a *_BY_CLIENT_ID names (by client order id),
   * on the command's symbol and owned by its account.
   */
  private target(c: DataView, co: number, byClientId: boolean): RefOrder | undefined {
    const symbolId = C.readSymbolId(c, co);
    const accountId = C.readAccountId(c, co);
    if (byClientId) return this.findByClientOrderId(symbolId, accountId, C.readClientOrderId(c, co));
    const o = this.open.get(C.readOrderId(c, co));
    return o !== undefined && o.symbolId === symbolId && o.accountId === accountId ? o : undefined;
  }

  /** CANCEL, or CANCEL_BY_CLIENT_ID (`byClientId`). */
  private cancel(c: DataView, co: number, byClientId: boolean): number {
    if (!this.symbols.has(C.readSymbolId(c, co))) return Reason.UNKNOWN_SYMBOL;
    const o = this.target(c, co, byClientId);
    if (o === undefined) return Reason.ORDER_NOT_FOUND;
    this.takeOut(o);
    this.emitOrder(EventType.CANCELLED, Reason.USER_CANCEL, o, true);
    return Reason.NONE;
  }

  // ------------------------------------------------------------------ section 5.3

  /** AMEND, or AMEND_BY_CLIENT_ID (`byClientId`: the target by client order id; 0 = unchanged). */
  private amend(c: DataView, co: number, byClientId: boolean): number {
    const symbolId = C.readSymbolId(c, co);
    const sym = this.symbols.get(symbolId);
    if (sym === undefined) return Reason.UNKNOWN_SYMBOL;
    const o = this.target(c, co, byClientId);
    if (o === undefined) return Reason.ORDER_NOT_FOUND;
    if (o.place === 'stop') return Reason.AMEND_NOT_ALLOWED;
    const readQuantity = C.readQuantity(c, co);
    const newQuantity = byClientId && readQuantity === 0 ? o.quantity : readQuantity;
    if (!isInt(newQuantity) || newQuantity < 1) return Reason.INVALID_QUANTITY;
    if (newQuantity < sym.minQty) return Reason.QUANTITY_BELOW_MIN;
    if (newQuantity > sym.maxQty) return Reason.QUANTITY_ABOVE_MAX;
    const readPrice = C.readPrice(c, co);
    const newPrice = byClientId && readPrice === 0 ? o.price : readPrice;
    if (!isInt(newPrice) || newPrice < 1) return Reason.INVALID_PRICE;
    if (newPrice < sym.minPrice || newPrice > sym.maxPrice) return Reason.PRICE_OUT_OF_RANGE;
    if (newPrice !== o.price && this.outsideBand(sym, newPrice)) return Reason.PRICE_OUTSIDE_BAND;
    if (sym.maxNotional > 0 && newPrice * newQuantity > sym.maxNotional) return Reason.MAX_NOTIONAL_EXCEEDED;
    if (newQuantity <= o.filledQty) return Reason.AMEND_QTY_NOT_ABOVE_FILLED;
    if (
      (o.flags & OrderFlags.POST_ONLY) !== 0 &&
      newPrice !== o.price &&
      this.wouldTake(sym, o.side, newPrice)
    ) {
      return Reason.POST_ONLY_WOULD_TAKE;
    }

    const leaves = newQuantity - o.filledQty;
    const side = sym.sideOf(o.side);
    if (newPrice === o.price && newQuantity <= o.quantity) {
      // Keeps priority.
      o.quantity = newQuantity;
      o.leavesQty = leaves;
      side.setVisible(o, Math.min(o.visibleQty, leaves));
      this.emitOrder(EventType.AMENDED, Reason.NONE, o, false);
      return Reason.NONE;
    }
    // Loses priority.
    const moved = newPrice !== o.price;
    side.remove(o);
    o.place = 'taker';
    o.price = newPrice;
    o.quantity = newQuantity;
    o.leavesQty = leaves;
    o.visibleQty = o.displayQty !== 0 ? Math.min(o.displayQty, leaves) : leaves;
    this.emitOrder(EventType.AMENDED, Reason.NONE, o, false);
    if (moved) this.matchLoop(sym, o);
    if (o.place === 'taker') this.rest(sym, o);
    return Reason.NONE;
  }

  // ------------------------------------------------------------------ section 5.4

  private massCancel(c: DataView, co: number): number {
    const symbolId = C.readSymbolId(c, co);
    if (symbolId !== 0 && !this.symbols.has(symbolId)) return Reason.UNKNOWN_SYMBOL;
    const side = C.readSide(c, co);
    if (side !== 0 && side !== Side.BUY && side !== Side.SELL) return Reason.INVALID_SIDE;
    const accountId = C.readAccountId(c, co);
    const victims = [...(this.openByAccount.get(accountId) ?? [])].filter(
      (o) => (symbolId === 0 || o.symbolId === symbolId) && (side === 0 || o.side === side),
    );
    victims.sort((a, b) => a.id - b.id);
    for (const o of victims) {
      this.takeOut(o);
      this.emitOrder(EventType.CANCELLED, Reason.MASS_CANCEL, o, true);
    }
    const at = this.claim(EventType.MASS_CANCEL_DONE, side, Reason.NONE, symbolId, accountId);
    const v = this.sink!.view;
    v.setFloat64(at + E.CANCELLED_COUNT, victims.length, true);
    E.zeroFrom(v, at, E.CANCELLED_COUNT + 8);
    return Reason.NONE;
  }

  // ------------------------------------------------------------------ section 5.6

  private addSymbol(c: DataView, co: number): number {
    const symbolId = C.readSymbolId(c, co);
    if (symbolId < 1 || symbolId > 65535) return Reason.INVALID_SYMBOL_CONFIG;
    if (this.symbols.has(symbolId)) return Reason.SYMBOL_EXISTS;
    const config = {
      minPrice: c.getFloat64(co + C.SYM_MIN_PRICE, true),
      maxPrice: c.getFloat64(co + C.SYM_MAX_PRICE, true),
      minQty: c.getFloat64(co + C.SYM_MIN_QTY, true),
      maxQty: c.getFloat64(co + C.SYM_MAX_QTY, true),
      maxNotional: c.getFloat64(co + C.SYM_MAX_NOTIONAL, true),
      referencePrice: c.getFloat64(co + C.SYM_REFERENCE_PRICE, true),
      priceBandBps: c.getUint32(co + C.SYM_PRICE_BAND_BPS, true),
    };
    const { minPrice, maxPrice, minQty, maxQty, maxNotional, referencePrice } = config;
    if (
      !(isInt(minPrice) && minPrice >= 1) ||
      !(isInt(maxPrice) && maxPrice >= minPrice) ||
      maxPrice - minPrice >= 2 ** 24 ||
      !(isInt(minQty) && minQty >= 1) ||
      !(isInt(maxQty) && maxQty >= minQty) ||
      !(isInt(maxNotional) && maxNotional >= 0) ||
      (referencePrice !== 0 &&
        !(isInt(referencePrice) && referencePrice >= minPrice && referencePrice <= maxPrice))
    ) {
      return Reason.INVALID_SYMBOL_CONFIG;
    }
    if (this.symbols.size >= this.config.maxSymbols) return Reason.SYMBOL_TABLE_FULL;
    config.maxNotional = plain(maxNotional);
    config.referencePrice = plain(referencePrice);
    this.symbols.set(
      symbolId,
      new RefSymbol(symbolId, config, (s, side, price) => this.touch(s, side, price)),
    );
    this.symbolIds = [...this.symbols.keys()].sort((a, b) => a - b);
    const at = this.claim(EventType.SYMBOL_ADDED, 0, Reason.NONE, symbolId, C.readAccountId(c, co));
    E.zeroFrom(this.sink!.view, at, E.HEADER_SIZE);
    return Reason.NONE;
  }

  // ------------------------------------------------------------------ section 6

  /** 6.1: executes a new LIMIT/MARKET order or a triggered stop. */
  private execute(sym: RefSymbol, o: RefOrder): void {
    if (o.timeInForce === TimeInForce.FOK && !this.precheck(sym, o, o.leavesQty)) {
      this.cancelOpen(o, Reason.FOK_NOT_FILLABLE);
      return;
    }
    if (o.minQty > 0 && !this.precheck(sym, o, o.minQty)) {
      this.cancelOpen(o, Reason.MIN_QTY_NOT_AVAILABLE);
      return;
    }
    this.matchLoop(sym, o);
    if (o.place === 'closed') return;
    const limit = o.orderType === OrderType.LIMIT || o.orderType === OrderType.STOP_LIMIT;
    const rests = o.timeInForce === TimeInForce.GTC || o.timeInForce === TimeInForce.GTD;
    if (limit && rests) this.rest(sym, o);
    else this.cancelOpen(o, Reason.IOC_UNFILLED);
  }

  /** Puts open taker `o` at the back of the level at its price, showing min(displayQty, leaves) (FINDINGS.md item 2). */
  private rest(sym: RefSymbol, o: RefOrder): void {
    o.visibleQty = o.displayQty !== 0 ? Math.min(o.displayQty, o.leavesQty) : o.leavesQty;
    o.place = 'book';
    sym.sideOf(o.side).append(o);
  }

  /** 6.1 "acceptable price" of a level for taker `o`. */
  private acceptable(o: RefOrder, levelPrice: number): boolean {
    if (o.orderType === OrderType.MARKET || o.orderType === OrderType.STOP) return true;
    return o.side === Side.BUY ? levelPrice <= o.price : levelPrice >= o.price;
  }

  /** Section 2: two orders self-match. */
  private selfMatch(taker: RefOrder, maker: RefOrder): boolean {
    return (
      taker.accountId === maker.accountId || (taker.tradeGroup !== 0 && taker.tradeGroup === maker.tradeGroup)
    );
  }

  /** 6.1 precheck(needed). */
  private precheck(sym: RefSymbol, o: RefOrder, needed: number): boolean {
    let sum = 0;
    for (const level of sym.oppositeOf(o.side).levels) {
      if (!this.acceptable(o, level.price)) return false;
      for (const m of level.orders) {
        if (this.selfMatch(o, m)) return false;
        sum += m.leavesQty;
      }
      if (sum >= needed) return true;
    }
    return false;
  }

  /** 6.2: matches taker `o` against the opposite side. */
  private matchLoop(sym: RefSymbol, o: RefOrder): void {
    const opposite = sym.oppositeOf(o.side);
    while (o.place === 'taker' && o.leavesQty > 0) {
      const level = opposite.best();
      if (level === undefined || !this.acceptable(o, level.price)) return;
      const m = level.orders[0];
      if (this.selfMatch(o, m)) {
        this.selfTradePrevention(opposite, o, m);
        continue;
      }
      const q = Math.min(o.leavesQty, m.visibleQty);
      m.filledQty += q;
      m.leavesQty -= q;
      opposite.setVisible(m, m.visibleQty - q);
      o.filledQty += q;
      o.leavesQty -= q;
      sym.lastTradePrice = m.price;
      this.fillPrices.push(m.price);
      this.tradeCounter++;
      this.emitMatch(
        true,
        makeId(this.config.shardId, this.tradeCounter),
        m.price,
        q,
        m,
        o,
        m.leavesQty,
        o.leavesQty,
      );
      if (m.leavesQty === 0) {
        this.takeOut(m);
      } else if (m.visibleQty === 0) {
        opposite.setVisible(m, Math.min(m.displayQty, m.leavesQty));
        opposite.moveToBack(m);
      }
      if (o.leavesQty === 0) this.close(o);
    }
  }

  /**
   * 6.3: maker `m` self-matches taker `o`. SELF_TRADE_PREVENTED carries both orders' leaves after the
   * STP reduction: only DECREMENT reduces them; the EXPIRE_* modes report the leaves unchanged and
   * the cancellation by the CANCELLED events that follow (engine/reference/FINDINGS.md, item 1).
   */
  private selfTradePrevention(opposite: BookSide, o: RefOrder, m: RefOrder): void {
    const q = Math.min(o.leavesQty, m.leavesQty);
    if (o.stpMode === StpMode.DECREMENT) {
      m.quantity -= q;
      m.leavesQty -= q;
      opposite.setVisible(m, Math.min(m.visibleQty, m.leavesQty));
      o.quantity -= q;
      o.leavesQty -= q;
    }
    this.emitMatch(false, o.stpMode, m.price, q, m, o, m.leavesQty, o.leavesQty);
    switch (o.stpMode) {
      case StpMode.EXPIRE_TAKER:
        this.cancelOpen(o, Reason.SELF_TRADE);
        return;
      case StpMode.EXPIRE_MAKER:
        this.cancelOpen(m, Reason.SELF_TRADE);
        return;
      case StpMode.EXPIRE_BOTH:
        this.cancelOpen(m, Reason.SELF_TRADE);
        this.cancelOpen(o, Reason.SELF_TRADE);
        return;
      default:
        if (m.leavesQty === 0) this.cancelOpen(m, Reason.SELF_TRADE);
        if (o.leavesQty === 0) this.cancelOpen(o, Reason.SELF_TRADE);
    }
  }

  // ------------------------------------------------------------------ section 7

  private triggerStops(sym: RefSymbol): void {
    while (this.fillPrices.length > 0) {
      const hi = Math.max(...this.fillPrices);
      const lo = Math.min(...this.fillPrices);
      this.fillPrices = [];
      const wave = [
        ...sym.buyStops.filter((s) => s.stopPrice <= hi),
        ...sym.sellStops.filter((s) => s.stopPrice >= lo),
      ];
      for (const s of wave) sym.removeStop(s);
      for (const s of wave) {
        s.place = 'taker';
        this.emitOrder(EventType.TRIGGERED, Reason.NONE, s, false);
        this.execute(sym, s);
      }
    }
  }

  // ------------------------------------------------------------------ open orders

  /** Removes open order `o` from wherever it is (level or stop list) and closes it. */
  private takeOut(o: RefOrder): void {
    const sym = this.symbols.get(o.symbolId)!;
    if (o.place === 'book') sym.sideOf(o.side).remove(o);
    else if (o.place === 'stop') sym.removeStop(o);
    this.close(o);
  }

  /** Forgets open order `o` (it is no longer in a level or stop list). */
  private close(o: RefOrder): void {
    this.open.delete(o.id);
    this.openByAccount.get(o.accountId)!.delete(o);
    this.openGtd.delete(o);
    o.place = 'closed';
  }

  /** Takes out open order `o` and emits CANCELLED(reason). */
  private cancelOpen(o: RefOrder, reason: number): void {
    this.takeOut(o);
    this.emitOrder(EventType.CANCELLED, reason, o, true);
  }

  // ------------------------------------------------------------------ section 8

  private levelValue(side: BookSide, price: number): LevelValue {
    const level = side.find(price);
    return level === undefined ? { qty: 0, count: 0 } : { qty: displayed(level), count: level.orders.length };
  }

  private bbo(sym: RefSymbol): number[] {
    const b = sym.bids.best();
    const a = sym.asks.best();
    return [b?.price ?? 0, b ? displayed(b) : 0, a?.price ?? 0, a ? displayed(a) : 0];
  }

  private rememberBefore(): void {
    this.before = new Map();
    this.bboBefore = new Map();
    for (const sym of this.symbols.values()) {
      this.bboBefore.set(sym.symbolId, this.bbo(sym));
      if (this.fullDiff) {
        const sides = [new Map<number, LevelValue>(), new Map<number, LevelValue>()];
        for (const side of [sym.bids, sym.asks]) {
          for (const level of side.levels) {
            sides[side.side === Side.BUY ? 0 : 1].set(level.price, {
              qty: displayed(level),
              count: level.orders.length,
            });
          }
        }
        this.before.set(sym.symbolId, sides);
      }
    }
  }

  /** Remembers the L2 value of a level the first time the command is about to change it. */
  private touch(symbolId: number, side: number, price: number): void {
    let sides = this.before.get(symbolId);
    if (sides === undefined) {
      sides = [new Map(), new Map()];
      this.before.set(symbolId, sides);
    }
    const was = sides[side === Side.BUY ? 0 : 1];
    if (was.has(price)) return;
    was.set(price, this.levelValue(this.symbols.get(symbolId)!.sideOf(side), price));
  }

  private marketData(): void {
    for (const symbolId of this.symbolIds) {
      const sym = this.symbols.get(symbolId)!;
      const sides = this.before.get(symbolId);
      for (const side of [sym.bids, sym.asks]) {
        const was = sides?.[side.side === Side.BUY ? 0 : 1] ?? new Map<number, LevelValue>();
        const prices = new Set(was.keys());
        // Whole-book mode: every level now, looked up by price (touched mode looks up a few levels).
        const levelsNow = this.fullDiff ? new Map(side.levels.map((l) => [l.price, l])) : null;
        if (levelsNow !== null) for (const price of levelsNow.keys()) prices.add(price);
        const sorted = [...prices].sort((a, b) => (side.side === Side.BUY ? b - a : a - b));
        for (const price of sorted) {
          const before = was.get(price) ?? { qty: 0, count: 0 };
          const level = levelsNow?.get(price);
          const after =
            levelsNow === null
              ? this.levelValue(side, price)
              : { qty: level === undefined ? 0 : displayed(level), count: level?.orders.length ?? 0 };
          if (before.qty !== after.qty || before.count !== after.count) {
            const at = this.claim(EventType.L2_UPDATE, side.side, Reason.NONE, symbolId, 0);
            E.writeL2Body(this.sink!.view, at, price, after.qty, after.count);
          }
        }
      }
      const before = this.bboBefore.get(symbolId) ?? [0, 0, 0, 0];
      const after = this.bbo(sym);
      if (before.some((x, i) => x !== after[i])) {
        const at = this.claim(EventType.BBO, 0, Reason.NONE, symbolId, 0);
        E.writeBboBody(this.sink!.view, at, after[0], after[1], after[2], after[3]);
      }
    }
  }

  // ------------------------------------------------------------------ section 4: events

  /** Claims the next event slot and writes its header; returns the slot offset in `sink.view`. */
  private claim(type: number, side: number, reason: number, symbolId: number, accountId: number): number {
    const sink = this.sink!;
    const at = sink.claim();
    this.written++;
    E.writeHeader(
      sink.view,
      at,
      type,
      side,
      reason,
      symbolId,
      ++this.seq,
      this.now,
      this.correlationId,
      this.sessionId,
      accountId,
    );
    return at;
  }

  /** An ORDER-body event; `closing` (CANCELLED, EXPIRED) reports leavesQty 0. */
  private emitOrder(type: number, reason: number, o: RefOrder, closing: boolean): void {
    const at = this.claim(type, o.side, reason, o.symbolId, o.accountId);
    E.writeOrderBody(
      this.sink!.view,
      at,
      o.id,
      o.clientOrderId,
      o.price,
      o.stopPrice,
      o.quantity,
      o.filledQty,
      closing ? 0 : o.leavesQty,
      o.displayQty,
      o.expireTime,
      o.sessionId,
      o.tradeGroup,
      o.orderType,
      o.timeInForce,
      o.flags,
      o.stpMode,
      0,
    );
  }

  /** FILL (isFill) or SELF_TRADE_PREVENTED between maker `m` and taker `t` with the given leaves. */
  private emitMatch(
    isFill: boolean,
    tradeIdOrMode: number,
    price: number,
    quantity: number,
    m: RefOrder,
    t: RefOrder,
    makerLeaves: number,
    takerLeaves: number,
  ): void {
    const type = isFill ? EventType.FILL : EventType.SELF_TRADE_PREVENTED;
    const at = this.claim(type, t.side, Reason.NONE, t.symbolId, 0);
    E.writeMatchBody(
      this.sink!.view,
      at,
      isFill,
      tradeIdOrMode,
      price,
      quantity,
      m.id,
      m.clientOrderId,
      makerLeaves,
      t.id,
      t.clientOrderId,
      takerLeaves,
      m.accountId,
      m.sessionId,
      t.accountId,
      t.sessionId,
    );
  }

  /** REJECTED for the command at `c[co]` (section 4). */
  private emitReject(c: DataView, co: number, reason: number): void {
    const type = C.readType(c, co);
    const isNew = type === CommandType.NEW_ORDER;
    const isAmend = type === CommandType.AMEND;
    const isAmendByClientId = type === CommandType.AMEND_BY_CLIENT_ID;
    const isCancel = type === CommandType.CANCEL;
    const at = this.claim(
      EventType.REJECTED,
      C.readSide(c, co),
      reason,
      C.readSymbolId(c, co),
      C.readAccountId(c, co),
    );
    E.writeOrderBody(
      this.sink!.view,
      at,
      isCancel || isAmend ? C.readOrderId(c, co) : 0,
      C.readClientOrderId(c, co),
      isNew || isAmend || isAmendByClientId ? C.readPrice(c, co) : 0,
      isNew ? C.readStopPrice(c, co) : 0,
      isNew || isAmend || isAmendByClientId ? C.readQuantity(c, co) : 0,
      0,
      0,
      isNew ? C.readDisplayQty(c, co) : 0,
      isNew ? C.readExpireTime(c, co) : 0,
      C.readSessionId(c, co),
      C.readTradeGroup(c, co),
      C.readOrderType(c, co),
      C.readTimeInForce(c, co),
      C.readFlags(c, co),
      C.readStpMode(c, co),
      type,
    );
  }

  // ------------------------------------------------------------------ queries

  stateHash(): string {
    const h = new StateHasher();
    h.add(this.seq);
    h.add(this.now);
    h.add(this.orderCounter);
    h.add(this.tradeCounter);
    h.add(this.accounts.size);
    h.add(this.symbols.size);
    const order = (o: RefOrder) => {
      for (const x of [
        o.id,
        o.clientOrderId,
        o.accountId,
        o.sessionId,
        o.tradeGroup,
        o.side,
        o.orderType,
        o.timeInForce,
        o.flags,
        o.stpMode,
        o.price,
        o.stopPrice,
        o.quantity,
        o.filledQty,
        o.leavesQty,
        o.visibleQty,
        o.displayQty,
        o.expireTime,
      ]) {
        h.add(x);
      }
    };
    for (const id of this.symbolIds) {
      const s = this.symbols.get(id)!;
      for (const x of [
        s.symbolId,
        s.minPrice,
        s.maxPrice,
        s.minQty,
        s.maxQty,
        s.maxNotional,
        s.referencePrice,
        s.priceBandBps,
        s.lastTradePrice,
      ]) {
        h.add(x);
      }
      for (const side of [s.bids, s.asks]) {
        h.add(side.levels.length);
        for (const level of side.levels) {
          h.add(level.price);
          h.add(displayed(level));
          h.add(level.orders.length);
          for (const o of level.orders) order(o);
        }
      }
      for (const stops of [s.buyStops, s.sellStops]) {
        h.add(stops.length);
        for (const o of stops) order(o);
      }
    }
    return h.digest();
  }

  l2(symbolId: number, side: number, out: Float64Array): number {
    const sym = this.symbols.get(symbolId);
    if (sym === undefined || (side !== Side.BUY && side !== Side.SELL)) return 0;
    const levels = sym.sideOf(side).levels;
    const n = Math.min(levels.length, Math.floor(out.length / 3));
    for (let i = 0; i < n; i++) {
      out[3 * i] = levels[i].price;
      out[3 * i + 1] = displayed(levels[i]);
      out[3 * i + 2] = levels[i].orders.length;
    }
    return n;
  }
}
