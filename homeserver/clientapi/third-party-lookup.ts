// Third-party networks (third_party_lookup.yaml). Protocols come from application services'
// bridges (modules/third_party_networks.md); Hearth runs none yet, so it knows no protocol and no
// portal: the answers say so rather than pretend.
import type { RouteGroup } from './deps.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { param, queryString } from '../http/params.ts';

const unknownProtocol = (protocol: string) => new MatrixError(404, 'M_NOT_FOUND', `No bridge on this server serves the protocol '${protocol}'`);

export const thirdPartyLookupRoutes: RouteGroup = (r, deps) => {
  // "The protocols supported by the homeserver": none, an empty object.
  r.get('/thirdparty/protocols', deps.auth, (ctx) => {
    ctx.body = {};
  });
  r.get('/thirdparty/protocol/:protocol', deps.auth, (ctx) => {
    throw unknownProtocol(param(ctx, 'protocol'));
  });
  r.get('/thirdparty/location/:protocol', deps.auth, (ctx) => {
    throw unknownProtocol(param(ctx, 'protocol'));
  });
  r.get('/thirdparty/user/:protocol', deps.auth, (ctx) => {
    throw unknownProtocol(param(ctx, 'protocol'));
  });
  // Reverse lookups: no bridge, so no portal room has this alias and no remote user this id.
  r.get('/thirdparty/location', deps.auth, (ctx) => {
    if (!queryString(ctx, 'alias')) throw new MatrixError(400, 'M_MISSING_PARAM', 'alias is required');
    ctx.body = [];
  });
  r.get('/thirdparty/user', deps.auth, (ctx) => {
    if (!queryString(ctx, 'userid')) throw new MatrixError(400, 'M_MISSING_PARAM', 'userid is required');
    ctx.body = [];
  });
};
