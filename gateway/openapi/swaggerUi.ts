/**
 * Swagger UI at `/swagger-ui`, served from the installed `swagger-ui-dist` package (no CDN, works
 * offline), configured to load `/api-docs/openapi.json`.
 *
 * Only the files the page needs are served (a fixed list, so no path ever reaches the file system
 * from a URL); each is read once on first request and kept in memory. The initializer is our own
 * script (not inline, so a strict Content-Security-Policy can be added later) and turns the online
 * spec validator badge off. Thread-safety: main thread only.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { HttpRouter } from '../http/HttpRouter.js';
import { errorReply, type Reply } from '../http/Reply.js';

export const SWAGGER_UI_PATH = '/swagger-ui';
export const OPENAPI_PATH = '/api-docs/openapi.json';

const require = createRequire(import.meta.url);

/** File name -> content type, the whole set served from swagger-ui-dist. */
const JS = 'text/javascript; charset=utf-8';
const FILES: ReadonlyMap<string, string> = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['index.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', JS],
  ['swagger-ui-standalone-preset.js', JS],
  ['favicon-16x16.png', 'image/png'],
  ['favicon-32x32.png', 'image/png'],
]);

const CACHE = [['cache-control', 'public, max-age=3600']] as const;

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Exchange REST API - Swagger UI</title>
  <link rel="stylesheet" href="${SWAGGER_UI_PATH}/swagger-ui.css">
  <link rel="stylesheet" href="${SWAGGER_UI_PATH}/index.css">
  <link rel="icon" type="image/png" href="${SWAGGER_UI_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${SWAGGER_UI_PATH}/swagger-ui-bundle.js" charset="utf-8"></script>
  <script src="${SWAGGER_UI_PATH}/swagger-ui-standalone-preset.js" charset="utf-8"></script>
  <script src="${SWAGGER_UI_PATH}/swagger-initializer.js" charset="utf-8"></script>
</body>
</html>
`;

const INITIALIZER_JS = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_PATH}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;

/** The directory of the installed swagger-ui-dist package. */
export function swaggerUiDistDir(): string {
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

export function registerSwaggerUi(router: HttpRouter): void {
  const dir = swaggerUiDistDir();
  const cache = new Map<string, Promise<Uint8Array>>();
  const index = (): Reply => ({ status: 200, contentType: 'text/html; charset=utf-8', body: INDEX_HTML });
  router.get(SWAGGER_UI_PATH, index, { documented: false });
  router.get(`${SWAGGER_UI_PATH}/`, index, { documented: false });
  router.get(
    `${SWAGGER_UI_PATH}/:file`,
    async (req): Promise<Reply> => {
      const file = req.params[0];
      if (file === 'swagger-initializer.js') {
        return { status: 200, contentType: JS, body: INITIALIZER_JS };
      }
      if (file === 'index.html') return index();
      const type = FILES.get(file);
      if (type === undefined)
        return errorReply(404, 'NOT_FOUND', `no file ${JSON.stringify(file)} in Swagger UI`);
      let bytes = cache.get(file);
      if (bytes === undefined) {
        bytes = readFile(join(dir, file)).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
        cache.set(file, bytes);
        bytes.catch(() => cache.delete(file));
      }
      return { status: 200, contentType: type, body: await bytes, headers: CACHE };
    },
    { documented: false },
  );
}
