import t from 'tap';
import { ClientUsageError } from '../../client/errors.js';
import { FrameParser, type FrameSink } from '../../client/ws/FrameParser.js';
import { MaskSource, maskedFrameSize, Opcode, writeMaskedFrame } from '../../client/ws/frame.js';

/** An unmasked frame as a server sends it. */
function serverFrame(b0: number, payload: Uint8Array, lengthBytes?: 2 | 4 | 10): Uint8Array {
  const n = payload.length;
  const hdr = lengthBytes ?? (n < 126 ? 2 : n < 65536 ? 4 : 10);
  const f = new Uint8Array(hdr + n);
  f[0] = b0;
  if (hdr === 2) f[1] = n;
  else if (hdr === 4) {
    f[1] = 126;
    f[2] = n >>> 8;
    f[3] = n & 0xff;
  } else {
    f[1] = 127;
    new DataView(f.buffer).setBigUint64(2, BigInt(n));
  }
  f.set(payload, hdr);
  return f;
}

function pattern(n: number, seed = 1): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 31 + seed) & 0xff;
  return p;
}

type Event = [string, ...unknown[]];

class Recorder implements FrameSink {
  readonly events: Event[] = [];
  message(bytes: Uint8Array, start: number, end: number, isBinary: boolean): void {
    this.events.push(['message', isBinary, Buffer.from(bytes.subarray(start, end)).toString('hex')]);
  }
  control(opcode: number, bytes: Uint8Array, start: number, end: number): void {
    this.events.push(['control', opcode, Buffer.from(bytes.subarray(start, end)).toString('hex')]);
  }
  fail(code: number, reason: string): void {
    this.events.push(['fail', code, reason]);
  }
}

function feed(stream: Uint8Array, chunk: number, max?: number): Event[] {
  const r = new Recorder();
  const p = new FrameParser(r, max);
  for (let i = 0; i < stream.length; i += chunk)
    p.push(stream.subarray(i, Math.min(stream.length, i + chunk)));
  return r.events;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

t.test(
  'frames of every length encoding, fragments and interleaved control frames, split anywhere',
  async (t) => {
    const big = pattern(70_000, 3);
    const mid = pattern(300, 5);
    const stream = concat([
      serverFrame(0x82, pattern(5)),
      serverFrame(0x82, new Uint8Array(0)),
      serverFrame(0x81, new TextEncoder().encode('hi')),
      serverFrame(0x82, mid),
      serverFrame(0x82, pattern(125)),
      serverFrame(0x82, pattern(126)),
      serverFrame(0x82, pattern(65_535)),
      serverFrame(0x82, big),
      serverFrame(0x82, pattern(7), 10), // a small payload in the 64-bit length form is legal
      serverFrame(0x02, pattern(100, 7)), // fragment 1 of 3 (binary, no FIN)
      serverFrame(0x89, new TextEncoder().encode('mid')), // ping between fragments
      serverFrame(0x00, pattern(70_000, 9)), // continuation, large
      serverFrame(0x80, pattern(3, 11)), // last continuation
      serverFrame(0x8a, new Uint8Array([1, 2])),
      serverFrame(0x88, new Uint8Array([0x03, 0xe8, 0x62, 0x79, 0x65])),
    ]);
    const expected = feed(stream, stream.length);
    t.same(
      expected.map((e) => [e[0], e[1]]),
      [
        ['message', true],
        ['message', true],
        ['message', false],
        ['message', true],
        ['message', true],
        ['message', true],
        ['message', true],
        ['message', true],
        ['message', true],
        ['control', Opcode.PING],
        ['message', true],
        ['control', Opcode.PONG],
        ['control', Opcode.CLOSE],
      ],
    );
    t.equal(expected[7][2], Buffer.from(big).toString('hex'), '64-bit length payload intact');
    t.equal(
      expected[10][2],
      Buffer.concat([pattern(100, 7), pattern(70_000, 9), pattern(3, 11)]).toString('hex'),
      'fragments reassembled',
    );
    for (const chunk of [1, 2, 3, 5, 9, 64, 1000, 4096, 65_536]) {
      t.same(feed(stream, chunk), expected, `same events with ${chunk}-byte chunks`);
    }
  },
);

t.test('protocol errors fail once and stop the parser', async (t) => {
  const cases: [string, Uint8Array, number, RegExp][] = [
    ['masked frame', new Uint8Array([0x82, 0x81, 1, 2, 3, 4, 5]), 1002, /masked/],
    ['RSV bits', serverFrame(0xc2, pattern(1)), 1002, /RSV/],
    ['unknown data opcode', serverFrame(0x83, pattern(1)), 1002, /opcode 3/],
    ['unknown control opcode', serverFrame(0x8b, pattern(1)), 1002, /opcode 11/],
    ['long control frame', serverFrame(0x89, pattern(126)), 1002, /control frame/],
    ['fragmented control frame', serverFrame(0x09, pattern(1)), 1002, /control frame/],
    ['continuation without start', serverFrame(0x80, pattern(1)), 1002, /continuation/],
    [
      'new message inside a fragmented one',
      concat([serverFrame(0x02, pattern(1)), serverFrame(0x82, pattern(1))]),
      1002,
      /inside a fragmented/,
    ],
    ['frame above the limit', serverFrame(0x82, pattern(200)), 1009, /limit 150/],
    [
      'fragments above the limit',
      concat([serverFrame(0x02, pattern(100)), serverFrame(0x80, pattern(100))]),
      1009,
      /fragmented message > limit 150/,
    ],
    ['64-bit length above 2^53-1', new Uint8Array([0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0]), 1009, /2\^53/],
  ];
  for (const [name, bytes, code, reason] of cases) {
    for (const chunk of [1, bytes.length]) {
      const events = feed(concat([bytes, serverFrame(0x82, pattern(3))]), chunk, 150);
      const fails = events.filter((e) => e[0] === 'fail');
      t.equal(fails.length, 1, `${name} (${chunk}-byte chunks): one failure`);
      t.equal(fails[0]?.[1], code, `${name}: close code`);
      t.match(String(fails[0]?.[2]), reason, `${name}: reason`);
      t.same(events[events.length - 1][0], 'fail', `${name}: nothing after the failure`);
    }
  }
  const r = new Recorder();
  const p = new FrameParser(r);
  p.stop();
  p.push(serverFrame(0x82, pattern(3)));
  t.equal(r.events.length, 0, 'a stopped parser ignores input');
  t.equal(p.isStopped, true);
  t.throws(() => new FrameParser(r, 10), ClientUsageError);
});

t.test('writeMaskedFrame: header, key and masked payload for every length form', async (t) => {
  const masks = new MaskSource(8);
  for (const n of [0, 1, 2, 3, 4, 5, 7, 125, 126, 127, 65_535, 65_536, 70_001]) {
    const payload = pattern(n, n);
    const out = new Uint8Array(maskedFrameSize(n) + 3);
    const m = masks.next();
    const end = writeMaskedFrame(out, 3, 0x82, payload, 0, n, masks.bytes, m);
    t.equal(end, out.length, `length ${n}: frame size`);
    t.equal(out[3], 0x82);
    t.equal(out[4] & 0x80, 0x80, 'mask bit set');
    const len7 = out[4] & 0x7f;
    const hdr = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
    const view = new DataView(out.buffer, 3);
    const len = len7 < 126 ? len7 : len7 === 126 ? view.getUint16(2) : Number(view.getBigUint64(2));
    t.equal(len, n, `length ${n} encoded as ${hdr}-byte header`);
    const key = out.subarray(3 + hdr, 3 + hdr + 4);
    t.same([...key], [...masks.bytes.subarray(m, m + 4)], 'key written');
    const unmasked = out.subarray(3 + hdr + 4).map((b, i) => b ^ key[i & 3]);
    t.equal(
      Buffer.compare(Buffer.from(unmasked), Buffer.from(payload)),
      0,
      `length ${n}: payload round-trips`,
    );
  }
  t.throws(() => new MaskSource(6), ClientUsageError);
});
