import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

/** Starts server.ts in its own process (through tap's TypeScript loader) and collects its log lines. */
function boot(env: Record<string, string>): {
  child: ChildProcess;
  lines: () => string[];
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [...process.execArgv, 'server.ts'], {
    env: { ...process.env, LOG_LEVEL: 'info', DB: 'none', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines: () => out.split('\n').filter(Boolean), exited };
}

async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('boots, logs its config, answers health and JSON 404, stops on SIGTERM', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'exc-boot-'));
  const s = boot({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, EVENT_RING_BYTES: '65536' });
  t.teardown(() => {
    s.child.kill('SIGKILL');
  });
  await waitFor(() => s.lines().some((l) => l.includes('exchange listening')), 30_000);
  const logs = s.lines().map((l) => JSON.parse(l));
  const start = logs.find((l) => l.msg === 'starting exchange');
  t.match(start.config, { database: 'none', shards: 1, durability: 'async', dataDir });
  t.match(
    logs.find((l) => l.msg === 'engine pipeline started'),
    {
      shards: 1,
      idle: 'backoff',
      eventRingBytes: 65536,
      symbols: [['BTC/USD', 'ETH/USD', 'SOL/USD']],
    },
  );
  const port = logs.find((l) => l.msg === 'exchange listening').port;
  t.ok(port > 0, 'listening on an ephemeral port');
  const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
  t.equal(health.status, 200);
  t.match(await health.json(), {
    status: 'ok',
    components: {
      engine: {
        status: 'ok',
        shards: [{ id: 0, alive: true, state: 'running', commands: 3, busy_rejects: 0 }],
      },
    },
  });
  const missing = await fetch(`http://127.0.0.1:${port}/api/v1/nothing-here`);
  t.equal(missing.status, 404);
  t.match(await missing.json(), { error: { code: 'NOT_FOUND' } });
  s.child.kill('SIGTERM');
  t.equal(await s.exited, 0);
  const stopped = s
    .lines()
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === 'engine pipeline stopped');
  t.match(
    stopped,
    { shards: [{ id: 0, state: 'stopped', commands: 3 }] },
    'the pipeline drained before exit',
  );
});

t.test('a bad configuration value stops start-up with a message naming it', async (t) => {
  const s = boot({ SHARDS: 'many' });
  t.equal(await s.exited, 1);
  t.match(
    s.lines().join('\n'),
    /configuration error \[EXC_ERR_CONFIG\]: SHARDS must be an integer 1\.\.64, got SHARDS="many"/,
  );
});
