/**
 * The peer of the HTTP bench: a bare uWebSockets.js server doing the least a JSON order endpoint can
 * do (read the body, JSON.parse it, answer a similar order JSON, all in cork) and a health route. No
 * auth, no validation, no engine: the ceiling our REST stack is compared with.
 * Prints `{"port": N}` on stdout once listening. Run by http.bench.ts in its own process.
 * Thread-safety: main thread of its own process.
 */
import { loadNativeUws } from '../../gateway/uws.js';

const uws = loadNativeUws();
const app = uws.App();
let nextId = 1;
const startedAt = Date.now();

app.post('/api/v1/orders', (res) => {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast) return;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
    const now = new Date().toISOString();
    const reply = JSON.stringify({
      order_id: String(nextId++),
      client_order_id: null,
      account_id: 1,
      symbol: body.symbol,
      side: body.side,
      order_type: body.order_type,
      time_in_force: 'GTC',
      status: 'New',
      price: body.price,
      stop_price: null,
      quantity: body.quantity,
      filled_quantity: '0.0000',
      remaining_quantity: body.quantity,
      display_quantity: null,
      average_price: null,
      last_fill_price: null,
      last_fill_quantity: null,
      post_only: false,
      stp_mode: 'ExpireTaker',
      expire_time: null,
      reason: null,
      triggered: false,
      created_at: now,
      updated_at: now,
      fill_count: 0,
      fills: [],
    });
    if (aborted) return;
    res.cork(() => {
      res
        .writeStatus('201 Created')
        .writeHeader('content-type', 'application/json; charset=utf-8')
        .end(reply);
    });
  });
});

app.get('/api/v1/health', (res) => {
  res.cork(() => {
    res
      .writeStatus('200 OK')
      .writeHeader('content-type', 'application/json; charset=utf-8')
      .end(
        JSON.stringify({
          status: 'ok',
          uptime_ms: Date.now() - startedAt,
          components: { gateway: { status: 'ok' } },
        }),
      );
  });
});

app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) {
    process.stderr.write('bare server: cannot listen\n');
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port: uws.us_socket_local_port(socket) })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
