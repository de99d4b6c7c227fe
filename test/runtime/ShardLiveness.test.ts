/**
 * Liveness on real worker threads (test/fixtures/runtimeFaultyShard.ts: the real loop and engine plus
 * three poison command types): a shard whose worker throws, one whose heartbeat stalls and one whose
 * worker exits are each marked down (health unhealthy, the reason logged and reported), their
 * symbols get SHARD_DOWN, events they published before dying are delivered, and the healthy shard
 * keeps processing with byte-identical output. stop() still completes.
 */
import { pino } from 'pino';
import t from 'tap';
import { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { OK, SHARD_DOWN } from '../../engine/runtime/SubmitResult.js';
import {
  EventCollector,
  expectedEvents,
  firstDifference,
  generateStream,
  indexesOf,
  TEST_ENGINE,
  testSymbols,
} from '../fixtures/runtimeCommands.js';
import {
  FAULT_EXIT,
  FAULT_EXIT_CODE,
  FAULT_STALL,
  FAULT_THROW,
  FAULTY_SHARD_URL,
} from '../fixtures/runtimeFaults.js';
import { until } from '../fixtures/until.js';

const SHARDS = 4;
const symbols = testSymbols(4);

t.test('a shard that throws, stalls or exits is marked down; the others keep working', async (t) => {
  const logged: { shard?: number; reason?: string; msg?: string }[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
  const c = new EventCollector(SHARDS);
  const p = await Pipeline.start({
    shards: SHARDS,
    symbols,
    log,
    onEvent: c.onEvent,
    workerUrl: FAULTY_SHARD_URL,
    heartbeatTimeoutMs: 800,
    ...TEST_ENGINE,
  });
  t.teardown(() => p.stop());
  const stream = generateStream(3, 4_000, SHARDS, symbols);
  const sent = stream.count / 2;
  let ok = 0;
  for (let i = 0; i < sent; i++) if (p.submit(stream.shardOf[i], stream.bytes, i * COMMAND_SIZE) === OK) ok++;
  t.equal(ok, sent, 'first half submitted');
  // Note: wait for the dispatcher too, so the snapshot below holds every event published so far.
  await until(
    () =>
      p
        .health()
        .shards.every((s) => s.commands > 0 && s.inboundUsedBytes === 0 && c.counts[s.id] === s.events),
    'the first half processed and its events delivered',
    15_000,
    10,
  );
  const delivered = c.counts.slice();

  const fault = (shard: number, type: number) => {
    const at = p.claimCommand(shard);
    t.ok(at >= 0, `claimed a command on shard ${shard}`);
    p.commandView(shard).setUint8(at, type);
    p.commitCommand(shard);
  };
  fault(1, FAULT_THROW);
  fault(2, FAULT_STALL);
  fault(3, FAULT_EXIT);
  const t0 = performance.now();
  await until(() => p.health().shards.filter((s) => !s.alive).length === 3, 'shards 1-3 down', 15_000, 10);
  const h = p.health();
  t.equal(h.healthy, false, 'pipeline unhealthy');
  t.match(h.shards[0], { alive: true, state: 'running' });
  t.match(h.shards[1], { alive: false, state: 'down', reason: /worker threw Error: poison command/ });
  t.match(h.shards[2], {
    alive: false,
    state: 'down',
    reason: /heartbeat stalled for \d+ ms \(timeout 800 ms\)/,
  });
  t.match(h.shards[3], {
    alive: false,
    state: 'down',
    reason: new RegExp(`exited with code ${FAULT_EXIT_CODE}`),
  });
  t.comment(`all three detected within ${(performance.now() - t0).toFixed(0)} ms`);
  for (let k = 1; k < SHARDS; k++) {
    t.equal(p.submit(k, stream.bytes, 0), SHARD_DOWN, `submit to shard ${k} -> SHARD_DOWN`);
    t.equal(p.claimCommand(k), SHARD_DOWN, `claimCommand on shard ${k} -> SHARD_DOWN`);
    t.ok(
      delivered[k] > symbols.length / SHARDS,
      `shard ${k}: events published before the fault were delivered`,
    );
  }
  t.same(
    logged
      .filter((l) => l.msg?.startsWith('shard down'))
      .map((l) => l.shard)
      .sort(),
    [1, 2, 3],
    'each death logged once, with its shard',
  );

  // Shard 0 goes on: the second half of its commands, the same bytes as in-process.
  let refused = 0;
  for (let i = sent; i < stream.count; i++) {
    if (stream.shardOf[i] === 0 && p.submit(0, stream.bytes, i * COMMAND_SIZE) !== OK) refused++;
  }
  t.equal(refused, 0, 'shard 0 takes the second half');
  await p.stop();
  const want = expectedEvents(0, SHARDS, symbols, stream, indexesOf(stream, 0));
  t.equal(firstDifference(c.bytes(0), want), -1, `shard 0: ${want.length / 128} events byte-identical`);
  t.equal(p.health().shards[0].state, 'stopped');
});
