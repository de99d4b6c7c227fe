/**
 * Bearer-token authentication of REST requests: HS256 JWTs verified with jose, algorithm pinned.
 *
 * - `JWT_SECRET` set: every order route needs `Authorization: Bearer <jwt>`; the token must be HS256
 *   (alg `none` and every other algorithm are refused), signed with the secret, inside its `exp` /
 *   `nbf` window when those claims are present, with `sub` = the account id ("1".."4294967295").
 * - `JWT_SECRET` unset (zero-config demo mode): a random per-process secret signs one token per demo
 *   account (printed at start-up); a request without an Authorization header acts as the first demo
 *   account (a warning is logged once); a request that does present a token is verified as above.
 *
 * Every refusal is logged at warn level with the message "unauthorized" and the reason.
 * Verified tokens are cached (bounded, until their `exp`) so repeated calls with one token skip the
 * HMAC. Thread-safety: main thread only.
 */
import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Logger } from '../logger.js';
import { type Account, accountIdOf, DEMO_ACCOUNTS } from './Accounts.js';

export type AuthResult =
  | { readonly ok: true; readonly accountId: number }
  | { readonly ok: false; readonly message: string };

export interface DemoToken {
  readonly account: Account;
  readonly token: string;
}

export interface AuthenticatorOptions {
  /** HS256 secret; undefined = demo mode. */
  readonly secret: string | undefined;
  readonly log: Logger;
  /** Verified tokens remembered (default 10 000). */
  readonly cacheSize?: number;
}

const ALGORITHMS = ['HS256'];
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const DEMO_TOKEN_LIFETIME = '30d';

interface Cached {
  readonly accountId: number;
  /** Milliseconds since the epoch; Infinity without `exp`. */
  readonly expiresAt: number;
}

export class Authenticator {
  /** True in the zero-config demo mode (no JWT_SECRET). */
  readonly demo: boolean;
  readonly demoTokens: readonly DemoToken[];
  private readonly key: Uint8Array;
  private readonly log: Logger;
  private readonly cache: Map<string, Cached>;
  private readonly cacheSize: number;
  private warnedAnonymous: boolean;

  private constructor(
    key: Uint8Array,
    demo: boolean,
    demoTokens: readonly DemoToken[],
    options: AuthenticatorOptions,
  ) {
    this.key = key;
    this.demo = demo;
    this.demoTokens = demoTokens;
    this.log = options.log;
    this.cache = new Map();
    this.cacheSize = options.cacheSize ?? 10_000;
    this.warnedAnonymous = false;
  }

  static async create(options: AuthenticatorOptions): Promise<Authenticator> {
    if (options.secret !== undefined) {
      return new Authenticator(new TextEncoder().encode(options.secret), false, [], options);
    }
    const key = new Uint8Array(randomBytes(32));
    const tokens = await Promise.all(
      DEMO_ACCOUNTS.map(async (account) => ({
        account,
        token: await signToken(key, account, DEMO_TOKEN_LIFETIME),
      })),
    );
    return new Authenticator(key, true, tokens, options);
  }

  /** Signs an HS256 token for `account` valid for `expiresIn` (jose time span: "2h", "30d"). */
  sign(account: Account, expiresIn: string = DEMO_TOKEN_LIFETIME): Promise<string> {
    return signToken(this.key, account, expiresIn);
  }

  /**
   * Authenticates a request from its Authorization header ('' when absent). `where` (method and
   * route) only goes into the log line of a refusal.
   */
  async authenticate(authorization: string, where: string): Promise<AuthResult> {
    if (authorization === '') {
      if (this.demo) {
        if (!this.warnedAnonymous) {
          this.warnedAnonymous = true;
          this.log.warn(
            { account: DEMO_ACCOUNTS[0] },
            'demo mode (JWT_SECRET unset): requests without a token act as the first demo account',
          );
        }
        return { ok: true, accountId: DEMO_ACCOUNTS[0].id };
      }
      return this.refuse('missing Authorization: Bearer token', where);
    }
    const m = BEARER.exec(authorization);
    if (m === null) return this.refuse('Authorization header is not "Bearer <token>"', where);
    const token = m[1];
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit !== undefined) {
      if (hit.expiresAt > now) return { ok: true, accountId: hit.accountId };
      this.cache.delete(token);
    }
    let payload: { sub?: unknown; exp?: unknown };
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ALGORITHMS }));
    } catch (err) {
      return this.refuse(describeJoseError(err), where);
    }
    const accountId = accountIdOf(payload.sub);
    if (accountId === 0) {
      return this.refuse(
        `token "sub" must be an account id 1..4294967295, got ${JSON.stringify(payload.sub)}`,
        where,
      );
    }
    // Note: tokens carrying `nbf` are not cached, so the not-before check always runs on them.
    if (!('nbf' in payload)) this.remember(token, accountId, payload.exp);
    return { ok: true, accountId };
  }

  private remember(token: string, accountId: number, exp: unknown): void {
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    const expiresAt = typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY;
    this.cache.set(token, { accountId, expiresAt });
  }

  private refuse(message: string, where: string): AuthResult {
    this.log.warn({ reason: message, route: where }, 'unauthorized');
    return { ok: false, message };
  }
}

function signToken(key: Uint8Array, account: Account, expiresIn: string): Promise<string> {
  return new SignJWT({ name: account.name })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(account.id))
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key);
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `token claim "${err.claim}" invalid: ${err.reason}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed (only HS256)';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof errors.JOSEError) return `token invalid (${err.code})`;
  return 'token invalid';
}
