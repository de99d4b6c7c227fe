/**
 * The symbol table: every tradable instrument with its tick size, lot size and pre-trade limits.
 *
 * Loaded once at start-up (from the SYMBOLS file or the demo set) and then read-only. Decimal
 * settings are kept as strings for display and converted once to integer ticks and lots for the
 * engine. Thread-safety: immutable after construction; workers receive the plain `SymbolSpec[]`.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../engine/errors.js';
import { decimalToUnits } from './decimal.js';

/** One symbol as configured (decimal strings) and as the engine sees it (integer ticks and lots). */
export interface SymbolSpec {
  /** Wire id, 1..65535, unique. */
  readonly id: number;
  /** Display name such as "BTC/USD", unique. */
  readonly name: string;
  /** Price increment in quote currency, e.g. "0.01". */
  readonly tickSize: string;
  /** Quantity increment in base currency, e.g. "0.0001". */
  readonly lotSize: string;
  /** Smallest and largest order quantity, in lots. */
  readonly minQtyLots: number;
  readonly maxQtyLots: number;
  /** Largest order notional, in ticks x lots (price ticks times quantity lots). */
  readonly maxNotional: number;
  /** Price band around the reference price, in basis points (0 disables the band). */
  readonly priceBandBps: number;
  /** Reference price in ticks until the first trade sets one (0 = none). */
  readonly referencePriceTicks: number;
}

/** The JSON form of a symbol in a SYMBOLS file. */
export interface SymbolFileEntry {
  id: number;
  name: string;
  tickSize: string;
  lotSize: string;
  minQty?: string;
  maxQty: string;
  maxNotional?: string;
  priceBandBps?: number;
  referencePrice?: string;
}

/** The demo set used when SYMBOLS is not given. */
export const DEMO_SYMBOLS: readonly SymbolFileEntry[] = [
  {
    id: 1,
    name: 'BTC/USD',
    tickSize: '0.01',
    lotSize: '0.0001',
    maxQty: '1000',
    maxNotional: '100000000',
    priceBandBps: 1000,
    referencePrice: '50000.00',
  },
  {
    id: 2,
    name: 'ETH/USD',
    tickSize: '0.01',
    lotSize: '0.001',
    maxQty: '10000',
    maxNotional: '100000000',
    priceBandBps: 1000,
    referencePrice: '3000.00',
  },
  {
    id: 3,
    name: 'SOL/USD',
    tickSize: '0.001',
    lotSize: '0.01',
    maxQty: '100000',
    maxNotional: '50000000',
    priceBandBps: 1000,
    referencePrice: '150.000',
  },
];

const NAME_RE = /^[A-Z0-9]{1,12}\/[A-Z0-9]{1,12}$/;
export const MAX_SYMBOL_ID = 0xffff;

export class SymbolTable {
  readonly symbols: readonly SymbolSpec[];
  private readonly byName: Map<string, SymbolSpec>;
  private readonly byId: Map<number, SymbolSpec>;

  constructor(entries: readonly SymbolFileEntry[], source = 'symbols') {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new ConfigError(`${source}: expected a non-empty JSON array of symbols`);
    }
    this.byName = new Map();
    this.byId = new Map();
    this.symbols = entries.map((e, i) => toSpec(e, `${source}[${i}]`));
    for (const s of this.symbols) {
      if (this.byId.has(s.id)) throw new ConfigError(`${source}: duplicate symbol id ${s.id}`);
      if (this.byName.has(s.name)) throw new ConfigError(`${source}: duplicate symbol name "${s.name}"`);
      this.byId.set(s.id, s);
      this.byName.set(s.name, s);
    }
  }

  static fromFile(path: string): SymbolTable {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`SYMBOLS="${path}": cannot read a JSON symbol list (${(err as Error).message})`);
    }
    return new SymbolTable(parsed as SymbolFileEntry[], `SYMBOLS="${path}"`);
  }

  static demo(): SymbolTable {
    return new SymbolTable(DEMO_SYMBOLS, 'demo symbols');
  }

  byNameOrUndefined(name: string): SymbolSpec | undefined {
    return this.byName.get(name);
  }

  byIdOrUndefined(id: number): SymbolSpec | undefined {
    return this.byId.get(id);
  }
}

/** The shard that owns a symbol: a fixed rule, symbol id modulo the shard count. */
export function shardOf(symbolId: number, shards: number): number {
  return symbolId % shards;
}

function toSpec(e: SymbolFileEntry, where: string): SymbolSpec {
  if (e === null || typeof e !== 'object') throw new ConfigError(`${where}: expected an object`);
  if (!Number.isInteger(e.id) || e.id < 1 || e.id > MAX_SYMBOL_ID) {
    throw new ConfigError(`${where}: id must be an integer 1..${MAX_SYMBOL_ID}, got ${JSON.stringify(e.id)}`);
  }
  if (typeof e.name !== 'string' || !NAME_RE.test(e.name)) {
    throw new ConfigError(`${where}: name must look like "BTC/USD", got ${JSON.stringify(e.name)}`);
  }
  const convert = (field: string, text: string | undefined, increment: string, fallback: number): number => {
    if (text === undefined) return fallback;
    try {
      const v = decimalToUnits(text, increment);
      if (v < 0) throw new ConfigError('negative');
      return v;
    } catch (err) {
      throw new ConfigError(
        `${where} (${e.name}): ${field} ${JSON.stringify(text)}: ${(err as Error).message}`,
      );
    }
  };
  const tick = convert('tickSize', e.tickSize, e.tickSize, 0);
  const lot = convert('lotSize', e.lotSize, e.lotSize, 0);
  if (tick !== 1 || lot !== 1)
    throw new ConfigError(`${where}: tickSize and lotSize must be positive decimals`);
  const minQtyLots = convert('minQty', e.minQty, e.lotSize, 1);
  const maxQtyLots = convert('maxQty', e.maxQty, e.lotSize, 0);
  if (minQtyLots < 1 || maxQtyLots < minQtyLots) {
    throw new ConfigError(`${where} (${e.name}): need 0 < minQty <= maxQty, got ${e.minQty} and ${e.maxQty}`);
  }
  // maxNotional is given in quote currency; in engine units it is price ticks x quantity lots.
  const notionalIncrement = multiplyDecimals(e.tickSize, e.lotSize);
  const maxNotional = convert('maxNotional', e.maxNotional, notionalIncrement, Number.MAX_SAFE_INTEGER);
  const band = e.priceBandBps ?? 0;
  if (!Number.isInteger(band) || band < 0 || band > 100_000) {
    throw new ConfigError(`${where} (${e.name}): priceBandBps must be an integer 0..100000, got ${band}`);
  }
  return {
    id: e.id,
    name: e.name,
    tickSize: e.tickSize,
    lotSize: e.lotSize,
    minQtyLots,
    maxQtyLots,
    maxNotional,
    priceBandBps: band,
    referencePriceTicks: convert('referencePrice', e.referencePrice, e.tickSize, 0),
  };
}

/** Exact product of two decimal strings, as a decimal string ("0.01" x "0.0001" = "0.000001"). */
function multiplyDecimals(a: string, b: string): string {
  const [ai, af = ''] = a.split('.');
  const [bi, bf = ''] = b.split('.');
  const scale = af.length + bf.length;
  const product = (BigInt(ai + af) * BigInt(bi + bf)).toString().padStart(scale + 1, '0');
  return scale === 0
    ? product
    : `${product.slice(0, product.length - scale)}.${product.slice(product.length - scale)}`;
}
