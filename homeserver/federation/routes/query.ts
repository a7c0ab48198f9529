// GET /_matrix/federation/v1/query/profile (query.yaml): a local user's profile, for other servers.
import type Router from '@koa/router';
import { MatrixError, invalidParam, notFound } from '../../http/matrix-error.ts';
import { parseUserId } from '../../protocol/identifiers.ts';

export interface Profile {
  displayname: string | null;
  avatar_url: string | null;
}

export function queryRoutes(serverName: string, profileOf: (userId: string) => Promise<Profile | undefined>) {
  return (router: Router): void => {
    router.get('/_matrix/federation/v1/query/profile', async (ctx) => {
      const userId = ctx.query.user_id;
      if (typeof userId !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'user_id is required');
      const parsed = parseUserId(userId);
      if (parsed === null) throw invalidParam('user_id is not a user id');
      if (parsed.serverName !== serverName) throw invalidParam('user_id is not a user of this server');
      const field = ctx.query.field;
      if (field !== undefined && field !== 'displayname' && field !== 'avatar_url') throw invalidParam('field must be displayname or avatar_url');
      const profile = await profileOf(userId);
      if (profile === undefined) throw notFound('User not found');
      const body: Record<string, string> = {};
      if ((field === undefined || field === 'displayname') && profile.displayname !== null) body.displayname = profile.displayname;
      if ((field === undefined || field === 'avatar_url') && profile.avatar_url !== null) body.avatar_url = profile.avatar_url;
      ctx.body = body;
    });
  };
}
