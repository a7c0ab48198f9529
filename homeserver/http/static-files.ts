// Serves the built web client (config.webRoot) at '/' on the client listener, so that a browser
// and the Electron window load the same app from the homeserver's own origin.
import { createReadStream, realpathSync } from 'node:fs';
import { realpath, stat as statFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/**
 * For the HTML page only: scripts and styles from our origin alone (no inline script, no inline
 * style: the renderer is built to need neither), requests to our own origin, no framing.
 * 'wasm-unsafe-eval' lets the page compile WebAssembly (our own, from our origin: the end-to-end
 * encryption of matrix-js-sdk's Rust crypto); it allows no eval() or new Function() of script.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "media-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
  "form-action 'none'",
].join('; ');

/** Vite names built assets `name-<hash>.ext`: their content never changes under that name. */
const HASHED_ASSET = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * Compressed copies the renderer's build writes next to its larger files (`app-<hash>.js.br`,
 * `.gz`), best first: served as the file itself, with Content-Encoding, to a client that accepts
 * them. Compressing once at build time costs nothing per request.
 */
const PRECOMPRESSED: ReadonlyArray<{ encoding: string; suffix: string }> = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
];

/** Paths that belong to the Matrix APIs: never answered with a file, even a missing one. */
const API_PATH = /^\/(_matrix|\.well-known)(\/|$)/;

export function staticFiles(webRoot: string) {
  const root = realpathSync(webRoot);

  return async function serveStatic(ctx: Context, next: Next): Promise<void> {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || API_PATH.test(ctx.path)) return next();
    const found = await resolveInside(root, ctx.path === '/' ? '/index.html' : ctx.path);
    const foundStat = found === undefined ? undefined : await statFile(found).catch(() => undefined);
    if (found === undefined || foundStat === undefined || !foundStat.isFile()) return next();

    const ext = path.extname(found).toLowerCase();
    let file = found;
    let stat = foundStat;
    let encoding = '';
    const variants = await compressedVariants(root, found);
    if (variants.length > 0) {
      // Caches must keep the encodings apart.
      ctx.vary('Accept-Encoding');
      // Our order, not the header's: browsers list gzip before br, at equal weight.
      const variant = variants.find((v) => ctx.acceptsEncodings(v.encoding) === v.encoding);
      if (variant) {
        ({ file, stat, encoding } = variant);
        ctx.set('Content-Encoding', encoding);
      }
    }
    ctx.status = 200;
    ctx.type = CONTENT_TYPES[ext] ?? 'application/octet-stream';
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', HASHED_ASSET.test(ctx.path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ext === '.html') {
      ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    }
    ctx.set('ETag', `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}${encoding && `-${encoding}`}"`);
    ctx.lastModified = stat.mtime;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.length = stat.size;
    // A HEAD answer has headers only; opening the file would leak a stream nobody reads.
    if (ctx.method === 'GET') ctx.body = createReadStream(file);
  };
}

/** The precompressed copies of `file` that exist, best first: regular files, inside `root` too. */
async function compressedVariants(root: string, file: string): Promise<Array<{ encoding: string; file: string; stat: Stats }>> {
  const found = await Promise.all(
    PRECOMPRESSED.map(async ({ encoding, suffix }) => {
      const real = await realpath(file + suffix).catch(() => undefined);
      if (real === undefined || !isInside(root, real)) return undefined;
      const stat = await statFile(real).catch(() => undefined);
      return stat?.isFile() ? { encoding, file: real, stat } : undefined;
    }),
  );
  return found.filter((v) => v !== undefined);
}

/**
 * The file a URL path names under `root`, or undefined when it could escape it: undecodable
 * percent-escapes, NUL bytes, backslashes, dot-files and '..' segments are refused outright, and
 * a symlink is followed only if its target is still inside `root`.
 */
export async function resolveInside(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || !decoded.startsWith('/')) return undefined;
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s.startsWith('.'))) return undefined;
  const candidate = path.join(root, ...segments);
  if (!isInside(root, candidate)) return undefined;
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return undefined;
  }
  return isInside(root, real) ? real : undefined;
}

function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
