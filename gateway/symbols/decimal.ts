/**
 * Exact conversion between decimal strings ("50000.00") and integer units (ticks or lots).
 *
 * Money never touches floating point: a decimal string is parsed digit by digit into a BigInt of
 * 10^-scale units, divided by the increment (itself a decimal string), and accepted only when the
 * division is exact and the result is a safe integer (|n| <= 2^53-1). Called by the REST API and the
 * symbol table, never on the binary hot path. Thread-safety: pure functions.
 */
import { DecimalError } from '../../engine/errors.js';

const DECIMAL_RE = /^(-)?(\d+)(?:\.(\d+))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Longest decimal string accepted; keeps BigInt work bounded for hostile input. */
export const MAX_DECIMAL_LENGTH = 40;

/** A decimal parsed into an integer mantissa and a count of fraction digits: value = mantissa / 10^scale. */
export interface ScaledDecimal {
  readonly mantissa: bigint;
  readonly scale: number;
}

export function parseDecimal(text: string): ScaledDecimal {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_DECIMAL_LENGTH) {
    throw new DecimalError(`not a decimal string: ${JSON.stringify(text)}`);
  }
  const m = DECIMAL_RE.exec(text);
  if (m === null) throw new DecimalError(`not a decimal string: ${JSON.stringify(text)}`);
  const fraction = m[3] ?? '';
  const digits = BigInt(m[2] + fraction);
  return { mantissa: m[1] === '-' ? -digits : digits, scale: fraction.length };
}

/**
 * Converts `text` to a whole number of `increment`s (for example price "50000.01" with tick "0.01" is
 * 5000001). Throws DecimalError naming the value when it is malformed, not a multiple of the increment,
 * or out of the safe integer range.
 */
export function decimalToUnits(text: string, increment: string): number {
  const v = parseDecimal(text);
  const inc = parseDecimal(increment);
  if (inc.mantissa <= 0n) throw new DecimalError(`increment must be positive: ${JSON.stringify(increment)}`);
  const scale = Math.max(v.scale, inc.scale);
  const num = v.mantissa * 10n ** BigInt(scale - v.scale);
  const den = inc.mantissa * 10n ** BigInt(scale - inc.scale);
  if (num % den !== 0n) {
    throw new DecimalError(`${JSON.stringify(text)} is not a multiple of ${JSON.stringify(increment)}`);
  }
  const units = num / den;
  if (units > MAX_SAFE || units < -MAX_SAFE) {
    throw new DecimalError(`${JSON.stringify(text)} is out of range (more than 2^53-1 units)`);
  }
  return Number(units);
}

/** Formats `units` of `increment` as a decimal string with the increment's number of fraction digits. */
export function unitsToDecimal(units: number, increment: string): string {
  if (!Number.isSafeInteger(units)) throw new DecimalError(`units must be a safe integer: ${units}`);
  const inc = parseDecimal(increment);
  const total = BigInt(units) * inc.mantissa;
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(inc.scale + 1, '0');
  const whole = digits.slice(0, digits.length - inc.scale);
  const fraction = inc.scale > 0 ? `.${digits.slice(digits.length - inc.scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}
