/**
 * Engine state snapshots: `MatchingEngine.fromState(config, exportState())` at any command boundary
 * continues exactly like the uninterrupted engine (byte-identical events, identical stateHash), for
 * generated `mixed` and `exchangeCore` streams over many seeds and split points (fixed seeds and
 * fast-check); export -> import -> export is byte-identical; forEachOpenOrder lists the book; and
 * malformed dumps are refused with EngineStateError. FC_SEED=<n> replays one fast-check run.
 */
import fc from 'fast-check';
import t from 'tap';
import type { EngineConfig } from '../../engine/book/Engine.js';
import { EngineStateError, type OpenOrder, stateHashOfState } from '../../engine/book/EngineState.js';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { EVENT_SIZE } from '../../engine/records/EventRecord.js';
import {
  EXCHANGE_CORE_CONFIG,
  generateCommands,
  MIXED_CONFIG,
  type Mix,
} from '../../engine/reference/CommandGenerator.js';

// Note: a smaller order pool than EXCHANGE_CORE_CONFIG's (the streams keep ~300 resting orders, so it
// never fills): each restore allocates a fresh engine, and 64k-order pools would dominate the run time.
const CONFIGS: Record<Mix, EngineConfig> = {
  mixed: MIXED_CONFIG,
  exchangeCore: { ...EXCHANGE_CORE_CONFIG, maxOrders: 4096 },
};

interface Run {
  readonly config: EngineConfig;
  readonly cmds: DataView;
  readonly count: number;
  /** Uninterrupted run: all event bytes, events before command i (eventsBefore[count] = total), final hash. */
  readonly events: Uint8Array;
  readonly eventsBefore: Int32Array;
  readonly finalHash: string;
}

const runs = new Map<string, Run>();

function uninterrupted(mix: Mix, seed: number, count: number): Run {
  const key = `${mix}/${seed}/${count}`;
  const cached = runs.get(key);
  if (cached) return cached;
  const config = CONFIGS[mix];
  const { bytes } = generateCommands({ seed, mix, resting: 300 }, count, new MatchingEngine(config));
  const cmds = new DataView(bytes.buffer);
  const engine = new MatchingEngine(config);
  const sink = new EventBuffer(4096);
  const eventsBefore = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) {
    eventsBefore[i] = sink.count;
    engine.process(cmds, i * COMMAND_SIZE, sink);
  }
  eventsBefore[count] = sink.count;
  const run = {
    config,
    cmds,
    count,
    events: sink.written().slice(),
    eventsBefore,
    finalHash: engine.stateHash(),
  };
  runs.set(key, run);
  return run;
}

/** Runs commands [from, to) on `engine`; returns their event bytes. */
function runRange(engine: MatchingEngine, run: Run, from: number, to: number): Uint8Array {
  const sink = new EventBuffer(1024);
  for (let i = from; i < to; i++) engine.process(run.cmds, i * COMMAND_SIZE, sink);
  return sink.written();
}

function expectedEvents(run: Run, from: number, to: number): Uint8Array {
  return run.events.subarray(run.eventsBefore[from] * EVENT_SIZE, run.eventsBefore[to] * EVENT_SIZE);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** Restores at `k` (after running [0, k) on a fresh engine) and checks the rest; returns a failure text or null. */
function checkSplit(run: Run, k: number): string | null {
  const a = new MatchingEngine(run.config);
  runRange(a, run, 0, k);
  const state = a.exportState();
  const b = MatchingEngine.fromState(run.config, state);
  if (b.stateHash() !== a.stateHash()) return `split ${k}: hash after restore differs`;
  if (stateHashOfState(state) !== a.stateHash()) return `split ${k}: stateHashOfState differs`;
  if (b.sequence !== a.sequence) return `split ${k}: sequence ${b.sequence} vs ${a.sequence}`;
  if (!sameBytes(b.exportState(), state)) return `split ${k}: export -> import -> export differs`;
  const tail = runRange(b, run, k, run.count);
  if (!sameBytes(tail, expectedEvents(run, k, run.count))) return `split ${k}: events after restore differ`;
  if (b.stateHash() !== run.finalHash) return `split ${k}: final hash differs`;
  return null;
}

const nowhere = new EventBuffer(4096);
const SEEDS = [1, 2, 3, 0xdecaf, 0x5eed, 77, 1234, 99999];

for (const mix of ['mixed', 'exchangeCore'] as const) {
  t.test(`${mix}: restore at many split points continues byte-identically (chained restores)`, (t) => {
    const count = 3000;
    for (const seed of SEEDS) {
      const run = uninterrupted(mix, seed, count);
      // One engine restored from its own dump every `step` commands: every split point of the chain
      // must match the uninterrupted run's hash, and the concatenated events must be identical.
      // `uninterrupted` runs alongside for the state hash at each split point.
      const step = (mix === 'mixed' ? 251 : 97) + (seed % 13);
      const uninterruptedEngine = new MatchingEngine(run.config);
      let engine = new MatchingEngine(run.config);
      const sink = new EventBuffer(4096);
      nowhere.clear();
      let failure: string | null = null;
      for (let i = 0; i < count && failure === null; i++) {
        if (i % step === 0) {
          const state = engine.exportState();
          const restored = MatchingEngine.fromState(run.config, state);
          const hash = uninterruptedEngine.stateHash();
          if (restored.stateHash() !== hash) failure = `command ${i}: restored hash differs`;
          else if (stateHashOfState(state) !== hash) failure = `command ${i}: stateHashOfState differs`;
          else if (!sameBytes(restored.exportState(), state)) failure = `command ${i}: re-export differs`;
          engine = restored;
        }
        engine.process(run.cmds, i * COMMAND_SIZE, sink);
        uninterruptedEngine.process(run.cmds, i * COMMAND_SIZE, nowhere);
      }
      t.equal(failure, null, `seed ${seed}`);
      t.ok(sameBytes(sink.written(), run.events), `seed ${seed}: events of the chained run`);
      t.equal(engine.stateHash(), run.finalHash, `seed ${seed}: final hash`);
    }
    t.end();
  });
}

t.test('fast-check: random mix, seed and split point', (t) => {
  const fcSeed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
  fc.assert(
    fc.property(
      fc.constantFrom<Mix>('mixed', 'exchangeCore'),
      fc.integer({ min: 0, max: 5 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (mix, seedIndex, at) => {
        const run = uninterrupted(mix, SEEDS[seedIndex], 1500);
        const k = Math.min(run.count, Math.floor(at * (run.count + 1)));
        const failure = checkSplit(run, k);
        if (failure !== null) throw new Error(`${mix} seed ${SEEDS[seedIndex]}: ${failure}`);
      },
    ),
    { numRuns: 30, seed: fcSeed },
  );
  t.pass('30 random splits');
  t.end();
});

t.test('edge splits: empty engine, after setup only, at the end', (t) => {
  const run = uninterrupted('mixed', 5, 1500);
  for (const k of [0, 1, 4, 6, run.count - 1, run.count]) t.equal(checkSplit(run, k), null, `split ${k}`);
  t.end();
});

t.test('forEachOpenOrder lists every open order with the book and stop-book order', (t) => {
  const run = uninterrupted('mixed', 2, 4000);
  const engine = new MatchingEngine(run.config);
  runRange(engine, run, 0, 2500);
  const restored = MatchingEngine.fromState(run.config, engine.exportState());
  const list = (e: MatchingEngine) => {
    const out: OpenOrder[] = [];
    e.forEachOpenOrder((o) => out.push({ ...o }));
    return out;
  };
  const orders = list(engine);
  t.same(list(restored), orders, 'the restored engine lists the same orders in the same order');
  t.ok(orders.length > 50, `a populated book (${orders.length} orders)`);
  t.ok(
    orders.some((o) => o.isStop),
    'some untriggered stops',
  );
  // The visible quantities of the non-stop orders rebuild L2.
  const l2 = new Float64Array(3 * 4096);
  for (const symbolId of [1, 2, 3, 5]) {
    for (const side of [1, 2]) {
      const levels = new Map<number, [number, number]>();
      let prevPrice = Number.NaN;
      for (const o of orders) {
        if (o.symbolId !== symbolId || o.side !== side || o.isStop) continue;
        t.ok(o.leavesQty === o.quantity - o.filledQty && o.leavesQty > 0, 'leaves = quantity - filled > 0');
        if (o.price !== prevPrice) t.notOk(levels.has(o.price), 'levels are contiguous');
        prevPrice = o.price;
        const lv = levels.get(o.price) ?? [0, 0];
        levels.set(o.price, [lv[0] + o.visibleQty, lv[1] + 1]);
      }
      const n = engine.l2(symbolId, side, l2);
      const fromEngine: [number, number, number][] = [];
      for (let i = 0; i < n; i++) fromEngine.push([l2[3 * i], l2[3 * i + 1], l2[3 * i + 2]]);
      t.same(
        [...levels].map(([p, [q, c]]) => [p, q, c]),
        fromEngine,
        `symbol ${symbolId} side ${side}: L2 from open orders, best first`,
      );
    }
  }
  t.end();
});

t.test('malformed dumps are refused with EngineStateError', (t) => {
  const run = uninterrupted('mixed', 3, 1500);
  const engine = new MatchingEngine(run.config);
  runRange(engine, run, 0, 1500);
  const state = engine.exportState();
  const refuse = (bytes: Uint8Array, config: EngineConfig, pattern: RegExp, what: string) =>
    t.throws(
      () => MatchingEngine.fromState(config, bytes),
      { name: 'EngineStateError', message: pattern },
      what,
    );
  for (const cut of [0, 10, 71, 72, 200, state.length - 96, state.length - 1]) {
    refuse(state.subarray(0, cut), run.config, /truncated|orders|trailing/, `truncated to ${cut} bytes`);
  }
  const longer = new Uint8Array(state.length + 4);
  longer.set(state);
  refuse(longer, run.config, /trailing/, 'trailing bytes');
  const badMagic = state.slice();
  badMagic[0] ^= 1;
  refuse(badMagic, run.config, /magic/, 'magic');
  const badVersion = state.slice();
  badVersion[4] = 9;
  refuse(badVersion, run.config, /version 9/, 'version');
  refuse(state, { ...run.config, shardId: 4 }, /shard 3/, 'another shard');
  refuse(state, { ...run.config, maxOrders: 10 }, /maxOrders is 10/, 'too small an order pool');
  t.ok(new EngineStateError('x').code === 'EXC_ERR_ENGINE_STATE', 'stable code');
  // A bigger pool restores fine (same future output until a capacity limit is reached).
  const bigger = MatchingEngine.fromState({ ...run.config, maxOrders: 5000 }, state);
  t.equal(bigger.stateHash(), engine.stateHash(), 'restores into a bigger pool');
  t.end();
});

t.test('a dump inside a larger buffer (byteOffset != 0) restores', (t) => {
  const run = uninterrupted('exchangeCore', 1, 2000);
  const engine = new MatchingEngine(run.config);
  runRange(engine, run, 0, 1000);
  const state = engine.exportState();
  const padded = new Uint8Array(state.length + 13);
  padded.set(state, 5);
  const restored = MatchingEngine.fromState(run.config, padded.subarray(5, 5 + state.length));
  t.equal(restored.stateHash(), engine.stateHash());
  t.end();
});

t.test('a corrupted dump restores or throws EngineStateError, never anything else', (t) => {
  const run = uninterrupted('mixed', 3, 1500);
  const engine = new MatchingEngine(run.config);
  runRange(engine, run, 0, 1500);
  const state = engine.exportState();
  let refused = 0;
  for (let i = 0; i < 100; i++) {
    const bad = state.slice();
    const pos = (i * 7919 + 13) % bad.length;
    bad[pos] ^= 1 << (i % 8);
    try {
      MatchingEngine.fromState(run.config, bad);
    } catch (err) {
      if (!(err instanceof EngineStateError)) throw err;
      refused++;
    }
  }
  t.ok(refused > 10, `${refused} of 100 single-bit corruptions detected by the structure checks`);
  t.end();
});
