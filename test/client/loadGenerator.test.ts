// The WebSocket load generator's parts (bench/ws): the pre-encoded order flow and the answer matching,
// against a real uWS echo and against MiniGateway (to be re-pointed at the real gateway later).

import type * as Uws from 'uWebSockets.js';
import t from 'tap';
import { LoadConnection, nowNs, PeerKind } from '../../bench/ws/LoadConnection.js';
import { MIX, OrderFlow } from '../../bench/ws/OrderFlow.js';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';
import { loadNativeUws } from '../../gateway/uws.js';
import {
  AmendReader,
  BatchReader,
  Body,
  CancelReader,
  Direction,
  FrameVerifier,
  MessageReader,
  NewOrderReader,
  Side,
  TimeInForce,
  VerifyResult,
} from '../../schema/index.js';
import { until } from '../fixtures/until.js';
import { GOOD_TOKEN, MiniGateway } from './fixtures/MiniGateway.js';

const REF = 5_000_000;

/** Unmasks frame f of a flow and returns its payload. */
function payload(flow: OrderFlow, f: number): Uint8Array {
  const m = flow.maskPos[f];
  const p = flow.wire.slice(m + 4, flow.frameStart[f + 1]);
  for (let i = 0; i < p.length; i++) p[i] ^= flow.wire[m + (i & 3)];
  return p;
}

/** Every request of a payload as [type, cid, side, price, tif]. */
function requests(p: Uint8Array): number[][] {
  const v = new FrameVerifier(Direction.ClientToGateway);
  if (v.verify(p) !== VerifyResult.OK) throw new Error('invalid frame');
  const m = new MessageReader().wrap(p);
  const items: [number, number][] =
    m.bodyType === Body.Batch
      ? (() => {
          const b = new BatchReader().wrap(p, m.bodyPos);
          return Array.from({ length: b.length }, (_, i) => [b.opType(i), b.opPos(i)] as [number, number]);
        })()
      : [[m.bodyType, m.bodyPos]];
  return items.map(([type, pos]) => {
    if (type === Body.NewOrder) {
      const o = new NewOrderReader().wrap(p, pos);
      return [type, o.clientOrderIdHi * 2 ** 32 + o.clientOrderIdLo, o.side, o.price, o.timeInForce];
    }
    const r = type === Body.Cancel ? new CancelReader().wrap(p, pos) : new AmendReader().wrap(p, pos);
    const price = r instanceof AmendReader ? r.newPrice : 0;
    return [type, r.clientOrderIdHi * 2 ** 32 + r.clientOrderIdLo, 0, price, 0];
  });
}

t.test('OrderFlow: the mix, non-crossing prices, a closed pool, and the per-cycle id patch', async (t) => {
  const flow = new OrderFlow({
    cidBase: 2 ** 40 + 1,
    symbolId: 1,
    refPrice: REF,
    commands: 20_000,
    batch: 1,
    maxLive: 200,
    seed: 7,
  });
  const all = Array.from({ length: flow.frameCount }, (_, f) => requests(payload(flow, f))[0]);
  t.equal(all.length, flow.itemCount);
  const share = (n: number) => n / 20_000;
  t.ok(Math.abs(share(flow.counts.amend) - MIX.amend) < 0.02, `amends ${flow.counts.amend}`);
  t.ok(Math.abs(share(flow.counts.ioc) - MIX.ioc) < 0.01, `iocs ${flow.counts.ioc}`);
  const live = new Map<number, number>();
  let crossing = 0;
  let cancelsOfNothing = 0;
  let maxLive = 0;
  for (const [type, cid, side, price, tif] of all) {
    if (type === Body.NewOrder) {
      if ((side === Side.Buy && price >= REF) || (side === Side.Sell && price <= REF)) crossing++;
      if (tif === TimeInForce.GTC) live.set(cid, side);
    } else if (type === Body.Cancel) {
      if (!live.delete(cid)) cancelsOfNothing++;
    } else {
      const s = live.get(cid);
      if (s === undefined || (s === Side.Buy ? price >= REF : price <= REF)) crossing++;
    }
    maxLive = Math.max(maxLive, live.size);
  }
  t.equal(cancelsOfNothing, 0, 'every cancel names a resting order');
  t.ok(maxLive <= 200, `at most maxLive resting (${maxLive})`);
  t.equal(crossing, 0, 'nothing crosses');
  t.equal(live.size, 0, 'the pool ends with nothing resting');
  t.equal(flow.cycleSpan, flow.counts.gtc + flow.counts.ioc);
  flow.patch(5, 3);
  t.equal(requests(payload(flow, 5))[0][1], all[5][1] + 3 * flow.cycleSpan, 'cycle 3 shifts the id');
  flow.patch(5, 0);
  t.same(requests(payload(flow, 5))[0], all[5], 'and cycle 0 restores it');

  const batched = new OrderFlow({
    cidBase: 2 ** 41 + 1,
    symbolId: 2,
    refPrice: REF,
    commands: 1000,
    batch: 32,
    maxLive: 50,
    seed: 7,
  });
  t.equal(batched.frameCount, Math.ceil(batched.itemCount / 32));
  batched.patch(1, 2);
  const items = requests(payload(batched, 1));
  t.equal(items.length, 32);
  t.equal(items[31][1], batched.baseCid[63] + 2 * batched.cycleSpan, 'every item of a batch is patched');
});

async function echoServer(): Promise<{ url: string; stop: () => void }> {
  const uws = loadNativeUws();
  const app = uws.App();
  app.ws('/*', {
    maxPayloadLength: 1 << 20,
    maxBackpressure: 64 << 20,
    message: (ws, m, isBinary) => {
      ws.send(m, isBinary);
    },
  });
  const ls = await new Promise<Uws.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('cannot listen')))),
  );
  return {
    url: `ws://127.0.0.1:${uws.us_socket_local_port(ls)}/`,
    stop: () => uws.us_listen_socket_close(ls),
  };
}

t.test('LoadConnection against an echo: windowed and paced, every answer matched', async (t) => {
  const srv = await echoServer();
  t.teardown(srv.stop);
  for (const batch of [1, 32]) {
    const flow = new OrderFlow({
      cidBase: 2 ** 42 + 1,
      symbolId: 1,
      refPrice: REF,
      commands: 3000,
      batch,
      maxLive: 100,
      seed: 3,
    });
    const conn = new LoadConnection(await RawWebSocket.connect(srv.url), flow, PeerKind.ECHO, 4096 + batch);
    conn.windowItems = 4096;
    conn.fill();
    await until(() => conn.receivedItems > 3 * flow.itemCount, 'three flows of answers', 20_000);
    conn.sending = false;
    await until(() => conn.inFlight === 0);
    t.equal(conn.mismatches, 0, `batch ${batch}: answers matched across replay cycles`);
    t.equal(conn.receivedItems, conn.sentItems);
    conn.ws.terminate();
  }
  const flow = new OrderFlow({
    cidBase: 2 ** 43 + 1,
    symbolId: 1,
    refPrice: REF,
    commands: 500,
    batch: 1,
    maxLive: 100,
    seed: 4,
  });
  const conn = new LoadConnection(await RawWebSocket.connect(srv.url), flow, PeerKind.ECHO, 1000);
  const { latencyHistogram } = await import('../../bench/lib/harness.js');
  conn.histogram = latencyHistogram();
  conn.recordFromNs = 0;
  const due = nowNs() - 1e6; // due 1 ms ago: every latency includes that millisecond
  for (let i = 0; i < 200; i++) conn.sendNext(due);
  await until(() => conn.inFlight === 0);
  t.equal(conn.histogram.totalCount, 200);
  t.ok(conn.histogram.minNonZeroValue >= 1e6, 'latency is measured from the due time, not the send time');
  t.throws(() => {
    for (let i = 0; i < 2000; i++) conn.sendNext(nowNs());
  }, /in flight/);
  conn.ws.terminate();
});

t.test(
  'LoadConnection against MiniGateway: logon, reports matched to requests, rejects counted',
  async (t) => {
    const gw = await MiniGateway.start();
    t.teardown(() => gw.stop());
    const flow = new OrderFlow({
      cidBase: 2 ** 44 + 1,
      symbolId: 1,
      refPrice: REF,
      commands: 2000,
      batch: 32,
      maxLive: 50,
      seed: 5,
    });
    const ws = await RawWebSocket.connect(gw.url);
    await LoadConnection.logon(ws, GOOD_TOKEN, 5000);
    const conn = new LoadConnection(ws, flow, PeerKind.EXCHANGE, 2048);
    conn.windowItems = 1024;
    conn.fill();
    await until(() => conn.receivedItems >= 2 * flow.itemCount, 'two flows of answers', 20_000);
    conn.sending = false;
    await until(() => conn.inFlight === 0);
    t.equal(conn.mismatches, 0);
    t.equal(conn.invalidFrames, 0);
    t.equal(conn.rejected, 0, 'every cancel and amend found its order');
    t.ok(conn.otherReports >= flow.counts.ioc, 'the IOC expiries were seen and not matched');
    ws.terminate();

    const bad = await RawWebSocket.connect(gw.url);
    await t.rejects(LoadConnection.logon(bad, 'nope', 5000), /logon rejected \(code 1\)/);
    gw.answerLogons = false;
    const silent = await RawWebSocket.connect(gw.url);
    await t.rejects(LoadConnection.logon(silent, GOOD_TOKEN, 50), /no LogonAck/);
    silent.terminate();
    const dropped = await RawWebSocket.connect(gw.url);
    const logon = LoadConnection.logon(dropped, GOOD_TOKEN, 5000);
    gw.kick();
    await t.rejects(logon, /closed during logon/);
  },
);
