// ExecutionReport templates (schema/codec/frame-template.ts): the patched template of a presence set
// must be byte-for-byte what the flatbuffers Builder writes for the same values, for every presence
// set and values, including the edges of the Builder's omission rule (0, -0, truncated bytes).

import fc from 'fast-check';
import t from 'tap';
import { MAX_TEMPLATES } from '../../schema/codec/frame-template.js';
import { ExecutionReportFields, GatewayEncoder } from '../../schema/codec/gateway-encoder.js';
import { ExecutionReportReader } from '../../schema/codec/gateway-readers.js';
import { MessageReader } from '../../schema/index.js';
import { SchemaError } from '../../schema/schema-error.js';
import { Direction, FrameVerifier, VerifyResult } from '../../schema/verify.js';

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
t.comment(`fast-check seed ${seed}`);

type Fields = Omit<ExecutionReportFields, never>;
const KEYS = Object.keys(new ExecutionReportFields()) as (keyof Fields)[];
const INT53 = new Set<keyof Fields>([
  'seq',
  'orderId',
  'price',
  'quantity',
  'lastPrice',
  'lastQuantity',
  'leavesQuantity',
  'cumQuantity',
  'tradeId',
  'transactTimeUs',
  'receivedTimeUs',
]);
const BYTES = new Set<keyof Fields>([
  'execType',
  'orderStatus',
  'side',
  'orderType',
  'timeInForce',
  'liquidity',
]);

/** A value for field `k` (never 0: presence comes from the mask). */
function valueArb(k: keyof Fields): fc.Arbitrary<number> {
  if (INT53.has(k)) {
    return fc.oneof(
      fc.integer({ min: 1, max: 2 ** 32 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    );
  }
  if (BYTES.has(k)) return fc.integer({ min: 1, max: 300 }); // > 255: the Builder truncates
  if (k === 'rejectReason') return fc.integer({ min: 1, max: 0x1ffff });
  if (k === 'clientOrderIdHi') return fc.integer({ min: 0, max: 2 ** 21 - 1 });
  return fc.integer({ min: 1, max: 2 ** 32 - 1 });
}

const recordArb = fc.record(
  Object.fromEntries(KEYS.map((k) => [k, valueArb(k)])) as { [K in keyof Fields]: fc.Arbitrary<number> },
);

/** Fields with the ones outside `present` set to 0 (or -0, which the Builder also omits). */
function withPresence(values: Fields, present: number, negativeZero: boolean): ExecutionReportFields {
  const f = new ExecutionReportFields();
  KEYS.forEach((k, i) => {
    f[k] = (present & (1 << i)) !== 0 ? values[k] : negativeZero ? -0 : 0;
  });
  return f;
}

t.test('property: a patched template equals the Builder, for every presence set', async (t) => {
  const fast = new GatewayEncoder();
  const built = new GatewayEncoder();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** KEYS.length - 1 }),
      recordArb,
      recordArb,
      fc.boolean(),
      (present, a, b, negativeZero) => {
        const first = withPresence(a, present, negativeZero);
        const second = withPresence(b, present, false);
        // The first report of a presence set builds its template; the second patches it.
        const f1 = fast.executionReport(first).slice();
        const f2 = fast.executionReport(second).slice();
        const f3 = fast.executionReport(first).slice();
        const e1 = built.executionReportBuilt(first).slice();
        const e2 = built.executionReportBuilt(second).slice();
        return eq(f1, e1) && eq(f2, e2) && eq(f3, e1);
      },
    ),
    { seed, numRuns: 2000 },
  );
  t.pass('same bytes');
});

t.test('a patched report reads back and verifies; the view is the template (copy to keep)', async (t) => {
  const gw = new GatewayEncoder();
  const v = new FrameVerifier(Direction.GatewayToClient);
  const m = new MessageReader();
  const r = new ExecutionReportReader();
  const f = new ExecutionReportFields();
  f.seq = 1;
  f.orderId = 2 ** 40 + 3;
  f.price = 5_000_000;
  f.quantity = 7;
  f.clientOrderIdHi = 9;
  f.clientOrderIdLo = 0xffff_fffe;
  f.symbolId = 1;
  f.side = 2;
  const first = gw.executionReport(f).slice();
  f.seq = Number.MAX_SAFE_INTEGER;
  f.price = 4_999_999;
  const second = gw.executionReport(f);
  t.equal(v.verify(second), VerifyResult.OK);
  r.wrap(second, m.wrap(second).bodyPos);
  t.equal(r.seq, Number.MAX_SAFE_INTEGER);
  t.equal(r.price, 4_999_999);
  t.equal(r.orderId, 2 ** 40 + 3);
  t.equal(r.clientOrderIdHi * 2 ** 32 + r.clientOrderIdLo, 9 * 2 ** 32 + 0xffff_fffe);
  t.equal(first.length, second.length, 'same presence set, same layout');
  t.not(eq(first, second), 'new values');
});

t.test(
  'a value outside the 2^53 rule still throws, naming the field, on a cached presence set',
  async (t) => {
    const gw = new GatewayEncoder();
    const f = new ExecutionReportFields();
    f.seq = 1;
    f.leavesQuantity = 1;
    gw.executionReport(f);
    f.leavesQuantity = 2 ** 53;
    t.throws(() => gw.executionReport(f), SchemaError);
    t.throws(() => gw.executionReport(f), /ExecutionReport\.leaves_quantity/);
    f.leavesQuantity = Number.NaN;
    t.throws(() => gw.executionReport(f), /ExecutionReport\.leaves_quantity/);
  },
);

t.test(`templates are bounded (${MAX_TEMPLATES}); past it the Builder encodes, same bytes`, async (t) => {
  const gw = new GatewayEncoder();
  const ref = new GatewayEncoder();
  const f = new ExecutionReportFields();
  for (let present = 1; present <= MAX_TEMPLATES + 50; present++) {
    f.seq = present;
    f.price = present & 1 ? 100 : 0;
    f.quantity = present & 2 ? 7 : 0;
    f.tradeId = present & 4 ? 11 : 0;
    f.symbolId = present & 8 ? 1 : 0;
    f.side = present & 16 ? 1 : 0;
    f.cumQuantity = present & 32 ? 3 : 0;
    f.lastPrice = present & 64 ? 5 : 0;
    f.lastQuantity = present & 128 ? 6 : 0;
    f.leavesQuantity = present & 256 ? 8 : 0;
    if (!eq(gw.executionReport(f), ref.executionReportBuilt(f))) {
      t.fail(`presence set ${present} differs`);
      return;
    }
  }
  t.pass('every frame equal');
});

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
