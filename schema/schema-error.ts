// SchemaError: misuse of the protocol codec (a value an encoder cannot represent, a bad verifier
// limit, a batch used wrongly). Expected outcomes on the wire — a bad frame from a client — are never
// exceptions: the verifier returns a numeric VerifyResult instead. Thrown only on the caller's thread.
import { ExchangeError } from '../engine/errors.js';

export class SchemaError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_SCHEMA', message);
  }
}
