/**
 * Errors of the PostgreSQL journal (journal/pg/*), each with a stable code and a message naming the
 * offending value. Expected outcomes (PostgreSQL down, a batch to retry) are not errors: the writer
 * retries them; these mean a misuse or a configuration / schema problem.
 * Thread-safety: plain classes.
 */
import { ExchangeError } from '../../engine/errors.js';

/** A migration file is malformed, missing, or differs from the one already applied. */
export class MigrationError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_PG_MIGRATION', message);
  }
}

/** The writer was misused (a bad option, an event after `full()`, a shard id out of range). */
export class PgWriterError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_PG_WRITER', message);
  }
}

/** The embedded PostgreSQL could not be prepared, started or stopped. */
export class EmbeddedDatabaseError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_PG_EMBEDDED', message);
  }
}

/** A history query got a bad argument (limit, cursor). */
export class HistoryQueryError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_PG_HISTORY', message);
  }
}
