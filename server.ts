/**
 * The process entry point: reads the configuration, starts the components and wires them.
 *
 * Stages (numbered; nothing else knows the topology):
 *   1. configuration and logging
 *   2. native uWebSockets.js check
 *   3. HTTP/WebSocket gateway on PORT
 *   4. graceful stop on SIGINT/SIGTERM: stop intake, close the listen socket, exit
 * Engine workers, rings and the journal join this wiring as their issues land.
 * Thread-safety: main thread only.
 */

import { ExchangeError } from './engine/errors.js';
import { type Config, describeConfig, loadConfig, loadDotEnv } from './gateway/config/config.js';
import { createLogger, type Logger } from './gateway/logger.js';
import { loadNativeUws } from './gateway/uws.js';

async function main(): Promise<void> {
  // 1. configuration and logging
  const dotenv = loadDotEnv();
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ExchangeError) {
      process.stderr.write(`configuration error [${err.code}]: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, config.production);
  log.info({ config: describeConfig(config), dotenv }, 'starting exchange');

  // 2. native uWebSockets.js check
  const uws = loadNativeUws();

  // 3. gateway
  const app = uws.App();
  const startedAt = Date.now();
  app.get('/api/v1/health', (res) => {
    res.cork(() => {
      res.writeHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok', uptime_ms: Date.now() - startedAt }));
    });
  });
  app.any('/*', (res, req) => {
    const path = req.getUrl();
    res.cork(() => {
      res.writeStatus('404 Not Found');
      res.writeHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${path}` } }));
    });
  });
  const listenSocket = await new Promise<unknown>((resolve) => app.listen(config.host, config.port, resolve));
  if (!listenSocket) {
    log.fatal({ host: config.host, port: config.port }, 'cannot listen (port in use?)');
    process.exit(1);
  }
  const port = uws.us_socket_local_port(listenSocket as Parameters<typeof uws.us_socket_local_port>[0]);
  log.info({ url: `http://${config.host}:${port}`, port, health: '/api/v1/health' }, 'exchange listening');

  // 4. graceful stop
  installStop(log, () =>
    uws.us_listen_socket_close(listenSocket as Parameters<typeof uws.us_listen_socket_close>[0]),
  );
}

function installStop(log: Logger, stop: () => void): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    stop();
    log.flush();
    process.exit(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
