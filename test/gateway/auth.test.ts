import { generateKeyPair, SignJWT } from 'jose';
import t from 'tap';
import { accountIdOf, DEMO_ACCOUNTS } from '../../gateway/auth/Accounts.js';
import { Authenticator } from '../../gateway/auth/Authenticator.js';
import { memoryLogger } from '../fixtures/gateway/memoryLogger.js';

const SECRET = 'a-test-secret-that-is-at-least-32-chars!';
const key = new TextEncoder().encode(SECRET);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

function hs256(claims: Record<string, unknown>, secret: Uint8Array = key): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret);
}

t.test('HS256 tokens: the good one passes, every bad one is refused and logged "unauthorized"', async (t) => {
  const { log, lines } = memoryLogger();
  const auth = await Authenticator.create({ secret: SECRET, log });
  t.equal(auth.demo, false);
  t.same(auth.demoTokens, []);
  const now = Math.floor(Date.now() / 1000);
  const good = await hs256({ sub: '7', exp: now + 60 });
  t.same(await auth.authenticate(`Bearer ${good}`, 'GET /x'), { ok: true, accountId: 7 });
  t.same(
    await auth.authenticate(`bearer  ${good}`, 'GET /x'),
    { ok: true, accountId: 7 },
    'cached, case-insensitive scheme',
  );

  const { privateKey } = await generateKeyPair('RS256');
  const cases: [string, string, RegExp][] = [
    ['no header', '', /missing/],
    ['not bearer', `Basic ${Buffer.from('a:b').toString('base64')}`, /not "Bearer/],
    ['garbage', 'Bearer not.a.jwt', /invalid/],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '7' })}.`, /algorithm|invalid/],
    [
      'HS512',
      `Bearer ${await new SignJWT({ sub: '7' }).setProtectedHeader({ alg: 'HS512' }).sign(key)}`,
      /algorithm/,
    ],
    [
      'RS256',
      `Bearer ${await new SignJWT({ sub: '7' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey)}`,
      /algorithm/,
    ],
    ['expired', `Bearer ${await hs256({ sub: '7', exp: now - 60 })}`, /expired/],
    ['not yet valid', `Bearer ${await hs256({ sub: '7', nbf: now + 600 })}`, /nbf/],
    [
      'wrong secret',
      `Bearer ${await hs256({ sub: '7' }, new TextEncoder().encode('x'.repeat(40)))}`,
      /signature/,
    ],
    ['missing sub', `Bearer ${await hs256({ name: 'x' })}`, /sub/],
    ['sub not an id', `Bearer ${await hs256({ sub: 'alice' })}`, /sub/],
    ['sub zero', `Bearer ${await hs256({ sub: '0' })}`, /sub/],
    ['sub too big', `Bearer ${await hs256({ sub: '4294967296' })}`, /sub/],
  ];
  for (const [name, header, re] of cases) {
    const before = lines.length;
    const r = await auth.authenticate(header, 'POST /api/v1/orders');
    t.equal(r.ok, false, name);
    if (!r.ok) t.match(r.message, re, name);
    const logged = lines.slice(before).map((l) => JSON.parse(l));
    t.match(logged, [{ msg: 'unauthorized', level: 40, route: 'POST /api/v1/orders' }], `${name} logged`);
  }
});

t.test('a not-before token is checked on every use (never cached)', async (t) => {
  const { log } = memoryLogger();
  const auth = await Authenticator.create({ secret: SECRET, log });
  const now = Math.floor(Date.now() / 1000);
  const token = await hs256({ sub: '3', nbf: now - 1 });
  t.same(await auth.authenticate(`Bearer ${token}`, 'x'), { ok: true, accountId: 3 });
  t.same(await auth.authenticate(`Bearer ${token}`, 'x'), { ok: true, accountId: 3 });
});

t.test('the token cache is bounded and honours exp', async (t) => {
  const { log } = memoryLogger();
  const auth = await Authenticator.create({ secret: SECRET, log, cacheSize: 2 });
  for (let i = 1; i <= 4; i++) {
    const r = await auth.authenticate(`Bearer ${await hs256({ sub: String(i) })}`, 'x');
    t.same(r, { ok: true, accountId: i });
  }
  const short = await hs256({ sub: '9', exp: Math.floor(Date.now() / 1000) + 1 });
  t.same(await auth.authenticate(`Bearer ${short}`, 'x'), { ok: true, accountId: 9 });
  await new Promise((r) => setTimeout(r, 1100));
  const again = await auth.authenticate(`Bearer ${short}`, 'x');
  t.equal(again.ok, false, 'expired even though it was cached');
});

t.test('demo mode: two demo accounts with tokens; no header acts as the first (warned once)', async (t) => {
  const { log, lines } = memoryLogger();
  const auth = await Authenticator.create({ secret: undefined, log });
  t.equal(auth.demo, true);
  t.same(
    auth.demoTokens.map((d) => d.account),
    DEMO_ACCOUNTS,
  );
  t.same(await auth.authenticate('', 'x'), { ok: true, accountId: 1 });
  t.same(await auth.authenticate('', 'x'), { ok: true, accountId: 1 });
  t.equal(lines.filter((l) => l.includes('demo mode')).length, 1, 'warned once');
  for (const { account, token } of auth.demoTokens) {
    t.same(await auth.authenticate(`Bearer ${token}`, 'x'), { ok: true, accountId: account.id });
  }
  const other = await hs256({ sub: '1' });
  t.equal(
    (await auth.authenticate(`Bearer ${other}`, 'x')).ok,
    false,
    'a token is verified even in demo mode',
  );
  t.same(await auth.authenticate(`Bearer ${await auth.sign({ id: 5, name: 'e' }, '1h')}`, 'x'), {
    ok: true,
    accountId: 5,
  });
});

t.test('accountIdOf', async (t) => {
  t.equal(accountIdOf('1'), 1);
  t.equal(accountIdOf('4294967295'), 4294967295);
  for (const bad of ['', '0', '01', '-1', '1.5', '4294967296', 7, null, undefined])
    t.equal(accountIdOf(bad), 0);
});
