/**
 * Converts between decimal strings and integer units (ticks, lots) of one increment, fast: the
 * increment is parsed once, and the common case (at most 15 significant digits, every intermediate
 * below 2^53) is plain integer arithmetic and string slicing; anything else (and every error) goes
 * through the exact BigInt path of gateway/symbols/decimal.ts. Results, and errors, are identical to
 * `decimalToUnits(text, increment)` and `unitsToDecimal(units, increment)`.
 * One instance per symbol and field kind (price, quantity), built once. Thread-safety: immutable.
 */
import { decimalToUnits, parseDecimal, unitsToDecimal } from '../symbols/decimal.js';

const SIMPLE = /^(\d{1,15})(?:\.(\d{1,15}))?$/;
const POW10 = Array.from({ length: 31 }, (_, i) => 10 ** i);

export class DecimalFormat {
  readonly increment: string;
  private readonly mantissa: number;
  private readonly scale: number;

  constructor(increment: string) {
    const d = parseDecimal(increment);
    this.increment = increment;
    this.mantissa = Number(d.mantissa);
    this.scale = d.scale;
  }

  /** Whole units of the increment in `text`; throws DecimalError like decimalToUnits. */
  parse(text: string): number {
    const m = SIMPLE.exec(text);
    if (m !== null) {
      const fraction = m[2] ?? '';
      if (m[1].length + fraction.length <= 15) {
        const scale = Math.max(fraction.length, this.scale);
        const num = Number(m[1] + fraction) * POW10[scale - fraction.length];
        const den = this.mantissa * POW10[scale - this.scale];
        if (num <= Number.MAX_SAFE_INTEGER && den <= Number.MAX_SAFE_INTEGER && num % den === 0)
          return num / den;
      }
    }
    return decimalToUnits(text, this.increment);
  }

  /** `units` of the increment as a decimal string with the increment's fraction digits. */
  format(units: number): string {
    const total = units * this.mantissa;
    if (!(total >= 0 && total <= Number.MAX_SAFE_INTEGER && Number.isInteger(total))) {
      return unitsToDecimal(units, this.increment);
    }
    const scale = this.scale;
    let digits = String(total);
    if (scale === 0) return digits;
    if (digits.length <= scale) digits = digits.padStart(scale + 1, '0');
    return `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
}
