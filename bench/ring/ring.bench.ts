/**
 * Ring bench: the SharedArrayBuffer ring against postMessage, same records, same run.
 *
 *   npm run bench:ring                 # human table
 *   npm run bench:ring -- --json       # one JSON object
 *   flags: --records=10000000 --warmup=1000000 --pm-records=1000000 --capacity=1048576
 *          --pings=100000 --parked-pings=20000 --wakes=5000
 *
 * Measures, each scenario in fresh worker threads (worker entry: ringBenchWorker.ts):
 *   1. throughput, 64-byte payloads, producer worker -> consumer worker, for BusySpin and Backoff on
 *      both sides; postMessage of the same 64-byte records (Uint8Array, MessageChannel between the
 *      two workers); the ratio ring / postMessage.
 *   2. hand-off latency, ping-pong between two workers over two rings (one-way = RTT / 2, HDR
 *      histogram in ns): BusySpin, Backoff (defaults), and "parked" (Backoff that parks at once, so
 *      every hand-off wakes a sleeping thread); postMessage ping-pong the same way.
 *   3. the main thread's wake: paced timestamped records, main thread in `reader.waitAsync()`.
 * Warm-up: the first `--warmup` records / the first tenth of the pings are not measured. Results are
 * asserted (count, order, checksum) before anything is printed.
 * Thread-safety: main thread of its own process.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { Ring } from '../../engine/ring/Ring.js';
import {
  assertResult,
  type LatencySummary,
  latencyHistogram,
  numberFlag,
  parseArgs,
  report,
  summarize,
} from '../lib/harness.js';
import { checkword } from './benchRecord.js';
import type { Job, PingResult, Strategy, StreamResult } from './ringBenchWorker.js';

const workerUrl = new URL('./ringBenchWorker.js', import.meta.url);

function spawn<T>(job: Job, transfer: MessagePort[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerUrl, { workerData: job, transferList: transfer });
    let result: T | undefined;
    w.once('message', (m: T) => {
      result = m;
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`${job.job} worker exited with code ${code} and no result`));
    });
  });
}

function expectedChecksum(total: number): number {
  let sum = 0;
  for (let seq = 0; seq < total; seq++) sum = (sum + checkword(seq)) >>> 0;
  return sum;
}

interface Throughput {
  records: number;
  seconds: number;
  records_per_s: number;
}

function throughput(r: StreamResult, warm: number): Throughput {
  const records = r.count - warm;
  const seconds = (r.endNs - r.startNs) / 1e9;
  return { records, seconds: round(seconds, 3), records_per_s: Math.round(records / seconds) };
}

async function ringThroughput(strategy: Strategy, total: number, warm: number, capacity: number) {
  const ring = Ring.create(capacity);
  const [sum, r] = await Promise.all([
    spawn<number>({ job: 'ring-produce', ring: ring.buffer, total, strategy }),
    spawn<StreamResult>({ job: 'ring-consume', ring: ring.buffer, total, warm, strategy }),
  ]);
  assertResult(r.count === total, `ring ${strategy}: consumer saw ${r.count} of ${total} records`);
  assertResult(r.outOfOrder === 0, `ring ${strategy}: ${r.outOfOrder} records out of order`);
  assertResult(r.checksum === sum && sum === expectedChecksum(total), `ring ${strategy}: checksum`);
  return throughput(r, warm);
}

async function postMessageThroughput(total: number, warm: number) {
  const { port1, port2 } = new MessageChannel();
  const [sum, r] = await Promise.all([
    spawn<number>({ job: 'pm-produce', port: port1, total }, [port1]),
    spawn<StreamResult>({ job: 'pm-consume', port: port2, total, warm }, [port2]),
  ]);
  assertResult(r.count === total, `postMessage: consumer saw ${r.count} of ${total} records`);
  assertResult(r.outOfOrder === 0, `postMessage: ${r.outOfOrder} records out of order`);
  assertResult(r.checksum === sum && sum === expectedChecksum(total), 'postMessage: checksum');
  return throughput(r, warm);
}

interface Latency {
  one_way: LatencySummary;
  rtt: LatencySummary;
}

function latencies(rtts: Float64Array): Latency {
  const oneWay = latencyHistogram();
  const rtt = latencyHistogram();
  for (let i = 0; i < rtts.length; i++) {
    const v = Math.max(1, Math.round(rtts[i]));
    rtt.recordValue(v);
    oneWay.recordValue(Math.max(1, Math.round(v / 2)));
  }
  return { one_way: summarize(oneWay), rtt: summarize(rtt) };
}

async function ringPingPong(strategy: Strategy, total: number): Promise<Latency> {
  const ab = Ring.create(1 << 16);
  const ba = Ring.create(1 << 16);
  const warm = Math.floor(total / 10);
  const [ping, pong] = await Promise.all([
    spawn<PingResult>({ job: 'ring-ping', out: ab.buffer, in: ba.buffer, total, warm, strategy }),
    spawn<PingResult>({ job: 'ring-pong', out: ba.buffer, in: ab.buffer, total, warm, strategy }),
  ]);
  assertResult(ping.mismatches === 0 && pong.mismatches === 0, `ring ping-pong ${strategy}: echo mismatch`);
  assertResult(ping.rtts.length === total - warm, `ring ping-pong ${strategy}: sample count`);
  return latencies(ping.rtts);
}

async function postMessagePingPong(total: number): Promise<Latency> {
  const { port1, port2 } = new MessageChannel();
  const warm = Math.floor(total / 10);
  const [ping, pong] = await Promise.all([
    spawn<PingResult>({ job: 'pm-ping', port: port1, total, warm }, [port1]),
    spawn<PingResult>({ job: 'pm-pong', port: port2, total, warm }, [port2]),
  ]);
  assertResult(ping.mismatches === 0 && pong.mismatches === 0, 'postMessage ping-pong: echo mismatch');
  assertResult(ping.rtts.length === total - warm, 'postMessage ping-pong: sample count');
  return latencies(ping.rtts);
}

/** One-way latency of a record to the main thread parked in `reader.waitAsync`. */
async function mainThreadWake(total: number): Promise<LatencySummary> {
  const ring = Ring.create(1 << 16);
  const reader = ring.reader();
  const h = latencyHistogram();
  const warm = Math.floor(total / 10);
  const producer = spawn<number>({ job: 'wake-produce', ring: ring.buffer, total, pauseMs: 0.2 });
  let next = 0;
  let outOfOrder = 0;
  const handler = (_type: number, view: DataView, offset: number) => {
    const ns = Number(process.hrtime.bigint()) - view.getFloat64(offset + 8, true);
    if (view.getUint32(offset, true) !== next) outOfOrder++;
    if (next >= warm) h.recordValue(Math.max(1, Math.round(ns)));
    next++;
  };
  while (next < total) {
    if (reader.read(handler, 16) === 0) await reader.waitAsync(1000);
  }
  assertResult((await producer) === total && outOfOrder === 0, 'waitAsync wake: records lost or reordered');
  return summarize(h);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const records = numberFlag(args, 'records', 10_000_000);
  const warmup = numberFlag(args, 'warmup', 1_000_000);
  const pmRecords = numberFlag(args, 'pm-records', 1_000_000);
  const capacity = numberFlag(args, 'capacity', 1 << 20);
  const pings = numberFlag(args, 'pings', 100_000);
  const parkedPings = numberFlag(args, 'parked-pings', 20_000);
  const wakes = numberFlag(args, 'wakes', 5_000);
  const pmWarm = Math.min(warmup, Math.floor(pmRecords / 10));

  // Sequential on purpose: on a 2-core machine two scenarios at once would measure each other.
  const spin = await ringThroughput('spin', records + warmup, warmup, capacity);
  const backoff = await ringThroughput('backoff', records + warmup, warmup, capacity);
  const pm = await postMessageThroughput(pmRecords + pmWarm, pmWarm);
  const latSpin = await ringPingPong('spin', pings);
  const latBackoff = await ringPingPong('backoff', pings);
  const latParked = await ringPingPong('parked', parkedPings);
  const latPm = await postMessagePingPong(parkedPings);
  const wake = await mainThreadWake(wakes);

  const ratios = {
    throughput_ring_spin_to_postMessage: round(spin.records_per_s / pm.records_per_s, 1),
    throughput_ring_backoff_to_postMessage: round(backoff.records_per_s / pm.records_per_s, 1),
    rtt_p50_postMessage_to_ring_spin: round(latPm.rtt.p50_us / latSpin.rtt.p50_us, 1),
    rtt_p50_postMessage_to_ring_parked: round(latPm.rtt.p50_us / latParked.rtt.p50_us, 1),
  };
  const result = {
    config: {
      records,
      warmup,
      pm_records: pmRecords,
      capacity,
      payload_bytes: 64,
      pings,
      parked_pings: parkedPings,
      wakes,
    },
    throughput: { ring_busy_spin: spin, ring_backoff: backoff, postMessage: pm },
    latency: {
      ring_busy_spin: latSpin,
      ring_backoff: latBackoff,
      ring_parked: latParked,
      postMessage: latPm,
      main_thread_waitAsync_wake: wake,
    },
    ratios,
    target_throughput_ratio: 10,
    target_met: ratios.throughput_ring_spin_to_postMessage >= 10,
  };
  const rate = (t: Throughput) => `${(t.records_per_s / 1e6).toFixed(2)}M/s`;
  const lat = (name: string, l: LatencySummary, rtt?: LatencySummary) => ({
    scenario: name,
    rate: '-',
    p50_us: l.p50_us,
    p99_us: l.p99_us,
    p999_us: l.p999_us,
    max_us: l.max_us,
    rtt_p50_us: rtt === undefined ? '-' : rtt.p50_us,
  });
  const thr = (name: string, t: Throughput) => ({
    scenario: name,
    rate: rate(t),
    p50_us: '-',
    p99_us: '-',
    p999_us: '-',
    max_us: '-',
    rtt_p50_us: '-',
  });
  report(args, 'ring', result, [
    thr('throughput ring, BusySpin (64 B)', spin),
    thr('throughput ring, Backoff (64 B)', backoff),
    thr('throughput postMessage (64 B)', pm),
    {
      ...thr(`ratio ring/postMessage (spin, backoff)`, pm),
      rate: `${ratios.throughput_ring_spin_to_postMessage}x, ${ratios.throughput_ring_backoff_to_postMessage}x`,
    },
    lat('hand-off ring, BusySpin (rtt/2)', latSpin.one_way, latSpin.rtt),
    lat('hand-off ring, Backoff (rtt/2)', latBackoff.one_way, latBackoff.rtt),
    lat('hand-off ring, parked (rtt/2)', latParked.one_way, latParked.rtt),
    lat('hand-off postMessage (rtt/2)', latPm.one_way, latPm.rtt),
    lat('main-thread waitAsync wake', wake),
  ]);
}

await main();
