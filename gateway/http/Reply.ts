/**
 * What a REST handler returns: status, content type, body, extra headers; and the JSON error shape of
 * the whole API, `{ "error": { "code": "...", "message": "..." } }` (plus optional fields such as the
 * engine's numeric `reason`).
 *
 * Handlers build replies; `HttpRouter` writes them inside `res.cork`. Thread-safety: pure functions.
 */

export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Uint8Array;
  readonly headers?: readonly (readonly [string, string])[];
  /** Close the connection after the reply (e.g. a 413 whose body was not read). */
  readonly close?: boolean;
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function json(
  status: number,
  value: unknown,
  headers?: readonly (readonly [string, string])[],
): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value), headers };
}

export function errorReply(
  status: number,
  code: string,
  message: string,
  extra?: Record<string, unknown>,
  headers?: readonly (readonly [string, string])[],
): Reply {
  return json(status, { error: { code, message, ...extra } }, headers);
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const STATUS_LINES = new Map<number, string>();

/** "201 Created": the form uWebSockets.js' writeStatus wants (cached per code). */
export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_TEXT[status] ?? 'Status'}`;
    STATUS_LINES.set(status, line);
  }
  return line;
}
