// GET /_matrix/federation/v1/version (version.yaml): no authentication.
import type Router from '@koa/router';

export function versionRoutes(router: Router, version: string): void {
  router.get('/_matrix/federation/v1/version', (ctx) => {
    ctx.body = { server: { name: 'Hearth', version } };
  });
}
