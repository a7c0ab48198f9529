// Push rules (pushrules.yaml): read the ruleset; create, replace and delete user rules (placed
// with `before`/`after`); enable, disable or change the actions of any rule, server-default ones
// included. The rules themselves live in push/push-rules.ts.
import type { Context } from 'koa';
import type { RouteGroup } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { bodyObject } from '../http/json-body.ts';
import { param, queryString } from '../http/params.ts';
import type { PushRuleKind } from '../protocol/push-rules.ts';
import { findRule, isPushRuleKind } from '../push/push-rules.ts';

/** The path's kind, or 400 M_INVALID_PARAM. */
function kindOf(ctx: Context): PushRuleKind {
  const kind = param(ctx, 'kind');
  if (!isPushRuleKind(kind)) throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown push rule kind '${kind}'`);
  return kind;
}

export const pushRuleRoutes: RouteGroup = (r, deps) => {
  const rules = deps.push;
  /** The rule named by the path, or the spec's 404 M_NOT_FOUND. */
  const ruleAt = async (ctx: Context) => {
    const kind = kindOf(ctx);
    return findRule(await rules.current(requester(ctx).userId), kind, param(ctx, 'ruleId'));
  };

  r.get('/pushrules/', deps.auth, async (ctx) => {
    ctx.body = { global: await rules.current(requester(ctx).userId) };
  });
  r.get('/pushrules/global/', deps.auth, async (ctx) => {
    ctx.body = await rules.current(requester(ctx).userId);
  });
  r.get('/pushrules/global/:kind/:ruleId', deps.auth, async (ctx) => {
    ctx.body = await ruleAt(ctx);
  });
  r.put('/pushrules/global/:kind/:ruleId', deps.auth, async (ctx) => {
    const pos = { before: queryString(ctx, 'before'), after: queryString(ctx, 'after') };
    await rules.putRule(requester(ctx).userId, kindOf(ctx), param(ctx, 'ruleId'), bodyObject(ctx), pos);
    ctx.body = {};
  });
  r.delete('/pushrules/global/:kind/:ruleId', deps.auth, async (ctx) => {
    await rules.deleteRule(requester(ctx).userId, kindOf(ctx), param(ctx, 'ruleId'));
    ctx.body = {};
  });
  r.get('/pushrules/global/:kind/:ruleId/enabled', deps.auth, async (ctx) => {
    ctx.body = { enabled: (await ruleAt(ctx)).enabled };
  });
  r.put('/pushrules/global/:kind/:ruleId/enabled', deps.auth, async (ctx) => {
    const enabled = bodyObject(ctx).enabled;
    if (typeof enabled !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', "'enabled' must be a boolean");
    await rules.setEnabled(requester(ctx).userId, kindOf(ctx), param(ctx, 'ruleId'), enabled);
    ctx.body = {};
  });
  r.get('/pushrules/global/:kind/:ruleId/actions', deps.auth, async (ctx) => {
    ctx.body = { actions: (await ruleAt(ctx)).actions };
  });
  r.put('/pushrules/global/:kind/:ruleId/actions', deps.auth, async (ctx) => {
    await rules.setActions(requester(ctx).userId, kindOf(ctx), param(ctx, 'ruleId'), bodyObject(ctx).actions);
    ctx.body = {};
  });
};
