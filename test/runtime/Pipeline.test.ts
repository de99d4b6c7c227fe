/**
 * The engine pipeline end to end on real worker threads: a seeded stream over four symbols and two
 * shards goes through the command rings, the shard workers and the event rings, and what comes out
 * (per shard, in order) is byte-identical to an in-process MatchingEngine with the same shardId fed
 * the same commands; graceful stop delivers everything submitted before it. Also: a 1 KiB command
 * ring (BACK_PRESSURED returned and counted) with a 2 KiB event ring and a slow consumer (the shard
 * waits, nothing is dropped); start-up refusals and option checks.
 */
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { PipelineError } from '../../engine/runtime/PipelineError.js';
import { BACK_PRESSURED, OK, STOPPED } from '../../engine/runtime/SubmitResult.js';
import type { SymbolSpec } from '../../gateway/symbols/SymbolTable.js';
import {
  describeEvent,
  EventCollector,
  expectedEvents,
  firstDifference,
  generateStream,
  indexesOf,
  type Stream,
  TEST_ENGINE,
  testSymbols,
} from '../fixtures/runtimeCommands.js';

const log = pino({ level: 'silent' });
const SHARDS = 2;
const symbols = testSymbols(4);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function start(collector: EventCollector, extra: Partial<Parameters<typeof Pipeline.start>[0]> = {}) {
  return Pipeline.start({
    shards: SHARDS,
    symbols,
    log,
    onEvent: collector.onEvent,
    ...TEST_ENGINE,
    ...extra,
  });
}

/** Submits every command, in order, waiting (not rejecting) while a command ring is full. */
async function submitAll(p: Pipeline, s: Stream): Promise<number> {
  let retries = 0;
  for (let i = 0; i < s.count; i++) {
    let r = p.submit(s.shardOf[i], s.bytes, i * COMMAND_SIZE);
    while (r === BACK_PRESSURED) {
      retries++;
      await turn();
      r = p.submit(s.shardOf[i], s.bytes, i * COMMAND_SIZE);
    }
    if (r !== OK) throw new Error(`submit ${i} returned ${r}`);
    if ((i & 1023) === 1023) await turn();
  }
  return retries;
}

function checkShard(
  t: Test,
  k: number,
  got: Uint8Array,
  want: Uint8Array,
  what: string,
  syms: readonly SymbolSpec[] = symbols,
) {
  const at = firstDifference(got, want);
  t.equal(
    at,
    -1,
    `${what}, shard ${k}: ${want.length / 128} events byte-identical` +
      (at < 0
        ? ''
        : ` (first difference at event ${at}: got ${describeEvent(got, at)}, want ${describeEvent(want, at)})`),
  );
  t.ok(want.length / 128 > syms.length, `shard ${k} emitted more than its set-up events`);
}

t.test('two shards: byte-identical to in-process engines; graceful stop drains everything', async (t) => {
  const stream = generateStream(20240601, 24_000, SHARDS, symbols);
  const c = new EventCollector(SHARDS);
  const p = await start(c, { idle: 'backoff' });
  t.equal(p.shardOf(3), 1, 'symbol 3 -> shard 3 % 2');
  t.throws(() => p.submit(2, stream.bytes, 0), PipelineError);
  t.throws(() => p.submit(0, stream.bytes, stream.bytes.length - 10), {
    message: /submit needs 96 bytes at offset \d+ of a \d+-byte array/,
  });
  t.throws(() => p.claimCommand(-1), { message: /shard must be an integer 0..1, got -1/ });
  t.ok(p.health().healthy);
  // The first quarter paced (waiting while a ring is full), the rest, once the rings are empty, in
  // one synchronous burst (~9k commands, ~0.9 MiB per shard) into the 1 MiB rings, so commands are
  // still queued when stop() begins (3k per shard were sometimes all processed by then).
  const half = 6_000;
  await submitAll(p, { ...stream, count: half });
  while (p.health().shards.some((s) => s.inboundUsedBytes > 0)) await turn();
  let refused = 0;
  for (let i = half; i < stream.count; i++) {
    if (p.submit(stream.shardOf[i], stream.bytes, i * COMMAND_SIZE) !== OK) refused++;
  }
  t.equal(refused, 0, 'the burst fits the command rings');
  const before = p.health();
  const stopping = p.stop();
  t.equal(p.submit(0, stream.bytes, 0), STOPPED, 'STOPPED as soon as stop() is called');
  t.equal(p.claimCommand(1), STOPPED);
  t.equal(p.health().healthy, false, 'not healthy while stopping');
  await stopping;
  t.equal(p.stop(), stopping, 'stop() is idempotent');
  for (let k = 0; k < SHARDS; k++) {
    checkShard(t, k, c.bytes(k), expectedEvents(k, SHARDS, symbols, stream, indexesOf(stream, k)), 'backoff');
  }
  const h = p.health();
  t.ok(
    before.shards.some((s) => s.inboundUsedBytes > 0),
    'commands were still queued when stop began',
  );
  t.equal(
    h.shards[0].commands + h.shards[1].commands,
    stream.count + symbols.length,
    'every command processed',
  );
  for (const s of h.shards) {
    t.equal(s.events, c.counts[s.id], `shard ${s.id}: emitted = delivered`);
    t.equal(s.eventsDelivered, c.counts[s.id]);
    t.match(s, { state: 'stopped', inboundUsedBytes: 0, outboundUsedBytes: 0, busyRejects: 0 });
  }
});

// Note: a 2 KiB event ring holds one event per record, a 32 KiB one runs of up to 8 (RingEventSink).
// The command ring must hold more commands than the event ring has room for events, or it never fills.
for (const [commandRingBytes, eventRingBytes] of [
  [1024, 2048],
  [16_384, 32_768],
]) {
  t.test(
    `BusySpin, ${commandRingBytes / 1024} KiB command ring, ${eventRingBytes / 1024} KiB event ring, slow consumer: BUSY counted, nothing dropped`,
    async (t) => {
      const stream = generateStream(99, 4_000, 1, symbols);
      const c = new EventCollector(1);
      c.slowNs = 3_000;
      const p = await start(c, { shards: 1, idle: 'spin', commandRingBytes, eventRingBytes });
      const accepted: number[] = [];
      let rejected = 0;
      // 1. A synchronous burst: the main thread never yields (nor drains events), so the command ring
      // overflows and the shard waits on its full event ring.
      const burst = 2_000;
      for (let i = 0; i < burst; i++) {
        const r = p.submit(0, stream.bytes, i * COMMAND_SIZE);
        if (r === OK) accepted.push(i);
        else if (r === BACK_PRESSURED) rejected++;
        else t.fail(`unexpected ${r}`);
      }
      t.ok(rejected > 0 && accepted.length > 0, `burst: accepted ${accepted.length}, rejected ${rejected}`);
      // 2. Paced: everything goes in (retrying while full), the slow consumer keeps the event ring full.
      const rest = { ...stream, count: stream.count - burst };
      let maxUsed = 0;
      const retries = await submitAll(p, {
        ...rest,
        bytes: stream.bytes.subarray(burst * COMMAND_SIZE),
        shardOf: stream.shardOf.subarray(burst),
      });
      for (let i = burst; i < stream.count; i++) accepted.push(i);
      for (let i = 0; i < 20; i++) {
        maxUsed = Math.max(maxUsed, p.health().shards[0].outboundUsedBytes);
        await turn();
      }
      // 3. The zero-copy path reports a full ring the same way.
      let claimed = 0;
      for (;;) {
        const at = p.claimCommand(0);
        if (at === BACK_PRESSURED) {
          rejected++;
          break;
        }
        t.ok(at >= 8 && at + COMMAND_SIZE <= p.commandView(0).byteLength, 'offset inside the command view');
        const v = p.commandView(0);
        for (let b = 0; b < COMMAND_SIZE; b++) v.setUint8(at + b, 0); // a claim holds stale bytes
        v.setUint8(at, 99); // an unknown command type: the engine answers REJECTED(UNKNOWN_COMMAND)
        p.commitCommand(0);
        claimed++;
      }
      const busy = p.health().shards[0].busyRejects;
      await p.stop();
      const h = p.health().shards[0];
      t.equal(busy, rejected + retries, 'busyRejects counts every BACK_PRESSURED');
      const want = expectedEvents(0, 1, symbols, stream, accepted);
      const got = c.bytes(0);
      t.equal(
        firstDifference(got.subarray(0, want.length), want),
        -1,
        `accepted commands: ${want.length / 128} events, same bytes`,
      );
      t.equal(got.length - want.length, claimed * 128, 'then one REJECTED per claimed unknown command');
      t.ok(h.outboundWaits > 0, `the shard waited for event ring space ${h.outboundWaits} times`);
      t.ok(maxUsed <= eventRingBytes, `outbound backlog never above the ring (max ${maxUsed})`);
      t.equal(h.commands, accepted.length + claimed + symbols.length, 'every accepted command processed');
    },
  );
}

t.test('a symbol the engine refuses fails start-up with its name and reason', async (t) => {
  const bad = { ...testSymbols(1)[0], minQtyLots: 0 };
  await t.rejects(Pipeline.start({ shards: 1, symbols: [bad], log, onEvent: () => {}, ...TEST_ENGINE }), {
    name: 'PipelineError',
    message: /symbol 1 \(S1\/USD\) on shard 0: INVALID_SYMBOL_CONFIG/,
  });
});

t.test('options are checked and name the bad value', async (t) => {
  const base = { shards: 1, symbols, log, onEvent: () => {} };
  const cases: [object, RegExp][] = [
    [{ shards: 0 }, /shard count .* got 0/],
    [{ shards: 65 }, /got 65/],
    [{ commandRingBytes: 512 }, /commandRingBytes .* got 512/],
    [{ eventRingBytes: 1024 }, /eventRingBytes .* got 1024/],
    [{ eventRingBytes: 3000 }, /eventRingBytes .* got 3000/],
    [{ idle: 'yield' }, /idle must be one of backoff\|spin, got yield/],
    [{ maxOrders: 0 }, /maxOrders .* got 0/],
    [{ symbols: [symbols[0], symbols[0]] }, /symbol id 1 appears twice/],
    [{ maxSymbols: 1 }, /shard 0 gets 4 symbols; maxSymbols is 1/],
  ];
  for (const [extra, message] of cases) {
    await t.rejects(Pipeline.start({ ...base, ...extra } as never), { name: 'PipelineError', message });
  }
});

t.test('submitBatch: publishes batches in order, partial on a full ring, byte-identical', async (t) => {
  const stream = generateStream(20240602, 4_000, 1, symbols);
  const c = new EventCollector(1);
  const p = await start(c, { shards: 1, idle: 'backoff', commandRingBytes: 4096 });
  t.throws(() => p.submitBatch(0, stream.bytes, stream.bytes.length - COMMAND_SIZE, 2), {
    message: /submitBatch needs 2 x 96 bytes at offset \d+ of a \d+-byte array/,
  });
  t.equal(p.submitBatch(0, stream.bytes, 0, 0), OK, 'an empty batch is OK');
  let i = 0;
  let partial = 0;
  let refused = 0;
  while (i < stream.count) {
    const want = Math.min(64, stream.count - i);
    const r = p.submitBatch(0, stream.bytes, i * COMMAND_SIZE, want);
    if (r > 0) {
      if (r < want) partial++;
      i += r;
    } else {
      if (r !== BACK_PRESSURED) throw new Error(`submitBatch at ${i} returned ${r}`);
      refused++;
      await turn();
    }
  }
  t.ok(partial > 0 && refused > 0, `a 4 KiB ring took part of a batch (${partial}) or none (${refused})`);
  await p.stop();
  t.equal(p.submitBatch(0, stream.bytes, 0, 1), STOPPED);
  checkShard(t, 0, c.bytes(0), expectedEvents(0, 1, symbols, stream, indexesOf(stream, 0)), 'submitBatch');
  t.equal(p.health().shards[0].commands, stream.count + symbols.length, 'every command processed');
});

t.test('holdCommits: a held frame is invisible until releaseCommits, then processed in order', async (t) => {
  const stream = generateStream(20240603, 3_000, 1, symbols);
  const c = new EventCollector(1);
  const p = await start(c, { shards: 1, idle: 'backoff', commandRingBytes: 4096 });
  const copy = (i: number, at: number) => {
    const to = p.commandView(0);
    for (let b = 0; b < COMMAND_SIZE; b++) to.setUint8(at + b, stream.bytes[i * COMMAND_SIZE + b]);
  };
  // Set-up events first, so the check below sees only what the held commands cause.
  while (c.bytes(0).length < symbols.length * 128) await turn();
  const before = c.bytes(0).length;
  p.holdCommits();
  for (let i = 0; i < 8; i++) {
    copy(i, p.claimCommand(0));
    p.commitCommand(0);
  }
  await new Promise((r) => setTimeout(r, 50));
  t.equal(c.bytes(0).length, before, 'nothing processed while held');
  p.releaseCommits();
  let i = 8;
  let flushedByFullRing = 0;
  while (i < stream.count) {
    // Frames of up to 64 commands: more than a 4 KiB ring holds, so claims meet a full ring mid-frame.
    p.holdCommits();
    const end = Math.min(stream.count, i + 64);
    let refused = false;
    for (; i < end; i++) {
      const at = p.claimCommand(0);
      if (at === BACK_PRESSURED) {
        refused = true;
        break;
      }
      copy(i, at);
      p.commitCommand(0);
    }
    p.releaseCommits();
    if (refused) {
      flushedByFullRing++;
      await turn();
    }
  }
  t.ok(flushedByFullRing > 0, `frames larger than the ring met it full (${flushedByFullRing}) and went on`);
  await p.stop();
  checkShard(t, 0, c.bytes(0), expectedEvents(0, 1, symbols, stream, indexesOf(stream, 0)), 'held frames');
  t.equal(p.health().shards[0].commands, stream.count + symbols.length, 'every command processed');
});

t.test('submit on a ring full of deferred commands publishes them, as claimCommand does', async (t) => {
  const stream = generateStream(20240605, 100, 1, symbols);
  const c = new EventCollector(1);
  // No symbols: the ring starts at position 0, so exactly 39 records of 104 bytes fit its 4 KiB.
  const p = await start(c, {
    shards: 1,
    symbols: [],
    idle: 'backoff',
    commandRingBytes: 4096,
    deferCommits: true,
  });
  t.teardown(() => p.stop());
  const processed = () => p.health().shards[0].commands;
  for (let i = 0; i < 39; i++) {
    const at = p.claimCommand(0);
    if (at < 0) t.fail(`claim ${i} refused (${at})`);
    const to = p.commandView(0);
    for (let b = 0; b < COMMAND_SIZE; b++) to.setUint8(at + b, stream.bytes[i * COMMAND_SIZE + b]);
    p.commitCommand(0);
  }
  // Note: blocks this thread (no turn ends, so no deferred publication), giving the shard time.
  const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
  pause();
  t.equal(processed(), 0, 'the ring is full of deferred commands, none published yet');
  // Note: the retry right after publishing usually still finds the ring full, but a shard that was
  // spinning (not parked) can consume them in between: either outcome is right.
  const r = p.submit(0, stream.bytes, 39 * COMMAND_SIZE);
  t.ok(r === BACK_PRESSURED || r === OK, `submit answered ${r}`);
  pause();
  t.equal(
    processed(),
    r === OK ? 40 : 39,
    'submit published the deferred commands; the shard processed them',
  );
  if (r !== OK) t.equal(p.submit(0, stream.bytes, 39 * COMMAND_SIZE), OK, 'and made room');
});

t.test(
  'deferCommits: the commits of a turn reach the shard together, after it; full rings still flow',
  async (t) => {
    const stream = generateStream(20240604, 3_000, 1, symbols);
    const c = new EventCollector(1);
    const p = await start(c, { shards: 1, idle: 'backoff', commandRingBytes: 4096, deferCommits: true });
    const copy = (i: number, at: number) => {
      const to = p.commandView(0);
      for (let b = 0; b < COMMAND_SIZE; b++) to.setUint8(at + b, stream.bytes[i * COMMAND_SIZE + b]);
    };
    while (p.health().shards[0].commands < symbols.length) await turn();
    const before = p.health().shards[0].commands;
    for (let i = 0; i < 8; i++) {
      copy(i, p.claimCommand(0));
      p.commitCommand(0);
    }
    // Note: blocks this thread (no turn can end), giving the shard time to see anything published.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    t.equal(p.health().shards[0].commands, before, 'nothing published within the turn');
    let i = 8;
    let full = 0;
    while (i < stream.count) {
      const at = p.claimCommand(0);
      if (at === BACK_PRESSURED) {
        full++;
        await turn();
        continue;
      }
      copy(i++, at);
      p.commitCommand(0);
      if ((i & 63) === 0) await turn();
    }
    t.ok(full > 0, `the 4 KiB ring filled within turns (${full}) and deferred commits were published`);
    await p.stop();
    checkShard(t, 0, c.bytes(0), expectedEvents(0, 1, symbols, stream, indexesOf(stream, 0)), 'deferred');
    t.equal(p.health().shards[0].commands, stream.count + symbols.length, 'every command processed');
  },
);
