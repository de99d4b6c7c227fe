/**
 * The market-data bench's order driver, in its own process so that it does not compete with the
 * subscribers' socket reads on the bench's event loop: two ExchangeClient sessions send Batches of 32
 * random orders around 50,000.00 on BTC/USD (resting limits, crossing limits, some IOC) at `rate`
 * orders/s, paced every 5 ms against the start time, at most 64 batches in flight.
 *
 *   node orderDriver.js <ws base url> <jwt secret> <rate> <seed>
 * Prints `ready` once connected, then `sent <n>` every second; exits on SIGTERM.
 * Thread-safety: a process entry point.
 */
import { SignJWT } from 'jose';
import { ExchangeClient, type PlaceOrder } from '../../client/index.js';

const [base, secret, rateText, seedText] = process.argv.slice(2);
const RATE = Number(rateText);
const BATCH = 32;

function orderFlow(seed: number): () => PlaceOrder {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const side = rnd() < 0.5 ? 'buy' : 'sell';
    const r = rnd();
    const offset = Math.floor(rnd() * 30) - (r < 0.35 ? 22 : 3);
    const ticks = side === 'buy' ? 5_000_000 - offset : 5_000_000 + offset;
    const order: PlaceOrder = {
      symbol: 1,
      side,
      price: (ticks / 100).toFixed(2),
      quantity: ((1 + Math.floor(rnd() * 20)) / 10_000).toFixed(4),
    };
    if (r > 0.9) order.timeInForce = 'ioc';
    return order;
  };
}

async function main(): Promise<void> {
  const clients = await Promise.all(
    [101, 102].map(async (acct) => {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(acct))
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
      return ExchangeClient.connect({ url: `${base}/api/v1/ws`, token, reconnect: false });
    }),
  );
  const next = orderFlow(Number(seedText));
  let sent = 0;
  let inflight = 0;
  process.stdout.write('ready\n');
  setInterval(() => process.stdout.write(`sent ${sent}\n`), 1000).unref();
  process.on('SIGTERM', () => process.exit(0));
  const t0 = performance.now();
  for (;;) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    while (sent + BATCH <= due && inflight < 64) {
      const b = clients[(sent / BATCH) & 1].batch();
      for (let i = 0; i < BATCH; i++) b.placeOrder(next());
      sent += BATCH;
      inflight++;
      b.send()
        .catch(() => [])
        .then(() => {
          inflight--;
        });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
