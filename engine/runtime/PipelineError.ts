/**
 * Misuse and configuration errors of the engine runtime (shard workers, rings, dispatcher, pipeline):
 * a bad shard count or ring size, a shard index out of range, a symbol the engine refused at start-up,
 * a worker that failed to start. Expected outcomes (a full inbound ring, a dead shard, a stopped
 * pipeline) are numeric `SubmitResult` codes, never these. Every message names the offending value.
 * Thread-safety: a plain class, usable on any thread.
 */
import { ExchangeError } from '../errors.js';

export class PipelineError extends ExchangeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXC_ERR_PIPELINE', message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
