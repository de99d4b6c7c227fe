// The public entry (schema/index.ts) used the way the gateway will: verify, dispatch single
// messages and batch items with one switch, answer with an execution report or an Error frame.

import t from 'tap';
import * as protocol from '../../schema/index.js';

const {
  Body,
  ClientEncoder,
  Direction,
  ErrorReader,
  ExecutionReportFields,
  ExecutionReportReader,
  FrameVerifier,
  GatewayEncoder,
  MessageReader,
  NewOrderFields,
  NewOrderReader,
  BatchReader,
  CancelReader,
  Side,
  OrderType,
  VerifyResult,
  verifyReasonUtf8,
} = protocol;

t.test('gateway loop over the public API', async (t) => {
  // Gateway side, created once.
  const verifier = new FrameVerifier(Direction.ClientToGateway);
  const message = new MessageReader();
  const batch = new BatchReader();
  const order = new NewOrderReader();
  const cancel = new CancelReader();
  const out = new GatewayEncoder();
  const report = new ExecutionReportFields();
  const replies: Uint8Array[] = [];

  const dispatch = (bytes: Uint8Array, type: number, pos: number) => {
    switch (type) {
      case Body.NewOrder:
        order.wrap(bytes, pos);
        report.execType = 0;
        report.clientOrderIdHi = order.clientOrderIdHi;
        report.clientOrderIdLo = order.clientOrderIdLo;
        report.symbolId = order.symbolId;
        report.side = order.side;
        report.price = order.price;
        report.quantity = order.quantity;
        report.leavesQuantity = order.quantity;
        replies.push(out.executionReport(report).slice());
        break;
      case Body.Cancel:
        cancel.wrap(bytes, pos);
        replies.push(out.error(404, 'unknown order', 0, cancel.orderId).slice());
        break;
      default:
        replies.push(out.error(1, 'unsupported').slice());
    }
  };
  const onFrame = (bytes: Uint8Array) => {
    const rc = verifier.verify(bytes);
    if (rc !== VerifyResult.OK) {
      replies.push(out.error(rc, verifyReasonUtf8(rc)).slice());
      return;
    }
    message.wrap(bytes);
    if (message.bodyType === Body.Batch) {
      batch.wrap(bytes, message.bodyPos);
      for (let i = 0; i < batch.length; i++) dispatch(bytes, batch.opType(i), batch.opPos(i));
    } else {
      dispatch(bytes, message.bodyType, message.bodyPos);
    }
  };

  // Client side.
  const client = new ClientEncoder();
  const o = new NewOrderFields();
  o.clientOrderIdLo = 7;
  o.symbolId = 3;
  o.side = Side.Buy;
  o.orderType = OrderType.Limit;
  o.price = 101;
  o.quantity = 5;
  onFrame(client.newOrder(o).slice());
  client.beginBatch();
  client.addNewOrder(o);
  client.addCancel(3, 12);
  onFrame(client.endBatch().slice());
  onFrame(client.logon('token').slice());
  onFrame(new Uint8Array(3));

  const clientVerifier = new FrameVerifier(Direction.GatewayToClient);
  const m = new MessageReader();
  const er = new ExecutionReportReader();
  const err = new ErrorReader();
  const seen = replies.map((r) => {
    t.equal(clientVerifier.verify(r), VerifyResult.OK);
    m.wrap(r);
    if (m.bodyType === Body.ExecutionReport) {
      er.wrap(r, m.bodyPos);
      return `report ${er.clientOrderIdLo} ${er.price}x${er.leavesQuantity}`;
    }
    err.wrap(r, m.bodyPos);
    return `error ${err.code} ${err.text}`;
  });
  t.same(seen, [
    'report 7 101x5',
    'report 7 101x5',
    'error 404 unknown order',
    'error 1 unsupported',
    `error ${VerifyResult.FRAME_TOO_SMALL} frame too small`,
  ]);
  t.equal(protocol.formatUint64(1, 0), '4294967296');
});
