import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { describeConfig, loadConfig } from '../../gateway/config/config.js';
import { CorsPolicy } from '../../gateway/http/CorsPolicy.js';

const cwd = mkdtempSync(join(tmpdir(), 'exc-cors-'));

t.test('CORS_ORIGINS: unset = none; a list of origins; "*"', async (t) => {
  t.same(loadConfig({}, cwd).corsOrigins, []);
  const c = loadConfig({ CORS_ORIGINS: ' https://App.example.com/ , http://localhost:3000 ' }, cwd);
  t.same(
    c.corsOrigins,
    ['https://app.example.com', 'http://localhost:3000'],
    'trimmed, lower-cased, no slash',
  );
  t.ok(Object.isFrozen(c.corsOrigins));
  t.same(describeConfig(c).corsOrigins, c.corsOrigins);
  t.same(loadConfig({ CORS_ORIGINS: '*' }, cwd).corsOrigins, ['*']);
});

t.test('CORS_ORIGINS: a bad origin names the value', async (t) => {
  for (const bad of [
    'example.com',
    'https://x.com/path',
    'ftp://x.com',
    'https://a b.com',
    'https://u@x.com',
  ]) {
    t.throws(
      () => loadConfig({ CORS_ORIGINS: `https://ok.com,${bad}` }, cwd),
      {
        code: 'EXC_ERR_CONFIG',
        message: new RegExp(`CORS_ORIGINS.*${JSON.stringify(bad).replace(/[/.]/g, '\\$&')}`),
      },
      bad,
    );
  }
});

t.test('CorsPolicy echoes an allowed origin, "*" for any, nothing otherwise', async (t) => {
  const none = new CorsPolicy([]);
  t.equal(none.enabled, false);
  t.equal(none.allowOrigin('https://x.com'), '');
  const some = new CorsPolicy(['https://a.com']);
  t.equal(some.enabled, true);
  t.equal(some.allowOrigin('https://a.com'), 'https://a.com');
  t.equal(some.allowOrigin('https://b.com'), '');
  t.equal(some.allowOrigin(''), '');
  t.equal(new CorsPolicy(['*']).allowOrigin('https://b.com'), '*');
});
