/**
 * Errors of the write-ahead log, each with a stable code:
 *   WalGapError     EXC_ERR_WAL_GAP      a missing, duplicate or out-of-order sequence (or a corrupt
 *                                         record followed by more segments) in the middle of the log:
 *                                         start-up refuses unless RECOVERY_ALLOW_GAPS=1
 *   WalFormatError  EXC_ERR_WAL_FORMAT   a segment file that is not ours (bad magic, version, shard,
 *                                         header checksum, name), or a misused API (bad argument)
 *   WalIoError      EXC_ERR_WAL_IO       the file system refused (open, write, fsync, truncate)
 * A torn or corrupt record at the very end of the log is not an error: it is what a crash leaves, and
 * recovery truncates it (docs/durability.md). Every message names the file, the sequence or the value.
 * Thread-safety: plain classes, usable on any thread.
 */
import { ExchangeError } from '../../engine/errors.js';

export class WalGapError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_WAL_GAP', message);
  }
}

export class WalFormatError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_WAL_FORMAT', message);
  }
}

export class WalIoError extends ExchangeError {
  constructor(message: string, cause?: unknown) {
    super('EXC_ERR_WAL_IO', message);
    if (cause !== undefined) this.cause = cause;
  }
}
