// WS_* configuration (gateway/config/config.ts) and the order-entry settings checks.
import t from 'tap';
import { loadConfig } from '../../gateway/config/config.js';
import { TokenBucket } from '../../gateway/ws/TokenBucket.js';

t.test('defaults', async (t) => {
  t.same(loadConfig({}).ws, {
    rateLimit: 10_000,
    rateBurst: 20_000,
    idleTimeoutS: 60,
    maxBackpressureBytes: 1024 * 1024,
    heartbeatMs: 10_000,
  });
});

t.test('values and the burst default of 2 x rate', async (t) => {
  const c = loadConfig({
    WS_RATE_LIMIT: '50',
    WS_IDLE_TIMEOUT_S: '0',
    WS_MAX_BACKPRESSURE_BYTES: '65536',
    WS_HEARTBEAT_MS: '250',
  });
  t.same(c.ws, {
    rateLimit: 50,
    rateBurst: 100,
    idleTimeoutS: 0,
    maxBackpressureBytes: 65536,
    heartbeatMs: 250,
  });
  t.equal(loadConfig({ WS_RATE_LIMIT: '0' }).ws.rateBurst, 1, 'limit off');
  t.equal(loadConfig({ WS_RATE_LIMIT: '5', WS_RATE_BURST: '7' }).ws.rateBurst, 7);
});

t.test('bad values name the variable', async (t) => {
  for (const [name, value, re] of [
    ['WS_RATE_LIMIT', '-1', /WS_RATE_LIMIT must be an integer 0\.\.10000000, got WS_RATE_LIMIT="-1"/],
    ['WS_RATE_BURST', '0', /WS_RATE_BURST must be an integer 1\.\./],
    ['WS_IDLE_TIMEOUT_S', '4', /WS_IDLE_TIMEOUT_S must be 0 \(off\) or 8\.\.960/],
    ['WS_IDLE_TIMEOUT_S', '1000', /WS_IDLE_TIMEOUT_S must be an integer 0\.\.960/],
    ['WS_MAX_BACKPRESSURE_BYTES', '1024', /WS_MAX_BACKPRESSURE_BYTES/],
    ['WS_HEARTBEAT_MS', '50', /WS_HEARTBEAT_MS must be an integer 100\.\.30000/],
  ] as const) {
    t.throws(
      () => loadConfig({ [name]: value }),
      { code: 'EXC_ERR_CONFIG', message: re },
      `${name}=${value}`,
    );
  }
});

t.test('token bucket', async (t) => {
  const b = new TokenBucket(10, 3, 0);
  t.equal(b.enabled, true);
  t.same([b.take(), b.take(), b.take(), b.take()], [true, true, true, false], 'burst of 3');
  b.refill(100);
  t.same([b.take(), b.take()], [true, false], '10/s: one token per 100 ms');
  b.refill(50);
  t.equal(b.take(), false, 'a clock going backwards adds nothing');
  b.refill(10_000);
  t.same([b.take(), b.take(), b.take(), b.take()], [true, true, true, false], 'capped at the burst');
  const off = new TokenBucket(0, 1, 0);
  t.equal(off.enabled, false);
  for (let i = 0; i < 100; i++) off.take();
  t.equal(off.take(), true, 'rate 0: no limit');
  t.throws(() => new TokenBucket(-1, 1, 0), RangeError);
  t.throws(() => new TokenBucket(1, 0, 0), RangeError);
});
