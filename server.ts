/**
 * The process entry point: reads the configuration, starts the components and wires them.
 *
 * Stages (numbered; nothing else knows the topology):
 *   1. configuration and logging
 *   2. native uWebSockets.js check
 *   3. gateway (gateway/app.ts: REST, auth, metrics, OpenAPI/Swagger UI, order core), then the engine
 *      pipeline (engine/pipeline.ts: shard workers, rings and the journal) feeding the gateway's
 *      event handler; the shards first recover from DATA_DIR (snapshot + WAL replay, progress and
 *      duration logged), the journal then continues each shard's WAL (DURABILITY async or sync);
 *      the gateway attaches it and listens on PORT
 *   4. graceful stop on SIGINT/SIGTERM: close the listen socket, drain the pipeline (the journal
 *      fsyncs the last commands and closes the WAL), exit
 * Thread-safety: main thread only.
 */

import { ExchangeError } from './engine/errors.js';
import { Pipeline } from './engine/pipeline.js';
import { Gateway } from './gateway/app.js';
import { type Config, describeConfig, loadConfig, loadDotEnv } from './gateway/config/config.js';
import { createLogger, type Logger } from './gateway/logger.js';
import { seedFromRecovery } from './gateway/orders/RecoveredOrders.js';
import { loadNativeUws } from './gateway/uws.js';
import { OrderEntryGateway } from './gateway/ws/OrderEntryGateway.js';
import { openDatabase } from './journal/pg/Database.js';
import { EmbeddedDatabase } from './journal/pg/EmbeddedDatabase.js';
import { History } from './journal/pg/History.js';
import { JournalMonitor } from './journal/pg/JournalMonitor.js';

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

  // 3a. the database: the embedded PostgreSQL (default; data under DATA_DIR/pg), DATABASE_URL, or
  //     none (DB=none: WAL only); migrated under an advisory lock before anything writes to it
  const db = await openDatabase(
    { database: config.database, databaseUrl: config.databaseUrl, dataDir: config.dataDir },
    (msg) => log.info({ database: config.database }, msg),
  );

  // 3b. gateway, engine pipeline (with the journal: WAL, and the PostgreSQL writer when there is a
  //     database), listen
  const gateway = await Gateway.create({
    history: db === undefined ? undefined : new History(db.sql),
    uws,
    log,
    symbols: config.symbols,
    jwtSecret: config.jwtSecret,
    corsOrigins: config.corsOrigins,
  });
  // Binary WebSocket order entry on /api/v1/ws (gateway/ws), on the same app and event stream.
  const orderEntry = OrderEntryGateway.mount(gateway, {
    log,
    symbols: config.symbols,
    corsOrigins: config.corsOrigins,
    ...config.ws,
  });
  const pipeline = await Pipeline.start({
    shards: config.shards,
    symbols: config.symbols,
    onEvent: gateway.onEvent,
    log,
    idle: config.idleStrategy,
    // One publication per shard per event-loop turn for the commands of every socket read in it.
    deferCommits: true,
    commandRingBytes: config.commandRingBytes,
    eventRingBytes: config.eventRingBytes,
    maxOrders: config.shardMaxOrders,
    maxSymbols: SHARD_MAX_SYMBOLS,
    maxAccounts: SHARD_MAX_ACCOUNTS,
    // The WAL is on whenever the server runs (DB=none only means no PostgreSQL).
    journal: {
      dataDir: config.dataDir,
      durability: config.durability,
      segmentBytes: config.walSegmentBytes,
      allowGaps: config.recoveryAllowGaps,
      stateHash: config.recoveryStateHash,
      // Snapshots (and WAL retention) always; the PostgreSQL writer when there is a database.
      tasks: [
        new URL(`./journal/snapshot/snapshotJournalTask${EXTENSION}`, import.meta.url),
        ...(db === undefined ? [] : [new URL(`./journal/pg/pgJournalTask${EXTENSION}`, import.meta.url)]),
      ],
      taskOptions: {
        databaseUrl: db?.url,
        maxOrders: config.shardMaxOrders,
        maxSymbols: SHARD_MAX_SYMBOLS,
        maxAccounts: SHARD_MAX_ACCOUNTS,
      },
    },
  });
  gateway.attach(pipeline);
  orderEntry.attach(pipeline);
  // Note: the shards recovered into a discarding sink; their open orders rebuild the gateway's views
  // (orders, client order ids, the market-data book mirror) before the first client connects.
  for (let k = 0; k < config.shards; k++) {
    const recovered = pipeline.recovered(k);
    if (recovered === undefined || recovered.openOrders.length === 0) continue;
    const events = seedFromRecovery(k, recovered, gateway.onEvent);
    log.info({ shard: k, events }, 'gateway views rebuilt from the recovered open orders');
  }
  // Note: PostgreSQL lag (durable WAL seq - persisted seq) for health and metrics, polled off the hot path.
  const monitor =
    db === undefined
      ? undefined
      : new JournalMonitor({
          sql: db.sql,
          shards: config.shards,
          durableSeq: (k) => pipeline.durableSeq(k),
          registry: gateway.metrics.registry,
        });
  if (monitor !== undefined) {
    monitor.start();
    gateway.health.add('journal', () => monitor.health());
  }
  let port: number;
  try {
    port = await gateway.listen(config.host, config.port);
  } catch {
    log.fatal({ host: config.host, port: config.port }, 'cannot listen (port in use?)');
    await pipeline.stop();
    await db?.stop();
    process.exit(1);
  }
  log.info({ url: `http://${config.host}:${port}`, port, health: '/api/v1/health' }, 'exchange listening');
  if (gateway.auth.demo) {
    for (const { account, token } of gateway.auth.demoTokens) {
      log.info(
        { account_id: account.id, name: account.name, token },
        'demo account token (JWT_SECRET unset; requests without a token act as account 1)',
      );
    }
  }

  // 4. graceful stop
  installStop(log, async () => {
    gateway.close();
    // Sessions end before the engine drains, so their cancel-on-disconnect commands are processed.
    orderEntry.close();
    await pipeline.stop();
    orderEntry.detach();
    gateway.detach();
    // Note: after the pipeline: the journal's PostgreSQL writer drained into it on stop.
    monitor?.stop();
    await db?.stop();
  });
}

/** Task modules load from the sources (`.ts`, tests) or from dist (`.js`), like the workers. */
const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** Engine capacities per shard besides SHARD_MAX_ORDERS (the journal's replicas need the same). */
const SHARD_MAX_SYMBOLS = 1024;
const SHARD_MAX_ACCOUNTS = 2 ** 16;

/** How long a graceful stop may take before the process gives up and exits non-zero. */
const STOP_TIMEOUT_MS = 30_000;

function installStop(log: Logger, stop: () => Promise<void>): void {
  // This stop owns SIGINT/SIGTERM: it stops the embedded database last, after the drain.
  EmbeddedDatabase.releaseSignals();
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      // Note: a second signal means the operator does not want to wait for the drain.
      log.warn({ signal }, 'second signal during stop: exiting now');
      log.flush();
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    // A drain that hangs (a stuck shard) must not keep the process alive forever.
    setTimeout(() => {
      log.error({ timeout_ms: STOP_TIMEOUT_MS }, 'graceful stop timed out: exiting');
      log.flush();
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    stop().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
