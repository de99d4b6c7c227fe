/**
 * Accounts: the engine's numeric account id (u32, 1..2^32-1) and a display name.
 *
 * A JWT's `sub` claim is the account id as a decimal string ("1"); the name is for people (logs,
 * start-up banner, the optional `name` claim). Accounts need no registration: any id with a valid
 * token can trade. The zero-config start creates the two demo accounts below.
 * Thread-safety: immutable data and pure functions.
 */

export interface Account {
  readonly id: number;
  readonly name: string;
}

/** The zero-config demo accounts; unauthenticated REST calls act as the first one in demo mode. */
export const DEMO_ACCOUNTS: readonly Account[] = Object.freeze([
  Object.freeze({ id: 1, name: 'demo-alice' }),
  Object.freeze({ id: 2, name: 'demo-bob' }),
]);

export const MAX_ACCOUNT_ID = 0xffff_ffff;

/** Parses a `sub` claim into an account id; 0 when it is not a decimal integer in 1..2^32-1. */
export function accountIdOf(sub: unknown): number {
  if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub)) return 0;
  const id = Number(sub);
  return id <= MAX_ACCOUNT_ID ? id : 0;
}
