/**
 * Cross-origin resource sharing for the REST API, from the CORS_ORIGINS setting.
 *
 * An empty list (the default) sends no CORS headers: browsers then allow same-origin pages only (the
 * bundled Swagger UI is same-origin). `*` allows every origin; otherwise the request's Origin must
 * equal one of the listed origins exactly and is echoed back with `Vary: Origin`. Credentials
 * (cookies) are never allowed: the API authenticates with a bearer header.
 * Thread-safety: immutable after construction.
 */

export const CORS_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
export const CORS_HEADERS = 'authorization, content-type';
export const CORS_MAX_AGE = '600';

export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.origins = new Set(origins);
  }

  get enabled(): boolean {
    return this.any || this.origins.size > 0;
  }

  /** The Access-Control-Allow-Origin value for a request's Origin header, or '' for none. */
  allowOrigin(origin: string): string {
    if (origin === '') return '';
    if (this.any) return '*';
    return this.origins.has(origin) ? origin : '';
  }
}
