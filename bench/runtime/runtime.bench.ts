/**
 * Runtime bench: the engine on a shard worker behind the rings (engine/pipeline.ts), driven by the
 * main thread as the gateway drives it, against the same engine in-process on the same commands, in
 * the same run.
 *
 *   npm run bench:runtime                 # human table
 *   npm run bench:runtime -- --json       # one JSON object
 *   flags: --commands=1000000 --warmup=200000 --runs=3 --seed=1 --idle=backoff,spin
 *          --rates=10000,100000 --latency-seconds=2 --command-ring=1048576 --event-ring=8388608
 *          --burst=8192 --publish=64
 *
 * 1. Input: `CommandGenerator` ('exchangeCore' mix, as bench:engine): a setup (ADD_SYMBOL, ~1,000
 *    resting GTC orders), `--warmup` commands and `--commands` commands: 9% GTC, 3% IOC, 6% cancel,
 *    82% move (amend price), ~3 events per command. The model engine that generated them gives the
 *    expected event count (asserted for every run).
 * 2. In-process: a fresh MatchingEngine (EXCHANGE_CORE_CONFIG); setup and warm-up replayed untimed,
 *    then the commands timed into a sink that discards events; `--runs` runs after one warm-up run.
 * 3. Pipeline throughput: a fresh one-shard pipeline per run (same engine capacities); setup and
 *    warm-up submitted and drained untimed (so the worker's JIT is warm too); then the main thread
 *    submits the commands (copying `submitBatch`, `--publish` commands published at once, bursts of
 *    `--burst` with a yield to the event loop after each; on a full command ring it sleeps 1 ms, as a gateway waits on its sockets, rather than spin)
 *    while the dispatcher hands every event to a handler that checks the sequence; time from the first
 *    submit to the last event delivered. Runs interleave with the in-process ones; the median of the
 *    per-run ratios pipeline / in-process is the figure we quote (target >= 0.8). Main-thread
 *    event-loop utilisation and dispatcher parks too.
 * 4. Latency at fixed offered rates (`--rates`, default 10k/s and 100k/s, `--latency-seconds` each):
 *    command i is due at t0 + i/rate; the
 *    main thread submits every due command, then yields (setImmediate: it polls, ~100 % of a core);
 *    latency = arrival of the command's first event at the main thread - due time (HDR, ns), so a
 *    stall is charged to everything queued behind it (no coordinated omission). Includes the ring
 *    hand-off to the shard (a futex wake when it parked), matching, the event ring, and the
 *    dispatcher picking it up.
 * Per idle strategy in `--idle`. Run from dist (`npm run bench:runtime` builds first).
 * Thread-safety: main thread of its own process (plus the pipeline's shard worker).
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { EventSink } from '../../engine/book/EventSink.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import {
  CommandGenerator,
  EXCHANGE_CORE_CONFIG,
  generateCommands,
} from '../../engine/reference/CommandGenerator.js';
import type { IdleStrategyName } from '../../engine/runtime/IdleChoice.js';
import { OK } from '../../engine/runtime/SubmitResult.js';
import {
  assertResult,
  type LatencySummary,
  median,
  numberFlag,
  parseArgs,
  report,
  summarize,
} from '../lib/harness.js';
import {
  delivered,
  newProbe,
  type Probe,
  probeHandler,
  submitRange,
  yieldTurn,
} from '../lib/pipelineProbe.js';

const args = parseArgs();
const COMMANDS = numberFlag(args, 'commands', 1_000_000);
const WARMUP = numberFlag(args, 'warmup', 200_000);
const RUNS = numberFlag(args, 'runs', 3);
const SEED = numberFlag(args, 'seed', 1);
const RATES = (args.flags.get('rates') ?? '10000,100000').split(',').map(Number);
const LATENCY_SECONDS = numberFlag(args, 'latency-seconds', 2);
const IDLES = (args.flags.get('idle') ?? 'backoff,spin').split(',') as IdleStrategyName[];
const COMMAND_RING = numberFlag(args, 'command-ring', 2 ** 20);
const EVENT_RING = numberFlag(args, 'event-ring', 2 ** 23);
const BURST = numberFlag(args, 'burst', 8192);
const PUBLISH = numberFlag(args, 'publish', 64);

const log = pino({ level: 'warn' });

/** A sink that keeps nothing: one command's events overwrite a small scratch buffer. */
class DiscardSink implements EventSink {
  readonly view = new DataView(new ArrayBuffer(256 * EVENT_SIZE));
  events = 0;
  private n = 0;
  claim(): number {
    this.events++;
    return (this.n++ & 255) * EVENT_SIZE;
  }
  commit(): void {
    this.n = 0;
  }
}

// 1. input
const generatedAt = performance.now();
const total = COMMANDS;
const options = { seed: SEED, mix: 'exchangeCore' } as const;
// Note: "setup" below is the generator's setup plus the warm-up commands: replayed untimed by both
// sides, so the worker's JIT is as warm as the in-process engine's when timing starts.
const setupCount =
  new CommandGenerator(options, new MatchingEngine(EXCHANGE_CORE_CONFIG)).setupCount + WARMUP;
const stream = generateCommands(options, setupCount + total, new MatchingEngine(EXCHANGE_CORE_CONFIG));
const bytes = stream.bytes;
const view = new DataView(bytes.buffer);
const expectedEvents = stream.events;
const setupEvents = countEvents(setupCount);
const timedEvents = stream.events - setupEvents;
const generateMs = performance.now() - generatedAt;

/** Events of the first `n` commands, in-process. */
function countEvents(n: number): number {
  const engine = new MatchingEngine(EXCHANGE_CORE_CONFIG);
  const sink = new DiscardSink();
  for (let i = 0; i < n; i++) engine.process(view, i * COMMAND_SIZE, sink);
  return sink.events;
}

// 2. in-process
function inProcessRun(): number {
  const engine = new MatchingEngine(EXCHANGE_CORE_CONFIG);
  const sink = new DiscardSink();
  for (let i = 0; i < setupCount; i++) engine.process(view, i * COMMAND_SIZE, sink);
  const end = setupCount + total;
  const t0 = performance.now();
  for (let i = setupCount; i < end; i++) engine.process(view, i * COMMAND_SIZE, sink);
  const ms = performance.now() - t0;
  assertResult(sink.events === expectedEvents, `in-process events ${sink.events} != ${expectedEvents}`);
  assertResult(timedEvents > total, 'the timed commands emitted events');
  return (total / ms) * 1e3;
}

// 3. and 4. the pipeline
async function startPipeline(idle: IdleStrategyName, probe: Probe): Promise<Pipeline> {
  const onEvent = probeHandler(probe);
  return Pipeline.start({
    shards: 1,
    symbols: [],
    idle,
    log,
    onEvent,
    maxOrders: EXCHANGE_CORE_CONFIG.maxOrders,
    maxSymbols: EXCHANGE_CORE_CONFIG.maxSymbols,
    maxAccounts: EXCHANGE_CORE_CONFIG.maxAccounts,
    commandRingBytes: COMMAND_RING,
    eventRingBytes: EVENT_RING,
  });
}

interface ThroughputRun {
  rate: number;
  elu: number;
  full: number;
  parks: number;
}

async function throughputRun(idle: IdleStrategyName): Promise<ThroughputRun> {
  const probe = newProbe();
  const p = await startPipeline(idle, probe);
  await submitRange(p, bytes, 0, setupCount, BURST, PUBLISH);
  await delivered(probe, setupEvents);
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const full = await submitRange(p, bytes, setupCount, setupCount + total, BURST, PUBLISH);
  await delivered(probe, expectedEvents);
  const ms = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const parks = p.health().shards[0].dispatcherParks;
  await p.stop();
  assertResult(
    probe.delivered === expectedEvents,
    `pipeline delivered ${probe.delivered} != ${expectedEvents}`,
  );
  assertResult(
    probe.bad === 0 && probe.lastSeq === expectedEvents,
    `event sequence broken (${probe.bad} gaps)`,
  );
  return { rate: (total / ms) * 1e3, elu, full, parks };
}

async function latencyRun(
  idle: IdleStrategyName,
  rate: number,
): Promise<LatencySummary & { offered: number; achieved: number }> {
  const n = Math.min(Math.round(rate * LATENCY_SECONDS), total);
  const probe = newProbe();
  const p = await startPipeline(idle, probe);
  await submitRange(p, bytes, 0, setupCount, BURST, PUBLISH);
  await delivered(probe, setupEvents);
  const due = new Float64Array(setupCount + n); // 0 = not measured (setup)
  probe.due = due;
  const target = countEvents(setupCount + n);
  const done = delivered(probe, target);
  const intervalMs = 1e3 / rate;
  const t0 = performance.now() + 1;
  let next = setupCount;
  const end = setupCount + n;
  while (next < end) {
    const now = performance.now();
    while (next < end) {
      const at = t0 + (next - setupCount) * intervalMs;
      if (at > now) break;
      due[next] = at;
      if (p.submit(0, bytes, next * COMMAND_SIZE) !== OK) break; // full: retried later, charged from `at`
      next++;
    }
    await yieldTurn();
  }
  await done;
  const ms = performance.now() - t0;
  await p.stop();
  assertResult(probe.bad === 0, `event sequence broken (${probe.bad} gaps)`);
  assertResult(probe.histogram.totalCount === n, `latency samples ${probe.histogram.totalCount} != ${n}`);
  return { ...summarize(probe.histogram), offered: rate, achieved: Math.round((n / ms) * 1e3) };
}

async function main(): Promise<void> {
  inProcessRun(); // warm-up
  for (const idle of IDLES) await throughputRun(idle); // warm-up (worker start, ring pages)
  // Note: runs interleave (in-process, then each pipeline) and each run's ratio uses its own
  // in-process figure, so a load change on the shared machine moves both sides of a ratio.
  const inProcess: number[] = [];
  const runs = new Map<IdleStrategyName, ThroughputRun[]>(IDLES.map((i) => [i, []]));
  const ratios = new Map<IdleStrategyName, number[]>(IDLES.map((i) => [i, []]));
  for (let r = 0; r < RUNS; r++) {
    const base = inProcessRun();
    inProcess.push(base);
    for (const idle of IDLES) {
      const run = await throughputRun(idle);
      runs.get(idle)?.push(run);
      ratios.get(idle)?.push(run.rate / base);
    }
  }
  const inProcessRate = median(inProcess);
  const results: Record<string, unknown> = {};
  const rows: Record<string, string | number>[] = [
    {
      scenario: 'in-process MatchingEngine',
      'commands/s': Math.round(inProcessRate),
      ratio: '1.00',
      detail: `median of ${RUNS}: ${inProcess.map((x) => (x / 1e6).toFixed(2)).join(', ')} M/s`,
    },
  ];
  const m = (xs: number[]) => xs.map((x) => (x / 1e6).toFixed(2)).join(', ');
  for (const idle of IDLES) {
    const list = runs.get(idle) ?? [];
    const ratio = median(ratios.get(idle) ?? []);
    const rate = median(list.map((x) => x.rate));
    const elu = median(list.map((x) => x.elu));
    const latency = [];
    for (const r of RATES) latency.push(await latencyRun(idle, r));
    results[idle] = {
      commandsPerSecond: Math.round(rate),
      runs: list.map((x) => Math.round(x.rate)),
      ratio,
      ratios: ratios.get(idle),
      mainThreadUtilization: elu,
      commandRingFull: list.map((x) => x.full),
      dispatcherParks: list.map((x) => x.parks),
      latency,
    };
    rows.push({
      scenario: `pipeline, 1 shard, ${idle}`,
      'commands/s': Math.round(rate),
      ratio: ratio.toFixed(2),
      detail: `runs ${m(list.map((x) => x.rate))} M/s; ratios ${(ratios.get(idle) ?? []).map((x) => x.toFixed(2)).join(', ')}; main thread busy ${(elu * 100).toFixed(0)}%`,
    });
    for (const l of latency) {
      rows.push({
        scenario: `  latency @ ${l.offered / 1e3}k/s, ${idle}`,
        'commands/s': l.achieved,
        ratio: '',
        detail: `p50 ${l.p50_us} us, p90 ${l.p90_us}, p99 ${l.p99_us}, p99.9 ${l.p999_us}, max ${l.max_us} us (${l.count} commands)`,
      });
    }
  }
  report(
    args,
    'runtime: engine on a shard worker behind the rings vs in-process',
    {
      commands: total,
      setupCommands: setupCount - WARMUP,
      warmupCommands: WARMUP,
      events: timedEvents,
      seed: SEED,
      runs: RUNS,
      generateMs: Math.round(generateMs),
      inProcess: { commandsPerSecond: Math.round(inProcessRate), runs: inProcess.map(Math.round) },
      pipeline: results,
    },
    rows,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
