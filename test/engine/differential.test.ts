/**
 * Differential test: the fast MatchingEngine and the naive ReferenceEngine process the same
 * generated command stream; every command's events must be byte-identical, the L2 books equal at
 * checkpoints (every 10k commands) and the state hashes equal at checkpoints and at the end.
 *
 * The command generator is seeded and fed back by the reference engine's events (it aims cancels
 * and amends at live orders), so a seed fully determines the run. Environment overrides:
 *   DIFF_SEED, DIFF_COUNT            the long run (default seed printed below, 1,000,000 commands)
 *   DIFF_SEEDS, DIFF_SHORT_COUNT     the multi-seed run (default 20 seeds x 20,000 commands)
 *   DIFF_MIX                         'mixed' (default) or 'exchangeCore' for the long run
 * A failure prints the seed, the command index, how to reproduce it, the last commands and both
 * event streams decoded.
 */
import t, { type Test } from 'tap';
import type { Engine, EngineConfig } from '../../engine/book/Engine.js';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import {
  CommandGenerator,
  EXCHANGE_CORE_CONFIG,
  MIXED_CONFIG,
  type Mix,
} from '../../engine/reference/CommandGenerator.js';
import { ReferenceEngine } from '../../engine/reference/ReferenceEngine.js';
import { describeCommand } from '../fixtures/engine/commandText.js';
import { compareL2, eventsReport, sameEvents } from '../fixtures/engine/compareEngines.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

const LONG_SEED = envInt('DIFF_SEED', 0x2f6d_a11c);
const LONG_COUNT = envInt('DIFF_COUNT', 1_000_000);
const LONG_MIX = (process.env.DIFF_MIX ?? 'mixed') as Mix;
const SHORT_SEEDS = envInt('DIFF_SEEDS', 20);
const SHORT_COUNT = envInt('DIFF_SHORT_COUNT', 20_000);
const CHECKPOINT = 10_000;
/** Symbols the generators use (plus ids they only try to add). */
const SYMBOLS: Record<Mix, number[]> = { mixed: [1, 2, 3, 5, 6, 8, 9, 700], exchangeCore: [1] };
const CONFIGS: Record<Mix, EngineConfig> = { mixed: MIXED_CONFIG, exchangeCore: EXCHANGE_CORE_CONFIG };

interface RunOptions {
  readonly seed: number;
  readonly count: number;
  readonly mix: Mix;
  /** The reference compares the whole book for market data (slower, cross-checks its fast path). */
  readonly fullDiff: boolean;
  /** Initial level-pool size of the fast engine (tiny values exercise its growth; no behaviour change). */
  readonly initialLevels?: number;
}

interface RunResult {
  readonly failure: string | null;
  readonly commands: number;
  readonly events: number;
  readonly trading: number;
  readonly hash: string;
}

function run(o: RunOptions): RunResult {
  const config = CONFIGS[o.mix];
  const fast: Engine = new MatchingEngine({ ...config, initialLevels: o.initialLevels });
  const ref: Engine = new ReferenceEngine(config, { fullMarketDataDiff: o.fullDiff });
  const gen = new CommandGenerator({ seed: o.seed, mix: o.mix }, ref);
  const fastSink = new EventBuffer(256);
  const refSink = new EventBuffer(256);
  // The last commands, for the report.
  const HISTORY = 16;
  const history = new DataView(new ArrayBuffer(HISTORY * COMMAND_SIZE));
  const reproduce = (i: number) =>
    `reproduce: DIFF_SEED=${o.seed} DIFF_COUNT=${i + 1} DIFF_MIX=${o.mix} npx tap test/engine/differential.test.ts`;
  const recent = (i: number) => {
    const lines: string[] = [];
    for (let k = Math.max(0, i - HISTORY + 1); k <= i; k++) {
      lines.push(`  #${k} ${describeCommand(history, (k % HISTORY) * COMMAND_SIZE)}`);
    }
    return lines.join('\n');
  };
  let events = 0;
  for (let i = 0; i < o.count; i++) {
    const off = (i % HISTORY) * COMMAND_SIZE;
    gen.next(history, off);
    fastSink.clear();
    refSink.clear();
    const nr = ref.process(history, off, refSink);
    let nf: number;
    try {
      nf = fast.process(history, off, fastSink);
    } catch (err) {
      const failure =
        `seed ${o.seed} (${o.mix}) command #${i}: the fast engine threw ${(err as Error).stack}\n` +
        `${reproduce(i)}\nlast commands:\n${recent(i)}`;
      return { failure, commands: i, events, trading: gen.tradingCommands, hash: '' };
    }
    events += nr;
    if (nf !== nr || nr !== refSink.count || nf !== fastSink.count || !sameEvents(fastSink, refSink)) {
      const failure =
        `seed ${o.seed} (${o.mix}) command #${i}: events differ (process() returned fast ${nf}, reference ${nr})\n` +
        `${reproduce(i)}\nlast commands:\n${recent(i)}\n${eventsReport('fast', fastSink, 'reference', refSink)}`;
      return { failure, commands: i, events, trading: gen.tradingCommands, hash: '' };
    }
    gen.observe(refSink.view, 0, refSink.count);
    const last = i === o.count - 1;
    if ((i + 1) % CHECKPOINT === 0 || last) {
      const l2 = compareL2(fast, ref, SYMBOLS[o.mix]);
      const seq = fast.sequence === ref.sequence ? null : `sequence ${fast.sequence} vs ${ref.sequence}`;
      const hashes = (i + 1) % (10 * CHECKPOINT) === 0 || last ? [fast.stateHash(), ref.stateHash()] : null;
      const hash =
        hashes !== null && hashes[0] !== hashes[1] ? `stateHash ${hashes[0]} vs ${hashes[1]}` : null;
      const bad = l2 ?? seq ?? hash;
      if (bad !== null) {
        const failure =
          `seed ${o.seed} (${o.mix}) after command #${i}: ${bad} (fast vs reference)\n` +
          `${reproduce(i)}\nlast commands:\n${recent(i)}`;
        return { failure, commands: i + 1, events, trading: gen.tradingCommands, hash: '' };
      }
    }
  }
  return { failure: null, commands: o.count, events, trading: gen.tradingCommands, hash: ref.stateHash() };
}

function check(t: Test, o: RunOptions): void {
  const started = performance.now();
  const r = run(o);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (r.failure !== null) {
    console.error(r.failure);
    t.fail(`${r.failure.split('\n')[0]} (details above, on stderr)`);
    return;
  }
  t.pass(
    `seed ${o.seed} (${o.mix}): ${r.commands} commands, ${r.events} events, ` +
      `${((100 * r.trading) / r.commands).toFixed(1)}% trading, stateHash ${r.hash}, ${secs} s`,
  );
}

t.test(`long run: seed ${LONG_SEED}, ${LONG_COUNT} commands, ${LONG_MIX} mix`, (t) => {
  t.comment(`DIFF_SEED=${LONG_SEED} DIFF_COUNT=${LONG_COUNT} DIFF_MIX=${LONG_MIX}`);
  check(t, { seed: LONG_SEED, count: LONG_COUNT, mix: LONG_MIX, fullDiff: false });
  t.end();
});

t.test(
  `${SHORT_SEEDS} seeds x ${SHORT_COUNT} commands (mixed; every 4th with whole-book market data, every 2nd with a tiny level pool)`,
  (t) => {
    for (let k = 0; k < SHORT_SEEDS; k++) {
      const seed = (LONG_SEED + 1 + k) >>> 0;
      check(t, {
        seed,
        count: SHORT_COUNT,
        mix: 'mixed',
        fullDiff: k % 4 === 0,
        initialLevels: k % 2 === 0 ? 4 : undefined,
      });
    }
    t.end();
  },
);

t.test(
  'exchange-core benchmark mix: 3 seeds x 100,000 commands (one with whole-book market data, 20,000)',
  (t) => {
    for (let k = 0; k < 3; k++) {
      const count = Math.min(k === 0 ? 20_000 : 100_000, LONG_COUNT);
      check(t, { seed: (LONG_SEED + 101 + k) >>> 0, count, mix: 'exchangeCore', fullDiff: k === 0 });
    }
    t.end();
  },
);
