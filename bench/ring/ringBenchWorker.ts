/**
 * Worker entry of `bench/ring/ring.bench.ts` (compiled to dist/bench/ring/ringBenchWorker.js). One job
 * per worker, chosen by `workerData.job`; results go back with one postMessage at the end.
 *
 * Records: `benchRecord.ts` (64-byte payloads), on the ring and as a Uint8Array through postMessage
 * alike. Consumers check the order and sum the second word; the bench compares with the producer's sum.
 * Thread-safety: one job per worker thread.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { Backoff } from '../../engine/idle/Backoff.js';
import { BusySpin } from '../../engine/idle/BusySpin.js';
import type { IdleStrategy, Parkable } from '../../engine/idle/IdleStrategy.js';
import { Ring } from '../../engine/ring/Ring.js';
import { checkword, PAYLOAD, RECORD_TYPE as TYPE } from './benchRecord.js';

export type Strategy = 'spin' | 'backoff' | 'parked';

export type Job =
  | { job: 'ring-produce'; ring: SharedArrayBuffer; total: number; strategy: Strategy }
  | { job: 'ring-consume'; ring: SharedArrayBuffer; total: number; warm: number; strategy: Strategy }
  | { job: 'pm-produce'; port: MessagePort; total: number }
  | { job: 'pm-consume'; port: MessagePort; total: number; warm: number }
  | {
      job: 'ring-ping' | 'ring-pong';
      out: SharedArrayBuffer;
      in: SharedArrayBuffer;
      total: number;
      warm: number;
      strategy: Strategy;
    }
  | { job: 'pm-ping' | 'pm-pong'; port: MessagePort; total: number; warm: number }
  | { job: 'wake-produce'; ring: SharedArrayBuffer; total: number; pauseMs: number };

export interface StreamResult {
  count: number;
  checksum: number;
  outOfOrder: number;
  /** Monotonic ns when the consumer passed the warm-up mark and when it saw the last record. */
  startNs: number;
  endNs: number;
}

export interface PingResult {
  /** Round-trip times in ns of the measured (post warm-up) exchanges. */
  rtts: Float64Array;
  mismatches: number;
}

function now(): number {
  return Number(process.hrtime.bigint());
}

function strategy(kind: Strategy, site: Parkable): IdleStrategy {
  if (kind === 'spin') return new BusySpin();
  if (kind === 'parked') return new Backoff(site, { maxSpins: 0, maxYields: 0 });
  return new Backoff(site);
}

function ringProduce(job: Extract<Job, { job: 'ring-produce' }>): number {
  const ring = Ring.wrap(job.ring);
  const idle = strategy(job.strategy, ring);
  const view = ring.view;
  let sum = 0;
  for (let seq = 0; seq < job.total; seq++) {
    let at = ring.tryClaim(TYPE, PAYLOAD);
    while (at < 0) {
      idle.idle(0);
      at = ring.tryClaim(TYPE, PAYLOAD);
    }
    idle.reset();
    const w = checkword(seq);
    view.setUint32(at, seq, true);
    view.setUint32(at + 4, w, true);
    ring.commit();
    sum = (sum + w) >>> 0;
  }
  return sum;
}

function ringConsume(job: Extract<Job, { job: 'ring-consume' }>): StreamResult {
  const reader = Ring.wrap(job.ring).reader();
  const idle = strategy(job.strategy, reader);
  const total = job.total;
  const warm = job.warm;
  let next = 0;
  let checksum = 0;
  let outOfOrder = 0;
  const handler = (_type: number, view: DataView, offset: number) => {
    if (view.getUint32(offset, true) !== next) outOfOrder++;
    checksum = (checksum + view.getUint32(offset + 4, true)) >>> 0;
    next++;
  };
  while (next < warm) idle.idle(reader.read(handler, warm - next));
  const startNs = now();
  while (next < total) idle.idle(reader.read(handler, 256));
  return { count: next, checksum, outOfOrder, startNs, endNs: now() };
}

function pmProduce(job: Extract<Job, { job: 'pm-produce' }>): number {
  const msg = new Uint8Array(PAYLOAD);
  const view = new DataView(msg.buffer);
  let sum = 0;
  for (let seq = 0; seq < job.total; seq++) {
    const w = checkword(seq);
    view.setUint32(0, seq, true);
    view.setUint32(4, w, true);
    job.port.postMessage(msg);
    sum = (sum + w) >>> 0;
  }
  return sum;
}

function pmConsume(job: Extract<Job, { job: 'pm-consume' }>): Promise<StreamResult> {
  return new Promise((resolve) => {
    let next = 0;
    let checksum = 0;
    let outOfOrder = 0;
    let startNs = 0;
    job.port.on('message', (m: Uint8Array) => {
      const seq = m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24);
      if (seq !== next) outOfOrder++;
      checksum = (checksum + ((m[4] | (m[5] << 8) | (m[6] << 16) | (m[7] << 24)) >>> 0)) >>> 0;
      next++;
      if (next === job.warm) startNs = now();
      if (next === job.total) {
        job.port.close();
        resolve({ count: next, checksum, outOfOrder, startNs, endNs: now() });
      }
    });
  });
}

function ringPingPong(job: Extract<Job, { job: 'ring-ping' | 'ring-pong' }>): PingResult {
  const out = Ring.wrap(job.out);
  const reader = Ring.wrap(job.in).reader();
  const idle = strategy(job.strategy, reader);
  const rtts = new Float64Array(job.total - job.warm);
  const ping = job.job === 'ring-ping';
  let got = -1;
  let mismatches = 0;
  const handler = (_type: number, view: DataView, offset: number) => {
    got = view.getUint32(offset, true);
  };
  const send = (seq: number) => {
    const at = out.tryClaim(TYPE, PAYLOAD);
    if (at < 0) throw new Error(`ping-pong ring refused a record: ${at}`);
    out.view.setUint32(at, seq, true);
    out.commit();
  };
  const receive = (seq: number) => {
    let n = reader.read(handler, 1);
    while (n === 0) {
      idle.idle(0);
      n = reader.read(handler, 1);
    }
    idle.reset();
    if (got !== seq) mismatches++;
  };
  for (let seq = 0; seq < job.total; seq++) {
    if (ping) {
      const t0 = now();
      send(seq);
      receive(seq);
      if (seq >= job.warm) rtts[seq - job.warm] = now() - t0;
    } else {
      receive(seq);
      send(seq);
    }
  }
  return { rtts, mismatches };
}

function pmPingPong(job: Extract<Job, { job: 'pm-ping' | 'pm-pong' }>): Promise<PingResult> {
  const port = job.port;
  const rtts = new Float64Array(job.total - job.warm);
  const msg = new Uint8Array(PAYLOAD);
  let mismatches = 0;
  return new Promise((resolve) => {
    if (job.job === 'pm-pong') {
      let n = 0;
      port.on('message', (m: Uint8Array) => {
        port.postMessage(m);
        if (++n === job.total) {
          port.close();
          resolve({ rtts: new Float64Array(0), mismatches });
        }
      });
      return;
    }
    let seq = 0;
    let t0 = now();
    port.on('message', (m: Uint8Array) => {
      const t1 = now();
      if (m[0] !== (seq & 0xff)) mismatches++;
      if (seq >= job.warm) rtts[seq - job.warm] = t1 - t0;
      if (++seq === job.total) {
        port.close();
        resolve({ rtts, mismatches });
        return;
      }
      msg[0] = seq & 0xff;
      t0 = now();
      port.postMessage(msg);
    });
    msg[0] = 0;
    t0 = now();
    port.postMessage(msg);
  });
}

/** Paced, timestamped records for the main thread's waitAsync wake latency. */
function wakeProduce(job: Extract<Job, { job: 'wake-produce' }>): number {
  const ring = Ring.wrap(job.ring);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let seq = 0; seq < job.total; seq++) {
    Atomics.wait(pause, 0, 0, job.pauseMs);
    const at = ring.tryClaim(TYPE, PAYLOAD);
    if (at < 0) throw new Error(`wake ring refused a record: ${at}`);
    ring.view.setUint32(at, seq, true);
    ring.view.setFloat64(at + 8, now(), true);
    ring.commit();
  }
  return job.total;
}

async function main(job: Job): Promise<unknown> {
  switch (job.job) {
    case 'ring-produce':
      return ringProduce(job);
    case 'ring-consume':
      return ringConsume(job);
    case 'pm-produce':
      return pmProduce(job);
    case 'pm-consume':
      return pmConsume(job);
    case 'ring-ping':
    case 'ring-pong':
      return ringPingPong(job);
    case 'pm-ping':
    case 'pm-pong':
      return pmPingPong(job);
    case 'wake-produce':
      return wakeProduce(job);
  }
}

const result = await main(workerData as Job);
const transfer: ArrayBuffer[] =
  result instanceof Object && 'rtts' in result ? [(result as PingResult).rtts.buffer as ArrayBuffer] : [];
parentPort?.postMessage(result, transfer);
