/**
 * The control block layout and the ShardControl flyweight (single thread): slots a LINE apart,
 * counters modulo 2^32 read as uint32, states, and the checks that name the bad value.
 */
import t from 'tap';
import {
  COMMANDS,
  checkShards,
  controlByteLength,
  createControlBlock,
  HEARTBEAT,
  LINE,
  MAX_SHARDS,
  ShardControl,
  ShardState,
  slotOffset,
  stateName,
} from '../../engine/runtime/ControlBlock.js';

t.test('layout: a META line, then one LINE per shard', async (t) => {
  t.equal(controlByteLength(3), 4 * LINE);
  t.equal(slotOffset(0), LINE);
  t.equal(slotOffset(2), 3 * LINE);
  const buffer = createControlBlock(3);
  t.equal(buffer.byteLength, 4 * LINE);
  const a = new ShardControl(buffer, 0);
  const b = new ShardControl(buffer, 2);
  a.beat();
  b.beat();
  b.beat();
  const words = new Int32Array(buffer);
  t.equal(words[(slotOffset(0) >> 2) + HEARTBEAT], 1);
  t.equal(words[(slotOffset(2) >> 2) + HEARTBEAT], 2, 'slots do not overlap');
  t.equal(new ShardControl(buffer, 1).heartbeat(), 0);
});

t.test('states and counters', async (t) => {
  const buffer = createControlBlock(1);
  const c = new ShardControl(buffer, 0);
  t.equal(c.state(), ShardState.STARTING);
  t.equal(stateName(c.state()), 'starting');
  c.setState(ShardState.WAITING);
  t.equal(stateName(c.state()), 'waiting');
  t.equal(stateName(99), 'failed', 'an unknown state reads as failed');
  c.publish(2 ** 32 + 5, 2 ** 31 + 1, 3);
  t.equal(c.commands(), 5, 'modulo 2^32');
  t.equal(c.events(), 2 ** 31 + 1, 'read as uint32');
  t.equal(c.outboundWaits(), 3);
  t.equal(new Int32Array(buffer)[(slotOffset(0) >> 2) + COMMANDS], 5, 'stored in the COMMANDS word');
});

t.test('a reader sees the writer continue from the stored heartbeat', async (t) => {
  const buffer = createControlBlock(1);
  const w = new ShardControl(buffer, 0);
  for (let i = 0; i < 5; i++) w.beat();
  const again = new ShardControl(buffer, 0);
  again.beat();
  t.equal(again.heartbeat(), 6);
});

t.test('checks name the bad value', async (t) => {
  t.throws(() => checkShards(0), { name: 'PipelineError', code: 'EXC_ERR_PIPELINE', message: /got 0/ });
  t.throws(() => checkShards(MAX_SHARDS + 1), { message: new RegExp(`got ${MAX_SHARDS + 1}`) });
  t.throws(() => checkShards(1.5), { message: /got 1.5/ });
  t.throws(() => new ShardControl(createControlBlock(2), 2), { message: /2 shard slot\(s\), no shard 2/ });
  t.throws(() => new ShardControl(new SharedArrayBuffer(256), 0), { message: /not a control block/ });
  t.throws(() => new ShardControl(new ArrayBuffer(256) as never, 0), { message: /SharedArrayBuffer/ });
});

t.test('the durable seq (written by the journal) round-trips beyond 2^32, per shard', async (t) => {
  const buffer = createControlBlock(2);
  const journal0 = new ShardControl(buffer, 0);
  const journal1 = new ShardControl(buffer, 1);
  const reader = new ShardControl(buffer, 0);
  t.equal(reader.durableSeq(), 0, 'none yet');
  for (const seq of [1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1]) {
    journal0.publishDurable(seq);
    t.equal(reader.durableSeq(), seq);
  }
  journal1.publishDurable(7);
  t.equal(new ShardControl(buffer, 1).durableSeq(), 7);
  t.equal(reader.durableSeq(), 2 ** 53 - 1, 'slots are independent');
  journal0.beat();
  t.equal(reader.heartbeat(), 1, 'the shard words are untouched');
});
