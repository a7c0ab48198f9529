// POST /v1/login/get_token (login_token.yaml): a signed-in user mints a single-use, short-lived
// m.login.token to sign another device in, after proving it is them again through UIA.
import type { RouteGroup, ClientApiDeps } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { stageChecker } from './account.ts';

/**
 * Login tokens one user may mint: one a minute, as login_token.yaml suggests ("a maximum of 1
 * request per minute"), with a burst of 3 so a family signing in a phone and a tablet together
 * does not wait. Only minted tokens count, not the UIA round trips before them.
 */
export const LOGIN_TOKENS_PER_MINUTE = 1;
export const LOGIN_TOKEN_BURST = 3;

/** One limiter per client app: route groups are mounted once per prefix, and must share it. */
const limiters = new WeakMap<ClientApiDeps, RateLimiter>();
function limiterFor(deps: ClientApiDeps): RateLimiter {
  let l = limiters.get(deps);
  if (!l) limiters.set(deps, (l = new RateLimiter(LOGIN_TOKENS_PER_MINUTE / 60, LOGIN_TOKEN_BURST)));
  return l;
}

/**
 * Whether `userId` may mint login tokens: the server allows it (`login_via_existing_session`), and
 * the user has a password for the UIA stage. The spec leaves the default to the server; it is on,
 * because every token costs the user's password again (MUST re-prompt), so it gives nothing a
 * password does not already give, and it spares typing that password on a second device.
 */
export async function canMintLoginToken(deps: ClientApiDeps, userId: string): Promise<boolean> {
  if (deps.config.loginViaExistingSession === false) return false;
  const user = await deps.users.getUser(userId);
  return user !== undefined && !user.deactivated && user.password_hash !== null;
}

export const loginTokenRoutes: RouteGroup = (r, deps) => {
  r.post('/login/get_token', deps.auth, async (ctx) => {
    const me = requester(ctx);
    const body = bodyObject(ctx);
    if (!(await canMintLoginToken(deps, me.userId))) {
      throw new MatrixError(400, 'M_FORBIDDEN', 'This account cannot create login tokens on this server');
    }
    const limiter = limiterFor(deps);
    const wait = limiter.wait(me.userId);
    if (wait > 0) throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many login tokens requested', { retry_after_ms: wait });
    // A UIA session is completed for this one request and deleted: each token needs the password again.
    await deps.uia.require({
      auth: body.auth,
      flows: [{ stages: ['m.login.password'] }],
      fingerprint: `get_token:${me.userId}`,
      checkStage: stageChecker(deps, ctx, me.userId),
    });
    limiter.take(me.userId);
    const { token, expiresInMs } = await deps.users.createLoginToken(me.userId);
    ctx.body = { login_token: token, expires_in_ms: expiresInMs };
  });
};
