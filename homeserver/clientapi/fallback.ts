// The fallback web pages (client-server-api "Fallback" and "Login Fallback", the seed's
// "Fallback"): plain HTML that completes a UIA stage, or a whole password login, in a browser
// for clients that cannot do it themselves. Inline script is allowed only by a per-page nonce.
import { randomBytes } from 'node:crypto';
import { Router } from '../http/router.ts';
import type { Context } from 'koa';
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { param, queryString } from '../http/params.ts';
import { stageChecker } from './account.ts';
import { guardBody } from '../http/unread-body.ts';

const STAGES = ['m.login.dummy', 'm.login.registration_token', 'm.login.password'];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(ctx: Context, title: string, body: string, script = ''): void {
  const nonce = randomBytes(16).toString('base64');
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Hearth</title>
<style nonce="${nonce}">
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; color: #1d232a; background: #fbfaf8; }
  @media (prefers-color-scheme: dark) { body { color: #e8e6e3; background: #16191d; } input { background: #22262b; color: inherit; } }
  label { display: block; margin: 1rem 0 .25rem; } input { width: 100%; padding: .5rem; font: inherit; box-sizing: border-box; border: 1px solid #8a8f96; border-radius: 6px; }
  button { margin-top: 1.25rem; padding: .6rem 1.2rem; font: inherit; border: 0; border-radius: 6px; background: #c2562d; color: #fff; cursor: pointer; }
  .error { color: #c0392b; } .done { color: #2e7d32; }
</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}${script ? `<script nonce="${nonce}">${script}</script>` : ''}</body></html>`;
}

/** A stage's form is a session id and a password or token: far below this. */
const MAX_FORM_BYTES = 16 * 1024;

async function readForm(ctx: Context): Promise<URLSearchParams> {
  const tooLarge = () => new MatrixError(413, 'M_TOO_LARGE', 'Form too large');
  if (Number(ctx.get('content-length') || 0) > MAX_FORM_BYTES) throw tooLarge();
  // Leaving the loop early must not destroy the request: that would reset the connection before
  // the answer goes out. guardBody discards the rest for a while instead.
  return guardBody(ctx, async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of ctx.req.iterator({ destroyOnReturn: false })) {
      size += (c as Buffer).length;
      if (size > MAX_FORM_BYTES) throw tooLarge();
      chunks.push(c as Buffer);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  });
}

function stageForm(stage: string, session: string, error?: string): string {
  const err = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
  const fields: Record<string, string> = {
    'm.login.dummy': '<p>Press continue to go on.</p>',
    'm.login.registration_token': '<label for="token">Registration token</label><input id="token" name="token" required autocomplete="off">',
    'm.login.password':
      '<label for="user">User ID</label><input id="user" name="user" required autocomplete="username"><label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">',
  };
  return `${err}<form method="post"><input type="hidden" name="session" value="${escapeHtml(session)}">${fields[stage]}<button type="submit">Continue</button></form>`;
}

/** The exact script the spec asks for once a stage is complete. */
const AUTH_DONE = `if (window.onAuthDone) { window.onAuthDone(); } else if (window.opener && window.opener.postMessage) { window.opener.postMessage("authDone", "*"); }`;

export const fallbackRoutes: RouteGroup = (r, deps) => {
  r.get('/auth/:authType/fallback/web', async (ctx) => {
    const stage = param(ctx, 'authType');
    const session = queryString(ctx, 'session');
    if (!STAGES.includes(stage)) throw new MatrixError(404, 'M_UNRECOGNIZED', `No fallback for ${stage}`);
    if (!session || !(await deps.uia.fingerprintOf(session))) throw new MatrixError(400, 'M_MISSING_PARAM', 'A valid session is required');
    page(ctx, 'Confirm it is you', stageForm(stage, session));
  });
  r.post('/auth/:authType/fallback/web', async (ctx) => {
    const stage = param(ctx, 'authType');
    if (!STAGES.includes(stage)) throw new MatrixError(404, 'M_UNRECOGNIZED', `No fallback for ${stage}`);
    const form = await readForm(ctx);
    const session = form.get('session') ?? queryString(ctx, 'session') ?? '';
    const fingerprint = await deps.uia.fingerprintOf(session);
    if (!fingerprint) throw new MatrixError(400, 'M_MISSING_PARAM', 'A valid session is required');
    const user = form.get('user') ?? undefined;
    // A password stage authenticates the user the session's operation is about.
    const owner = user && fingerprint.includes(`:${user}`) ? user : undefined;
    const auth: Record<string, unknown> = {
      type: stage,
      session,
      token: form.get('token') ?? undefined,
      password: form.get('password') ?? undefined,
      identifier: user ? { type: 'm.id.user', user } : undefined,
    };
    try {
      await deps.uia.completeStage(session, stage, () => stageChecker(deps, ctx, owner)(stage, auth));
    } catch (err) {
      if (err instanceof MatrixError) {
        ctx.status = 401;
        page(ctx, 'Confirm it is you', stageForm(stage, session, err.message));
        return;
      }
      throw err;
    }
    page(ctx, 'Done', '<p class="done" role="status">Thank you. You can close this window and return to your app.</p>', AUTH_DONE);
  });
};

/**
 * GET /_matrix/static/client/login/ (client-server-api "Login fallback"), and the seed's path for
 * the same page, GET /_matrix/client/api/v1/login/fallback ("Fallback": it "MUST return an HTML
 * page which can perform the entire login process"): a whole password login, handing the /login
 * response to the opener.
 */
export function loginFallbackRoutes(deps: ClientApiDeps): Router {
  const r = new Router();
  const handler = (ctx: Context) => {
    const forwarded: Record<string, string> = {};
    for (const k of ['device_id', 'initial_device_display_name']) {
      const v = queryString(ctx, k);
      if (v) forwarded[k] = v;
    }
    const script = `
const form = document.getElementById('login');
const status = document.getElementById('status');
const extra = ${JSON.stringify(forwarded).replace(/</g, '\\u003c')};
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  status.textContent = 'Signing in…';
  status.className = '';
  const body = Object.assign({ type: 'm.login.password', identifier: { type: 'm.id.user', user: form.user.value }, password: form.password.value }, extra);
  try {
    const res = await fetch('/_matrix/client/v3/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) { status.textContent = json.error || 'Login failed'; status.className = 'error'; return; }
    status.textContent = 'Signed in.'; status.className = 'done';
    if (window.matrixLogin && window.matrixLogin.onLogin) window.matrixLogin.onLogin(json);
  } catch (err) { status.textContent = 'Could not reach the server'; status.className = 'error'; }
});`;
    page(
      ctx,
      `Sign in to ${deps.config.serverName}`,
      `<form id="login"><label for="user">Username</label><input id="user" name="user" required autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Sign in</button></form><p id="status" role="status" aria-live="polite"></p>`,
      script,
    );
  };
  r.get('/_matrix/static/client/login/', handler);
  r.get('/_matrix/client/api/v1/login/fallback', handler);
  r.get('/_matrix/static/client/login', (ctx) => ctx.redirect(`/_matrix/static/client/login/${ctx.querystring ? `?${ctx.querystring}` : ''}`));
  return r;
}
