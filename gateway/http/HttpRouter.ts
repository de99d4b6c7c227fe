/**
 * The REST plumbing over uWebSockets.js: registers routes, copies what a handler needs out of the
 * request, reads bounded bodies, runs sync or async handlers, and writes their replies safely.
 *
 * The uWebSockets.js rules, enforced here once so handlers cannot get them wrong:
 *  - everything needed from `req` (URL, query, parameters, headers) is copied before any await:
 *    `req` is only valid during the synchronous handler call;
 *  - `res.onAborted` is attached before the handler runs, and nothing is written after an abort
 *    (the client went away: writing to `res` would throw);
 *  - every reply is written inside `res.cork` (one syscall, and required outside uWS callbacks);
 *  - every request is answered exactly once: a throwing or rejecting handler gets a 500 JSON reply,
 *    so no code path returns without answering (which would kill the process).
 * Bodies: at most `maxBodyBytes` (a larger Content-Length or stream gets 413 and the connection is
 * closed). Each request is counted by `observer` with its route *pattern* (not the raw URL).
 * Thread-safety: main thread only (uWebSockets.js is single-threaded).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../logger.js';
import { CORS_HEADERS, CORS_MAX_AGE, CORS_METHODS, type CorsPolicy } from './CorsPolicy.js';
import { errorReply, type Reply, statusLine } from './Reply.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A request as handlers see it: plain data copied from uWS before any await. */
export interface HttpRequestInfo {
  readonly method: Method;
  /** The route pattern that matched, e.g. "/api/v1/orders/:id". */
  readonly route: string;
  readonly url: string;
  /** Raw query string without "?" ('' when none). */
  readonly query: string;
  /** Route parameters in pattern order (raw, still percent-encoded). */
  readonly params: readonly string[];
  /** Authorization header ('' when absent). */
  readonly authorization: string;
  /** The body of a route registered with `body: true` (empty when none was sent). */
  readonly body: Uint8Array;
}

export type Handler = (req: HttpRequestInfo) => Reply | Promise<Reply>;

export interface RouteOptions {
  /** Read the request body (POST, PUT). Default false. */
  readonly body?: boolean;
  /** Listed in the OpenAPI document (false for static files such as Swagger UI's). Default true. */
  readonly documented?: boolean;
}

export interface RouteInfo {
  readonly method: Method;
  readonly pattern: string;
  readonly documented: boolean;
}

/** Receives one call per answered request (metrics). */
export interface HttpObserver {
  request(method: string, route: string, status: number, seconds: number): void;
  aborted(method: string, route: string): void;
}

export interface HttpRouterOptions {
  readonly log: Logger;
  readonly cors: CorsPolicy;
  readonly observer: HttpObserver;
  /** Largest request body accepted (default 16 KiB). */
  readonly maxBodyBytes?: number;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** The method upper-cased, or OTHER (keeps the metrics' label set bounded). */
function knownMethod(m: string): string {
  const u = m.toUpperCase();
  return METHODS.has(u) ? u : 'OTHER';
}

/** Route label of requests no route matched. */
export const UNMATCHED_ROUTE = '/*';
const EMPTY = new Uint8Array(0);

interface State {
  aborted: boolean;
  done: boolean;
}

export class HttpRouter {
  readonly routes: RouteInfo[];
  readonly maxBodyBytes: number;
  private readonly app: TemplatedApp;
  private readonly log: Logger;
  private readonly cors: CorsPolicy;
  private readonly observer: HttpObserver;

  constructor(app: TemplatedApp, options: HttpRouterOptions) {
    this.app = app;
    this.routes = [];
    this.log = options.log;
    this.cors = options.cors;
    this.observer = options.observer;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024;
  }

  get(pattern: string, handler: Handler, options: RouteOptions = {}): void {
    this.add('GET', pattern, handler, options);
  }

  post(pattern: string, handler: Handler, options: RouteOptions = {}): void {
    this.add('POST', pattern, handler, { body: true, ...options });
  }

  put(pattern: string, handler: Handler, options: RouteOptions = {}): void {
    this.add('PUT', pattern, handler, options);
  }

  del(pattern: string, handler: Handler, options: RouteOptions = {}): void {
    this.add('DELETE', pattern, handler, options);
  }

  /**
   * Registers the CORS preflight (`OPTIONS /*`) and the JSON 404 for every unmatched request. Call
   * once, after every route (uWS matches static segments before parameters before wildcards).
   */
  finish(): void {
    this.app.options('/*', (res, req) => {
      const started = performance.now();
      const allow = this.cors.allowOrigin(req.getHeader('origin'));
      res.cork(() => {
        res.writeStatus(statusLine(204));
        if (allow !== '') {
          res.writeHeader('access-control-allow-origin', allow);
          res.writeHeader('access-control-allow-methods', CORS_METHODS);
          res.writeHeader('access-control-allow-headers', CORS_HEADERS);
          res.writeHeader('access-control-max-age', CORS_MAX_AGE);
          if (allow !== '*') res.writeHeader('vary', 'Origin');
        }
        res.writeHeader('allow', CORS_METHODS);
        res.endWithoutBody();
      });
      this.observer.request('OPTIONS', UNMATCHED_ROUTE, 204, (performance.now() - started) / 1000);
    });
    this.app.any('/*', (res, req) => {
      const started = performance.now();
      const method = knownMethod(req.getMethod());
      const url = req.getUrl();
      const allow = this.cors.allowOrigin(req.getHeader('origin'));
      const reply = errorReply(404, 'NOT_FOUND', `no route for ${method} ${url}`);
      this.write(res, reply, allow);
      this.observer.request(method, UNMATCHED_ROUTE, 404, (performance.now() - started) / 1000);
    });
  }

  private add(method: Method, pattern: string, handler: Handler, options: RouteOptions): void {
    this.routes.push({ method, pattern, documented: options.documented ?? true });
    const paramCount = pattern.split('/').filter((s) => s.startsWith(':')).length;
    const readBody = options.body === true;
    const uwsHandler = (res: HttpResponse, req: HttpRequest): void => {
      const started = performance.now();
      const state: State = { aborted: false, done: false };
      // Note: everything from req is copied now; req is invalid after this call returns.
      const url = req.getUrl();
      const query = req.getQuery() ?? '';
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i));
      const authorization = req.getHeader('authorization');
      const allow = this.cors.allowOrigin(req.getHeader('origin'));
      const contentLength = readBody ? req.getHeader('content-length') : '';
      res.onAborted(() => {
        state.aborted = true;
        this.observer.aborted(method, pattern);
      });
      const run = (body: Uint8Array): void => {
        const info: HttpRequestInfo = { method, route: pattern, url, query, params, authorization, body };
        let out: Reply | Promise<Reply>;
        try {
          out = handler(info);
        } catch (err) {
          out = this.internalError(err, method, pattern);
        }
        if (out instanceof Promise) {
          out.then(
            (reply) => this.finishRequest(res, state, reply, allow, method, pattern, started),
            (err: unknown) =>
              this.finishRequest(
                res,
                state,
                this.internalError(err, method, pattern),
                allow,
                method,
                pattern,
                started,
              ),
          );
        } else {
          this.finishRequest(res, state, out, allow, method, pattern, started);
        }
      };
      if (!readBody) {
        run(EMPTY);
        return;
      }
      const declared = contentLength === '' ? 0 : Number(contentLength);
      if (declared > this.maxBodyBytes) {
        this.finishRequest(res, state, this.tooLarge(), allow, method, pattern, started);
        return;
      }
      let body: Uint8Array | undefined;
      let size = 0;
      res.onData((chunk, isLast) => {
        if (state.done || state.aborted) return;
        size += chunk.byteLength;
        if (size > this.maxBodyBytes) {
          this.finishRequest(res, state, this.tooLarge(), allow, method, pattern, started);
          return;
        }
        // Note: uWS neuters `chunk` when this callback returns: copy what we keep.
        if (body === undefined) {
          body = new Uint8Array(isLast ? chunk.byteLength : Math.max(declared, chunk.byteLength));
        } else if (size > body.length) {
          const grown = new Uint8Array(Math.min(this.maxBodyBytes, Math.max(size, body.length * 2)));
          grown.set(body);
          body = grown;
        }
        body.set(new Uint8Array(chunk), size - chunk.byteLength);
        if (isLast) run(body.length === size ? body : body.subarray(0, size));
      });
    };
    switch (method) {
      case 'GET':
        this.app.get(pattern, uwsHandler);
        break;
      case 'POST':
        this.app.post(pattern, uwsHandler);
        break;
      case 'PUT':
        this.app.put(pattern, uwsHandler);
        break;
      case 'DELETE':
        this.app.del(pattern, uwsHandler);
        break;
    }
  }

  private finishRequest(
    res: HttpResponse,
    state: State,
    reply: Reply,
    allow: string,
    method: string,
    route: string,
    started: number,
  ): void {
    if (state.done || state.aborted) return;
    state.done = true;
    this.write(res, reply, allow);
    this.observer.request(method, route, reply.status, (performance.now() - started) / 1000);
  }

  private write(res: HttpResponse, reply: Reply, allow: string): void {
    res.cork(() => {
      res.writeStatus(statusLine(reply.status));
      res.writeHeader('content-type', reply.contentType);
      if (allow !== '') {
        res.writeHeader('access-control-allow-origin', allow);
        if (allow !== '*') res.writeHeader('vary', 'Origin');
      }
      if (reply.headers !== undefined) for (const [k, v] of reply.headers) res.writeHeader(k, v);
      res.end(reply.body, reply.close === true);
    });
  }

  private tooLarge(): Reply {
    return {
      ...errorReply(413, 'PAYLOAD_TOO_LARGE', `request body larger than ${this.maxBodyBytes} bytes`),
      close: true,
    };
  }

  private internalError(err: unknown, method: string, route: string): Reply {
    this.log.error({ err, method, route }, 'request handler failed');
    return errorReply(500, 'INTERNAL', 'internal error');
  }
}
