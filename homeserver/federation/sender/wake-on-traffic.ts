// Any authenticated request from a server shows it is up: retry what waits for it now rather than
// at the end of its backoff (Synapse does the same when it sees traffic from a backed-off server).
import type { Context, Next } from 'koa';
import type { FederationServices } from '../services.ts';

export function wakeOnTraffic(s: FederationServices) {
  return async function wake(ctx: Context, next: Next): Promise<void> {
    const origin = ctx.state.origin;
    if (origin !== undefined) {
      s.client.markAlive(origin);
      s.outbound?.wake(origin);
    }
    await next();
  };
}
