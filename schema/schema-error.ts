// SchemaError: misuse of the protocol codec (a value an encoder cannot represent, a bad verifier
// limit, a batch used wrongly). Expected outcomes on the wire — a bad frame from a client — are never
// exceptions: the verifier returns a numeric VerifyResult instead. Thrown only on the caller's thread.

export class SchemaError extends Error {
  readonly code = 'EXC_ERR_SCHEMA';

  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}
