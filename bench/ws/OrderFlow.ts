/**
 * OrderFlow: one load-generator connection's orders, generated once, encoded once with ClientEncoder,
 * masked once, and laid back to back in one buffer, so sending a frame is a copy (RawWebSocket.writeRaw).
 *
 * The mix is exchange-core's: NewOrder GTC 9%, NewOrder IOC 3%, Cancel 6%, Amend 82%. Orders never
 * cross (bids 1-5% below the reference price, asks 1-5% above; amends move the price within the same
 * side's range), so against the exchange every request has exactly one primary report: New or
 * Rejected for a NewOrder (an IOC then expires), Canceled/CancelRejected, Amended/AmendRejected.
 * Cancels and amends name their order by client order id. At most `maxLive` GTC orders rest per
 * connection (a GTC beyond that becomes a cancel), and the pool ends with cancels of every order still
 * resting, so the pool can be replayed: cycle k adds k x `cycleSpan` to every client order id
 * (patch(), rewriting the 8 masked bytes in place), and no id repeats.
 *
 *   wire:  [frame 0: ws header | mask key | masked Message ...][frame 1 ...] ...
 *   frame f spans wire[frameStart[f] .. frameStart[f+1]); its items are itemStart[f] .. itemStart[f+1]-1
 *   item i: itemType[i] (Body value), client order id baseCid[i] at wire[cidPos[i] .. +8), at offset
 *           cidOffset[i] of its frame's payload
 *
 * The client order id of every item is also its correlation key (for a cancel/amend, its target's id).
 * Built once before a run; patch() is called on the sending thread only. Not thread-safe.
 */
import { FIN_BINARY, MaskSource, maskedFrameSize, writeMaskedFrame } from '../../client/ws/frame.js';
import { AmendVt, CancelVt, NewOrderVt } from '../../schema/generated/layout.js';
import {
  BatchReader,
  Body,
  ClientEncoder,
  MessageReader,
  NewOrderFields,
  OrderType,
  Side,
  TableView,
  TimeInForce,
} from '../../schema/index.js';

export const MIX = { gtc: 0.09, ioc: 0.03, cancel: 0.06, amend: 0.82 } as const;

export interface FlowOptions {
  /** First client order id (each connection and flow gets its own range, e.g. k x 2^40 + 1). */
  cidBase: number;
  symbolId: number;
  /** Reference price in ticks: bids below, asks above. */
  refPrice: number;
  /** Requests before the closing cancels. */
  commands: number;
  /** Requests per frame: 1 = single messages, else Batch frames of this many items. */
  batch: number;
  maxLive: number;
  seed: number;
}

interface Command {
  type: number;
  cid: number;
  side: number;
  price: number;
  quantity: number;
  tif: number;
}

export class OrderFlow {
  readonly wire: Uint8Array;
  readonly frameCount: number;
  readonly frameStart: Int32Array;
  readonly itemStart: Int32Array;
  readonly itemCount: number;
  readonly cidPos: Int32Array;
  readonly cidOffset: Int32Array;
  readonly baseCid: Float64Array;
  /** Body value of each item (NewOrder, Cancel, Amend). */
  readonly itemType: Uint8Array;
  readonly maskPos: Int32Array;
  /** Client order ids one pass over the pool uses: the offset added per cycle. */
  readonly cycleSpan: number;
  /** Replay cycles handed out so far (LoadConnection starts at the next one). */
  cyclesUsed = 0;
  /** Counts per request type, for the report. */
  readonly counts = { gtc: 0, ioc: 0, cancel: 0, amend: 0 };

  constructor(o: FlowOptions) {
    const commands = this.generate(o);
    this.itemCount = commands.length;
    this.cycleSpan = commands.reduce((n, c) => (c.type === Body.NewOrder ? n + 1 : n), 0);
    this.frameCount = Math.ceil(commands.length / o.batch);
    this.frameStart = new Int32Array(this.frameCount + 1);
    this.itemStart = new Int32Array(this.frameCount + 1);
    this.maskPos = new Int32Array(this.frameCount);
    this.cidPos = new Int32Array(this.itemCount);
    this.cidOffset = new Int32Array(this.itemCount);
    this.baseCid = new Float64Array(this.itemCount);
    this.itemType = new Uint8Array(this.itemCount);

    const enc = new ClientEncoder(64 * 1024);
    const masks = new MaskSource();
    const fields = new NewOrderFields();
    const message = new MessageReader();
    const batch = new BatchReader();
    const view = new TableView();
    const parts: Uint8Array[] = [];
    let wirePos = 0;
    let item = 0;
    for (let f = 0; f < this.frameCount; f++) {
      const first = f * o.batch;
      const last = Math.min(commands.length, first + o.batch);
      let payload: Uint8Array;
      if (o.batch === 1) payload = encodeOne(enc, fields, commands[first], o.symbolId);
      else {
        enc.beginBatch();
        for (let i = first; i < last; i++) addOne(enc, fields, commands[i], o.symbolId);
        payload = enc.endBatch();
      }
      const size = maskedFrameSize(payload.length);
      const frame = new Uint8Array(size);
      const m = masks.next();
      writeMaskedFrame(frame, 0, FIN_BINARY, payload, 0, payload.length, masks.bytes, m);
      const headerBytes = size - payload.length;
      this.frameStart[f] = wirePos;
      this.itemStart[f] = item;
      this.maskPos[f] = wirePos + headerBytes - 4;
      // Where each item's client order id lies in the payload (read from the encoded bytes themselves).
      message.wrap(payload);
      const n = last - first;
      for (let k = 0; k < n; k++) {
        let type = message.bodyType;
        let pos = message.bodyPos;
        if (type === Body.Batch) {
          batch.wrap(payload, pos);
          type = batch.opType(k);
          pos = batch.opPos(k);
        }
        view.wrap(payload, pos);
        const vt =
          type === Body.NewOrder
            ? NewOrderVt.clientOrderId
            : type === Body.Cancel
              ? CancelVt.clientOrderId
              : AmendVt.clientOrderId;
        const at = view.field(vt);
        if (at === 0) throw new Error(`OrderFlow: item ${item} has no client order id`);
        this.cidOffset[item] = at;
        this.cidPos[item] = wirePos + headerBytes + at;
        this.baseCid[item] = commands[first + k].cid;
        this.itemType[item] = type;
        item++;
      }
      parts.push(frame);
      wirePos += size;
    }
    this.frameStart[this.frameCount] = wirePos;
    this.itemStart[this.frameCount] = item;
    this.wire = new Uint8Array(wirePos);
    let p = 0;
    for (const part of parts) {
      this.wire.set(part, p);
      p += part.length;
    }
  }

  /** Rewrites the client order ids of frame `f` for replay cycle `cycle` (under the frame's mask). */
  patch(f: number, cycle: number): void {
    const wire = this.wire;
    const m = this.maskPos[f];
    const add = cycle * this.cycleSpan;
    for (let i = this.itemStart[f], end = this.itemStart[f + 1]; i < end; i++) {
      const v = this.baseCid[i] + add;
      const lo = v >>> 0;
      const hi = Math.floor(v / 0x1_0000_0000);
      const at = this.cidPos[i];
      const off = this.cidOffset[i];
      for (let j = 0; j < 4; j++) {
        wire[at + j] = ((lo >>> (8 * j)) & 0xff) ^ wire[m + ((off + j) & 3)];
        wire[at + 4 + j] = ((hi >>> (8 * j)) & 0xff) ^ wire[m + ((off + 4 + j) & 3)];
      }
    }
  }

  private generate(o: FlowOptions): Command[] {
    const rnd = mulberry32(o.seed);
    const out: Command[] = [];
    const live: Command[] = [];
    let nextCid = o.cidBase;
    const tick = Math.max(1, Math.floor(o.refPrice / 10_000));
    const price = (side: number) => {
      const bps = 100 + Math.floor(rnd() * 400); // 1% .. 5% away from the reference
      const away = Math.max(tick, Math.floor((o.refPrice * bps) / 10_000));
      return side === Side.Buy ? o.refPrice - away : o.refPrice + away;
    };
    const order = (tif: number): Command => {
      const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
      return {
        type: Body.NewOrder,
        cid: nextCid++,
        side,
        price: price(side),
        quantity: 1 + Math.floor(rnd() * 100),
        tif,
      };
    };
    const takeLive = (): Command => {
      const i = Math.floor(rnd() * live.length);
      const c = live[i];
      live[i] = live[live.length - 1];
      live.pop();
      return c;
    };
    for (let n = 0; n < o.commands; n++) {
      const r = rnd();
      if (live.length === 0 || (r < MIX.gtc && live.length < o.maxLive)) {
        const c = order(TimeInForce.GTC);
        live.push(c);
        out.push({ ...c }); // Note: a copy; amends change the live order's price later.
        this.counts.gtc++;
      } else if (r < MIX.gtc || (r >= MIX.gtc + MIX.ioc && r < MIX.gtc + MIX.ioc + MIX.cancel)) {
        out.push({ ...takeLive(), type: Body.Cancel }); // a cancel, or a GTC over maxLive
        this.counts.cancel++;
      } else if (r < MIX.gtc + MIX.ioc) {
        out.push(order(TimeInForce.IOC));
        this.counts.ioc++;
      } else {
        const c = live[Math.floor(rnd() * live.length)];
        c.price = price(c.side);
        out.push({ ...c, type: Body.Amend });
        this.counts.amend++;
      }
    }
    while (live.length > 0) {
      out.push({ ...takeLive(), type: Body.Cancel });
      this.counts.cancel++;
    }
    return out;
  }
}

function encodeOne(enc: ClientEncoder, f: NewOrderFields, c: Command, symbolId: number): Uint8Array {
  const hi = Math.floor(c.cid / 0x1_0000_0000);
  const lo = c.cid >>> 0;
  if (c.type === Body.NewOrder) return enc.newOrder(fill(f, c, symbolId));
  if (c.type === Body.Cancel) return enc.cancel(symbolId, 0, hi, lo);
  return enc.amend(symbolId, 0, hi, lo, c.price, 0);
}

function addOne(enc: ClientEncoder, f: NewOrderFields, c: Command, symbolId: number): void {
  const hi = Math.floor(c.cid / 0x1_0000_0000);
  const lo = c.cid >>> 0;
  if (c.type === Body.NewOrder) enc.addNewOrder(fill(f, c, symbolId));
  else if (c.type === Body.Cancel) enc.addCancel(symbolId, 0, hi, lo);
  else enc.addAmend(symbolId, 0, hi, lo, c.price, 0);
}

function fill(f: NewOrderFields, c: Command, symbolId: number): NewOrderFields {
  f.clientOrderIdHi = Math.floor(c.cid / 0x1_0000_0000);
  f.clientOrderIdLo = c.cid >>> 0;
  f.symbolId = symbolId;
  f.side = c.side;
  f.orderType = OrderType.Limit;
  f.timeInForce = c.tif;
  f.price = c.price;
  f.quantity = c.quantity;
  return f;
}

/** A small seeded generator (mulberry32): the same seed gives the same flow. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
