// /.well-known/matrix/server (server-server wellknown.yaml) and /.well-known/matrix/support
// (support.yaml), from config. Both are asked of https://<server name>/, which is whatever
// answers there: the client listener, or a web server in front of it.
import { Router } from '../http/router.ts';
import { MatrixError } from '../http/matrix-error.ts';
import type { ClientApiDeps } from './deps.ts';
import { supportDocument } from '../config/support.ts';

export function wellKnownRoutes(deps: ClientApiDeps): Router {
  const r = new Router();
  // server-server-api.md, "Resolving server names": without this document (a 404), other servers
  // go on to SRV records and port 8448 of the name itself, which is right when nothing is delegated.
  r.get('/.well-known/matrix/server', (ctx) => {
    const delegated = deps.config.wellKnownServer;
    if (delegated === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'This server name is not delegated');
    ctx.body = { 'm.server': delegated };
  });
  // support.yaml: 404 "No server support information available" when neither contacts nor a page is configured.
  r.get('/.well-known/matrix/support', (ctx) => {
    const doc = supportDocument(deps.config.support, deps.config.adminContact);
    if (doc === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'No server support information available');
    ctx.body = doc;
  });
  return r;
}
