/**
 * Journal bench: the cost of the write-ahead log through the real pipeline (engine/pipeline.ts with
 * its journal worker), DURABILITY=async and =sync against no journal, in the same run on the same
 * commands.
 *
 *   npm run bench:journal                 # human table
 *   npm run bench:journal -- --json       # one JSON object
 *   flags: --commands=500000 --warmup=100000 --runs=3 --seed=1 --modes=none,async,sync
 *          --rate=10000 --latency-seconds=2 --lag-rate=100000 --lag-seconds=2 --lag-sample-us=100
 *          --data-dir=<dir> (default: a temp dir; put it on the disk you mean to measure: fsync cost is
 *          the disk's)
 *
 * 1. Input: `CommandGenerator` ('exchangeCore' mix, as bench:runtime): setup + `--warmup` + `--commands`.
 * 2. Throughput: per mode a fresh one-shard pipeline (backoff) over a fresh data directory; setup and
 *    warm-up submitted and drained untimed; then the main thread submits the commands (`submitBatch`
 *    64 at a time, bursts of 8192 with a yield after each, 1 ms sleep on a full ring) while the
 *    dispatcher checks the event sequence; time from the first submit to the last event. Runs
 *    interleave the modes; the figure quoted is the median per-run ratio sync / async and
 *    async / none (issue #7 target: sync costs <= 25 % of throughput, ratio >= 0.75).
 * 3. Latency at a fixed offered rate (`--rate`): command i is due at t0 + i/rate; latency = arrival
 *    of its first event at the main thread - due time (HDR, ns; no coordinated omission). In sync mode
 *    this includes the fsync of the batch holding the command: the report-release latency.
 * 4. Journal lag (issue #7): how far the WAL's durable watermark trails what the gateway submitted, in
 *    async and sync mode, at `--lag-rate` for `--lag-seconds` (at most `--commands`): a separate run
 *    per mode with the fixed-rate loop of 3, started once the journal has made the setup durable. The
 *    main thread keeps each command's submit time (performance.now() just after its `submit` returned
 *    OK) by WAL seq (command i of the stream has seq i + 1). On a grid of `--lag-sample-us` from t0,
 *    at most once per event-loop turn (grid points missed by a busy turn are skipped) and before that
 *    turn's submits, it reads S = seq of the last command submitted and D = `pipeline.durableSeq(0)`:
 *      lag in commands = S - D
 *      lag in time     = now - submit time of seq D + 1 (the oldest command not yet fsynced) if D < S,
 *                        else 0
 *    Sampled from the first due command to the last submit (not the drain after it); both in HDR
 *    histograms; reported: p50/p99/max of each, as
 *    `journalLag: { rate, commands, sample_us, async|sync: { samples, p50_us, p99_us, max_us,
 *    p50_commands, p99_commands, max_commands } }`. Lag is measured against submission, not due time:
 *    a main-thread stall shows in the latency of 3, not here.
 * Asserted: every event delivered in sequence; with a journal, every command durable after stop
 * (durable seq = commands submitted) and the durable seq never ahead of the submitted one.
 * Thread-safety: main thread of its own process (plus the shard and journal workers).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import {
  CommandGenerator,
  EXCHANGE_CORE_CONFIG,
  generateCommands,
} from '../../engine/reference/CommandGenerator.js';
import { OK } from '../../engine/runtime/SubmitResult.js';
import {
  assertResult,
  latencyHistogram,
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
  sleep,
  submitRange,
  yieldTurn,
} from '../lib/pipelineProbe.js';

type Mode = 'none' | 'async' | 'sync';
const args = parseArgs();
const COMMANDS = numberFlag(args, 'commands', 500_000);
const WARMUP = numberFlag(args, 'warmup', 100_000);
const RUNS = numberFlag(args, 'runs', 3);
const SEED = numberFlag(args, 'seed', 1);
const RATE = numberFlag(args, 'rate', 10_000);
const LATENCY_SECONDS = numberFlag(args, 'latency-seconds', 2);
const LAG_RATE = numberFlag(args, 'lag-rate', 100_000);
const LAG_SECONDS = numberFlag(args, 'lag-seconds', 2);
const LAG_SAMPLE_US = numberFlag(args, 'lag-sample-us', 100);
const MODES = (args.flags.get('modes') ?? 'none,async,sync').split(',') as Mode[];
const BASE_DIR = args.flags.get('data-dir') ?? tmpdir();

const log = pino({ level: 'warn' });

const options = { seed: SEED, mix: 'exchangeCore' } as const;
const setupCount =
  new CommandGenerator(options, new MatchingEngine(EXCHANGE_CORE_CONFIG)).setupCount + WARMUP;
const stream = generateCommands(options, setupCount + COMMANDS, new MatchingEngine(EXCHANGE_CORE_CONFIG));
const bytes = stream.bytes;
const expectedEvents = stream.events;

async function startPipeline(mode: Mode, probe: Probe): Promise<{ p: Pipeline; dir: string }> {
  const dir = mkdtempSync(join(BASE_DIR, 'exc-wal-bench-'));
  const onEvent = probeHandler(probe);
  const p = await Pipeline.start({
    shards: 1,
    symbols: [],
    idle: 'backoff',
    log,
    onEvent,
    maxOrders: EXCHANGE_CORE_CONFIG.maxOrders,
    maxSymbols: EXCHANGE_CORE_CONFIG.maxSymbols,
    maxAccounts: EXCHANGE_CORE_CONFIG.maxAccounts,
    ...(mode === 'none' ? {} : { journal: { dataDir: dir, durability: mode } }),
  });
  return { p, dir };
}

async function finish(mode: Mode, p: Pipeline, dir: string, submitted: number): Promise<void> {
  await p.stop();
  if (mode !== 'none') {
    const durable = p.health().shards[0].durableSeq;
    assertResult(durable === submitted, `${mode}: durable seq ${durable} != ${submitted} commands`);
  }
  rmSync(dir, { recursive: true, force: true });
}

async function throughputRun(mode: Mode): Promise<number> {
  const probe = newProbe();
  const { p, dir } = await startPipeline(mode, probe);
  await submitRange(p, bytes, 0, setupCount, 8192, 64);
  const setupEvents = await countDelivered(probe);
  const t0 = performance.now();
  await submitRange(p, bytes, setupCount, setupCount + COMMANDS, 8192, 64);
  await delivered(probe, expectedEvents);
  const ms = performance.now() - t0;
  assertResult(probe.bad === 0 && probe.delivered === expectedEvents, `${mode}: events broken`);
  assertResult(setupEvents > 0, 'setup emitted events');
  await finish(mode, p, dir, setupCount + COMMANDS);
  return (COMMANDS / ms) * 1e3;
}

/** Waits until the delivered count stops changing for a moment (the setup's events are all in). */
async function countDelivered(probe: Probe): Promise<number> {
  let last = -1;
  while (probe.delivered !== last) {
    last = probe.delivered;
    await sleep(20);
  }
  return last;
}

interface LagSummary {
  readonly samples: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly max_us: number;
  readonly p50_commands: number;
  readonly p99_commands: number;
  readonly max_commands: number;
}

/** Journal lag samples of one fixed-rate run: time lag (ns) and command lag (commands), both HDR. */
class LagProbe {
  readonly time = latencyHistogram();
  readonly commands = latencyHistogram();
  /** `submitted[seq]`: when the command with WAL seq `seq` was submitted (performance.now(), ms). */
  readonly submitted: Float64Array;
  bad = 0;

  constructor(seqs: number) {
    this.submitted = new Float64Array(seqs + 1);
  }

  /** One sample: `submittedSeq` commands are in the ring, the WAL is fsynced up to `durable`. */
  sample(now: number, submittedSeq: number, durable: number): void {
    if (durable > submittedSeq) this.bad++;
    const behind = Math.max(0, submittedSeq - durable);
    this.commands.recordValue(behind);
    this.time.recordValue(behind === 0 ? 0 : Math.round((now - this.submitted[durable + 1]) * 1e6));
  }

  summary(): LagSummary {
    const t = summarize(this.time);
    return {
      samples: t.count,
      p50_us: t.p50_us,
      p99_us: t.p99_us,
      max_us: t.max_us,
      p50_commands: this.commands.getValueAtPercentile(50),
      p99_commands: this.commands.getValueAtPercentile(99),
      max_commands: this.commands.maxValue,
    };
  }
}

/** How many commands a fixed-rate run submits: `seconds` at `rate`, at most `--commands`. */
const fixedRateCommands = (rate: number, seconds: number): number =>
  Math.min(Math.round(rate * seconds), COMMANDS);

/**
 * One fixed-rate run: command i is due at t0 + i/rate and submitted (one `submit` each) in the first
 * event-loop turn at or after that; returns the latency histogram and, with a journal, the lag samples.
 */
async function fixedRateRun(
  mode: Mode,
  rate: number,
  seconds: number,
  sampleLag: boolean,
): Promise<{ latency: ReturnType<typeof summarize>; lag: LagSummary | undefined }> {
  const n = fixedRateCommands(rate, seconds);
  const probe = newProbe();
  const { p, dir } = await startPipeline(mode, probe);
  await submitRange(p, bytes, 0, setupCount, 8192, 64);
  await countDelivered(probe);
  const lag = sampleLag && mode !== 'none' ? new LagProbe(setupCount + n) : undefined;
  // Note: start with the journal caught up on the setup, so the first samples measure the run, not it.
  while (lag !== undefined && p.durableSeq(0) < setupCount) await sleep(1);
  const due = new Float64Array(setupCount + n);
  probe.due = due;
  const intervalMs = 1e3 / rate;
  const sampleMs = LAG_SAMPLE_US / 1e3;
  const t0 = performance.now() + 1;
  let nextSample = t0;
  let next = setupCount;
  const end = setupCount + n;
  while (next < end) {
    const now = performance.now();
    // Note: the command with WAL seq s is bytes[s - 1] (fresh WAL, no symbols added by the pipeline), so
    // after submitting bytes[0 .. next) the submitted seq is `next`. One sample per turn at most:
    // grid points missed while the main thread was busy are skipped, not filled in.
    if (lag !== undefined && now >= nextSample) {
      lag.sample(now, next, p.durableSeq(0));
      nextSample += Math.ceil((now - nextSample + 1e-9) / sampleMs) * sampleMs;
    }
    while (next < end) {
      const at = t0 + (next - setupCount) * intervalMs;
      if (at > now) break;
      due[next] = at;
      if (p.submit(0, bytes, next * COMMAND_SIZE) !== OK) break;
      next++;
      if (lag !== undefined) lag.submitted[next] = performance.now();
    }
    await yieldTurn();
  }
  while (probe.histogram.totalCount < n) await sleep(5);
  await finish(mode, p, dir, setupCount + n);
  assertResult(probe.bad === 0, `${mode}: event sequence broken`);
  assertResult(lag === undefined || (lag.bad === 0 && lag.time.totalCount > 0), `${mode}: lag samples`);
  return { latency: summarize(probe.histogram), lag: lag?.summary() };
}

async function main(): Promise<void> {
  for (const mode of MODES) await throughputRun(mode); // warm-up
  const rates = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < RUNS; r++) for (const mode of MODES) rates.get(mode)?.push(await throughputRun(mode));
  const ratio = (a: Mode, b: Mode): number | undefined => {
    const x = rates.get(a);
    const y = rates.get(b);
    if (x === undefined || y === undefined || x.length === 0 || y.length === 0) return undefined;
    return median(x.map((v, i) => v / y[i]));
  };
  const latency: Record<string, ReturnType<typeof summarize>> = {};
  for (const mode of MODES) latency[mode] = (await fixedRateRun(mode, RATE, LATENCY_SECONDS, false)).latency;
  const lag: Record<string, LagSummary> = {};
  for (const mode of MODES) {
    if (mode === 'none') continue;
    const r = await fixedRateRun(mode, LAG_RATE, LAG_SECONDS, true);
    if (r.lag !== undefined) lag[mode] = r.lag;
  }
  const lagCommands = fixedRateCommands(LAG_RATE, LAG_SECONDS);
  const result = {
    commands: COMMANDS,
    runs: RUNS,
    rate: RATE,
    throughput: Object.fromEntries(
      [...rates].map(([m, v]) => [m, { median: Math.round(median(v)), runs: v.map(Math.round) }]),
    ),
    ratioSyncOverAsync: ratio('sync', 'async'),
    ratioAsyncOverNone: ratio('async', 'none'),
    latencyNs: latency,
    targetSyncOverAsync: 0.75,
    journalLag: { rate: LAG_RATE, commands: lagCommands, sample_us: LAG_SAMPLE_US, ...lag },
  };
  report(
    args,
    'journal/wal',
    result,
    MODES.map((m) => ({
      mode: m,
      'commands/s (median)': Math.round(median(rates.get(m) ?? [])).toLocaleString(),
      [`p50 us @${RATE}/s`]: latency[m].p50_us,
      'p99 us': latency[m].p99_us,
      'p99.9 us': latency[m].p999_us,
      [`lag p50 us @${LAG_RATE}/s`]: lag[m]?.p50_us ?? '-',
      'lag p99 us': lag[m]?.p99_us ?? '-',
      'lag max us': lag[m]?.max_us ?? '-',
      'lag p99 commands': lag[m]?.p99_commands ?? '-',
    })),
  );
  if (!args.json) {
    process.stdout.write(
      `sync/async throughput ${result.ratioSyncOverAsync?.toFixed(2)} (target >= 0.75), async/none ${result.ratioAsyncOverNone?.toFixed(2)}\n`,
    );
  }
}

await main();
