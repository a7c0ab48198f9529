// POST /user_directory/search (users.yaml).
import type { RouteGroup } from './deps.ts';
import { bodyObject } from '../http/json-body.ts';
import { MatrixError } from '../http/matrix-error.ts';
import { requester } from '../http/auth.ts';
import { stringField } from '../http/params.ts';
import { searchUserDirectory } from '../users/user-directory.ts';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

export const userDirectoryRoutes: RouteGroup = (r, deps) => {
  r.post('/user_directory/search', deps.auth, async (ctx) => {
    const body = bodyObject(ctx);
    const term = stringField(body, 'search_term', true);
    const limit = body.limit ?? DEFAULT_LIMIT;
    if (!Number.isSafeInteger(limit) || (limit as number) < 0) throw new MatrixError(400, 'M_BAD_JSON', "'limit' must be a non-negative integer");
    ctx.body = await searchUserDirectory(deps.rooms.db.reader, requester(ctx).userId, term, Math.min(limit as number, MAX_LIMIT));
  });
};
