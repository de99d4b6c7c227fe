/**
 * The exchange command line, over the REST API (RestClient). Prints JSON lines on stdout; an error is
 * one JSON line `{"error":{...}}` on stderr and exit code 1 (2 for a usage error).
 *
 *   npm run client -- place --symbol BTC/USD --side buy --price 50000 --qty 1 [--type limit] [--tif gtc]
 *                           [--stop-price P] [--display-qty Q] [--post-only] [--stp MODE] [--client-order-id N]
 *   npm run client -- cancel --id <orderId>
 *   npm run client -- order --id <orderId>        (also: trades --id <orderId>)
 *   npm run client -- orders [--symbol BTC/USD] [--status open] [--side buy] [--limit N] [--cursor C]
 *   npm run client -- symbols
 *   npm run client -- watch BTC/USD [--count N]   top of book from the market-data feed, one JSON
 *                                                  line per change (until Ctrl-C, or N lines)
 *   options: --url (default $EXCHANGE_URL or http://localhost:8080), --token (default $EXCHANGE_TOKEN)
 *
 * Decimal strings are passed as given. runCli() is the whole program (tests call it in-process); the
 * module runs it when it is the process entry. Thread-safety: a process entry point.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ExchangeError } from '../engine/errors.js';
import { DecimalFormat } from '../gateway/rest/DecimalFormat.js';
import { ClientUsageError, RestError } from './errors.js';
import { MarketDataClient } from './MarketDataClient.js';
import { type JsonValue, RestClient, type RestOrderRequest } from './RestClient.js';

const USAGE = `usage: client <command> [options]
  place    --symbol S --side buy|sell --qty Q [--price P] [--type limit|market|stop|stop_limit]
           [--tif gtc|ioc|fok|gtd] [--stop-price P] [--display-qty Q] [--post-only] [--stp MODE]
           [--client-order-id N]
  cancel   --id ORDER_ID
  order    --id ORDER_ID
  trades   --id ORDER_ID
  orders   [--symbol S] [--status open|closed|STATUS] [--side buy|sell] [--limit N] [--cursor C]
           (one JSON line per order; the next page's cursor goes to stderr)
  symbols
  watch    SYMBOL [--count N]  (top of book from /api/v1/ws/market, one JSON line per change)
options: --url URL (default $EXCHANGE_URL or http://localhost:8080), --token JWT (default $EXCHANGE_TOKEN)
prices and quantities are decimal strings, sent as given`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  symbol: { type: 'string' },
  side: { type: 'string' },
  price: { type: 'string' },
  qty: { type: 'string' },
  quantity: { type: 'string' },
  type: { type: 'string' },
  tif: { type: 'string' },
  'stop-price': { type: 'string' },
  'display-qty': { type: 'string' },
  'post-only': { type: 'boolean' },
  stp: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  'client-order-id': { type: 'string' },
  id: { type: 'string' },
  status: { type: 'string' },
  count: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Where the CLI writes: one line per call, without the newline. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const STDIO: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs one command; resolves with the exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliOutput = STDIO,
): Promise<number> {
  const print = (value: JsonValue) => io.out(JSON.stringify(value));
  const usage = (message: string) => {
    io.err(JSON.stringify({ error: { code: 'USAGE', message } }));
    io.err(USAGE);
    return 2;
  };
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help === true) {
    io.out(USAGE);
    return 0;
  }
  if (positionals[0] === 'watch') {
    if (positionals.length !== 2) return usage('watch needs exactly one symbol, e.g. watch BTC/USD');
  } else if (positionals.length !== 1) {
    return usage('expected exactly one command');
  }
  try {
    // Note: an empty variable counts as unset (`EXCHANGE_URL= npm run client ...`).
    const rest = new RestClient({
      url: values.url || env.EXCHANGE_URL || 'http://localhost:8080',
      token: values.token || env.EXCHANGE_TOKEN || undefined,
    });
    switch (positionals[0]) {
      case 'place':
        print(await rest.placeOrder(orderOf(values)));
        return 0;
      case 'cancel':
        print(await rest.cancelOrder(required(values.id, '--id')));
        return 0;
      case 'order':
        print(await rest.getOrder(required(values.id, '--id')));
        return 0;
      case 'trades':
        print(await rest.getTrades(required(values.id, '--id')));
        return 0;
      case 'symbols':
        print(await rest.symbols());
        return 0;
      case 'watch':
        return await watch(
          values.url || env.EXCHANGE_URL || 'http://localhost:8080',
          positionals[1],
          values.count,
          print,
        );
      case 'orders': {
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        const body = await rest.listOrders({
          symbol: values.symbol,
          status: values.status,
          side: values.side,
          limit,
          cursor: values.cursor,
        });
        const page = body as { orders?: JsonValue; next_cursor?: JsonValue } | null;
        const list = Array.isArray(body) ? body : page?.orders;
        if (!Array.isArray(list)) print(body);
        else for (const o of list) print(o);
        if (typeof page?.next_cursor === 'string') io.err(JSON.stringify({ next_cursor: page.next_cursor }));
        return 0;
      }
      default:
        return usage(`unknown command ${JSON.stringify(positionals[0])}`);
    }
  } catch (err) {
    if (err instanceof ClientUsageError) return usage(err.message);
    const error: Record<string, unknown> =
      err instanceof RestError
        ? { code: err.errorCode, message: err.errorMessage, status: err.status }
        : { code: (err as ExchangeError).code ?? (err as Error).name, message: (err as Error).message };
    // Note: the server's extra fields (field, reason) are kept.
    const extra = (err as RestError).body as { error?: Record<string, unknown> } | null | undefined;
    if (err instanceof RestError && typeof extra === 'object' && extra?.error !== undefined) {
      for (const [k, v] of Object.entries(extra.error)) if (!(k in error)) error[k] = v;
    }
    io.err(JSON.stringify({ error }));
    return 1;
  }
}

/** Prints the top of book of `symbol` on every change; resolves after `count` lines (or on close / Ctrl-C). */
async function watch(
  httpUrl: string,
  symbol: string,
  count: string | undefined,
  print: (value: JsonValue) => void,
): Promise<number> {
  const limit = count === undefined ? Number.POSITIVE_INFINITY : Number(count);
  if (!((limit >= 1 && Number.isInteger(limit)) || limit === Number.POSITIVE_INFINITY)) {
    throw new ClientUsageError(`--count must be an integer >= 1, got ${count}`);
  }
  const u = new URL(httpUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/api/v1/ws/market';
  const md = await MarketDataClient.connect({ url: u.href });
  const s = md.symbol(symbol);
  const price = new DecimalFormat(s.tickSize);
  const qty = new DecimalFormat(s.lotSize);
  const fmt = (p: number, f: DecimalFormat) => (p === 0 ? null : f.format(p));
  let printed = 0;
  let last = '';
  return new Promise<number>((resolveExit) => {
    const stop = (code: number) => {
      process.off('SIGINT', onSigint);
      md.close().then(() => resolveExit(code));
    };
    const onSigint = () => stop(0);
    process.on('SIGINT', onSigint);
    md.on('close', () => resolveExit(printed > 0 ? 0 : 1));
    md.on('book', (book) => {
      const bid = book.bestBid();
      const ask = book.bestAsk();
      const key = `${bid.price}/${bid.quantity}/${ask.price}/${ask.quantity}`;
      if (key === last) return;
      last = key;
      print({
        symbol: s.name,
        seq: book.seq,
        bid: fmt(bid.price, price),
        bid_qty: fmt(bid.quantity, qty),
        ask: fmt(ask.price, price),
        ask_qty: fmt(ask.quantity, qty),
        spread: bid.price > 0 && ask.price > 0 ? price.format(ask.price - bid.price) : null,
        checksum_ok: book.checksumFailures === 0,
      });
      if (++printed >= limit) stop(0);
    });
    md.subscribe(s.id, ['l2'], { conflate: true });
  });
}

function orderOf(v: Values): RestOrderRequest {
  const side = required(v.side, '--side');
  if (side !== 'buy' && side !== 'sell')
    throw new ClientUsageError(`--side must be buy or sell, got ${side}`);
  const order: RestOrderRequest = {
    symbol: required(v.symbol, '--symbol'),
    side,
    quantity: required(v.qty ?? v.quantity, '--qty'),
  };
  if (v.type !== undefined) order.order_type = v.type;
  if (v.price !== undefined) order.price = v.price;
  if (v.tif !== undefined) order.time_in_force = v.tif;
  if (v['stop-price'] !== undefined) order.stop_price = v['stop-price'];
  if (v['display-qty'] !== undefined) order.display_quantity = v['display-qty'];
  if (v['post-only'] === true) order.post_only = true;
  if (v.stp !== undefined) order.stp_mode = v.stp;
  if (v['client-order-id'] !== undefined) order.client_order_id = v['client-order-id'];
  return order;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new ClientUsageError(`${flag} is required`);
  return value;
}

if (process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      STDIO.err(JSON.stringify({ error: { code: 'INTERNAL', message: String(err) } }));
      process.exitCode = 1;
    },
  );
}
