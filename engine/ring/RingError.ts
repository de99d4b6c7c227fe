/**
 * Misuse and configuration errors of the rings (bad capacity, bad consumer count, a buffer that is
 * not a ring, commit without a claim, a non-integer type or length). A full ring or an oversized
 * record is an expected outcome and is returned as a code (`RingResult`), never thrown.
 * Thread-safety: a plain class, usable on any thread.
 */
import { ExchangeError } from '../errors.js';

export class RingError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_RING', message);
  }
}
