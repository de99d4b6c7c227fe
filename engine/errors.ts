/**
 * Misuse and configuration errors, grouped by area, each with a stable `code`.
 *
 * The one base class of the whole process (engine, gateway, journal): the engine is the lowest layer,
 * so the file lives here and the gateway imports it.
 *
 * Expected outcomes on hot paths are numeric result codes, never these: an ExchangeError means the
 * program or its configuration is wrong. Every message names the offending value.
 * Thread-safety: plain classes, usable on any thread.
 */
export class ExchangeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value (environment variable, symbols file) is missing or malformed. */
export class ConfigError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_CONFIG', message);
  }
}

/** A decimal string cannot be converted exactly to integer ticks or lots. */
export class DecimalError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_DECIMAL', message);
  }
}

/** The runtime does not meet a hard requirement (for example the native uWebSockets.js binary). */
export class RuntimeError extends ExchangeError {
  constructor(message: string) {
    super('EXC_ERR_RUNTIME', message);
  }
}
