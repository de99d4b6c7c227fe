import { spawnSync } from 'node:child_process';
import t from 'tap';
import { isNativeUws, loadNativeUws } from '../../gateway/uws.js';

t.test('the native binary loads on Node 20', async (t) => {
  const uws = loadNativeUws();
  t.type(uws.App, 'function');
  t.equal(isNativeUws(), true);
});

t.test('the fallback is detected and refused with a clear message', async (t) => {
  t.equal(isNativeUws({ '/x/node_modules/uWebSockets.js/dist/index.js': undefined }), false);
  // A fresh process with the fallback forced must refuse to load.
  const script =
    "import('./gateway/uws.ts').then(m => { try { m.loadNativeUws(); console.log('LOADED'); } catch (e) { console.log(e.code + ': ' + e.message); } })";
  const r = spawnSync(process.execPath, [...process.execArgv, '-e', script], {
    env: { ...process.env, UWS_USE_FALLBACK: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.match(r.stdout, /EXC_ERR_RUNTIME: uWebSockets\.js fell back to its pure-JS implementation/);
});
