/**
 * SnapshotStore: real files in a temp dir, written by real piscina threads. Round trip, newest and
 * maxCmdSeq selection, every truncation and bit flips skipped (never thrown), prune, the bounded
 * pool's skip policy, and the format's header fields.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { EventBuffer } from '../../engine/book/EventBuffer.js';
import { MatchingEngine } from '../../engine/book/MatchingEngine.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import { generateCommands, MIXED_CONFIG } from '../../engine/reference/CommandGenerator.js';
import {
  decodeSnapshot,
  F_CMD_SEQ,
  SNAPSHOT_HEADER_BYTES,
  SnapshotFormatError,
  snapshotFileName,
} from '../../journal/snapshot/SnapshotFormat.js';
import {
  SnapshotBusyError,
  type SnapshotLog,
  SnapshotStore,
  SnapshotWriterPool,
  snapshotDir,
} from '../../journal/snapshot/SnapshotStore.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'snapstore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function memoryLog(): SnapshotLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`), info: () => {} };
}

/** An engine with a populated book after `count` generated `mixed` commands. */
function populated(count: number): MatchingEngine {
  const { bytes } = generateCommands({ seed: 11, mix: 'mixed' }, count, new MatchingEngine(MIXED_CONFIG));
  const e = new MatchingEngine(MIXED_CONFIG);
  const v = new DataView(bytes.buffer);
  const sink = new EventBuffer();
  for (let i = 0; i < count; i++) e.process(v, i * COMMAND_SIZE, sink);
  return e;
}

function metaOf(e: MatchingEngine, cmdSeq: number) {
  return { shardId: MIXED_CONFIG.shardId, cmdSeq, eventSeq: e.sequence, stateHash: e.stateHash() };
}

// One writer pool for the whole file: a piscina thread under the TypeScript loader takes seconds to start.
const pool = new SnapshotWriterPool({ threads: 1, maxQueue: 1 });
t.teardown(() => pool.close());
const engine = populated(2500);
const state = engine.exportState();

t.test('snapshotDir', (t) => {
  t.equal(snapshotDir('/data', 3), join('/data', 'snapshots', 'shard-3'));
  t.end();
});

t.test('write then loadNewest round-trips meta and state; the newest <= maxCmdSeq wins', async (t) => {
  const dir = join(tempDir(t), 'snapshots', 'shard-3');
  const store = new SnapshotStore(dir, { shardId: MIXED_CONFIG.shardId, pool });
  t.equal(store.loadNewest(), undefined, 'nothing in a missing directory');
  const paths: string[] = [];
  for (const seq of [100, 2500, 40]) paths.push(await store.write(metaOf(engine, seq), state.slice()));
  t.same(
    readdirSync(dir).sort(),
    [snapshotFileName(40), snapshotFileName(100), snapshotFileName(2500)],
    'three files, no temp files left',
  );
  t.equal(paths[1], join(dir, snapshotFileName(2500)));
  const newest = store.loadNewest();
  t.equal(newest?.meta.cmdSeq, 2500);
  t.same(newest?.meta, metaOf(engine, 2500));
  t.ok(Buffer.from(newest!.state).equals(Buffer.from(state)), 'state bytes round-trip');
  t.equal(MatchingEngine.fromState(MIXED_CONFIG, newest!.state).stateHash(), engine.stateHash(), 'restores');
  t.equal(store.loadNewest(2499)?.meta.cmdSeq, 100, 'maxCmdSeq');
  t.equal(store.loadNewest(100)?.meta.cmdSeq, 100, 'maxCmdSeq inclusive');
  t.equal(store.loadNewest(39), undefined, 'none old enough');
  const compressed = readFileSync(paths[1]).byteLength;
  t.ok(compressed < state.byteLength / 2, `compressed ${state.byteLength} -> ${compressed} bytes`);
});

t.test('truncated and bit-flipped files are skipped and logged, never thrown', async (t) => {
  const dir = tempDir(t);
  const log = memoryLog();
  const store = new SnapshotStore(dir, { log, pool });
  await store.write(metaOf(engine, 10), state.slice());
  const goodPath = await store.write(metaOf(engine, 20), state.slice());
  const good = readFileSync(goodPath);
  const cuts = [0, 1, 40, SNAPSHOT_HEADER_BYTES - 1, SNAPSHOT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES + 1];
  for (let i = 0; i < 12; i++) cuts.push(Math.floor((good.byteLength * (i + 0.5)) / 12));
  cuts.push(good.byteLength - 1);
  for (const cut of cuts) {
    writeFileSync(goodPath, good.subarray(0, cut));
    t.equal(store.loadNewest()?.meta.cmdSeq, 10, `truncated to ${cut}: falls back to the older snapshot`);
    t.throws(() => decodeSnapshot(good.subarray(0, cut)), SnapshotFormatError);
  }
  // Bit flips everywhere: header fields, the checksums, the payload.
  const positions = [0, 4, 6, 8, F_CMD_SEQ, 33, 50, 60, 64, 69, SNAPSHOT_HEADER_BYTES, good.byteLength - 1];
  for (let i = 0; i < 24; i++) positions.push(SNAPSHOT_HEADER_BYTES + ((i * 7919) % (good.byteLength - 72)));
  for (const pos of positions) {
    const bad = Buffer.from(good);
    bad[pos] ^= 1 << (pos % 8);
    writeFileSync(goodPath, bad);
    t.equal(store.loadNewest()?.meta.cmdSeq, 10, `bit flip at byte ${pos}: skipped`);
  }
  // Trailing garbage, and a file whose name lies about its cmdSeq.
  writeFileSync(goodPath, Buffer.concat([good, Buffer.from([0])]));
  t.equal(store.loadNewest()?.meta.cmdSeq, 10, 'trailing byte: skipped');
  writeFileSync(goodPath, good);
  writeFileSync(join(dir, snapshotFileName(30)), good);
  t.equal(store.loadNewest()?.meta.cmdSeq, 20, 'a file named for another cmdSeq is skipped');
  t.ok(log.warnings.length >= cuts.length + positions.length, `${log.warnings.length} warnings logged`);
  t.match(log.warnings[0], /invalid snapshot file/);
  // A store that knows its shard skips other shards' snapshots.
  const other = new SnapshotStore(dir, { shardId: 4, log });
  t.equal(other.loadNewest(), undefined, 'another shard: all skipped');
});

t.test('prune keeps the newest N and removes stale temp files', async (t) => {
  const dir = tempDir(t);
  const store = new SnapshotStore(dir, { pool });
  const small = populated(6);
  for (const seq of [1, 2, 3, 4, 5]) await store.write(metaOf(small, seq), small.exportState());
  writeFileSync(join(dir, `${snapshotFileName(6)}.999-0-1.tmp`), 'partial');
  writeFileSync(join(dir, 'unrelated.txt'), 'x');
  const removed = store.prune(2);
  t.same(removed.sort(), [...[1, 2, 3].map(snapshotFileName), `${snapshotFileName(6)}.999-0-1.tmp`].sort());
  t.same(readdirSync(dir).sort(), [snapshotFileName(4), snapshotFileName(5), 'unrelated.txt']);
  t.throws(() => store.prune(0), { code: 'EXC_ERR_SNAPSHOT_CONFIG' });
});

t.test('a full writer pool skips the snapshot and counts it', async (t) => {
  const dir = tempDir(t);
  const store = new SnapshotStore(dir, { pool });
  const writes = [1, 2, 3, 4].map((seq) => store.write(metaOf(engine, seq), state.slice()));
  const results = await Promise.allSettled(writes);
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
  );
  t.ok((results[2] as PromiseRejectedResult).reason instanceof SnapshotBusyError, 'SnapshotBusyError');
  t.equal(store.skipped, 2, 'counted');
  t.equal(pool.pending, 0, 'nothing left in flight');
  t.equal(store.loadNewest()?.meta.cmdSeq, 2);
  // After the pool drains, writes are accepted again.
  t.match(await store.write(metaOf(engine, 5), state.slice()), /snap-0000000000000005\.snap$/);
});

t.test('bad options and meta are refused', async (t) => {
  const dir = tempDir(t);
  t.throws(() => new SnapshotStore(dir, { level: 10 }), { code: 'EXC_ERR_SNAPSHOT_CONFIG' });
  t.throws(() => new SnapshotWriterPool({ threads: 0 }), { code: 'EXC_ERR_SNAPSHOT_CONFIG' });
  const store = new SnapshotStore(dir, { shardId: 3, pool });
  await t.rejects(store.write({ ...metaOf(engine, 1), stateHash: 'xyz' }, state.slice()), {
    code: 'EXC_ERR_SNAPSHOT_FORMAT',
  });
  await t.rejects(store.write({ ...metaOf(engine, 1), shardId: 4 }, state.slice()), {
    code: 'EXC_ERR_SNAPSHOT_CONFIG',
  });
  await t.rejects(store.write({ ...metaOf(engine, -1) }, state.slice()), { code: 'EXC_ERR_SNAPSHOT_FORMAT' });
  // The task hashes the state: a wrong stateHash is refused and nothing is written.
  await t.rejects(store.write({ ...metaOf(engine, 7), stateHash: '0123456789abcdef' }, state.slice()), {
    code: 'EXC_ERR_SNAPSHOT_FORMAT',
    message: /hashes to/,
  });
  t.same(store.list(), [], 'no file for the refused snapshot');
  // Without a stateHash the task computes it.
  const { stateHash: _, ...noHash } = metaOf(engine, 8);
  await store.write(noHash, state.slice());
  t.equal(store.loadNewest()?.meta.stateHash, engine.stateHash(), 'stateHash computed by the writer task');
});

t.test('a store that made its own pool closes it', async (t) => {
  const dir = tempDir(t);
  const store = new SnapshotStore(dir);
  await store.close();
  t.equal(store.loadNewest(), undefined);
});
