/**
 * Loads uWebSockets.js and refuses to run on its slow pure-JS fallback.
 *
 * The npm build we use (`@trufflesuite/uws-js-unofficial`, aliased `uWebSockets.js`) ships native
 * binaries per Node ABI and silently falls back to a `ws`-based implementation when none matches
 * (or when UWS_USE_FALLBACK is set). That fallback is orders of magnitude slower and behaves
 * differently, so the gateway loads the module once here and checks which file Node actually loaded.
 * Thread-safety: call from the main thread at start-up.
 */

import type * as Uws from 'uWebSockets.js';
import { createRequire } from 'node:module';
import { RuntimeError } from '../engine/errors.js';

export type UwsModule = typeof Uws;

const require = createRequire(import.meta.url);

/** True when the loaded uWebSockets.js module is the native binary. */
export function isNativeUws(cache: NodeJS.Dict<NodeJS.Module> = require.cache): boolean {
  return Object.keys(cache).some((k) => /[\\/]uWebSockets\.js[\\/]binaries[\\/].+\.node$/.test(k));
}

/** Returns the native uWebSockets.js module or throws a RuntimeError explaining the fallback. */
export function loadNativeUws(): UwsModule {
  const mod = require('uWebSockets.js') as UwsModule;
  if (!isNativeUws()) {
    throw new RuntimeError(
      `uWebSockets.js fell back to its pure-JS implementation (no native binary for ${process.platform}-` +
        `${process.arch} Node ABI ${process.versions.modules}, or UWS_USE_FALLBACK is set). ` +
        'This exchange needs the native binary: run it on Node.js 20 (see engines in package.json).',
    );
  }
  return mod;
}
