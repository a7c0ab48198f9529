// Closing a listener without cutting requests short: stop accepting, close idle keep-alive
// connections, let in-flight handlers finish (a bounded wait), then force what is left.
import type { Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** Handlers not yet finished, keyed by their response: fill it in the server's request listener. */
export type InFlight = Map<ServerResponse, Promise<void>>;

export async function closeGracefully(server: Server | HttpsServer | undefined, inFlight: InFlight, graceMs = 10_000): Promise<void> {
  // Responses not yet written (long-polls just woken) end their connection rather than keep it
  // alive, so that close() need not wait for the forced close below.
  for (const res of inFlight.keys()) if (!res.headersSent) res.setHeader('Connection', 'close');
  if (server) {
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(force);
  }
  // A handler whose client hung up (a long-poll aborted by a stopping client) has no connection
  // left for close() to wait on; wait for it too, so it never meets a closed database.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(inFlight.values()), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
}
