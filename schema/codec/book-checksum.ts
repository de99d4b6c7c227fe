// BookChecksum: the CRC-32 a BookUpdate / BookSnapshot carries, computed the Kraken WebSocket v2 way
// so a client can prove its local L2 book equals the gateway's (docs/marketdata.md, "Checksum").
//
// Input: the book in integer ticks and lots. For each of the best 10 asks (lowest price first) then
// the best 10 bids (highest price first): the price written as a decimal with the symbol's tick
// precision, '.' removed, leading zeros removed, then the quantity the same way with the lot
// precision; all of it concatenated as ASCII and hashed with CRC-32 (IEEE 802.3, the zlib/PNG
// polynomial), read as an unsigned 32-bit integer.
//
// Removing the '.' and the leading zeros of "<units x increment>" written with the increment's
// fraction digits leaves the decimal digits of the integer `units * mantissa(increment)` (for tick
// "0.05", price 1000 ticks = "50.00" -> "5000" = 1000 x 5), so no decimal string is ever built: the
// digits are written straight into a preallocated byte buffer. A zero value contributes no bytes.
//
// Callers: the gateway's market-data hub (per update) and the client SDK's local book (per update).
// One instance per symbol; not thread-safe (shared scratch buffer).

import CRC32 from 'crc-32';
import { SchemaError } from '../schema-error.js';

// Note: crc-32 is CommonJS with a UMD wrapper Node cannot scan for named exports: default import.
const crc32 = CRC32.buf;

/** Levels per side that the checksum covers. */
export const CHECKSUM_DEPTH = 10;

/** Integer mantissa of a positive decimal increment: "0.01" -> 1, "0.05" -> 5, "25" -> 25. */
export function incrementMantissa(increment: string): number {
  if (!/^\d+(\.\d+)?$/.test(increment)) throw new SchemaError(`not a decimal increment: ${increment}`);
  const m = Number(increment.replace('.', ''));
  if (!Number.isSafeInteger(m) || m <= 0) throw new SchemaError(`increment must be positive: ${increment}`);
  return m;
}

export class BookChecksum {
  private readonly priceMantissa: number;
  private readonly qtyMantissa: number;
  /** 2 sides x 10 levels x (price + qty) x up to 20 digits. */
  private readonly scratch = new Uint8Array(2 * CHECKSUM_DEPTH * 2 * 20);
  private n = 0;

  constructor(tickSize: string, lotSize: string) {
    this.priceMantissa = incrementMantissa(tickSize);
    this.qtyMantissa = incrementMantissa(lotSize);
  }

  /**
   * CRC-32 of the top 10 of each side. Columns are best first; `*Count` = levels present (only the
   * first 10 are read).
   */
  compute(
    askPrice: ArrayLike<number>,
    askQty: ArrayLike<number>,
    askCount: number,
    bidPrice: ArrayLike<number>,
    bidQty: ArrayLike<number>,
    bidCount: number,
  ): number {
    this.n = 0;
    const na = Math.min(askCount, CHECKSUM_DEPTH);
    for (let i = 0; i < na; i++) {
      this.digits(askPrice[i] * this.priceMantissa);
      this.digits(askQty[i] * this.qtyMantissa);
    }
    const nb = Math.min(bidCount, CHECKSUM_DEPTH);
    for (let i = 0; i < nb; i++) {
      this.digits(bidPrice[i] * this.priceMantissa);
      this.digits(bidQty[i] * this.qtyMantissa);
    }
    return crc32(this.scratch.subarray(0, this.n)) >>> 0;
  }

  /** The exact ASCII text hashed for the same input (docs, tests, debugging; allocates). */
  text(
    askPrice: ArrayLike<number>,
    askQty: ArrayLike<number>,
    askCount: number,
    bidPrice: ArrayLike<number>,
    bidQty: ArrayLike<number>,
    bidCount: number,
  ): string {
    this.compute(askPrice, askQty, askCount, bidPrice, bidQty, bidCount);
    return Buffer.from(this.scratch.subarray(0, this.n)).toString('latin1');
  }

  /** Appends the decimal digits of `v` (a non-negative integer) without leading zeros. */
  private digits(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new SchemaError(`checksum: value ${v} is not an integer in 0..2^53-1 (price or qty x increment)`);
    }
    if (v === 0) return;
    const s = this.scratch;
    const start = this.n;
    let end = start;
    while (v > 0) {
      const q = Math.floor(v / 10);
      s[end++] = 48 + (v - q * 10);
      v = q;
    }
    this.n = end;
    // Written least significant first: reverse in place.
    for (let i = start, j = end - 1; i < j; i++, j--) {
      const c = s[i];
      s[i] = s[j];
      s[j] = c;
    }
  }
}
