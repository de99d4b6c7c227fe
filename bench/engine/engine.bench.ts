/**
 * Matching-engine bench: the fast MatchingEngine on the exchange-core benchmark mix, against the peer
 * `nodejs-order-book` on the same commands, in the same run.
 *
 *   npm run bench:engine                 # human table
 *   npm run bench:engine -- --json       # one JSON object
 *   flags: --commands=3000000 --runs=3 --seed=1 --rate-125k-commands=500000
 *          --rate-1m-commands=3000000 --resting=1000000 --max-orders=<resting> --peer-runs=3
 *          --peer-commands=3000000
 *
 * 1. Input. `CommandGenerator` ('exchangeCore' mix) writes a setup (ADD_SYMBOL, ~1,000 resting GTC
 *    orders over ~750 levels) and then `--commands` commands into one buffer of command records:
 *    9% GTC limit, 3% IOC limit, 6% cancel, 82% move (amend price), 1,000 accounts, ~6% trading.
 *    A model engine processed them while they were generated; its event count and stateHash are the
 *    expected result of every replay (asserted).
 * 2. Throughput: fresh engine, setup replayed untimed, the commands replayed at full speed into a
 *    sink that discards the events (counting them); median of `--runs` runs after one warm-up run.
 * 3. Latency at full speed: a timestamp around each process() call (HDR histogram, ns); the timer's
 *    own cost (back-to-back calls) is reported and included in these figures.
 * 4. Latency at offered rates of 125k/s and 1M/s: command i is due at t0 + i/rate; the loop spins
 *    until it is due; latency = completion - due time, so a stall delays (and is charged to) every
 *    command queued behind it: no coordinated omission. The idle spin also counts its own gaps
 *    (> 50 us between two clock reads = the thread was descheduled) to show machine noise.
 * 5. Memory per resting order: heap + external (ArrayBuffers) delta after GC (needs --expose-gc,
 *    which the npm script passes), from before the engine is created to after it holds `--resting`
 *    orders (maxOrders = `--max-orders`, default = resting: the preallocated pools are included;
 *    the cost per preallocated slot is reported too).
 * 6. The peer: the same commands translated to its limit (GTC/IOC), cancel and modify(price) calls
 *    (ids are our order ids as strings, made before timing); median of `--peer-runs` runs; we quote
 *    fast / peer in commands per second.
 * Thread-safety: main thread of its own process.
 */
import { type LimitOrderOptions, OrderBook as PeerBook, Side as PeerSide } from 'nodejs-order-book';
import type { EngineConfig } from '../../engine/book/Engine.js';
import type { EventSink } from '../../engine/book/EventSink.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import * as C from '../../engine/records/CommandRecord.js';
import { COMMAND_SIZE, CommandType } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import { Side, TimeInForce } from '../../engine/records/OrderCodes.js';
import {
  CommandGenerator,
  EXCHANGE_CORE_CONFIG,
  generateCommands,
} from '../../engine/reference/CommandGenerator.js';
import {
  assertResult,
  type LatencySummary,
  latencyHistogram,
  median,
  numberFlag,
  parseArgs,
  report,
  summarize,
} from '../lib/harness.js';

const args = parseArgs();
const COMMANDS = numberFlag(args, 'commands', 3_000_000);
const RUNS = numberFlag(args, 'runs', 3);
const SEED = numberFlag(args, 'seed', 1);
const RATE_125K_COMMANDS = numberFlag(args, 'rate-125k-commands', 500_000);
const RATE_1M_COMMANDS = numberFlag(args, 'rate-1m-commands', 3_000_000);
const RESTING = numberFlag(args, 'resting', 1_000_000);
const MAX_ORDERS = numberFlag(args, 'max-orders', RESTING);
const PEER_RUNS = numberFlag(args, 'peer-runs', 3);
const PEER_COMMANDS = Math.min(COMMANDS, numberFlag(args, 'peer-commands', COMMANDS));

const log = (msg: string) => {
  if (!args.json) process.stderr.write(`${msg}\n`);
};

/** A sink that keeps nothing: 64 reused slots, counts events and commits. */
class DiscardSink implements EventSink {
  readonly view = new DataView(new ArrayBuffer(64 * EVENT_SIZE));
  events = 0;
  commits = 0;
  claim(): number {
    return (this.events++ & 63) * EVENT_SIZE;
  }
  commit(): void {
    this.commits++;
  }
}

// ------------------------------------------------------------------ 1. input

interface Stream {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly setup: number;
  readonly total: number;
  readonly events: number;
  readonly hash: string;
  readonly trading: number;
  readonly restingAtEnd: number;
  readonly levelsAtEnd: number;
}

function makeStream(): Stream {
  const options = { seed: SEED, mix: 'exchangeCore' as const };
  const setupCount = CommandGenerator.setupCountOf(options);
  const model = new MatchingEngine(EXCHANGE_CORE_CONFIG);
  const total = setupCount + COMMANDS;
  const { bytes, generator, events } = generateCommands(options, total, model);
  // Every command of this mix is valid; the peer translation relies on it (n-th order = id n).
  assertResult(generator.live.totalRejects === 0, `stream: ${generator.live.totalRejects} rejected commands`);
  const out = new Float64Array(3 * 100_000);
  const levels = model.l2(1, Side.BUY, out) + model.l2(1, Side.SELL, out);
  return {
    bytes,
    view: new DataView(bytes.buffer),
    setup: setupCount,
    total,
    events,
    hash: model.stateHash(),
    trading: generator.tradingCommands / total,
    restingAtEnd: generator.live.size,
    levelsAtEnd: levels,
  };
}

/** A fresh engine with the setup commands already processed. */
function primed(s: Stream, sink: EventSink): MatchingEngine {
  const e = new MatchingEngine(EXCHANGE_CORE_CONFIG);
  for (let i = 0; i < s.setup; i++) e.process(s.view, i * COMMAND_SIZE, sink);
  return e;
}

function checkReplay(s: Stream, e: MatchingEngine, sink: DiscardSink, upTo: number, what: string): void {
  assertResult(sink.commits === upTo, `${what}: ${sink.commits} commits for ${upTo} commands`);
  if (upTo === s.total) {
    assertResult(sink.events === s.events, `${what}: ${sink.events} events, the model emitted ${s.events}`);
    assertResult(e.stateHash() === s.hash, `${what}: stateHash ${e.stateHash()}, the model's is ${s.hash}`);
  }
}

// ------------------------------------------------------------------ 2. throughput

function throughputRun(s: Stream): number {
  const sink = new DiscardSink();
  const e = primed(s, sink);
  const view = s.view;
  const end = s.total * COMMAND_SIZE;
  const t0 = performance.now();
  for (let off = s.setup * COMMAND_SIZE; off < end; off += COMMAND_SIZE) e.process(view, off, sink);
  const seconds = (performance.now() - t0) / 1000;
  checkReplay(s, e, sink, s.total, 'throughput run');
  return COMMANDS / seconds;
}

// ------------------------------------------------------------------ 3, 4. latency

/** Median cost of one performance.now() call and of one process.hrtime.bigint() call, in ns. */
function timerCost(): { performance_now_ns: number; hrtime_bigint_ns: number } {
  const per = (f: () => void) => {
    const xs: number[] = [];
    for (let r = 0; r < 9; r++) {
      const n = 200_000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f();
      xs.push(((performance.now() - t0) * 1e6) / n);
    }
    return Math.round(median(xs) * 10) / 10;
  };
  let sink = 0;
  const a = per(() => {
    sink += performance.now();
  });
  const b = per(() => {
    sink += Number(process.hrtime.bigint() & 1n);
  });
  return sink === -1
    ? { performance_now_ns: 0, hrtime_bigint_ns: 0 }
    : { performance_now_ns: a, hrtime_bigint_ns: b };
}

/** Per-command latency at full speed (ns, timestamps around each process() call). */
function fullSpeedLatency(s: Stream): LatencySummary {
  const sink = new DiscardSink();
  const e = primed(s, sink);
  const view = s.view;
  const lat = new Float64Array(COMMANDS);
  for (let i = 0; i < COMMANDS; i++) {
    const off = (s.setup + i) * COMMAND_SIZE;
    const t0 = performance.now();
    e.process(view, off, sink);
    lat[i] = performance.now() - t0;
  }
  checkReplay(s, e, sink, s.total, 'full-speed latency run');
  const h = latencyHistogram();
  for (let i = 0; i < COMMANDS; i++) h.recordValue(Math.max(1, Math.round(lat[i] * 1e6)));
  return summarize(h);
}

interface RateResult extends LatencySummary {
  readonly offered_per_s: number;
  readonly achieved_per_s: number;
  /** Gaps > 50 us between two clock reads of the idle spin: the thread was not running (machine noise). */
  readonly idle_stalls_over_50us: number;
  readonly max_idle_stall_us: number;
}

/** Latency at an offered rate, measured from each command's due time (no coordinated omission). */
function rateLatency(s: Stream, rate: number, count: number): RateResult {
  const n = Math.min(count, COMMANDS);
  const sink = new DiscardSink();
  const e = primed(s, sink);
  const view = s.view;
  const lat = new Float64Array(n);
  const intervalMs = 1000 / rate;
  let stalls = 0;
  let maxStall = 0;
  const t0 = performance.now() + 5;
  for (let i = 0; i < n; i++) {
    const due = t0 + i * intervalMs;
    let now = performance.now();
    while (now < due) {
      const prev = now;
      now = performance.now();
      if (now - prev > 0.05) {
        stalls++;
        if (now - prev > maxStall) maxStall = now - prev;
      }
    }
    e.process(view, (s.setup + i) * COMMAND_SIZE, sink);
    lat[i] = performance.now() - due;
  }
  const seconds = (performance.now() - t0) / 1000;
  checkReplay(s, e, sink, s.setup + n, `rate ${rate} run`);
  const h = latencyHistogram();
  for (let i = 0; i < n; i++) h.recordValue(Math.max(1, Math.round(lat[i] * 1e6)));
  return {
    offered_per_s: rate,
    achieved_per_s: Math.round(n / seconds),
    ...summarize(h),
    idle_stalls_over_50us: stalls,
    max_idle_stall_us: Math.round(maxStall * 1000),
  };
}

// ------------------------------------------------------------------ 5. memory

interface MemoryResult {
  readonly resting_orders: number;
  readonly levels: number;
  readonly max_orders: number;
  readonly engine_empty_bytes: number;
  readonly filled_growth_bytes: number;
  readonly bytes_per_resting_order: number;
  readonly empty_bytes_per_order_slot: number;
  readonly note: string;
}

function memoryPerOrder(): MemoryResult | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return null;
  const used = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const config: EngineConfig = { shardId: 0, maxOrders: MAX_ORDERS, maxSymbols: 1, maxAccounts: 1024 };
  const cmd = new DataView(new ArrayBuffer(COMMAND_SIZE));
  const sink = new DiscardSink();
  const spread = 20_000; // levels per side
  const mid = 60_000;
  const m0 = used();
  const e = new MatchingEngine(config);
  C.writeHeader(cmd, 0, CommandType.ADD_SYMBOL, 1, 0, 0, 0, 0, 0);
  C.writeAddSymbol(cmd, 0, 1, 2 * mid, 1, 1_000_000, 0, 0, 0);
  e.process(cmd, 0, sink);
  const m1 = used();
  for (let i = 0; i < RESTING; i++) {
    const buy = (i & 1) === 0;
    const price = buy ? mid - 1 - ((i >> 1) % spread) : mid + 1 + ((i >> 1) % spread);
    C.writeHeader(cmd, 0, CommandType.NEW_ORDER, 1, 1 + (i % 1000), 1, i, i, 0);
    C.writeNewOrder(
      cmd,
      0,
      buy ? Side.BUY : Side.SELL,
      1,
      TimeInForce.GTC,
      0,
      0,
      0,
      price,
      1 + (i % 100),
      0,
      0,
      0,
      0,
    );
    e.process(cmd, 0, sink);
  }
  const m2 = used();
  const out = new Float64Array(3 * spread);
  let orders = 0;
  let levels = 0;
  for (const side of [Side.BUY, Side.SELL]) {
    const n = e.l2(1, side, out);
    levels += n;
    for (let i = 0; i < n; i++) orders += out[3 * i + 2];
  }
  assertResult(orders === RESTING, `memory: ${orders} orders rest, expected ${RESTING}`);
  return {
    resting_orders: RESTING,
    levels,
    max_orders: config.maxOrders,
    engine_empty_bytes: m1 - m0,
    filled_growth_bytes: m2 - m1,
    bytes_per_resting_order: Math.round((m2 - m0) / RESTING),
    empty_bytes_per_order_slot: Math.round((m1 - m0) / config.maxOrders),
    note: `symbol price range ${2 * mid} ticks; pools preallocated for maxOrders are in engine_empty_bytes`,
  };
}

// ------------------------------------------------------------------ 6. the peer

interface PeerOp {
  /** 0 limit GTC, 1 limit IOC, 2 cancel, 3 modify price. */
  readonly kinds: Uint8Array;
  readonly ids: string[];
  readonly sides: Uint8Array;
  readonly prices: Float64Array;
  readonly sizes: Float64Array;
}

/** Translates the stream into the peer's calls, ids as strings, before any timing. */
function peerOps(s: Stream): PeerOp {
  const n = s.setup + PEER_COMMANDS;
  const ops: PeerOp = {
    kinds: new Uint8Array(n),
    ids: new Array<string>(n),
    sides: new Uint8Array(n),
    prices: new Float64Array(n),
    sizes: new Float64Array(n),
  };
  let nextId = 0;
  const v = s.view;
  for (let i = 0; i < n; i++) {
    const o = i * COMMAND_SIZE;
    const type = C.readType(v, o);
    if (type === CommandType.NEW_ORDER) {
      ops.kinds[i] = C.readTimeInForce(v, o) === TimeInForce.IOC ? 1 : 0;
      ops.ids[i] = String(++nextId); // shard 0: the n-th accepted order has id n
      ops.sides[i] = C.readSide(v, o);
      ops.prices[i] = C.readPrice(v, o);
      ops.sizes[i] = C.readQuantity(v, o);
    } else if (type === CommandType.CANCEL) {
      ops.kinds[i] = 2;
      ops.ids[i] = String(C.readOrderId(v, o));
    } else if (type === CommandType.AMEND) {
      ops.kinds[i] = 3;
      ops.ids[i] = String(C.readOrderId(v, o));
      ops.prices[i] = C.readPrice(v, o);
    } else {
      ops.kinds[i] = 255; // ADD_SYMBOL: the peer has one book
    }
  }
  return ops;
}

/** The peer's time-in-force enum is not exported; its IOC value is the string 'IOC'. */
const IOC = 'IOC' as LimitOrderOptions['timeInForce'];

interface PeerRun {
  readonly commands_per_s: number;
  readonly errors: number;
  readonly levels: number;
}

function peerRun(ops: PeerOp, setup: number): PeerRun {
  const book = new PeerBook();
  let errors = 0;
  const one = (i: number) => {
    const side = ops.sides[i] === Side.BUY ? PeerSide.BUY : PeerSide.SELL;
    switch (ops.kinds[i]) {
      case 0:
        if (book.limit({ side, id: ops.ids[i], size: ops.sizes[i], price: ops.prices[i] }).err) errors++;
        break;
      case 1:
        if (
          book.limit({ side, id: ops.ids[i], size: ops.sizes[i], price: ops.prices[i], timeInForce: IOC }).err
        )
          errors++;
        break;
      case 2:
        if (book.cancel(ops.ids[i]) === undefined) errors++;
        break;
      case 3:
        if (book.modify(ops.ids[i], { price: ops.prices[i] }).err) errors++;
        break;
    }
  };
  for (let i = 0; i < setup; i++) one(i);
  const n = ops.kinds.length;
  const t0 = performance.now();
  for (let i = setup; i < n; i++) one(i);
  const seconds = (performance.now() - t0) / 1000;
  const [asks, bids] = book.depth();
  return { commands_per_s: (n - setup) / seconds, errors, levels: asks.length + bids.length };
}

// ------------------------------------------------------------------ main

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function main(): void {
  log(`generating ${COMMANDS} exchange-core commands (seed ${SEED}) ...`);
  const s = makeStream();
  log(
    `  ${s.total} commands (${s.setup} setup), ${s.events} events, ${(100 * s.trading).toFixed(1)}% trading, ` +
      `${s.restingAtEnd} resting orders on ${s.levelsAtEnd} levels at the end`,
  );

  log('throughput ...');
  throughputRun(s); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) rates.push(throughputRun(s));
  const fastRate = median(rates);

  log('latency at full speed ...');
  const timer = timerCost();
  const full = fullSpeedLatency(s);
  log('latency at 125k/s offered ...');
  const at125k = rateLatency(s, 125_000, RATE_125K_COMMANDS);
  log('latency at 1M/s offered ...');
  const at1m = rateLatency(s, 1_000_000, RATE_1M_COMMANDS);

  log(`memory with ${RESTING} resting orders ...`);
  const memory = memoryPerOrder();

  log(`peer nodejs-order-book on ${PEER_COMMANDS} of the same commands ...`);
  const ops = peerOps(s);
  const peerRuns: PeerRun[] = [];
  for (let r = 0; r < PEER_RUNS; r++) peerRuns.push(peerRun(ops, s.setup));
  const peerRate = median(peerRuns.map((r) => r.commands_per_s));
  // The peer has no self-trade prevention, so its book drifts a little from ours; a wrong translation
  // would show as many rejected calls (unknown ids) and a very different book.
  const peerLevels = peerRuns[0].levels;
  log(
    `  peer: ${peerRuns[0].errors} rejected calls, ${peerLevels} price levels at the end (ours ${s.levelsAtEnd})`,
  );
  assertResult(peerRuns[0].errors < PEER_COMMANDS * 0.01, `peer: ${peerRuns[0].errors} rejected calls`);

  const result = {
    seed: SEED,
    commands: COMMANDS,
    stream: {
      setup_commands: s.setup,
      events: s.events,
      events_per_command: round(s.events / s.total, 2),
      trading_fraction: round(s.trading, 4),
      resting_orders_at_end: s.restingAtEnd,
      levels_at_end: s.levelsAtEnd,
      state_hash: s.hash,
    },
    fast: {
      commands_per_s: Math.round(fastRate),
      runs_commands_per_s: rates.map((x) => Math.round(x)),
      latency_full_speed: full,
      timer,
      latency_at_125k: at125k,
      latency_at_1m: at1m,
      memory,
    },
    peer: {
      name: 'nodejs-order-book',
      commands: PEER_COMMANDS,
      commands_per_s: Math.round(peerRate),
      runs_commands_per_s: peerRuns.map((r) => Math.round(r.commands_per_s)),
      rejected_calls: peerRuns[0].errors,
      levels_at_end: peerLevels,
    },
    ratio_fast_over_peer: round(fastRate / peerRate, 1),
    targets: {
      commands_per_s: 6_000_000,
      ratio_fast_over_peer: 20,
      p50_us_at_1m: 0.5,
      p9999_us_at_1m: 20,
      bytes_per_resting_order: 150,
    },
  };
  const lat = (name: string, l: LatencySummary) => ({
    measure: name,
    value: `p50 ${l.p50_us} us, p99 ${l.p99_us}, p99.9 ${l.p999_us}, p99.99 ${l.p9999_us}, max ${l.max_us}`,
  });
  report(args, 'engine: exchange-core mix, fast MatchingEngine vs nodejs-order-book', result, [
    {
      measure: 'fast commands/s (median)',
      value: `${Math.round(fastRate)} (runs ${rates.map((x) => Math.round(x)).join(', ')})`,
    },
    { measure: 'peer commands/s (median)', value: `${Math.round(peerRate)} on ${PEER_COMMANDS} commands` },
    { measure: 'ratio fast / peer', value: `${round(fastRate / peerRate, 1)}x (target >= 20x)` },
    lat('latency, full speed', full),
    {
      measure: 'timer cost',
      value: `performance.now ${timer.performance_now_ns} ns, hrtime.bigint ${timer.hrtime_bigint_ns} ns (included above)`,
    },
    lat(`latency at 125k/s (achieved ${at125k.achieved_per_s}/s)`, at125k),
    {
      measure: '  machine noise at 125k/s',
      value: `${at125k.idle_stalls_over_50us} idle-spin stalls > 50 us, max ${at125k.max_idle_stall_us} us`,
    },
    lat(`latency at 1M/s (achieved ${at1m.achieved_per_s}/s)`, at1m),
    {
      measure: '  machine noise at 1M/s',
      value: `${at1m.idle_stalls_over_50us} idle-spin stalls > 50 us, max ${at1m.max_idle_stall_us} us`,
    },
    {
      measure: 'bytes per resting order',
      value:
        memory === null
          ? 'n/a (run node with --expose-gc)'
          : `${memory.bytes_per_resting_order} (${memory.resting_orders} orders on ${memory.levels} levels; ` +
            `empty engine ${memory.engine_empty_bytes} B = ${memory.empty_bytes_per_order_slot} B per order slot)`,
    },
    {
      measure: 'stream',
      value: `${(100 * s.trading).toFixed(1)}% trading, ${s.restingAtEnd} resting on ${s.levelsAtEnd} levels, ${round(s.events / s.total, 2)} events/command`,
    },
  ]);
}

main();
