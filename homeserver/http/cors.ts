import type { Context, Next } from 'koa';

// client-server-api/_index.md "Web Browser Clients": every endpoint answers CORS with these headers,
// and OPTIONS pre-flight requests are answered without auth.
const HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

export async function cors(ctx: Context, next: Next): Promise<void> {
  if (!ctx.path.startsWith('/_matrix/') && !ctx.path.startsWith('/.well-known/')) return next();
  ctx.set(HEADERS);
  if (ctx.method === 'OPTIONS') {
    ctx.status = 204;
    return;
  }
  await next();
}
