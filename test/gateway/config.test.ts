import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError } from '../../engine/errors.js';
import { describeConfig, loadConfig, loadDotEnv } from '../../gateway/config/config.js';

const cwd = mkdtempSync(join(tmpdir(), 'exc-config-'));

t.test('defaults: the zero-config start', async (t) => {
  const c = loadConfig({}, cwd);
  t.equal(c.port, 8080);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.database, 'embedded');
  t.equal(c.databaseUrl, undefined);
  t.equal(c.jwtSecret, undefined);
  t.equal(c.logLevel, 'info');
  t.equal(c.shards, 1);
  t.equal(c.durability, 'async');
  t.equal(c.dataDir, join(cwd, 'data'));
  t.same(
    c.symbols.map((s) => s.name),
    ['BTC/USD', 'ETH/USD', 'SOL/USD'],
  );
  t.ok(Object.isFrozen(c));
});

t.test('every variable is read', async (t) => {
  const c = loadConfig(
    {
      PORT: '9001',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u:secret@127.0.0.1:5432/test',
      JWT_SECRET: 'x'.repeat(32),
      LOG_LEVEL: 'debug',
      SHARDS: '4',
      DURABILITY: 'sync',
      DATA_DIR: '/var/lib/exchange',
      WAL_SEGMENT_BYTES: '1048576',
      RECOVERY_ALLOW_GAPS: '1',
      NODE_ENV: 'production',
    },
    cwd,
  );
  t.equal(c.port, 9001);
  t.equal(c.host, '127.0.0.1');
  t.equal(c.database, 'external');
  t.equal(c.jwtSecret?.length, 32);
  t.equal(c.logLevel, 'debug');
  t.equal(c.shards, 4);
  t.equal(c.durability, 'sync');
  t.equal(c.dataDir, '/var/lib/exchange');
  t.equal(c.walSegmentBytes, 1048576);
  t.equal(c.recoveryAllowGaps, true);
  t.equal(c.production, true);
  const shown = describeConfig(c);
  t.equal(shown.databaseUrl, 'postgres://u:***@127.0.0.1:5432/test', 'password masked');
  t.notMatch(JSON.stringify(shown), /secret|xxxx/, 'no secret in the logged config');
});

t.test('DB=none selects the no-database mode', async (t) => {
  t.equal(loadConfig({ DB: 'none' }, cwd).database, 'none');
});

t.test('a bad value names the variable and the value', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT.*"eighty"/],
    [{ PORT: '70000' }, /PORT.*"70000"/],
    [{ SHARDS: '0' }, /SHARDS.*"0"/],
    [{ SHARDS: '-1' }, /SHARDS/],
    [{ DURABILITY: 'fast' }, /DURABILITY.*"fast"/],
    [{ WAL_SEGMENT_BYTES: '1000' }, /WAL_SEGMENT_BYTES.*"1000"/],
    [{ RECOVERY_ALLOW_GAPS: 'yes' }, /RECOVERY_ALLOW_GAPS.*"yes"/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL.*"loud"/],
    [{ DB: 'mysql' }, /DB.*"mysql"/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ DB: 'none', DATABASE_URL: 'postgres://x/y' }, /DB=none and DATABASE_URL/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET.*32/],
    [{ SYMBOLS: 'missing.json' }, /SYMBOLS=.*missing\.json/],
  ];
  for (const [env, re] of cases) {
    t.throws(
      () => loadConfig(env, cwd),
      { name: 'ConfigError', code: 'EXC_ERR_CONFIG', message: re },
      JSON.stringify(env),
    );
  }
});

t.test('SYMBOLS reads a JSON file', async (t) => {
  const file = join(cwd, 'symbols.json');
  writeFileSync(
    file,
    JSON.stringify([{ id: 7, name: 'DOGE/USD', tickSize: '0.00001', lotSize: '1', maxQty: '1000000' }]),
  );
  const c = loadConfig({ SYMBOLS: 'symbols.json' }, cwd);
  t.equal(c.symbols.length, 1);
  t.match(c.symbols[0], { id: 7, name: 'DOGE/USD', minQtyLots: 1, maxQtyLots: 1_000_000 });
  writeFileSync(file, '{not json');
  t.throws(() => loadConfig({ SYMBOLS: file }, cwd), ConfigError);
});

t.test('.env is read with Node’s loader; the real environment wins', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'exc-dotenv-'));
  t.equal(loadDotEnv(dir), false, 'no file, nothing read');
  writeFileSync(join(dir, '.env'), 'EXC_TEST_A=from-file\nEXC_TEST_B=from-file\n');
  process.env.EXC_TEST_B = 'from-env';
  t.teardown(() => {
    delete process.env.EXC_TEST_A;
    delete process.env.EXC_TEST_B;
  });
  t.equal(loadDotEnv(dir), true);
  t.equal(process.env.EXC_TEST_A, 'from-file');
  t.equal(process.env.EXC_TEST_B, 'from-env');
});

t.test('engine runtime settings: idle strategy, ring sizes, orders per shard', async (t) => {
  const d = loadConfig({}, cwd);
  t.match(d, {
    idleStrategy: 'backoff',
    commandRingBytes: 2 ** 20,
    eventRingBytes: 2 ** 23,
    shardMaxOrders: 2 ** 18,
  });
  const c = loadConfig(
    {
      IDLE_STRATEGY: 'spin',
      COMMAND_RING_BYTES: '1024',
      EVENT_RING_BYTES: '65536',
      SHARD_MAX_ORDERS: '1000',
    },
    cwd,
  );
  t.match(c, { idleStrategy: 'spin', commandRingBytes: 1024, eventRingBytes: 65536, shardMaxOrders: 1000 });
  t.match(describeConfig(c), { idleStrategy: 'spin', commandRingBytes: 1024, eventRingBytes: 65536 });
  const cases: [Record<string, string>, RegExp][] = [
    [{ IDLE_STRATEGY: 'yield' }, /IDLE_STRATEGY must be one of backoff\|spin, got IDLE_STRATEGY="yield"/],
    [
      { COMMAND_RING_BYTES: '1000' },
      /COMMAND_RING_BYTES must be a power of two between 1024 .* got COMMAND_RING_BYTES="1000"/,
    ],
    [{ COMMAND_RING_BYTES: '512' }, /COMMAND_RING_BYTES .*"512"/],
    [{ EVENT_RING_BYTES: '1024' }, /EVENT_RING_BYTES must be a power of two between 2048 .*"1024"/],
    [{ EVENT_RING_BYTES: '8M' }, /EVENT_RING_BYTES.*"8M"/],
    [{ EVENT_RING_BYTES: String(2 ** 31) }, /EVENT_RING_BYTES/],
    [{ SHARD_MAX_ORDERS: '0' }, /SHARD_MAX_ORDERS.*"0"/],
  ];
  for (const [env, re] of cases) {
    t.throws(() => loadConfig(env, cwd), { name: 'ConfigError', message: re }, JSON.stringify(env));
  }
});
