/**
 * The bench's peers, each in a process of its own (the server under test must not share the load
 * generator's event loop): the bare uWS echo server (echoServer.ts), and the exchange, either at a
 * given --url or spawned from dist/server.js with PORT=0 (its port read from the "exchange listening"
 * log line). probeOrderEntry() tells whether the exchange serves /api/v1/ws yet.
 * Main thread of the bench process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { wsUrl } from '../../client/ExchangeClient.js';
import { HandshakeError } from '../../client/errors.js';
import { RawWebSocket } from '../../client/ws/RawWebSocket.js';

export interface Peer {
  /** ws:// URL of the order-entry endpoint. */
  readonly url: string;
  /** JWTs seen in the peer's log (the exchange prints demo tokens in its zero-config mode). */
  readonly tokens: string[];
  /** The HS256 secret the spawned exchange verifies tokens with (undefined for --url peers). */
  readonly secret?: string;
  stop(): Promise<void>;
}

const JWT_RE = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;

/** Spawns `node <script>` and waits for a JSON log line with `msg` and a `port`. */
async function spawnPeer(
  script: string,
  msg: string,
  env: NodeJS.ProcessEnv,
  path: string,
  timeoutMs: number,
): Promise<Peer> {
  const child = spawn(process.execPath, [script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const tokens: string[] = [];
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${script}: no "${msg}" log line within ${timeoutMs} ms; last lines:\n${tail.join('\n')}`),
      );
    }, timeoutMs);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      for (const m of line.matchAll(JWT_RE)) if (!tokens.includes(m[0])) tokens.push(m[0]);
      if (!line.includes(msg)) return;
      try {
        const port = (JSON.parse(line) as { port?: unknown }).port;
        if (typeof port === 'number' && port > 0) {
          clearTimeout(timer);
          resolve(port);
        }
      } catch {
        // not JSON (pretty logs): keep waiting
      }
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`${script} exited with code ${code} before "${msg}"; last lines:\n${tail.join('\n')}`),
      );
    });
  });
  return {
    url: `ws://127.0.0.1:${port}${path}`,
    tokens,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function startEchoPeer(): Promise<Peer> {
  const script = fileURLToPath(new URL('./echoServer.js', import.meta.url));
  return spawnPeer(script, 'echo listening', { ...process.env, PORT: '0' }, '/', 30_000);
}

/**
 * The exchange at `url`, or a fresh `node dist/server.js` (no database, WAL in a temp dir) when url is
 * empty. The spawned one gets a random JWT_SECRET, so the bench can sign one token per connection
 * (one account per connection: each execution report goes to exactly one socket, as with real
 * traders; a shared account would fan every report out to every connection).
 */
export async function startExchange(url: string | undefined, secret?: string): Promise<Peer> {
  if (url !== undefined && url !== '') {
    return { url: wsUrl(url), tokens: [], secret, stop: async () => {} };
  }
  const script = fileURLToPath(new URL('../../server.js', import.meta.url));
  const spawnSecret = randomBytes(32).toString('hex');
  const env = {
    ...process.env,
    JWT_SECRET: spawnSecret,
    // Note: a load bench measures the gateway, not the per-session rate limit (10k/s by default).
    WS_RATE_LIMIT: process.env.WS_RATE_LIMIT ?? '0',
    PORT: '0',
    HOST: '127.0.0.1',
    DB: 'none',
    DATABASE_URL: '',
    LOG_LEVEL: 'info',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'exc-bench-ws-')),
  };
  const peer = await spawnPeer(script, 'exchange listening', env, '/api/v1/ws', 60_000);
  return { ...peer, secret: spawnSecret };
}

/** null when `url` upgrades to a WebSocket; otherwise why not (e.g. "HTTP 404 on /api/v1/ws"). */
export async function probeOrderEntry(url: string): Promise<string | null> {
  try {
    const ws = await RawWebSocket.connect(url, { handshakeTimeoutMs: 5000 });
    ws.terminate();
    return null;
  } catch (err) {
    if (err instanceof HandshakeError && err.status > 0)
      return `HTTP ${err.status} on ${new URL(url).pathname}`;
    return (err as Error).message;
  }
}
