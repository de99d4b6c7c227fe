/**
 * The bench's reference peer: a bare uWebSockets.js server that echoes every binary frame unchanged.
 * No verification, no decoding: what a WebSocket round trip costs on this machine with nothing else.
 *
 * Run as a child process by ws.bench.ts (the server must not share the load generator's event loop):
 *   node dist/bench/ws/echoServer.js     -> prints one JSON line {"msg":"echo listening","port":N}
 * Listens on 127.0.0.1, port from PORT (0 = ephemeral), path /* (any). Stops on SIGTERM/SIGINT or when
 * stdin closes (the parent died). Thread-safety: main thread of its own process.
 */
import { loadNativeUws } from '../../gateway/uws.js';

const uws = loadNativeUws();
const app = uws.App();
let sent = 0;
let dropped = 0;

app.ws('/*', {
  maxPayloadLength: 16 * 1024 * 1024,
  // Note: a large limit on purpose; the generator bounds what is in flight, so nothing is dropped.
  maxBackpressure: 256 * 1024 * 1024,
  closeOnBackpressureLimit: 0,
  idleTimeout: 0,
  compression: uws.DISABLED,
  message: (ws, message, isBinary) => {
    if (ws.send(message, isBinary) === 2) dropped++;
    else sent++;
  },
});

app.listen('127.0.0.1', Number(process.env.PORT ?? 0), (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write('echo server: cannot listen\n');
    process.exit(1);
  }
  const port = uws.us_socket_local_port(listenSocket);
  process.stdout.write(`${JSON.stringify({ msg: 'echo listening', port })}\n`);
  const stop = () => {
    uws.us_listen_socket_close(listenSocket);
    process.stdout.write(`${JSON.stringify({ msg: 'echo stopped', sent, dropped })}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
});
