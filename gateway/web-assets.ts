import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { headerValue, type Route } from '../common/http.js';

/*
 * The files of the browser apps `npm run build` bundled (scripts/web.ts writes dist/web/<app>/main.js and main.css),
 * as the gateway serves them: read once at start, revalidated by ETag, gzipped for browsers that take it. The
 * explorer and the operations console both serve their bundles through this.
 */

/** dist/web beside this file's dist/, whether the gateway runs from dist/ or from source (vitest). */
export const WEB_ASSETS_ROOT = (() => {
  const parent = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dist = basename(parent) === 'dist' ? parent : join(parent, 'dist');
  return join(dist, 'web');
})();

/** Where `npm run build` wrote the bundle of the app in web/<app>/. */
export const webAssetsDir = (app: string): string => join(WEB_ASSETS_ROOT, app);

/** The two files every app's bundle is. */
export const WEB_ASSET_TYPES = { 'main.js': 'text/javascript; charset=utf-8', 'main.css': 'text/css; charset=utf-8' } as const;
export type WebAssetName = keyof typeof WEB_ASSET_TYPES;

interface Asset {
  type: string;
  body: Buffer;
  /** Compressed at the first request that accepts gzip, not at start: most gateways never serve a browser. */
  gzip: Buffer | undefined;
  /** The content's digest, the ETag's core. */
  hash: string;
}

/** One app's bundle, loaded. */
export interface WebBundle {
  /** Both files were there: the app's page can be served. */
  readonly built: boolean;
  /** `GET`/`HEAD` of one of the files; 404 (saying `notBuilt`) when the build did not write it. */
  route(name: WebAssetName): Route;
}

/** Read `main.js` and `main.css` from `dir`; `notBuilt` is what a request for a missing one is told. */
export function loadWebBundle(dir: string, notBuilt: string): WebBundle {
  const assets = new Map<WebAssetName, Asset>();
  for (const name of Object.keys(WEB_ASSET_TYPES) as WebAssetName[]) {
    const asset = loadAsset(join(dir, name), WEB_ASSET_TYPES[name]);
    if (asset) assets.set(name, asset);
  }
  return {
    built: assets.size === Object.keys(WEB_ASSET_TYPES).length,
    route: (name) => (req, res) => {
      const asset = assets.get(name);
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'text/plain; charset=utf-8', `${req.method} is not served\n`, { allow: 'GET, HEAD' });
      if (!asset) return sendText(res, 404, 'text/plain; charset=utf-8', `${notBuilt}\n`, { 'cache-control': 'no-store' });
      const gzip = /\bgzip\b/.test(headerValue(req, 'accept-encoding') ?? '');
      // Each encoding is its own representation, so each has its own strong tag.
      const etag = gzip ? `"${asset.hash}-gz"` : `"${asset.hash}"`;
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'x-content-type-options': 'nosniff',
        etag,
        vary: 'Accept-Encoding',
        // The names are fixed (main.js, not a content hash), so a cached copy is checked each time: a 304 while the
        // build is the same, the new bundle as soon as it is not.
        'cache-control': 'no-cache',
      };
      if (notModified(headerValue(req, 'if-none-match'), etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const body = gzip ? (asset.gzip ??= gzipSync(asset.body)) : asset.body;
      res.writeHead(200, { ...headers, ...(gzip ? { 'content-encoding': 'gzip' } : {}), 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

function loadAsset(path: string, type: string): Asset | undefined {
  let body: Buffer;
  try {
    body = readFileSync(path);
  } catch {
    return undefined;
  }
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return { type, body, gzip: undefined, hash };
}

/** `If-None-Match` names `etag` (a list, `*`, or a weak form of it, which a compressing proxy may have made). */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export function sendText(res: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}

/** What a page of one web app needs around its bundle. */
export interface WebPageShell {
  title: string;
  /** The app's path, whose `main.js` and `main.css` the page loads (`/explorer`, `/ops`). */
  base: string;
  /** The element id of the page's data, and the data (embedded as JSON, read by the bundle). */
  dataId: string;
  data: unknown;
  rootId: string;
  noscript: string;
}

/** The HTML of a page: its bundle, its data, nothing inline that runs (the pages' CSP allows no inline script). */
export function renderPageShell(page: WebPageShell): string {
  // Embedded as data, not script: `<` escaped, so no text in it can end the element.
  const data = JSON.stringify(page.data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${page.base}/main.css">
<script type="application/json" id="${page.dataId}">${data}</script>
<script type="module" src="${page.base}/main.js"></script>
</head>
<body>
<noscript>${page.noscript}</noscript>
<div id="${page.rootId}"></div>
</body>
</html>
`;
}
