/**
 * Exchange ids in URLs: order ids are integers 1..2^53-1 written in decimal.
 * Thread-safety: pure functions.
 */

/** Digits of Number.MAX_SAFE_INTEGER (9007199254740991). */
export const MAX_SAFE_INTEGER_STRING_LENGTH = 16;

/** The id in `text`, or 0 when it is not a decimal integer 1..2^53-1. */
export function parseOrderIdText(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) return 0;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : 0;
}
