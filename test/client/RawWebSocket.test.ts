import type * as Uws from 'uWebSockets.js';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ClientUsageError, HandshakeError } from '../../client/errors.js';
import { acceptKey } from '../../client/ws/frame.js';
import { RawWebSocket, ReadyState, SendResult } from '../../client/ws/RawWebSocket.js';
import { loadNativeUws } from '../../gateway/uws.js';
import { until } from '../fixtures/until.js';

// --- a real uWS server (port 0): echoes binary frames; text frames are commands -------------------

interface EchoServer {
  url: string;
  pongs: string[];
  closes: [number, string][];
  stop(): void;
}

async function startEcho(): Promise<EchoServer> {
  const uws = loadNativeUws();
  const app = uws.App();
  const pongs: string[] = [];
  const closes: [number, string][] = [];
  const text = (m: ArrayBuffer) => Buffer.from(m).toString('utf8');
  app.ws('/echo', {
    maxPayloadLength: 4 * 1024 * 1024,
    maxBackpressure: 64 * 1024 * 1024,
    idleTimeout: 0,
    message: (ws, message, isBinary) => {
      if (isBinary) {
        ws.send(message, true);
        return;
      }
      const [cmd, arg, arg2] = text(message).split(':');
      if (cmd === 'frag') {
        ws.sendFirstFragment(Buffer.from('first-'), true);
        ws.ping('between');
        ws.sendFragment(Buffer.alloc(70_000, 0x61));
        ws.sendLastFragment(Buffer.from('-last'));
      } else if (cmd === 'big') {
        const b = Buffer.alloc(Number(arg));
        for (let i = 0; i < b.length; i++) b[i] = i & 0xff;
        ws.send(b, true);
      } else if (cmd === 'ping') ws.ping(arg);
      else if (cmd === 'close') ws.end(Number(arg), arg2);
      else if (cmd === 'hello') ws.send('hello', false);
    },
    pong: (_ws, message) => {
      pongs.push(text(message));
    },
    close: (_ws, code, message) => {
      closes.push([code, text(message)]);
    },
  });
  app.any('/*', (res) => {
    res.cork(() => res.writeStatus('404 Not Found').end('nothing here'));
  });
  const ls = await new Promise<Uws.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('cannot listen')))),
  );
  const port = uws.us_socket_local_port(ls);
  return { url: `ws://127.0.0.1:${port}/echo`, pongs, closes, stop: () => uws.us_listen_socket_close(ls) };
}

/** The next message (rejects if the connection closes first, so a lost echo fails instead of hanging). */
function nextMessage(ws: RawWebSocket): Promise<{ bytes: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.onMessage = (b, s, e, isBinary) => resolve({ bytes: Buffer.from(b.subarray(s, e)), isBinary });
    ws.onClose = (code, reason) => reject(new Error(`closed (${code} ${reason}) before a message`));
  });
}

function closed(ws: RawWebSocket): Promise<[number, string]> {
  return new Promise((resolve) => {
    ws.onClose = (code, reason) => resolve([code, reason]);
  });
}

// --- a raw TCP server that answers the upgrade however a test wants -------------------------------

async function fakeServer(onRequest: (socket: Socket, key: string, path: string) => void): Promise<{
  url: (path: string) => string;
  server: Server;
}> {
  const server = createServer((socket) => {
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const key = /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '';
      const path = head.split(' ')[1];
      onRequest(socket, key, path);
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { url: (path) => `ws://127.0.0.1:${port}${path}`, server };
}

function upgradeAnswer(key: string, extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`
  );
}

t.test('echo: many small binary frames arrive complete and in order', async (t) => {
  const srv = await startEcho();
  t.teardown(srv.stop);
  const ws = await RawWebSocket.connect(srv.url);
  t.equal(ws.readyState, ReadyState.OPEN);
  const total = 100_000;
  let next = 0;
  let bad = 0;
  const done = new Promise<void>((resolve) => {
    ws.onMessage = (b, s, e, isBinary) => {
      const v = b[s] | (b[s + 1] << 8) | (b[s + 2] << 16);
      if (!isBinary || e - s !== 48 || v !== next || b[e - 1] !== (next & 0xff)) bad++;
      if (++next === total) resolve();
    };
  });
  const payload = new Uint8Array(48);
  for (let i = 0; i < total; i++) {
    payload[0] = i & 0xff;
    payload[1] = (i >>> 8) & 0xff;
    payload[2] = i >>> 16;
    payload[47] = i & 0xff;
    ws.send(payload);
    if (i % 5000 === 4999) await new Promise((r) => setImmediate(r));
  }
  await done;
  t.equal(bad, 0, 'every frame echoed intact, in order');
  ws.close();
  t.same(await closed(ws), [1000, '']);
});

t.test('large frames: 16-bit and 64-bit lengths both ways, split across TCP chunks', async (t) => {
  const srv = await startEcho();
  t.teardown(srv.stop);
  const ws = await RawWebSocket.connect(srv.url, { chunkBytes: 16 * 1024 });
  for (const n of [125, 126, 1000, 65_535, 65_536, 70_000, 1_000_000]) {
    const payload = Buffer.alloc(n);
    for (let i = 0; i < n; i++) payload[i] = (i * 7) & 0xff;
    const got = nextMessage(ws);
    t.equal(ws.send(payload), SendResult.OK);
    const m = await got;
    t.equal(m.bytes.length, n, `${n} bytes echoed`);
    t.ok(m.bytes.equals(payload), `${n} bytes intact`);
  }
  const got = nextMessage(ws);
  ws.send(Buffer.from('big:300000'), false);
  const m = await got;
  t.equal(m.bytes.length, 300_000);
  t.equal(m.bytes[299_999], 299_999 & 0xff, 'server 64-bit frame intact');
  // Frames the caller masked itself go out unchanged through writeRaw.
  const raw = Buffer.from([0x82, 0x83, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2, 0x63 ^ 3]);
  const echoed = nextMessage(ws);
  ws.writeRaw(raw, 0, raw.length);
  t.equal((await echoed).bytes.toString(), 'abc', 'pre-masked frame');
  const rawBig = Buffer.alloc(20_000 + 8);
  rawBig.set([0x82, 0x80 | 126, 20_000 >> 8, 20_000 & 0xff, 0, 0, 0, 0]);
  const echoedBig = nextMessage(ws);
  ws.writeRaw(rawBig, 0, rawBig.length);
  t.equal((await echoedBig).bytes.length, 20_000, 'pre-masked frame larger than a chunk');
  ws.terminate();
});

t.test('fragmented message with a ping between fragments; text frames', async (t) => {
  const srv = await startEcho();
  t.teardown(srv.stop);
  const ws = await RawWebSocket.connect(srv.url);
  const pings: string[] = [];
  ws.onPing = (b, s, e) => pings.push(Buffer.from(b.subarray(s, e)).toString());
  const got = nextMessage(ws);
  ws.send(Buffer.from('frag'), false);
  const m = await got;
  t.equal(m.isBinary, true);
  t.equal(m.bytes.length, 6 + 70_000 + 5);
  t.equal(m.bytes.subarray(0, 6).toString(), 'first-');
  t.equal(m.bytes.subarray(-5).toString(), '-last');
  t.same(pings, ['between'], 'the interleaved ping was delivered');
  await until(() => srv.pongs.includes('between'));
  t.pass('and answered with a pong carrying its payload');
  const hello = nextMessage(ws);
  ws.send(Buffer.from('hello'), false);
  t.same(await hello, { bytes: Buffer.from('hello'), isBinary: false }, 'text frame');
  ws.terminate();
});

t.test('ping/pong both ways', async (t) => {
  const srv = await startEcho();
  t.teardown(srv.stop);
  const ws = await RawWebSocket.connect(srv.url);
  const pong = new Promise<string>((resolve) => {
    ws.onPong = (b, s, e) => resolve(Buffer.from(b.subarray(s, e)).toString());
  });
  t.equal(ws.ping(Buffer.from('are-you-there')), SendResult.OK);
  t.equal(await pong, 'are-you-there', 'uWS answered our ping');
  ws.send(Buffer.from('ping:from-server'), false);
  await until(() => srv.pongs.includes('from-server'));
  t.pass('we answered the server ping');
  t.throws(() => ws.ping(new Uint8Array(126)), ClientUsageError);
  ws.terminate();
});

t.test('close: by the server (code echoed), by the client, and abnormal', async (t) => {
  const srv = await startEcho();
  t.teardown(srv.stop);
  const a = await RawWebSocket.connect(srv.url);
  const aClosed = closed(a);
  a.send(Buffer.from('close:4001:bye'), false);
  t.same(await aClosed, [4001, 'bye'], 'server close code and reason');
  t.equal(a.readyState, ReadyState.CLOSED);
  t.equal(a.send(new Uint8Array(1)), SendResult.CLOSED, 'send after close');
  t.equal(a.ping(), SendResult.CLOSED);
  t.equal(a.writeRaw(new Uint8Array(1), 0, 1), SendResult.CLOSED);

  const b = await RawWebSocket.connect(srv.url);
  const bClosed = closed(b);
  t.throws(() => b.close(1005), ClientUsageError, 'reserved code refused');
  t.throws(() => b.close(1000, 'x'.repeat(124)), ClientUsageError, 'reason too long');
  b.close(4100, 'done');
  t.equal(b.readyState, ReadyState.CLOSING);
  t.same(await bClosed, [4100, 'done'], 'the server echoed our close');
  await until(() => srv.closes.some(([c, m]) => c === 4100 && m === 'done'));
  t.pass('the server saw code and reason');
  b.close();
  t.pass('close() twice is harmless');

  const c = await RawWebSocket.connect(srv.url);
  const cClosed = closed(c);
  c.terminate();
  t.same(await cClosed, [1006, ''], 'terminate: abnormal closure');
});

t.test('handshake failures', async (t) => {
  const srv = await startEcho();
  t.teardown(srv.stop);
  await t.rejects(RawWebSocket.connect(srv.url.replace('/echo', '/nope')), {
    name: 'HandshakeError',
    status: 404,
    message: /404 Not Found instead of 101/,
  });
  await t.rejects(RawWebSocket.connect('http://127.0.0.1:1/'), HandshakeError, 'not a ws URL');
  await t.rejects(RawWebSocket.connect(srv.url, { headers: { 'x-evil': 'a\r\nb' } }), HandshakeError);
  await t.rejects(RawWebSocket.connect('ws://127.0.0.1:1/'), { code: 'ECONNREFUSED' });
  t.throws(() => RawWebSocket.connect(srv.url, { handshakeTimeoutMs: 0 }), ClientUsageError);

  const fake = await fakeServer((socket, key, path) => {
    if (path === '/bad-accept') socket.write(upgradeAnswer('not-the-key'));
    else if (path === '/no-upgrade')
      socket.write(`HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
    else if (path === '/no-connection') {
      socket.write(
        `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
      );
    } else if (path === '/extension')
      socket.write(upgradeAnswer(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
    else if (path === '/garbage') socket.write('SSH-2.0-OpenSSH\r\n\r\n');
    else if (path === '/hang-up') socket.destroy();
    else if (path === '/endless') socket.write(`HTTP/1.1 101 OK\r\nX: ${'y'.repeat(20_000)}`);
    // '/silent': never answers
  });
  t.teardown(() => fake.server.close());
  await t.rejects(RawWebSocket.connect(fake.url('/bad-accept')), { message: /wrong Sec-WebSocket-Accept/ });
  await t.rejects(RawWebSocket.connect(fake.url('/no-upgrade')), { message: /Upgrade: websocket/ });
  await t.rejects(RawWebSocket.connect(fake.url('/no-connection')), { message: /Connection: Upgrade/ });
  await t.rejects(RawWebSocket.connect(fake.url('/extension')), { message: /extension/ });
  await t.rejects(RawWebSocket.connect(fake.url('/garbage')), { message: /not an HTTP\/1.1 answer/ });
  await t.rejects(RawWebSocket.connect(fake.url('/hang-up')), { message: /closed during the handshake/ });
  await t.rejects(RawWebSocket.connect(fake.url('/endless')), { message: /too long/ });
  await t.rejects(RawWebSocket.connect(fake.url('/silent'), { handshakeTimeoutMs: 100 }), {
    name: 'HandshakeError',
    status: 0,
    message: /within 100 ms/,
  });
});

t.test('frames in the handshake packet, protocol errors, close without a code', async (t) => {
  const fake = await fakeServer((socket, key, path) => {
    if (path === '/with-frame') {
      socket.write(Buffer.concat([Buffer.from(upgradeAnswer(key)), Buffer.from([0x82, 0x02, 0x68, 0x69])]));
    } else if (path === '/masked') {
      socket.write(upgradeAnswer(key));
      socket.write(Buffer.from([0x82, 0x81, 1, 2, 3, 4, 5]));
    } else if (path === '/no-code') {
      socket.write(upgradeAnswer(key));
      socket.write(Buffer.from([0x88, 0x00]));
      socket.once('data', () => socket.end());
    } else if (path === '/no-close-reply') {
      socket.write(upgradeAnswer(key));
      socket.on('data', () => {}); // reads the client's close frame and never answers
    }
  });
  t.teardown(() => fake.server.close());

  const a = await RawWebSocket.connect(fake.url('/with-frame'));
  t.same(
    await nextMessage(a),
    { bytes: Buffer.from('hi'), isBinary: true },
    'delivered after connect resolved',
  );
  a.terminate();

  const b = await RawWebSocket.connect(fake.url('/masked'));
  const errors: string[] = [];
  b.onError = (e) => errors.push(e.message);
  t.same(await closed(b), [1002, 'masked frame from the server']);
  t.match(errors[0], /protocol error .* masked frame/);

  const c = await RawWebSocket.connect(fake.url('/no-code'));
  t.same(await closed(c), [1005, ''], 'no status code');

  const d = await RawWebSocket.connect(fake.url('/no-close-reply'), { closeTimeoutMs: 50 });
  const dClosed = closed(d);
  d.close(1000);
  t.same(await dClosed, [1006, ''], 'no close frame came back: destroyed after closeTimeoutMs');
});

t.test('backpressure: BACK_PRESSURED while the server does not read, onDrain when it does', async (t) => {
  let serverSocket: Socket | null = null;
  let received = 0;
  const fake = await fakeServer((socket, key) => {
    serverSocket = socket;
    socket.write(upgradeAnswer(key));
    socket.pause();
    socket.on('data', (d: Buffer) => {
      received += d.length;
    });
  });
  t.teardown(() => fake.server.close());
  const ws = await RawWebSocket.connect(fake.url('/hold'));
  const frame = new Uint8Array(256 * 1024);
  let result: number = SendResult.OK;
  let sent = 0;
  for (let i = 0; i < 400 && result === SendResult.OK; i++) {
    result = ws.send(frame);
    sent++;
    await new Promise((r) => setImmediate(r));
  }
  t.equal(result, SendResult.BACK_PRESSURED, `back-pressured after ${sent} frames of 256 KiB`);
  t.ok(ws.bufferedAmount > 0, 'bytes are queued');
  const drained = new Promise<void>((resolve) => {
    ws.onDrain = resolve;
  });
  (serverSocket as Socket | null)?.resume();
  await drained;
  t.pass('drained once the server read');
  t.equal(ws.send(new Uint8Array(1)), SendResult.OK);
  await until(() => received >= sent * (256 * 1024 + 14) + 7);
  t.pass('every byte arrived');
  ws.terminate();
});

/** A self-signed certificate for localhost, or null when openssl is not available. */
function selfSignedCertificate(): { key: string; cert: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'exc-wss-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ]),
      { stdio: 'ignore' },
    );
    return { key, cert };
  } catch {
    return null;
  }
}

const pem = selfSignedCertificate();

t.test(
  'wss: the same client over TLS (uWS SSLApp, self-signed certificate)',
  { skip: pem === null ? 'openssl is not available to make a certificate' : false },
  async (t) => {
    if (pem === null) return;
    const uws = loadNativeUws();
    const app = uws.SSLApp({ key_file_name: pem.key, cert_file_name: pem.cert });
    app.ws('/*', {
      maxPayloadLength: 1024 * 1024,
      message: (ws, m, isBinary) => {
        ws.send(m, isBinary);
      },
    });
    const ls = await new Promise<Uws.us_listen_socket>((resolve, reject) =>
      app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('cannot listen')))),
    );
    t.teardown(() => uws.us_listen_socket_close(ls));
    const url = `wss://localhost:${uws.us_socket_local_port(ls)}/`;
    const ws = await RawWebSocket.connect(url, { tls: { ca: readFileSync(pem.cert) } });
    const got = nextMessage(ws);
    ws.send(Buffer.alloc(100_000, 7));
    t.equal((await got).bytes.length, 100_000, 'echoed over TLS');
    ws.terminate();
    await t.rejects(
      RawWebSocket.connect(url),
      { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      'certificate checked',
    );
  },
);
