/**
 * Batched reports (`?batch_reports=1`, docs/protocol.md): the real gateway and shard workers; a
 * raw socket sees several length-prefixed frames in one message, every frame verifies, and the SDK
 * (ConnectOptions.batchReports) resolves every request from them; a session without the option keeps
 * one frame per message.
 */
import t from 'tap';
import { ExchangeClient, ExecType } from '../../client/index.js';
import { splitPrefixed } from '../../client/ws/prefixedFrames.js';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import {
  Body,
  ClientEncoder,
  Direction,
  ExecutionReportReader,
  FrameVerifier,
  MessageReader,
  NewOrderFields,
  VerifyResult,
} from '../../schema/index.js';
import { startWsExchange, type WsExchange } from '../fixtures/gateway/wsExchange.js';
import { until } from '../fixtures/until.js';

const A = 101;
const B = 202;

let ex: WsExchange;

t.before(async () => {
  ex = await startWsExchange({ shards: 2, rateLimit: 0 });
});
t.teardown(() => ex.stop());

t.test('raw socket: a Batch of 32 orders comes back as few messages of prefixed frames', async (t) => {
  const ws = await RawWebSocket.connect(`${ex.url}?batch_reports=1`, {
    headers: { authorization: `Bearer ${await ex.token(A)}` },
  });
  t.teardown(() => ws.terminate());
  const verifier = new FrameVerifier(Direction.GatewayToClient);
  const m = new MessageReader();
  const r = new ExecutionReportReader();
  let messages = 0;
  let malformed = 0;
  let invalid = 0;
  const newCids: number[] = [];
  const seen: string[] = [];
  let largest = 0;
  ws.onMessage = (bytes, start, end) => {
    messages++;
    let frames = 0;
    const ok = splitPrefixed(bytes, start, end, (s, e) => {
      frames++;
      const frame = bytes.subarray(s, e);
      if (verifier.verify(frame) !== VerifyResult.OK) {
        invalid++;
        return;
      }
      const msg = m.wrap(frame);
      if (msg.bodyType !== Body.ExecutionReport) return;
      const rep = r.wrap(frame, msg.bodyPos);
      if (rep.execType === ExecType.New) newCids.push(rep.clientOrderIdLo);
      else seen.push(`${rep.execType}:${rep.rejectReason}`);
    });
    if (!ok) malformed++;
    largest = Math.max(largest, frames);
  };
  const enc = new ClientEncoder();
  const items: NewOrderFields[] = [];
  for (let i = 0; i < 32; i++) {
    const f = new NewOrderFields();
    f.clientOrderIdLo = 1000 + i;
    f.symbolId = 1;
    f.side = 1;
    f.orderType = 1;
    f.price = 4_990_000 + i; // 49,900.00 and up, below any ask: they rest
    f.quantity = 1;
    items.push(f);
  }
  enc.beginBatch();
  for (const f of items) enc.addNewOrder(f);
  ws.send(enc.endBatch().slice());
  await until(() => newCids.length + seen.length >= 32, '32 reports', 5000);
  t.same(seen, [], 'no other report');
  t.equal(malformed, 0, 'every message splits into whole frames');
  t.equal(invalid, 0, 'every frame verifies');
  t.same(
    newCids,
    items.map((f) => f.clientOrderIdLo),
    'in request order',
  );
  t.ok(largest > 1, `one message carried several frames (${largest})`);
  t.ok(messages < 32, `fewer messages (${messages}) than reports (32)`);
});

t.test(
  'SDK with batchReports: requests resolve, fills reach both sides, plain sessions unchanged',
  async (t) => {
    const a = await ExchangeClient.connect({
      url: ex.url,
      token: await ex.token(A),
      reconnect: false,
      batchReports: true,
    });
    const b = await ExchangeClient.connect({ url: ex.url, token: await ex.token(B), reconnect: false });
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    t.same(
      a.symbols.map((s) => s.name),
      ['BTC/USD', 'ETH/USD', 'SOL/USD'],
      'LogonAck and SymbolList, prefixed',
    );
    const fills: number[] = [];
    a.on('report', (r) => {
      if (r.execType === ExecType.Trade) fills.push(r.lastQuantity);
    });
    const batch = a.batch();
    for (let i = 0; i < 10; i++)
      batch.placeOrder({ symbol: 'ETH/USD', side: 'sell', price: '3000.00', quantity: '0.1' });
    const placed = await batch.send();
    t.equal(placed.filter((p) => p.ok).length, 10, 'ten answers from batched reports');
    const taker = await b.placeOrder({ symbol: 'ETH/USD', side: 'buy', price: '3000.00', quantity: '1.0' });
    t.match(taker, { ok: true, report: { execType: ExecType.New } });
    await until(() => fills.length === 10, 'ten maker fills on the batched session', 5000);
    const bad = await a.cancel({ orderId: 999_999_999, symbol: 'ETH/USD' });
    t.match(bad, { ok: false }, 'a refusal arrives through the batched path too');
  },
);

t.test('SDK: batchReports refuses a maxMessageBytes below one batched message', async (t) => {
  await t.rejects(
    ExchangeClient.connect({ url: ex.url, token: 'x', batchReports: true, maxMessageBytes: 4096 }),
    /batchReports needs maxMessageBytes >= 65540/,
  );
});
