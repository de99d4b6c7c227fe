/**
 * LoadConnection: one connection of the WebSocket load generator. Sends the pre-encoded frames of its
 * OrderFlow (copy + client order id patch, no encoding), and matches every answer to what it sent.
 *
 * Matching: the engine's answers come back in order per connection (one connection = one symbol = one
 * shard), so a FIFO holds what is expected, in send order; a gateway refusal (BUSY while the
 * connection's send buffer is backpressured, rate limit) is answered at once and may overtake requests
 * still in the engine: an answer that does not settle the head settles the first unsettled entry
 * behind it with the same client order id and kind of answer (a short scan, only off the common path),
 * and the head skips settled entries as it advances:
 *   echo      one entry per frame; the echoed frame must carry the expected client order id at the
 *             same payload offset (checked in place, no decoding)
 *   exchange  one entry per request; a report settles the head when it names the head's client order
 *             id and is the head's kind of answer (New/Rejected for a NewOrder, Canceled/CancelRejected
 *             for a Cancel, Amended/AmendRejected for an Amend; an Error frame naming the id settles
 *             any kind). Other reports (an IOC's cancel after its New) are counted, not matched.
 * Each entry carries its INTENDED send time (`due`), so latency = arrival of the answer - due time:
 * a slow answer delays the measurement of nothing else (no coordinated omission).
 *
 * Two ways to drive it: windowed (fill(): keep `windowItems` requests in flight, refilled from the
 * receive path: maximum throughput) or paced (sendNext(due) from the caller's schedule).
 * Not thread-safe: the generator's main thread.
 */
import type { Histogram } from 'hdr-histogram-js';
import { splitPrefixed } from '../../client/ws/prefixedFrames.js';
import type { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import {
  Body,
  ClientEncoder,
  Direction,
  ErrorReader,
  ExecType,
  ExecutionReportReader,
  FrameVerifier,
  LogonRejectReader,
  MessageReader,
  VerifyResult,
} from '../../schema/index.js';
import type { OrderFlow } from './OrderFlow.js';

export const PeerKind = { ECHO: 0, EXCHANGE: 1 } as const;
export type PeerKindValue = (typeof PeerKind)[keyof typeof PeerKind];

/** Nanoseconds on a monotonic clock (performance.now() is cheaper than hrtime.bigint()). */
export function nowNs(): number {
  return performance.now() * 1e6;
}

const TWO_32 = 0x1_0000_0000;

export class LoadConnection {
  sentFrames = 0;
  sentItems = 0;
  receivedItems = 0;
  mismatches = 0;
  /** Reports refusing a request (Rejected, CancelRejected, AmendRejected) and Error frames. */
  rejected = 0;
  errors = 0;
  /** Reports that settle nothing (an IOC's cancel, fills, ...). */
  otherReports = 0;
  invalidFrames = 0;
  /** Windowed mode: requests kept in flight (0 = paced mode). */
  windowItems = 0;
  /** Cleared to stop refilling (the run is over; answers still drain). */
  sending = true;
  /** Latencies of answers whose due time is >= recordFromNs go here (ns). */
  histogram: Histogram | null = null;
  recordFromNs = Number.POSITIVE_INFINITY;

  readonly ws: RawWebSocket;
  private readonly flow: OrderFlow;
  private readonly peer: PeerKindValue;
  private readonly due: Float64Array;
  private readonly cid: Float64Array;
  private readonly offset: Int32Array;
  private readonly items: Int32Array;
  private readonly kind: Uint8Array;
  /** 1 = answered out of order (the head skips it). */
  private readonly settled: Uint8Array;
  private readonly mask: number;
  private head = 0;
  private tail = 0;
  private frame = 0;
  private cycle = 0;
  private readonly verifier = new FrameVerifier(Direction.GatewayToClient);
  private readonly message = new MessageReader();
  private readonly report = new ExecutionReportReader();
  private readonly error = new ErrorReader();

  /**
   * `batchReports`: the exchange connection was opened with `?batch_reports=1`, so each message holds
   * length-prefixed frames (client/ws/prefixedFrames.ts).
   */
  constructor(
    ws: RawWebSocket,
    flow: OrderFlow,
    peer: PeerKindValue,
    capacity: number,
    batchReports = false,
  ) {
    const cap = 2 ** Math.ceil(Math.log2(Math.max(2, capacity)));
    this.ws = ws;
    this.flow = flow;
    this.peer = peer;
    this.due = new Float64Array(cap);
    this.cid = new Float64Array(cap);
    this.offset = new Int32Array(cap);
    this.items = new Int32Array(cap);
    this.kind = new Uint8Array(cap);
    this.settled = new Uint8Array(cap);
    this.mask = cap - 1;
    // Note: a fresh cycle, so ids never repeat across runs on the same flow (orders of an earlier run
    // may still rest in the book under their ids).
    this.cycle = flow.cyclesUsed;
    flow.cyclesUsed = this.cycle + 1;
    if (peer === PeerKind.ECHO) ws.onMessage = (b, s) => this.echoed(b, s);
    else if (!batchReports) ws.onMessage = (b, s, e) => this.reported(b, s, e);
    else {
      let bytes: Uint8Array = new Uint8Array(0);
      const each = (s: number, e: number) => this.reported(bytes, s, e);
      ws.onMessage = (b, s, e) => {
        bytes = b;
        if (!splitPrefixed(b, s, e, each)) this.invalidFrames++;
      };
    }
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.sentItems - this.receivedItems;
  }

  /** Sends the next frame of the flow, due at `dueNs`. */
  sendNext(dueNs: number): void {
    const flow = this.flow;
    const f = this.frame;
    const first = flow.itemStart[f];
    const last = flow.itemStart[f + 1];
    if (this.tail - this.head + (last - first) > this.mask + 1) {
      throw new Error(`LoadConnection: more than ${this.mask + 1} requests in flight (raise the capacity)`);
    }
    flow.patch(f, this.cycle);
    this.ws.writeRaw(flow.wire, flow.frameStart[f], flow.frameStart[f + 1]);
    const add = this.cycle * flow.cycleSpan;
    if (this.peer === PeerKind.ECHO) {
      this.push(dueNs, flow.baseCid[first] + add, flow.cidOffset[first], last - first, 0);
    } else {
      for (let i = first; i < last; i++) this.push(dueNs, flow.baseCid[i] + add, 0, 1, flow.itemType[i]);
    }
    this.sentFrames++;
    this.sentItems += last - first;
    if (++this.frame === flow.frameCount) {
      this.frame = 0;
      this.cycle++;
      flow.cyclesUsed = this.cycle + 1;
    }
  }

  /** Windowed mode: sends until `windowItems` requests are in flight. */
  fill(): void {
    const now = nowNs();
    while (this.sending && this.sentItems - this.receivedItems < this.windowItems && this.roomForNext()) {
      this.sendNext(now);
    }
  }

  /**
   * Whether the FIFO holds the next frame's requests: entries settled out of order keep their slots
   * until the head passes them, so the window alone does not bound it.
   */
  private roomForNext(): boolean {
    const flow = this.flow;
    const items = flow.itemStart[this.frame + 1] - flow.itemStart[this.frame];
    return this.tail - this.head + items <= this.mask + 1;
  }

  /** Logs on (exchange peer): Logon frame, then LogonAck; rejects on LogonReject, close or timeout. */
  static logon(ws: RawWebSocket, token: string, timeoutMs: number, batchReports = false): Promise<void> {
    const message = new MessageReader();
    const verifier = new FrameVerifier(Direction.GatewayToClient);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no LogonAck within ${timeoutMs} ms`)), timeoutMs);
      ws.onClose = (code, reason) => {
        clearTimeout(timer);
        reject(new Error(`connection closed during logon (${code} ${reason})`));
      };
      const onFrame = (b: Uint8Array, s: number, e: number) => {
        const frame = b.subarray(s, e);
        if (verifier.verify(frame) !== VerifyResult.OK) return;
        const m = message.wrap(frame);
        if (m.bodyType === Body.LogonAck) {
          clearTimeout(timer);
          resolve();
        } else if (m.bodyType === Body.LogonReject) {
          clearTimeout(timer);
          const r = new LogonRejectReader().wrap(frame, m.bodyPos);
          reject(new Error(`logon rejected (code ${r.code}): ${r.text ?? ''}`));
        }
      };
      ws.onMessage = batchReports
        ? (b, s, e) => splitPrefixed(b, s, e, (fs, fe) => onFrame(b, fs, fe))
        : (b, s, e) => onFrame(b, s, e);
      ws.send(new ClientEncoder().logon(token));
    });
  }

  private push(due: number, cid: number, offset: number, items: number, kind: number): void {
    const i = this.tail & this.mask;
    this.due[i] = due;
    this.cid[i] = cid;
    this.offset[i] = offset;
    this.items[i] = items;
    this.kind[i] = kind;
    this.settled[i] = 0;
    this.tail++;
  }

  /** Settles the head (answered in order), then skips the entries already answered out of order. */
  private complete(now: number): void {
    this.record(this.head & this.mask, now);
    this.head++;
    while (this.head !== this.tail && this.settled[this.head & this.mask] === 1) this.head++;
    this.refill();
  }

  /**
   * An answer that is not the head's: settles the first unsettled entry behind the head that
   * `matches`; false when there is none (the answer settles nothing).
   */
  private completeLater(now: number, cid: number, exec: number, isError: boolean): boolean {
    const mask = this.mask;
    for (let k = this.head + 1; k !== this.tail; k++) {
      const i = k & mask;
      if (this.settled[i] === 0 && this.cid[i] === cid && (isError || answers(this.kind[i], exec))) {
        this.settled[i] = 1;
        this.record(i, now);
        this.refill();
        return true;
      }
    }
    return false;
  }

  private record(i: number, now: number): void {
    const due = this.due[i];
    if (this.histogram !== null && due >= this.recordFromNs) {
      this.histogram.recordValue(Math.max(1, Math.round(now - due)));
    }
    this.receivedItems += this.items[i];
  }

  private refill(): void {
    if (
      this.windowItems > 0 &&
      this.sending &&
      this.sentItems - this.receivedItems <= this.windowItems >> 1
    ) {
      this.fill();
    }
  }

  private echoed(b: Uint8Array, start: number): void {
    const now = nowNs();
    if (this.head === this.tail) {
      this.mismatches++;
      return;
    }
    const p = start + this.offset[this.head & this.mask];
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    if (hi * TWO_32 + lo !== this.cid[this.head & this.mask]) this.mismatches++;
    this.complete(now);
  }

  private reported(b: Uint8Array, start: number, end: number): void {
    const now = nowNs();
    const frame = b.subarray(start, end);
    if (this.verifier.verify(frame) !== VerifyResult.OK) {
      this.invalidFrames++;
      return;
    }
    const m = this.message.wrap(frame);
    const type = m.bodyType;
    if (type === Body.ExecutionReport) {
      const r = this.report.wrap(frame, m.bodyPos);
      const exec = r.execType;
      if (exec === ExecType.Rejected || exec === ExecType.CancelRejected || exec === ExecType.AmendRejected) {
        this.rejected++;
      }
      const h = this.head & this.mask;
      const cid = r.clientOrderIdHi * TWO_32 + r.clientOrderIdLo;
      if (this.head === this.tail) this.otherReports++;
      else if (cid === this.cid[h] && answers(this.kind[h], exec)) this.complete(now);
      // Note: a refusal overtakes engine answers, and requests can share a client order id (amends of one
      // order), so a refusal may settle the wrong one of them; the engine's answer to that one then
      // arrives behind the head and settles the other (any answer settles one entry of its id and
      // kind). Fills and the like answer no request: no scan for them.
      else if (exec === ExecType.Trade || !this.completeLater(now, cid, exec, false)) this.otherReports++;
    } else if (type === Body.Error) {
      this.errors++;
      this.rejected++;
      const e = this.error.wrap(frame, m.bodyPos);
      const cid = e.clientOrderIdHi * TWO_32 + e.clientOrderIdLo;
      if (this.head === this.tail) return;
      if (cid === this.cid[this.head & this.mask]) this.complete(now);
      else this.completeLater(now, cid, 0, true);
    }
  }
}

/** Whether a report of `exec` is the answer to a request of Body `kind`. */
function answers(kind: number, exec: number): boolean {
  switch (kind) {
    case Body.NewOrder:
      return exec === ExecType.New || exec === ExecType.Rejected;
    case Body.Cancel:
      return exec === ExecType.Canceled || exec === ExecType.CancelRejected;
    default:
      return exec === ExecType.Amended || exec === ExecType.AmendRejected;
  }
}
