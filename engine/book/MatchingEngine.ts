/**
 * The fast matching engine of one shard: consumes command records, emits event records.
 *
 * Pure and deterministic: no I/O, no clock (time comes from command timestamps), no randomness.
 * It owns the shard's preallocated pools (orders, levels), the order-id, client-order-id and account
 * indexes, the GTD heap and one OrderBook per symbol. Per command it allocates nothing (the level
 * pool and the market-data scratch double in the rare command that outgrows them; ADD_SYMBOL
 * allocates its book). Behaviour is specified in docs/matching.md; section numbers below refer to it.
 *
 * Called by the shard worker loop (commands from the inbound ring, events to the outbound ring), by
 * the WAL replayer and by tests, all through `process()`. Between commands, `exportState()` /
 * `MatchingEngine.fromState()` dump and restore the whole state (snapshots, docs/snapshots.md) and
 * `forEachOpenOrder()` lists the open orders (recovery seeds the gateway's views with it).
 * Thread-safety: single-threaded; an instance belongs to the thread that drives it.
 */
import { EngineConfigError } from '../EngineError.js';
import { Reason } from '../ResultCodes.js';
import * as C from '../records/CommandRecord.js';
import { COMMAND_SIZE, CommandType } from '../records/CommandRecord.js';
import { EventType } from '../records/EventRecord.js';
import { OrderFlags, OrderType, Side, StpMode, TimeInForce } from '../records/OrderCodes.js';
import { MAX_SHARD_ID, SHARD_SHIFT } from '../records/OrderId.js';
import { AccountTable } from './AccountTable.js';
import { ClientOrderIdIndex } from './ClientOrderIdIndex.js';
import type { Engine, EngineConfig } from './Engine.js';
import * as ST from './EngineState.js';
import { EngineStateError, type OpenOrder } from './EngineState.js';
import type { EventSink } from './EventSink.js';
import { EventWriter } from './EventWriter.js';
import { ExpiryHeap } from './ExpiryHeap.js';
import {
  F_EPOCH,
  F_OLD_QTY,
  F_PRICE,
  F_QTY,
  F_SHIFT,
  I_COUNT,
  I_HEAD,
  I_LADDER,
  I_OLD_COUNT,
  I_SHIFT,
  LevelPool,
} from './LevelPool.js';
import {
  BBO_ASK_PRICE,
  BBO_ASK_QTY,
  BBO_BID_PRICE,
  BBO_BID_QTY,
  LadderKind,
  OrderBook,
  type SymbolConfig,
} from './OrderBook.js';
import { OrderIdIndex } from './OrderIdIndex.js';
import { NIL, OrderPool, OrderState } from './OrderPool.js';
import type { PriceLadder } from './PriceLadder.js';
import { StateHasher } from './StateHasher.js';

// Note: imported enum members and constants are copied into module constants: TurboFan folds a
// module's own constants, but reads an imported binding through its cell (with a TDZ check) on every use.
const COMMAND_TYPE_ADD_SYMBOL = CommandType.ADD_SYMBOL;
const COMMAND_TYPE_AMEND = CommandType.AMEND;
const COMMAND_TYPE_AMEND_BY_CLIENT_ID = CommandType.AMEND_BY_CLIENT_ID;
const COMMAND_TYPE_CANCEL = CommandType.CANCEL;
const COMMAND_TYPE_CANCEL_BY_CLIENT_ID = CommandType.CANCEL_BY_CLIENT_ID;
const COMMAND_TYPE_MASS_CANCEL = CommandType.MASS_CANCEL;
const COMMAND_TYPE_NEW_ORDER = CommandType.NEW_ORDER;
const COMMAND_TYPE_TIME_ADVANCE = CommandType.TIME_ADVANCE;
const EVENT_TYPE_ACCEPTED = EventType.ACCEPTED;
const EVENT_TYPE_AMENDED = EventType.AMENDED;
const EVENT_TYPE_CANCELLED = EventType.CANCELLED;
const EVENT_TYPE_EXPIRED = EventType.EXPIRED;
const EVENT_TYPE_TRIGGERED = EventType.TRIGGERED;
const LADDER_KIND_ASKS = LadderKind.ASKS;
const BBO_OLD_BID_PRICE = BBO_BID_PRICE;
const BBO_OLD_BID_QTY = BBO_BID_QTY;
const BBO_OLD_ASK_PRICE = BBO_ASK_PRICE;
const BBO_OLD_ASK_QTY = BBO_ASK_QTY;
const LV_IS = I_SHIFT;
const LV_FS = F_SHIFT;
const LV_HEAD = I_HEAD;
const LV_COUNT = I_COUNT;
const LV_LADDER = I_LADDER;
const LV_OLD_COUNT = I_OLD_COUNT;
const LV_QTY = F_QTY;
const LV_PRICE = F_PRICE;
const LV_EPOCH = F_EPOCH;
const LV_OLD_QTY = F_OLD_QTY;
const LADDER_KIND_BIDS = LadderKind.BIDS;
const ORDER_FLAGS_ALL = OrderFlags.ALL;
const ORDER_FLAGS_POST_ONLY = OrderFlags.POST_ONLY;
const ORDER_STATE_RESTING = OrderState.RESTING;
const ORDER_STATE_STOP = OrderState.STOP;
const ORDER_STATE_TAKER = OrderState.TAKER;
const ORDER_TYPE_LIMIT = OrderType.LIMIT;
const ORDER_TYPE_MARKET = OrderType.MARKET;
const ORDER_TYPE_STOP = OrderType.STOP;
const ORDER_TYPE_STOP_LIMIT = OrderType.STOP_LIMIT;
const REASON_ACCOUNT_TABLE_FULL = Reason.ACCOUNT_TABLE_FULL;
const REASON_AMEND_NOT_ALLOWED = Reason.AMEND_NOT_ALLOWED;
const REASON_AMEND_QTY_NOT_ABOVE_FILLED = Reason.AMEND_QTY_NOT_ABOVE_FILLED;
const REASON_DUPLICATE_CLIENT_ORDER_ID = Reason.DUPLICATE_CLIENT_ORDER_ID;
const REASON_EXPIRE_TIME_IN_PAST = Reason.EXPIRE_TIME_IN_PAST;
const REASON_FOK_NOT_FILLABLE = Reason.FOK_NOT_FILLABLE;
const REASON_GTD_EXPIRED = Reason.GTD_EXPIRED;
const REASON_INVALID_CLIENT_ORDER_ID = Reason.INVALID_CLIENT_ORDER_ID;
const REASON_INVALID_DISPLAY_QTY = Reason.INVALID_DISPLAY_QTY;
const REASON_INVALID_EXPIRE_TIME = Reason.INVALID_EXPIRE_TIME;
const REASON_INVALID_FLAGS = Reason.INVALID_FLAGS;
const REASON_INVALID_MIN_QTY = Reason.INVALID_MIN_QTY;
const REASON_INVALID_ORDER_TYPE = Reason.INVALID_ORDER_TYPE;
const REASON_INVALID_PRICE = Reason.INVALID_PRICE;
const REASON_INVALID_QUANTITY = Reason.INVALID_QUANTITY;
const REASON_INVALID_SIDE = Reason.INVALID_SIDE;
const REASON_INVALID_STOP_PRICE = Reason.INVALID_STOP_PRICE;
const REASON_INVALID_STP_MODE = Reason.INVALID_STP_MODE;
const REASON_INVALID_SYMBOL_CONFIG = Reason.INVALID_SYMBOL_CONFIG;
const REASON_INVALID_TIME_IN_FORCE = Reason.INVALID_TIME_IN_FORCE;
const REASON_IOC_UNFILLED = Reason.IOC_UNFILLED;
const REASON_MASS_CANCEL = Reason.MASS_CANCEL;
const REASON_MAX_NOTIONAL_EXCEEDED = Reason.MAX_NOTIONAL_EXCEEDED;
const REASON_MIN_QTY_NOT_AVAILABLE = Reason.MIN_QTY_NOT_AVAILABLE;
const REASON_NONE = Reason.NONE;
const REASON_ORDER_NOT_FOUND = Reason.ORDER_NOT_FOUND;
const REASON_ORDER_POOL_FULL = Reason.ORDER_POOL_FULL;
const REASON_POST_ONLY_WOULD_TAKE = Reason.POST_ONLY_WOULD_TAKE;
const REASON_PRICE_OUTSIDE_BAND = Reason.PRICE_OUTSIDE_BAND;
const REASON_PRICE_OUT_OF_RANGE = Reason.PRICE_OUT_OF_RANGE;
const REASON_QUANTITY_ABOVE_MAX = Reason.QUANTITY_ABOVE_MAX;
const REASON_QUANTITY_BELOW_MIN = Reason.QUANTITY_BELOW_MIN;
const REASON_SELF_TRADE = Reason.SELF_TRADE;
const REASON_STOP_ALREADY_TRIGGERED = Reason.STOP_ALREADY_TRIGGERED;
const REASON_SYMBOL_EXISTS = Reason.SYMBOL_EXISTS;
const REASON_SYMBOL_TABLE_FULL = Reason.SYMBOL_TABLE_FULL;
const REASON_UNKNOWN_COMMAND = Reason.UNKNOWN_COMMAND;
const REASON_UNKNOWN_SYMBOL = Reason.UNKNOWN_SYMBOL;
const REASON_USER_CANCEL = Reason.USER_CANCEL;
const SIDE_BUY = Side.BUY;
const SIDE_SELL = Side.SELL;
const STP_MODE_DECREMENT = StpMode.DECREMENT;
const STP_MODE_EXPIRE_BOTH = StpMode.EXPIRE_BOTH;
const STP_MODE_EXPIRE_MAKER = StpMode.EXPIRE_MAKER;
const STP_MODE_EXPIRE_TAKER = StpMode.EXPIRE_TAKER;
const TIME_IN_FORCE_FOK = TimeInForce.FOK;
const TIME_IN_FORCE_GTC = TimeInForce.GTC;
const TIME_IN_FORCE_GTD = TimeInForce.GTD;
const NO_SLOT = NIL;

/** Symbol ids are 1..MAX_SYMBOL_ID (section 1). */
export const MAX_SYMBOL_ID = 65535;
/** `maxPrice - minPrice` must be below this (section 5.6). */
export const MAX_PRICE_RANGE = 2 ** 24;

const MAX_TICK = MAX_PRICE_RANGE - 1;
const KEY_SYMBOL = 2 ** 26;
const KEY_ASK = 2 ** 25;
const isInt = Number.isSafeInteger;
/** Dirty levels whose sort keys touch() records; more than this per command use the native sort. */
const DIRTY_KEYS = 16;

/** Engine construction options: the contract's capacities plus tuning that does not change behaviour. */
export interface MatchingEngineOptions extends EngineConfig {
  /** Initial level-pool size (it doubles on demand). Default min(maxOrders, 65536). */
  readonly initialLevels?: number;
}

export function checkConfig(config: EngineConfig): void {
  const { shardId, maxSymbols } = config;
  if (!Number.isInteger(shardId) || shardId < 0 || shardId > MAX_SHARD_ID) {
    throw new EngineConfigError(`shardId must be an integer in 0..${MAX_SHARD_ID}, got ${shardId}`);
  }
  if (!Number.isInteger(maxSymbols) || maxSymbols < 1 || maxSymbols > MAX_SYMBOL_ID) {
    throw new EngineConfigError(`maxSymbols must be an integer in 1..${MAX_SYMBOL_ID}, got ${maxSymbols}`);
  }
}

export class MatchingEngine implements Engine {
  private readonly idBase: number;
  private readonly maxSymbols: number;
  private readonly orders: OrderPool;
  private readonly levels: LevelPool;
  private readonly byId: OrderIdIndex;
  private readonly byClientId: ClientOrderIdIndex;
  private readonly accounts: AccountTable;
  private readonly expiry: ExpiryHeap;
  private readonly out: EventWriter;
  private readonly books: OrderBook[];
  /** symbolId -> book index + 1 (0 = unknown). */
  private readonly bookBySymbol: Int32Array;
  /** Scratch for one stop-trigger wave (section 7). */
  private readonly wave: Int32Array;
  private orderCounter: number;
  private tradeCounter: number;
  private now: number;
  /** Incremented per command; levels and books remember the epoch that first touched them. */
  private epoch: number;
  /** Levels touched by the current command (market data, section 8). */
  private dirty: Int32Array;
  /** Sort keys of the first DIRTY_KEYS dirty levels (set by touch(); insertion sort scratch). */
  private readonly dirtyKeys: Float64Array;
  private dirtyCount: number;
  /** Comparator of dirty level slots for the native sort, bound once. */
  private readonly byKey: (a: number, b: number) => number;
  /** Fills since the last stop evaluation: whether any, and their price range (section 7). */
  private traded: boolean;
  private tradeHi: number;
  private tradeLo: number;
  /** The command buffer of the latest process() call and its byteLength. */
  private cmdView: DataView | null;
  private cmdLength: number;

  constructor(options: MatchingEngineOptions) {
    checkConfig(options);
    this.idBase = options.shardId * SHARD_SHIFT;
    this.maxSymbols = options.maxSymbols;
    this.orders = new OrderPool(options.maxOrders);
    this.levels = new LevelPool(this.orders, options.initialLevels ?? Math.min(options.maxOrders, 65536));
    this.byId = new OrderIdIndex(this.orders);
    this.byClientId = new ClientOrderIdIndex(this.orders);
    this.accounts = new AccountTable(this.orders, options.maxAccounts);
    this.expiry = new ExpiryHeap(this.orders);
    this.out = new EventWriter(this.orders);
    this.books = [];
    this.bookBySymbol = new Int32Array(MAX_SYMBOL_ID + 1);
    this.wave = new Int32Array(options.maxOrders);
    this.orderCounter = 0;
    this.tradeCounter = 0;
    this.now = 0;
    this.epoch = 0;
    this.dirty = new Int32Array(1024);
    this.dirtyKeys = new Float64Array(DIRTY_KEYS);
    this.dirtyCount = 0;
    this.byKey = (a: number, b: number) => this.keyOf(a) - this.keyOf(b);
    this.traded = false;
    this.tradeHi = 0;
    this.tradeLo = 0;
    this.cmdView = null;
    this.cmdLength = 0;
  }

  get sequence(): number {
    return this.out.seq;
  }

  process(cmd: DataView, off: number, sink: EventSink): number {
    // Note: DataView.byteLength is a builtin call, so it is read once per command buffer; the reads
    // below are bounds-checked anyway, this check only gives the documented RecordBoundsError.
    if (cmd !== this.cmdView) {
      this.cmdView = cmd;
      this.cmdLength = cmd.byteLength;
    }
    if (!(off >= 0 && off + COMMAND_SIZE <= this.cmdLength)) C.checkCapacity(cmd, off);
    const out = this.out;
    out.begin(sink, C.readCorrelationId(cmd, off), C.readSessionId(cmd, off));
    this.epoch++;
    this.traded = false;
    // Step 1: time (section 3).
    const ts = C.readTimestamp(cmd, off);
    if (ts > this.now && isInt(ts)) {
      this.now = ts;
      out.now = ts;
      this.expireDue();
    }
    // Steps 2-3: a handler returns REASON_NONE or the reason of its REJECTED event.
    let reason: number;
    switch (C.readType(cmd, off)) {
      case COMMAND_TYPE_NEW_ORDER:
        reason = this.newOrder(cmd, off);
        break;
      case COMMAND_TYPE_CANCEL:
        reason = this.cancel(cmd, off, false);
        break;
      case COMMAND_TYPE_CANCEL_BY_CLIENT_ID:
        reason = this.cancel(cmd, off, true);
        break;
      case COMMAND_TYPE_AMEND:
        reason = this.amend(cmd, off, false);
        break;
      case COMMAND_TYPE_AMEND_BY_CLIENT_ID:
        reason = this.amend(cmd, off, true);
        break;
      case COMMAND_TYPE_MASS_CANCEL:
        reason = this.massCancel(cmd, off);
        break;
      case COMMAND_TYPE_TIME_ADVANCE:
        reason = REASON_NONE;
        break;
      case COMMAND_TYPE_ADD_SYMBOL:
        reason = this.addSymbol(cmd, off);
        break;
      default:
        reason = REASON_UNKNOWN_COMMAND;
    }
    if (reason !== REASON_NONE) out.reject(cmd, off, reason);
    // Step 4.
    if (this.dirtyCount > 0) this.flushMarketData();
    sink.commit();
    return out.count;
  }

  // ---------------------------------------------------------------- commands (section 5)

  private bookIndex(symbolId: number): number {
    return symbolId <= MAX_SYMBOL_ID ? this.bookBySymbol[symbolId] - 1 : -1;
  }

  private newOrder(c: DataView, co: number): number {
    const out = this.out;
    const bi = this.bookIndex(C.readSymbolId(c, co));
    if (bi < 0) return REASON_UNKNOWN_SYMBOL;
    const book = this.books[bi];
    const side = C.readSide(c, co);
    if (side !== SIDE_BUY && side !== SIDE_SELL) return REASON_INVALID_SIDE;
    const type = C.readOrderType(c, co);
    if (type < ORDER_TYPE_LIMIT || type > ORDER_TYPE_STOP_LIMIT) return REASON_INVALID_ORDER_TYPE;
    const tif = C.readTimeInForce(c, co);
    const resting = tif === TIME_IN_FORCE_GTC || tif === TIME_IN_FORCE_GTD;
    if (
      tif < TIME_IN_FORCE_GTC ||
      tif > TIME_IN_FORCE_GTD ||
      (type === ORDER_TYPE_MARKET && resting) ||
      (type === ORDER_TYPE_STOP && !resting)
    ) {
      return REASON_INVALID_TIME_IN_FORCE;
    }
    const flags = C.readFlags(c, co);
    const postOnly = (flags & ORDER_FLAGS_POST_ONLY) !== 0;
    if ((flags & ~ORDER_FLAGS_ALL) !== 0 || (postOnly && (type !== ORDER_TYPE_LIMIT || !resting))) {
      return REASON_INVALID_FLAGS;
    }
    const stp = C.readStpMode(c, co);
    if (stp > STP_MODE_DECREMENT) return REASON_INVALID_STP_MODE;
    const clientId = C.readClientOrderId(c, co) + 0; // Note: + 0 turns -0 into 0.
    if (!isInt(clientId) || clientId < 0) return REASON_INVALID_CLIENT_ORDER_ID;
    const qty = C.readQuantity(c, co);
    if (!isInt(qty) || qty < 1) return REASON_INVALID_QUANTITY;
    if (qty < book.minQty) return REASON_QUANTITY_BELOW_MIN;
    if (qty > book.maxQty) return REASON_QUANTITY_ABOVE_MAX;
    const hasLimit = type === ORDER_TYPE_LIMIT || type === ORDER_TYPE_STOP_LIMIT;
    const price = C.readPrice(c, co);
    if (hasLimit) {
      if (!isInt(price) || price < 1) return REASON_INVALID_PRICE;
      if (price < book.minPrice || price > book.maxPrice) return REASON_PRICE_OUT_OF_RANGE;
    } else if (price !== 0) {
      return REASON_INVALID_PRICE;
    }
    const isStop = type === ORDER_TYPE_STOP || type === ORDER_TYPE_STOP_LIMIT;
    const stopPrice = C.readStopPrice(c, co);
    if (isStop) {
      if (!isInt(stopPrice) || stopPrice < 1) return REASON_INVALID_STOP_PRICE;
      if (stopPrice < book.minPrice || stopPrice > book.maxPrice) {
        return REASON_PRICE_OUT_OF_RANGE;
      }
    } else if (stopPrice !== 0) {
      return REASON_INVALID_STOP_PRICE;
    }
    const display = C.readDisplayQty(c, co);
    if (display !== 0 && (!isInt(display) || display < 1 || display > qty || !hasLimit || !resting)) {
      return REASON_INVALID_DISPLAY_QTY;
    }
    const minQty = C.readMinQty(c, co);
    if (
      minQty !== 0 &&
      (!isInt(minQty) ||
        minQty < 1 ||
        minQty > qty ||
        (type !== ORDER_TYPE_LIMIT && type !== ORDER_TYPE_MARKET))
    ) {
      return REASON_INVALID_MIN_QTY;
    }
    const expire = C.readExpireTime(c, co);
    if (tif === TIME_IN_FORCE_GTD) {
      if (!isInt(expire)) return REASON_INVALID_EXPIRE_TIME;
      if (expire <= this.now) return REASON_EXPIRE_TIME_IN_PAST;
    } else if (expire !== 0) {
      return REASON_INVALID_EXPIRE_TIME;
    }
    const ref = book.reference();
    if (hasLimit && !inBand(book, price, ref)) return REASON_PRICE_OUTSIDE_BAND;
    if (book.maxNotional > 0) {
      const p = hasLimit ? price : ref;
      if (p > 0 && p * qty > book.maxNotional) return REASON_MAX_NOTIONAL_EXCEEDED;
    }
    if (isStop) {
      const last = book.lastTradePrice;
      if (last > 0 && (side === SIDE_BUY ? last >= stopPrice : last <= stopPrice)) {
        return REASON_STOP_ALREADY_TRIGGERED;
      }
    }
    const account = C.readAccountId(c, co);
    if (clientId !== 0 && this.byClientId.find(bi, account, clientId) >= 0) {
      return REASON_DUPLICATE_CLIENT_ORDER_ID;
    }
    if (postOnly && crosses(book, side, price)) return REASON_POST_ONLY_WOULD_TAKE;
    const accounts = this.accounts;
    let acct = accounts.find(account);
    if (acct < 0 && accounts.size === accounts.capacity) return REASON_ACCOUNT_TABLE_FULL;
    const o = this.orders;
    if (o.used === o.capacity) return REASON_ORDER_POOL_FULL;
    if (acct < 0) acct = accounts.add(account);

    const s = o.alloc();
    o.id[s] = this.idBase + ++this.orderCounter;
    o.clientId[s] = clientId;
    o.price[s] = hasLimit ? price : 0;
    o.stopPrice[s] = isStop ? stopPrice : 0;
    o.quantity[s] = qty;
    o.leaves[s] = qty;
    o.display[s] = display === 0 ? 0 : display;
    o.visible[s] = display > 0 && display < qty ? display : qty;
    o.expireTime[s] = tif === TIME_IN_FORCE_GTD ? expire : 0;
    o.account[s] = account;
    o.session[s] = C.readSessionId(c, co);
    o.group[s] = C.readTradeGroup(c, co);
    o.book[s] = bi;
    o.side[s] = side;
    o.type[s] = type;
    o.tif[s] = tif;
    o.flags[s] = flags;
    o.stp[s] = stp;
    this.byId.insert(s);
    if (clientId !== 0) this.byClientId.insert(s);
    accounts.append(acct, s);
    if (tif === TIME_IN_FORCE_GTD) this.expiry.push(s);
    out.order(EVENT_TYPE_ACCEPTED, REASON_NONE, s, book.symbolId, false);
    if (isStop) {
      o.state[s] = ORDER_STATE_STOP;
      const ladder = side === SIDE_BUY ? book.buyStops : book.sellStops;
      const l = ladder.ensureLevel(stopPrice);
      if (this.levels.append(l, s) === 1) ladder.activate(stopPrice);
      return REASON_NONE;
    }
    o.state[s] = ORDER_STATE_TAKER;
    this.execute(book, s, minQty === 0 ? 0 : minQty);
    if (this.traded) this.runStops(book);
    return REASON_NONE;
  }

  private cancel(c: DataView, co: number, byClientId: boolean): number {
    const bi = this.bookIndex(C.readSymbolId(c, co));
    if (bi < 0) return REASON_UNKNOWN_SYMBOL;
    const s = this.target(bi, c, co, byClientId);
    if (s < 0) return REASON_ORDER_NOT_FOUND;
    this.cancelOpen(this.books[bi], s, EVENT_TYPE_CANCELLED, REASON_USER_CANCEL);
    return REASON_NONE;
  }

  /**
   * The open order a CANCEL/AMEND names in book `bi` (by its order id) or a *_BY_CLIENT_ID names (by
   * its client order id; 0 names nothing), owned by the command's account; -1 when there is none.
   */
  private target(bi: number, c: DataView, co: number, byClientId: boolean): number {
    const account = C.readAccountId(c, co);
    if (!byClientId) return this.findOwned(bi, account, C.readOrderId(c, co));
    const clientId = C.readClientOrderId(c, co);
    return clientId === 0 ? -1 : this.byClientId.find(bi, account, clientId);
  }

  /** Open order with this id in book `bi` owned by `account`, or -1. */
  private findOwned(bi: number, account: number, orderId: number): number {
    const s = this.byId.find(orderId);
    if (s < 0) return -1;
    const o = this.orders;
    return o.book[s] === bi && o.account[s] === account ? s : -1;
  }

  /** AMEND, or AMEND_BY_CLIENT_ID (`byClientId`: target by client order id, 0 = unchanged). */
  private amend(c: DataView, co: number, byClientId: boolean): number {
    const out = this.out;
    const bi = this.bookIndex(C.readSymbolId(c, co));
    if (bi < 0) return REASON_UNKNOWN_SYMBOL;
    const book = this.books[bi];
    const s = this.target(bi, c, co, byClientId);
    if (s < 0) return REASON_ORDER_NOT_FOUND;
    const o = this.orders;
    if (o.state[s] === ORDER_STATE_STOP) return REASON_AMEND_NOT_ALLOWED;
    let newQty = C.readQuantity(c, co);
    if (byClientId && newQty === 0) newQty = o.quantity[s];
    if (!isInt(newQty) || newQty < 1) return REASON_INVALID_QUANTITY;
    if (newQty < book.minQty) return REASON_QUANTITY_BELOW_MIN;
    if (newQty > book.maxQty) return REASON_QUANTITY_ABOVE_MAX;
    let newPrice = C.readPrice(c, co);
    if (byClientId && newPrice === 0) newPrice = o.price[s];
    if (!isInt(newPrice) || newPrice < 1) return REASON_INVALID_PRICE;
    if (newPrice < book.minPrice || newPrice > book.maxPrice) return REASON_PRICE_OUT_OF_RANGE;
    const oldPrice = o.price[s];
    const moved = newPrice !== oldPrice;
    if (moved && !inBand(book, newPrice, book.reference())) return REASON_PRICE_OUTSIDE_BAND;
    if (book.maxNotional > 0 && newPrice * newQty > book.maxNotional) {
      return REASON_MAX_NOTIONAL_EXCEEDED;
    }
    const filled = o.quantity[s] - o.leaves[s];
    if (newQty <= filled) return REASON_AMEND_QTY_NOT_ABOVE_FILLED;
    if (moved && (o.flags[s] & ORDER_FLAGS_POST_ONLY) !== 0 && crosses(book, o.side[s], newPrice)) {
      return REASON_POST_ONLY_WOULD_TAKE;
    }
    const newLeaves = newQty - filled;
    if (!moved && newQty <= o.quantity[s]) {
      // Keeps priority (section 5.3).
      const l = o.level[s];
      this.touch(l);
      o.quantity[s] = newQty;
      o.leaves[s] = newLeaves;
      const v = o.visible[s];
      if (v > newLeaves) {
        this.levels.fv[(l << LV_FS) | LV_QTY] -= v - newLeaves;
        o.visible[s] = newLeaves;
      }
      out.order(EVENT_TYPE_AMENDED, REASON_NONE, s, book.symbolId, false);
      return REASON_NONE;
    }
    // Loses priority.
    this.unqueue(book, s);
    o.price[s] = newPrice;
    o.quantity[s] = newQty;
    o.leaves[s] = newLeaves;
    o.visible[s] = visibleOf(o.display[s], newLeaves);
    out.order(EVENT_TYPE_AMENDED, REASON_NONE, s, book.symbolId, false);
    if (moved) {
      o.state[s] = ORDER_STATE_TAKER;
      if (this.matchLoop(book, s)) this.rest(book, s);
      if (this.traded) this.runStops(book);
    } else {
      this.rest(book, s);
    }
    return REASON_NONE;
  }

  private massCancel(c: DataView, co: number): number {
    const out = this.out;
    const symbolId = C.readSymbolId(c, co);
    let bi = -1;
    if (symbolId !== 0) {
      bi = this.bookIndex(symbolId);
      if (bi < 0) return REASON_UNKNOWN_SYMBOL;
    }
    const side = C.readSide(c, co);
    if (side > SIDE_SELL) return REASON_INVALID_SIDE;
    const account = C.readAccountId(c, co);
    const a = this.accounts.find(account);
    let n = 0;
    if (a >= 0) {
      const o = this.orders;
      let s = this.accounts.head[a];
      while (s !== NO_SLOT) {
        const next = o.accNext[s];
        if ((bi < 0 || o.book[s] === bi) && (side === 0 || o.side[s] === side)) {
          this.cancelOpen(this.books[o.book[s]], s, EVENT_TYPE_CANCELLED, REASON_MASS_CANCEL);
          n++;
        }
        s = next;
      }
    }
    out.massCancelDone(symbolId, side, account, n);
    return REASON_NONE;
  }

  private addSymbol(c: DataView, co: number): number {
    const out = this.out;
    const symbolId = C.readSymbolId(c, co);
    if (symbolId < 1 || symbolId > MAX_SYMBOL_ID) return REASON_INVALID_SYMBOL_CONFIG;
    if (this.bookBySymbol[symbolId] !== 0) return REASON_SYMBOL_EXISTS;
    const minPrice = c.getFloat64(co + C.SYM_MIN_PRICE, true);
    const maxPrice = c.getFloat64(co + C.SYM_MAX_PRICE, true);
    const minQty = c.getFloat64(co + C.SYM_MIN_QTY, true);
    const maxQty = c.getFloat64(co + C.SYM_MAX_QTY, true);
    const maxNotional = c.getFloat64(co + C.SYM_MAX_NOTIONAL, true) + 0;
    const referencePrice = c.getFloat64(co + C.SYM_REFERENCE_PRICE, true) + 0;
    const priceBandBps = c.getUint32(co + C.SYM_PRICE_BAND_BPS, true);
    if (
      !isInt(minPrice) ||
      minPrice < 1 ||
      !isInt(maxPrice) ||
      maxPrice < minPrice ||
      maxPrice - minPrice >= MAX_PRICE_RANGE ||
      !isInt(minQty) ||
      minQty < 1 ||
      !isInt(maxQty) ||
      maxQty < minQty ||
      !isInt(maxNotional) ||
      maxNotional < 0 ||
      (referencePrice !== 0 &&
        (!isInt(referencePrice) || referencePrice < minPrice || referencePrice > maxPrice))
    ) {
      return REASON_INVALID_SYMBOL_CONFIG;
    }
    if (this.books.length === this.maxSymbols) return REASON_SYMBOL_TABLE_FULL;
    const index = this.books.length;
    const config = {
      symbolId,
      minPrice,
      maxPrice,
      minQty,
      maxQty,
      maxNotional,
      referencePrice,
      priceBandBps,
    };
    this.books.push(new OrderBook(index, config, this.levels));
    this.bookBySymbol[symbolId] = index + 1;
    out.symbolAdded(symbolId, C.readAccountId(c, co));
    return REASON_NONE;
  }

  // ---------------------------------------------------------------- execution (section 6)

  /** Executes taker `s` (new LIMIT/MARKET or triggered stop), then rests or cancels its remainder. */
  private execute(book: OrderBook, s: number, minQty: number): void {
    const o = this.orders;
    if (o.tif[s] === TIME_IN_FORCE_FOK && !this.precheck(book, s, o.leaves[s])) {
      this.cancelTaker(book, s, REASON_FOK_NOT_FILLABLE);
      return;
    }
    if (minQty > 0 && !this.precheck(book, s, minQty)) {
      this.cancelTaker(book, s, REASON_MIN_QTY_NOT_AVAILABLE);
      return;
    }
    if (!this.matchLoop(book, s)) return;
    const type = o.type[s];
    const tif = o.tif[s];
    if (
      (type === ORDER_TYPE_LIMIT || type === ORDER_TYPE_STOP_LIMIT) &&
      (tif === TIME_IN_FORCE_GTC || tif === TIME_IN_FORCE_GTD)
    ) {
      this.rest(book, s);
    } else {
      this.cancelTaker(book, s, REASON_IOC_UNFILLED);
    }
  }

  /** Section 6.1 `precheck(needed)`. */
  private precheck(book: OrderBook, s: number, needed: number): boolean {
    const o = this.orders;
    const lv = this.levels;
    const buy = o.side[s] === SIDE_BUY;
    const opp = buy ? book.asks : book.bids;
    const anyPrice = o.price[s] === 0;
    const limit = o.price[s];
    const account = o.account[s];
    const group = o.group[s];
    let sum = 0;
    for (let t = opp.best; t >= 0; t = opp.nextTick(t)) {
      const p = t + opp.minPrice;
      if (!anyPrice && (buy ? p > limit : p < limit)) return false;
      for (let m = lv.head(opp.levelOf[t] - 1); m !== NO_SLOT; m = o.next[m]) {
        if (o.account[m] === account || (group !== 0 && o.group[m] === group)) return false;
        sum += o.leaves[m];
      }
      if (sum >= needed) return true;
    }
    return false;
  }

  /**
   * Section 6.2. Returns true when the taker is still open with quantity left; false when it was
   * closed (filled, or cancelled by STP).
   */
  private matchLoop(book: OrderBook, s: number): boolean {
    const o = this.orders;
    const lv = this.levels;
    const out = this.out;
    const buy = o.side[s] === SIDE_BUY;
    const opp = buy ? book.asks : book.bids;
    const anyPrice = o.price[s] === 0;
    const limit = o.price[s];
    const symbolId = book.symbolId;
    for (;;) {
      const t = opp.best;
      if (t < 0) return true;
      const price = t + opp.minPrice;
      if (!anyPrice && (buy ? price > limit : price < limit)) return true;
      const l = opp.levelOf[t] - 1;
      const m = lv.iv[(l << LV_IS) | LV_HEAD];
      if (o.account[m] === o.account[s] || (o.group[s] !== 0 && o.group[m] === o.group[s])) {
        if (!this.preventSelfTrade(book, s, m, l)) return false;
        continue;
      }
      const takerLeaves = o.leaves[s];
      const makerVisible = o.visible[m];
      const q = Math.min(takerLeaves, makerVisible);
      this.touch(l);
      o.visible[m] = makerVisible - q;
      o.leaves[m] -= q;
      lv.fv[(l << LV_FS) | LV_QTY] -= q;
      o.leaves[s] = takerLeaves - q;
      book.lastTradePrice = price;
      if (!this.traded) {
        this.traded = true;
        this.tradeHi = price;
        this.tradeLo = price;
      } else if (price > this.tradeHi) {
        this.tradeHi = price;
      } else if (price < this.tradeLo) {
        this.tradeLo = price;
      }
      out.match(true, this.idBase + ++this.tradeCounter, symbolId, price, q, m, s);
      if (o.leaves[m] === 0) {
        if (lv.unlink(l, m) === 0) opp.deactivate(price);
        this.closeOrder(m);
      } else if (o.visible[m] === 0) {
        // Iceberg refill: new visible slice at the back of the level (section 6.2).
        lv.unlink(l, m);
        o.visible[m] = visibleOf(o.display[m], o.leaves[m]);
        lv.append(l, m);
      }
      if (o.leaves[s] === 0) {
        this.closeOrder(s);
        return false;
      }
    }
  }

  /** Section 6.3. Returns true when the match loop continues. */
  private preventSelfTrade(book: OrderBook, s: number, m: number, l: number): boolean {
    const o = this.orders;
    const mode = o.stp[s];
    const takerLeaves = o.leaves[s];
    const makerLeaves = o.leaves[m];
    const q = Math.min(takerLeaves, makerLeaves);
    const price = o.price[m];
    const symbolId = book.symbolId;
    switch (mode) {
      case STP_MODE_EXPIRE_MAKER:
        this.out.match(false, mode, symbolId, price, q, m, s);
        this.cancelOpen(book, m, EVENT_TYPE_CANCELLED, REASON_SELF_TRADE);
        return true;
      case STP_MODE_EXPIRE_BOTH:
        this.out.match(false, mode, symbolId, price, q, m, s);
        this.cancelOpen(book, m, EVENT_TYPE_CANCELLED, REASON_SELF_TRADE);
        this.cancelTaker(book, s, REASON_SELF_TRADE);
        return false;
      case STP_MODE_DECREMENT: {
        this.touch(l);
        const left = makerLeaves - q;
        o.quantity[m] -= q;
        o.leaves[m] = left;
        const v = o.visible[m];
        if (v > left) {
          this.levels.fv[(l << LV_FS) | LV_QTY] -= v - left;
          o.visible[m] = left;
        }
        o.quantity[s] -= q;
        o.leaves[s] = takerLeaves - q;
        this.out.match(false, mode, symbolId, price, q, m, s);
        if (left === 0) this.cancelOpen(book, m, EVENT_TYPE_CANCELLED, REASON_SELF_TRADE);
        if (takerLeaves === q) {
          this.cancelTaker(book, s, REASON_SELF_TRADE);
          return false;
        }
        return true;
      }
      default:
        this.out.match(false, STP_MODE_EXPIRE_TAKER, symbolId, price, q, m, s);
        this.cancelTaker(book, s, REASON_SELF_TRADE);
        return false;
    }
  }

  /** Rests order `s` at the back of the level at its price. */
  private rest(book: OrderBook, s: number): void {
    const o = this.orders;
    const ladder = o.side[s] === SIDE_BUY ? book.bids : book.asks;
    const price = o.price[s];
    const l = ladder.ensureLevel(price);
    this.touch(l);
    o.state[s] = ORDER_STATE_RESTING;
    o.visible[s] = visibleOf(o.display[s], o.leaves[s]);
    if (this.levels.append(l, s) === 1) ladder.activate(price);
  }

  // ---------------------------------------------------------------- stops (section 7)

  private runStops(book: OrderBook): void {
    const o = this.orders;
    const wave = this.wave;
    while (this.traded) {
      this.traded = false;
      let n = this.collectStops(book.buyStops, this.tradeHi, true, 0);
      n = this.collectStops(book.sellStops, this.tradeLo, false, n);
      for (let i = 0; i < n; i++) {
        const s = wave[i];
        o.state[s] = ORDER_STATE_TAKER;
        this.out.order(EVENT_TYPE_TRIGGERED, REASON_NONE, s, book.symbolId, false);
        this.execute(book, s, 0);
      }
    }
  }

  /** Moves every stop of `ladder` triggered by `bound` into the wave (stop-book order); returns the new length. */
  private collectStops(ladder: PriceLadder, bound: number, isBuy: boolean, n: number): number {
    const lv = this.levels;
    const wave = this.wave;
    for (;;) {
      const t = ladder.best;
      if (t < 0) return n;
      const price = t + ladder.minPrice;
      if (isBuy ? price > bound : price < bound) return n;
      const l = ladder.levelOf[t] - 1;
      for (let m = lv.head(l); m !== NO_SLOT; m = lv.head(l)) {
        lv.unlink(l, m);
        wave[n++] = m;
      }
      ladder.deactivate(price);
      ladder.drop(price);
    }
  }

  // ---------------------------------------------------------------- removal and expiry

  /** Step 1: expires due GTD orders in (expireTime, orderId) order. */
  private expireDue(): void {
    const heap = this.expiry;
    const o = this.orders;
    for (;;) {
      const s = heap.peek();
      if (s < 0 || o.expireTime[s] > this.now) return;
      this.cancelOpen(this.books[o.book[s]], s, EVENT_TYPE_EXPIRED, REASON_GTD_EXPIRED);
    }
  }

  /** Removes open (resting or stop) order `s`, emits CANCELLED/EXPIRED with `reason`, closes it. */
  private cancelOpen(book: OrderBook, s: number, eventType: number, reason: number): void {
    this.unqueue(book, s);
    this.out.order(eventType, reason, s, book.symbolId, true);
    this.closeOrder(s);
  }

  /** Emits CANCELLED for a taker (not queued anywhere) and closes it. */
  private cancelTaker(book: OrderBook, s: number, reason: number): void {
    this.out.order(EVENT_TYPE_CANCELLED, reason, s, book.symbolId, true);
    this.closeOrder(s);
  }

  /** Takes order `s` out of its level (book or stop ladder). */
  private unqueue(book: OrderBook, s: number): void {
    const o = this.orders;
    const lv = this.levels;
    const l = o.level[s];
    if (o.state[s] === ORDER_STATE_RESTING) {
      this.touch(l);
      if (lv.unlink(l, s) === 0) (o.side[s] === SIDE_BUY ? book.bids : book.asks).deactivate(o.price[s]);
    } else {
      if (lv.unlink(l, s) === 0) {
        const ladder = o.side[s] === SIDE_BUY ? book.buyStops : book.sellStops;
        ladder.deactivate(o.stopPrice[s]);
        ladder.drop(o.stopPrice[s]);
      }
    }
  }

  /** Forgets order `s` (already out of every level): indexes, account list, GTD heap, pool. */
  private closeOrder(s: number): void {
    const o = this.orders;
    this.accounts.unlink(this.accounts.find(o.account[s]), s);
    this.byId.remove(s);
    if (o.clientId[s] !== 0) this.byClientId.remove(s);
    if (o.tif[s] === TIME_IN_FORCE_GTD) this.expiry.remove(s);
    o.release(s);
  }

  // ---------------------------------------------------------------- market data (section 8)

  /**
   * Remembers level `l`'s (qty, count) and its book's BBO before the current command changes them,
   * and its market-data sort key (keyOf) for the first DIRTY_KEYS dirty levels.
   */
  private touch(l: number): void {
    const lv = this.levels;
    const epoch = this.epoch;
    const fv = lv.fv;
    const f = l << LV_FS;
    if (fv[f | LV_EPOCH] === epoch) return;
    fv[f | LV_EPOCH] = epoch;
    fv[f | LV_OLD_QTY] = fv[f | LV_QTY];
    const iv = lv.iv;
    const i = l << LV_IS;
    iv[i | LV_OLD_COUNT] = iv[i | LV_COUNT];
    const id = iv[i | LV_LADDER];
    const book = this.books[id >> 2];
    if (book.epoch !== epoch) book.recordBbo(epoch);
    const n = this.dirtyCount;
    if (n === this.dirty.length) this.growDirty();
    this.dirty[n] = l;
    if (n < DIRTY_KEYS) this.dirtyKeys[n] = sortKey(book, id, fv[f | LV_PRICE]);
    this.dirtyCount = n + 1;
  }

  private growDirty(): void {
    const d = new Int32Array(this.dirty.length * 2);
    d.set(this.dirty);
    this.dirty = d;
  }

  /** Market-data order of a dirty level: symbolId, then bids (price descending), then asks (ascending). */
  private keyOf(l: number): number {
    const lv = this.levels;
    const id = lv.ladder(l);
    return sortKey(this.books[id >> 2], id, lv.price(l));
  }

  private flushMarketData(): void {
    const n = this.dirtyCount;
    this.dirtyCount = 0;
    const lv = this.levels;
    const dirty = this.dirty;
    // Sort the dirty level slots by their keys (taken in touch()): insertion sort for the usual
    // handful, the native sort beyond.
    if (n <= DIRTY_KEYS) {
      const keys = this.dirtyKeys;
      for (let i = 1; i < n; i++) {
        const k = keys[i];
        if (keys[i - 1] <= k) continue;
        const l = dirty[i];
        let j = i - 1;
        do {
          keys[j + 1] = keys[j];
          dirty[j + 1] = dirty[j];
          j--;
        } while (j >= 0 && keys[j] > k);
        keys[j + 1] = k;
        dirty[j + 1] = l;
      }
    } else {
      dirty.subarray(0, n).sort(this.byKey);
    }
    const out = this.out;
    const books = this.books;
    let current: OrderBook | null = null;
    const iv = lv.iv;
    const fv = lv.fv;
    for (let k = 0; k < n; k++) {
      const l = dirty[k];
      const i = l << LV_IS;
      const f = l << LV_FS;
      const id = iv[i | LV_LADDER];
      const book = books[id >> 2];
      if (book !== current) {
        if (current !== null) this.emitBbo(current);
        current = book;
      }
      const qty = fv[f | LV_QTY];
      const count = iv[i | LV_COUNT];
      const price = fv[f | LV_PRICE];
      const isAsk = (id & 3) === LADDER_KIND_ASKS;
      if (qty !== fv[f | LV_OLD_QTY] || count !== iv[i | LV_OLD_COUNT]) {
        out.l2(book.symbolId, isAsk ? SIDE_SELL : SIDE_BUY, price, qty, count);
      }
      if (count === 0) (isAsk ? book.asks : book.bids).drop(price);
    }
    if (current !== null) this.emitBbo(current);
  }

  /** Emits BBO for `book` when it differs from the one recorded by `recordBbo` in this command. */
  private emitBbo(book: OrderBook): void {
    const fv = this.levels.fv;
    const bids = book.bids;
    const asks = book.asks;
    const bt = bids.best;
    const at = asks.best;
    const bidPrice = bt < 0 ? 0 : bt + bids.minPrice;
    const bidQty = bt < 0 ? 0 : fv[((bids.levelOf[bt] - 1) << LV_FS) | LV_QTY];
    const askPrice = at < 0 ? 0 : at + asks.minPrice;
    const askQty = at < 0 ? 0 : fv[((asks.levelOf[at] - 1) << LV_FS) | LV_QTY];
    const old = book.oldBbo;
    if (
      bidPrice !== old[BBO_OLD_BID_PRICE] ||
      bidQty !== old[BBO_OLD_BID_QTY] ||
      askPrice !== old[BBO_OLD_ASK_PRICE] ||
      askQty !== old[BBO_OLD_ASK_QTY]
    ) {
      this.out.bbo(book.symbolId, bidPrice, bidQty, askPrice, askQty);
    }
  }

  // ---------------------------------------------------------------- state snapshots (docs/snapshots.md)

  /**
   * A logical dump of the whole shard state (layout: EngineState.ts). Call between commands only
   * (never from inside a sink callback). Allocates the result; not for the hot path.
   * `MatchingEngine.fromState(config, exportState())` followed by any commands emits exactly the
   * events and state hashes this engine would.
   */
  exportState(): Uint8Array {
    const books = this.books;
    const accounts = this.accounts;
    let levelCount = 0;
    for (const b of books) {
      levelCount +=
        countLevels(b.bids) + countLevels(b.asks) + countLevels(b.buyStops) + countLevels(b.sellStops);
    }
    const size =
      ST.HEADER_BYTES +
      4 * accounts.size +
      books.length * (ST.SYMBOL_BYTES + 16) +
      levelCount * ST.LEVEL_BYTES +
      this.orders.used * ST.ORDER_BYTES;
    const bytes = new Uint8Array(size);
    const v = new DataView(bytes.buffer);
    v.setUint32(ST.H_MAGIC, ST.STATE_MAGIC, true);
    v.setUint16(ST.H_VERSION, ST.STATE_VERSION, true);
    v.setUint32(ST.H_SHARD_ID, this.idBase / SHARD_SHIFT, true);
    v.setUint32(ST.H_MAX_ORDERS, this.orders.capacity, true);
    v.setUint32(ST.H_MAX_SYMBOLS, this.maxSymbols, true);
    v.setUint32(ST.H_MAX_ACCOUNTS, accounts.capacity, true);
    v.setFloat64(ST.H_SEQ, this.out.seq, true);
    v.setFloat64(ST.H_NOW, this.now, true);
    v.setFloat64(ST.H_ORDER_COUNTER, this.orderCounter, true);
    v.setFloat64(ST.H_TRADE_COUNTER, this.tradeCounter, true);
    v.setUint32(ST.H_ACCOUNT_COUNT, accounts.size, true);
    v.setUint32(ST.H_SYMBOL_COUNT, books.length, true);
    v.setUint32(ST.H_ORDER_COUNT, this.orders.used, true);
    let p = ST.HEADER_BYTES;
    for (let a = 0; a < accounts.size; a++, p += 4) v.setUint32(p, accounts.accountId[a], true);
    // Pass 1 walks the queues and gives every open order's slot its record's byte offset; pass 2
    // writes the records in slot order. Note: the slot-order pass reads each column sequentially; a
    // walk in queue order would touch every column at a random slot (a cache miss per field).
    const at = new Float64Array(this.orders.capacity).fill(-1);
    for (const b of books) {
      v.setUint32(p + ST.S_SYMBOL_ID, b.symbolId, true);
      v.setUint32(p + ST.S_PRICE_BAND_BPS, b.priceBandBps, true);
      v.setFloat64(p + ST.S_MIN_PRICE, b.minPrice, true);
      v.setFloat64(p + ST.S_MAX_PRICE, b.maxPrice, true);
      v.setFloat64(p + ST.S_MIN_QTY, b.minQty, true);
      v.setFloat64(p + ST.S_MAX_QTY, b.maxQty, true);
      v.setFloat64(p + ST.S_MAX_NOTIONAL, b.maxNotional, true);
      v.setFloat64(p + ST.S_REFERENCE_PRICE, b.referencePrice, true);
      v.setFloat64(p + ST.S_LAST_TRADE_PRICE, b.lastTradePrice, true);
      p += ST.SYMBOL_BYTES;
      p = this.exportLadder(v, p, b.bids, at);
      p = this.exportLadder(v, p, b.asks, at);
      p = this.exportLadder(v, p, b.buyStops, at);
      p = this.exportLadder(v, p, b.sellStops, at);
    }
    this.exportOrders(v, at);
    if (p !== size) throw new EngineStateError(`exportState wrote ${p} bytes, expected ${size}`);
    return bytes;
  }

  /** Writes a ladder's level records and reserves its order records (offsets into `at`). */
  private exportLadder(v: DataView, p: number, ladder: PriceLadder, at: Float64Array): number {
    const lv = this.levels;
    const next = this.orders.next;
    const countAt = p;
    let n = 0;
    p += 4;
    for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) {
      const l = ladder.levelOf[t] - 1;
      v.setFloat64(p + ST.L_PRICE, t + ladder.minPrice, true);
      v.setUint32(p + ST.L_COUNT, lv.count(l), true);
      p += ST.LEVEL_BYTES;
      for (let s = lv.head(l); s !== NO_SLOT; s = next[s]) {
        at[s] = p;
        p += ST.ORDER_BYTES;
      }
      n++;
    }
    v.setUint32(countAt, n, true);
    return p;
  }

  /** Writes the record of every open order at its reserved offset, in slot order. */
  private exportOrders(v: DataView, at: Float64Array): void {
    const o = this.orders;
    const n = o.capacity;
    for (let s = 0; s < n; s++) {
      const p = at[s];
      if (p < 0) continue;
      v.setFloat64(p + ST.O_ID, o.id[s], true);
      v.setFloat64(p + ST.O_CLIENT_ID, o.clientId[s], true);
      v.setFloat64(p + ST.O_PRICE, o.price[s], true);
      v.setFloat64(p + ST.O_STOP_PRICE, o.stopPrice[s], true);
      v.setFloat64(p + ST.O_QUANTITY, o.quantity[s], true);
      v.setFloat64(p + ST.O_LEAVES, o.leaves[s], true);
      v.setFloat64(p + ST.O_VISIBLE, o.visible[s], true);
      v.setFloat64(p + ST.O_DISPLAY, o.display[s], true);
      v.setFloat64(p + ST.O_EXPIRE_TIME, o.expireTime[s], true);
      v.setUint32(p + ST.O_ACCOUNT, o.account[s], true);
      v.setUint32(p + ST.O_SESSION, o.session[s], true);
      v.setUint32(p + ST.O_GROUP, o.group[s], true);
      v.setUint8(p + ST.O_SIDE, o.side[s]);
      v.setUint8(p + ST.O_TYPE, o.type[s]);
      v.setUint8(p + ST.O_TIF, o.tif[s]);
      v.setUint8(p + ST.O_FLAGS, o.flags[s]);
      v.setUint8(p + ST.O_STP, o.stp[s]);
    }
  }

  /**
   * A fresh engine holding the state `bytes` (from `exportState()`) describes. `options.shardId`
   * must be the exporting engine's; the capacities must hold the state (identical capacities give
   * identical future output; larger ones only change when ORDER_POOL_FULL / ACCOUNT_TABLE_FULL /
   * SYMBOL_TABLE_FULL happen). Throws EngineStateError for a malformed, truncated or foreign dump.
   */
  static fromState(options: MatchingEngineOptions, bytes: Uint8Array): MatchingEngine {
    checkConfig(options);
    if (bytes.byteLength < ST.HEADER_BYTES) {
      throw new EngineStateError(
        `engine state truncated: ${bytes.byteLength} bytes, header needs ${ST.HEADER_BYTES}`,
      );
    }
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = v.getUint32(ST.H_MAGIC, true);
    if (magic !== ST.STATE_MAGIC)
      throw new EngineStateError(`engine state magic is 0x${magic.toString(16)}, expected "EXST"`);
    const version = v.getUint16(ST.H_VERSION, true);
    if (version !== ST.STATE_VERSION) {
      throw new EngineStateError(
        `engine state version ${version} is not supported (expected ${ST.STATE_VERSION})`,
      );
    }
    const shardId = v.getUint32(ST.H_SHARD_ID, true);
    if (shardId !== options.shardId) {
      throw new EngineStateError(
        `engine state is of shard ${shardId}, the engine is shard ${options.shardId}`,
      );
    }
    const engine = new MatchingEngine(options);
    engine.importState(v);
    return engine;
  }

  private importState(v: DataView): void {
    const end = v.byteLength;
    const need = (p: number, n: number, what: string) => {
      if (p + n > end)
        throw new EngineStateError(
          `engine state truncated: ${what} at byte ${p} needs ${n} bytes, have ${end}`,
        );
    };
    const counter = (at: number, what: string) => {
      const x = v.getFloat64(at, true);
      if (!isInt(x) || x < 0) throw new EngineStateError(`engine state ${what} is ${x}, not an integer >= 0`);
      return x;
    };
    const seq = counter(ST.H_SEQ, 'seq');
    const now = counter(ST.H_NOW, 'now');
    const orderCounter = counter(ST.H_ORDER_COUNTER, 'orderCounter');
    this.tradeCounter = counter(ST.H_TRADE_COUNTER, 'tradeCounter');
    this.orderCounter = orderCounter;
    this.now = now;
    this.out.now = now;
    this.out.resumeAt(seq);
    const accountCount = v.getUint32(ST.H_ACCOUNT_COUNT, true);
    const symbolCount = v.getUint32(ST.H_SYMBOL_COUNT, true);
    const orderCount = v.getUint32(ST.H_ORDER_COUNT, true);
    const accounts = this.accounts;
    const o = this.orders;
    if (accountCount > accounts.capacity) {
      throw new EngineStateError(
        `engine state holds ${accountCount} accounts, maxAccounts is ${accounts.capacity}`,
      );
    }
    if (symbolCount > this.maxSymbols) {
      throw new EngineStateError(
        `engine state holds ${symbolCount} symbols, maxSymbols is ${this.maxSymbols}`,
      );
    }
    if (orderCount > o.capacity) {
      throw new EngineStateError(`engine state holds ${orderCount} open orders, maxOrders is ${o.capacity}`);
    }
    let p = ST.HEADER_BYTES;
    need(p, 4 * accountCount, 'accounts');
    for (let a = 0; a < accountCount; a++, p += 4) {
      const id = v.getUint32(p, true);
      if (accounts.find(id) >= 0) throw new EngineStateError(`engine state lists account ${id} twice`);
      accounts.add(id);
    }
    const ids = new Float64Array(orderCount);
    const ctx: ImportContext = { ids, n: 0, lastId: this.idBase + orderCounter };
    for (let k = 0; k < symbolCount; k++) {
      need(p, ST.SYMBOL_BYTES, 'symbol');
      const config = {
        symbolId: v.getUint32(p + ST.S_SYMBOL_ID, true),
        minPrice: v.getFloat64(p + ST.S_MIN_PRICE, true),
        maxPrice: v.getFloat64(p + ST.S_MAX_PRICE, true),
        minQty: v.getFloat64(p + ST.S_MIN_QTY, true),
        maxQty: v.getFloat64(p + ST.S_MAX_QTY, true),
        maxNotional: v.getFloat64(p + ST.S_MAX_NOTIONAL, true),
        referencePrice: v.getFloat64(p + ST.S_REFERENCE_PRICE, true),
        priceBandBps: v.getUint32(p + ST.S_PRICE_BAND_BPS, true),
      };
      const last = v.getFloat64(p + ST.S_LAST_TRADE_PRICE, true);
      const sym = config.symbolId;
      if (sym < 1 || sym > MAX_SYMBOL_ID || this.bookBySymbol[sym] !== 0 || !validSymbolConfig(config)) {
        throw new EngineStateError(
          `engine state symbol #${k} (id ${sym}) has an invalid or duplicate config`,
        );
      }
      if (last !== 0 && !(isInt(last) && last >= config.minPrice && last <= config.maxPrice)) {
        throw new EngineStateError(
          `engine state symbol ${sym} lastTradePrice ${last} is outside its price range`,
        );
      }
      p += ST.SYMBOL_BYTES;
      const book = new OrderBook(k, config, this.levels);
      book.lastTradePrice = last;
      this.books.push(book);
      this.bookBySymbol[sym] = k + 1;
      p = this.importLadder(v, p, book, book.bids, SIDE_BUY, ORDER_STATE_RESTING, ctx);
      p = this.importLadder(v, p, book, book.asks, SIDE_SELL, ORDER_STATE_RESTING, ctx);
      p = this.importLadder(v, p, book, book.buyStops, SIDE_BUY, ORDER_STATE_STOP, ctx);
      p = this.importLadder(v, p, book, book.sellStops, SIDE_SELL, ORDER_STATE_STOP, ctx);
    }
    if (p !== end) throw new EngineStateError(`engine state has ${end - p} trailing bytes after byte ${p}`);
    if (ctx.n !== orderCount) {
      throw new EngineStateError(`engine state header says ${orderCount} orders, its books hold ${ctx.n}`);
    }
    // Per-account lists in acceptance order = ascending order id (the mass-cancel order, section 5.4).
    ids.sort();
    for (let i = 0; i < orderCount; i++) {
      const s = this.byId.find(ids[i]);
      accounts.append(accounts.find(o.account[s]), s);
    }
  }

  private importLadder(
    v: DataView,
    p: number,
    book: OrderBook,
    ladder: PriceLadder,
    side: number,
    state: number,
    ctx: ImportContext,
  ): number {
    const end = v.byteLength;
    const where = `symbol ${book.symbolId} ${state === ORDER_STATE_STOP ? 'stop' : 'book'} side ${side}`;
    if (p + 4 > end) throw new EngineStateError(`engine state truncated at byte ${p} (${where} level count)`);
    const levelCount = v.getUint32(p, true);
    p += 4;
    const o = this.orders;
    const lv = this.levels;
    const isStop = state === ORDER_STATE_STOP;
    let prev = -1;
    for (let k = 0; k < levelCount; k++) {
      if (p + ST.LEVEL_BYTES > end)
        throw new EngineStateError(`engine state truncated at byte ${p} (${where} level)`);
      const price = v.getFloat64(p + ST.L_PRICE, true);
      const count = v.getUint32(p + ST.L_COUNT, true);
      p += ST.LEVEL_BYTES;
      const t = price - book.minPrice;
      if (!isInt(price) || price < book.minPrice || price > book.maxPrice || count < 1) {
        throw new EngineStateError(`engine state ${where}: level ${price} x ${count} is invalid`);
      }
      if (prev >= 0 && (ladder.highIsBest ? t >= prev : t <= prev)) {
        throw new EngineStateError(`engine state ${where}: level ${price} is out of priority order`);
      }
      prev = t;
      if (p + count * ST.ORDER_BYTES > end)
        throw new EngineStateError(`engine state truncated at byte ${p} (${where} orders)`);
      const l = ladder.ensureLevel(price);
      for (let j = 0; j < count; j++, p += ST.ORDER_BYTES) {
        const id = v.getFloat64(p + ST.O_ID, true);
        const clientId = v.getFloat64(p + ST.O_CLIENT_ID, true);
        const account = v.getUint32(p + ST.O_ACCOUNT, true);
        const quantity = v.getFloat64(p + ST.O_QUANTITY, true);
        const leaves = v.getFloat64(p + ST.O_LEAVES, true);
        const visible = v.getFloat64(p + ST.O_VISIBLE, true);
        const tif = v.getUint8(p + ST.O_TIF);
        const expireTime = v.getFloat64(p + ST.O_EXPIRE_TIME, true);
        const orderPrice = v.getFloat64(p + ST.O_PRICE, true);
        const stopPrice = v.getFloat64(p + ST.O_STOP_PRICE, true);
        const acct = this.accounts.find(account);
        const type = v.getUint8(p + ST.O_TYPE);
        if (
          !isInt(id) ||
          id <= this.idBase ||
          id > ctx.lastId ||
          this.byId.find(id) >= 0 ||
          v.getUint8(p + ST.O_SIDE) !== side ||
          (isStop ? stopPrice : orderPrice) !== price ||
          (isStop
            ? type !== ORDER_TYPE_STOP &&
              (type !== ORDER_TYPE_STOP_LIMIT ||
                !(orderPrice >= book.minPrice && orderPrice <= book.maxPrice))
            : type !== ORDER_TYPE_LIMIT && type !== ORDER_TYPE_STOP_LIMIT) ||
          (type === ORDER_TYPE_STOP && orderPrice !== 0) ||
          !isInt(quantity) ||
          !isInt(leaves) ||
          !(leaves >= 1 && leaves <= quantity) ||
          !(visible >= 1 && visible <= leaves) ||
          // Note: a STOP_LIMIT in the stop book may carry IOC/FOK (applied when it triggers).
          (isStop
            ? tif < TIME_IN_FORCE_GTC || tif > TIME_IN_FORCE_GTD
            : tif !== TIME_IN_FORCE_GTC && tif !== TIME_IN_FORCE_GTD) ||
          (tif === TIME_IN_FORCE_GTD && !isInt(expireTime)) ||
          !isInt(clientId) ||
          clientId < 0 ||
          acct < 0 ||
          ctx.n === o.capacity
        ) {
          throw new EngineStateError(
            `engine state ${where}: order #${j} at level ${price} (id ${id}) is invalid`,
          );
        }
        if (clientId !== 0 && this.byClientId.find(book.index, account, clientId) >= 0) {
          throw new EngineStateError(`engine state ${where}: order ${id} repeats clientOrderId ${clientId}`);
        }
        const s = o.alloc();
        o.id[s] = id;
        o.clientId[s] = clientId;
        o.price[s] = orderPrice;
        o.stopPrice[s] = stopPrice;
        o.quantity[s] = quantity;
        o.leaves[s] = leaves;
        o.visible[s] = visible;
        o.display[s] = v.getFloat64(p + ST.O_DISPLAY, true);
        o.expireTime[s] = expireTime;
        o.account[s] = account;
        o.session[s] = v.getUint32(p + ST.O_SESSION, true);
        o.group[s] = v.getUint32(p + ST.O_GROUP, true);
        o.book[s] = book.index;
        o.side[s] = side;
        o.type[s] = type;
        o.tif[s] = tif;
        o.flags[s] = v.getUint8(p + ST.O_FLAGS);
        o.stp[s] = v.getUint8(p + ST.O_STP);
        o.state[s] = state;
        this.byId.insert(s);
        if (clientId !== 0) this.byClientId.insert(s);
        if (tif === TIME_IN_FORCE_GTD) this.expiry.push(s);
        lv.append(l, s);
        ctx.ids[ctx.n++] = id;
      }
      ladder.activate(price);
    }
    return p;
  }

  /** The ids of the shard's symbols, ascending (recovery uses it to skip their ADD_SYMBOL). */
  symbolIds(): number[] {
    const ids: number[] = [];
    for (const b of this.books) ids.push(b.symbolId);
    return ids.sort((a, b) => a - b);
  }

  /**
   * Calls `fn` for every open order: symbols in ascending symbolId; per symbol the bids (best level
   * first, queue order), the asks, the buy stops, the sell stops (stop-book order). `fn` gets one
   * reused OpenOrder: copy what you keep. Call between commands only; `fn` must not call the engine.
   * For seeding order views and market-data mirrors after recovery (not the hot path).
   */
  forEachOpenOrder(fn: (order: OpenOrder) => void): void {
    const view: OpenOrder = {
      symbolId: 0,
      orderId: 0,
      clientOrderId: 0,
      accountId: 0,
      sessionId: 0,
      tradeGroup: 0,
      side: 0,
      orderType: 0,
      timeInForce: 0,
      flags: 0,
      stpMode: 0,
      price: 0,
      stopPrice: 0,
      quantity: 0,
      filledQty: 0,
      leavesQty: 0,
      visibleQty: 0,
      displayQty: 0,
      expireTime: 0,
      isStop: false,
    };
    for (let symbolId = 1; symbolId <= MAX_SYMBOL_ID; symbolId++) {
      const bi = this.bookBySymbol[symbolId] - 1;
      if (bi < 0) continue;
      const b = this.books[bi];
      this.visitLadder(b.bids, symbolId, false, view, fn);
      this.visitLadder(b.asks, symbolId, false, view, fn);
      this.visitLadder(b.buyStops, symbolId, true, view, fn);
      this.visitLadder(b.sellStops, symbolId, true, view, fn);
    }
  }

  private visitLadder(
    ladder: PriceLadder,
    symbolId: number,
    isStop: boolean,
    view: OpenOrder,
    fn: (order: OpenOrder) => void,
  ): void {
    const lv = this.levels;
    const o = this.orders;
    for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) {
      for (let s = lv.head(ladder.levelOf[t] - 1); s !== NO_SLOT; s = o.next[s]) {
        view.symbolId = symbolId;
        view.orderId = o.id[s];
        view.clientOrderId = o.clientId[s];
        view.accountId = o.account[s];
        view.sessionId = o.session[s];
        view.tradeGroup = o.group[s];
        view.side = o.side[s];
        view.orderType = o.type[s];
        view.timeInForce = o.tif[s];
        view.flags = o.flags[s];
        view.stpMode = o.stp[s];
        view.price = o.price[s];
        view.stopPrice = o.stopPrice[s];
        view.quantity = o.quantity[s];
        view.filledQty = o.quantity[s] - o.leaves[s];
        view.leavesQty = o.leaves[s];
        view.visibleQty = o.visible[s];
        view.displayQty = o.display[s];
        view.expireTime = o.expireTime[s];
        view.isStop = isStop;
        fn(view);
      }
    }
  }

  // ---------------------------------------------------------------- queries

  l2(symbolId: number, side: number, out: Float64Array): number {
    const bi = symbolId >= 1 ? this.bookIndex(symbolId) : -1;
    if (bi < 0 || (side !== SIDE_BUY && side !== SIDE_SELL)) return 0;
    const book = this.books[bi];
    const ladder = side === SIDE_BUY ? book.bids : book.asks;
    const lv = this.levels;
    const max = Math.floor(out.length / 3);
    let n = 0;
    for (let t = ladder.best; t >= 0 && n < max; t = ladder.nextTick(t)) {
      const l = ladder.levelOf[t] - 1;
      out[3 * n] = t + ladder.minPrice;
      out[3 * n + 1] = lv.qty(l);
      out[3 * n + 2] = lv.count(l);
      n++;
    }
    return n;
  }

  stateHash(): string {
    const h = new StateHasher();
    h.add(this.out.seq);
    h.add(this.now);
    h.add(this.orderCounter);
    h.add(this.tradeCounter);
    h.add(this.accounts.size);
    h.add(this.books.length);
    for (let symbolId = 1; symbolId <= MAX_SYMBOL_ID; symbolId++) {
      const bi = this.bookBySymbol[symbolId] - 1;
      if (bi < 0) continue;
      const b = this.books[bi];
      h.add(b.symbolId);
      h.add(b.minPrice);
      h.add(b.maxPrice);
      h.add(b.minQty);
      h.add(b.maxQty);
      h.add(b.maxNotional);
      h.add(b.referencePrice);
      h.add(b.priceBandBps);
      h.add(b.lastTradePrice);
      this.hashBookSide(h, b.bids);
      this.hashBookSide(h, b.asks);
      this.hashStopSide(h, b.buyStops);
      this.hashStopSide(h, b.sellStops);
    }
    return h.digest();
  }

  private hashBookSide(h: StateHasher, ladder: PriceLadder): void {
    const lv = this.levels;
    let levels = 0;
    for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) levels++;
    h.add(levels);
    for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) {
      const l = ladder.levelOf[t] - 1;
      h.add(t + ladder.minPrice);
      h.add(lv.qty(l));
      h.add(lv.count(l));
      for (let s = lv.head(l); s !== NO_SLOT; s = this.orders.next[s]) this.hashOrder(h, s);
    }
  }

  private hashStopSide(h: StateHasher, ladder: PriceLadder): void {
    const lv = this.levels;
    let count = 0;
    for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) count += lv.count(ladder.levelOf[t] - 1);
    h.add(count);
    for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) {
      for (let s = lv.head(ladder.levelOf[t] - 1); s !== NO_SLOT; s = this.orders.next[s])
        this.hashOrder(h, s);
    }
  }

  private hashOrder(h: StateHasher, s: number): void {
    const o = this.orders;
    h.add(o.id[s]);
    h.add(o.clientId[s]);
    h.add(o.account[s]);
    h.add(o.session[s]);
    h.add(o.group[s]);
    h.add(o.side[s]);
    h.add(o.type[s]);
    h.add(o.tif[s]);
    h.add(o.flags[s]);
    h.add(o.stp[s]);
    h.add(o.price[s]);
    h.add(o.stopPrice[s]);
    h.add(o.quantity[s]);
    h.add(o.quantity[s] - o.leaves[s]);
    h.add(o.leaves[s]);
    h.add(o.visible[s]);
    h.add(o.display[s]);
    h.add(o.expireTime[s]);
  }
}

/** keyOf() of a level of ladder `ladderId` (of `book`) at `price`. */
function sortKey(book: OrderBook, ladderId: number, price: number): number {
  const tick = price - book.minPrice;
  return (
    book.symbolId * KEY_SYMBOL + ((ladderId & 3) === LADDER_KIND_BIDS ? MAX_TICK - tick : KEY_ASK + tick)
  );
}

/** Bookkeeping of one `importState()` run. */
interface ImportContext {
  /** Ids of the imported orders (sorted at the end to rebuild the per-account lists). */
  readonly ids: Float64Array;
  /** Orders imported so far. */
  n: number;
  /** Largest order id issued so far (idBase + orderCounter). */
  readonly lastId: number;
}

/** Number of non-empty levels of a ladder. */
function countLevels(ladder: PriceLadder): number {
  let n = 0;
  for (let t = ladder.best; t >= 0; t = ladder.nextTick(t)) n++;
  return n;
}

/** Section 5.6 step 3 (the checks ADD_SYMBOL applies), for a restored symbol. */
function validSymbolConfig(c: SymbolConfig): boolean {
  return (
    isInt(c.minPrice) &&
    c.minPrice >= 1 &&
    isInt(c.maxPrice) &&
    c.maxPrice >= c.minPrice &&
    c.maxPrice - c.minPrice < MAX_PRICE_RANGE &&
    isInt(c.minQty) &&
    c.minQty >= 1 &&
    isInt(c.maxQty) &&
    c.maxQty >= c.minQty &&
    isInt(c.maxNotional) &&
    c.maxNotional >= 0 &&
    (c.referencePrice === 0 ||
      (isInt(c.referencePrice) && c.referencePrice >= c.minPrice && c.referencePrice <= c.maxPrice))
  );
}

/** Visible slice of an order with `leaves` open: all of it, or one iceberg display slice. */
function visibleOf(display: number, leaves: number): number {
  return display > 0 && display < leaves ? display : leaves;
}

/** Section 5.1 step 15. */
function inBand(book: OrderBook, price: number, ref: number): boolean {
  const bps = book.priceBandBps;
  if (bps === 0 || ref === 0) return true;
  return Math.abs(price - ref) * 10000 <= ref * bps;
}

/** True when a `side` order at `price` would take liquidity (section 5.1 step 19). */
function crosses(book: OrderBook, side: number, price: number): boolean {
  if (side === SIDE_BUY) return book.asks.best >= 0 && book.asks.bestPrice() <= price;
  return book.bids.best >= 0 && book.bids.bestPrice() >= price;
}
