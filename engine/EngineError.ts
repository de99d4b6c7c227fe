/**
 * Misuse and configuration errors of the engine, each with a stable `code`.
 *
 * Expected outcomes (a rejected order, a full pool) are numeric reason codes in events, never these:
 * an EngineError means the caller or its configuration is wrong. Every message names the bad value.
 * Thread-safety: plain classes, usable on any thread.
 */
import { ExchangeError } from './errors.js';

export class EngineError extends ExchangeError {}

/** An engine construction parameter is out of range. */
export class EngineConfigError extends EngineError {
  constructor(message: string) {
    super('EXC_ERR_ENGINE_CONFIG', message);
  }
}

/** A record does not fit in the buffer it is read from or written to. */
export class RecordBoundsError extends EngineError {
  constructor(message: string) {
    super('EXC_ERR_RECORD_BOUNDS', message);
  }
}
