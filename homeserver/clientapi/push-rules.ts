// Push rules, read side (pushrules.yaml): every user has the server-default ruleset
// (protocol/push-rules.ts). Clients such as matrix-js-sdk fetch it before their first /sync and
// retry until they get it. Changing rules (PUT/DELETE) is not supported yet.
import type { Context } from 'koa';
import type { RouteGroup } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { param } from '../http/params.ts';
import { defaultPushRules, PUSH_RULE_KINDS, type PushRuleKind } from '../protocol/push-rules.ts';
import type { JsonObject } from '../protocol/types.ts';

/** The rule named by the path's scope, kind and ruleId, or the spec's 404 M_NOT_FOUND. */
function ruleAt(ctx: Context): JsonObject {
  const kind = param(ctx, 'kind');
  if (!PUSH_RULE_KINDS.includes(kind as PushRuleKind)) throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown push rule kind '${kind}'`);
  const ruleId = param(ctx, 'ruleId');
  const found = defaultPushRules(requester(ctx).userId)[kind as PushRuleKind].find((r) => r.rule_id === ruleId);
  if (!found) throw new MatrixError(404, 'M_NOT_FOUND', `No push rule '${ruleId}' of kind '${kind}'`);
  return found;
}

export const pushRuleRoutes: RouteGroup = (r, deps) => {
  r.get('/pushrules/', deps.auth, (ctx) => {
    ctx.body = { global: defaultPushRules(requester(ctx).userId) };
  });
  r.get('/pushrules/global/', deps.auth, (ctx) => {
    ctx.body = defaultPushRules(requester(ctx).userId);
  });
  r.get('/pushrules/global/:kind/:ruleId', deps.auth, (ctx) => {
    ctx.body = ruleAt(ctx);
  });
  r.get('/pushrules/global/:kind/:ruleId/enabled', deps.auth, (ctx) => {
    ctx.body = { enabled: ruleAt(ctx).enabled };
  });
  r.get('/pushrules/global/:kind/:ruleId/actions', deps.auth, (ctx) => {
    ctx.body = { actions: ruleAt(ctx).actions };
  });
};
