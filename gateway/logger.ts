/**
 * The process logger: pino, JSON lines on stdout; human-readable through pino-pretty only when stdout
 * is a TTY and NODE_ENV is not production. Called by server.ts once; components take a child logger.
 * Thread-safety: one logger per thread (workers make their own with the same options).
 */
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config/config.js';

export type { Logger };

export function createLogger(level: LogLevel, production: boolean, name = 'exchange'): Logger {
  const pretty = !production && process.stdout.isTTY === true;
  return pino({
    name,
    level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
