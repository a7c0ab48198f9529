// What to do with a request body that a handler refused before reading it to the end (too large,
// a bad id): the rest is still on its way. Closing at once would make the client's TCP stack reset
// the connection and often lose our answer with it; reading everything would let a client push
// gigabytes through. So: answer, keep discarding for a while, then hang up.
import type { Context } from 'koa';

/** How much of the rest is read and dropped before hanging up: a slow client's in-flight data. */
const LINGER_BYTES = 1024 * 1024;
/** How long the rest may take before hanging up, whatever its size. */
const LINGER_MS = 2000;

/** Runs `run` (which reads `ctx.req` itself); if it throws before the body ended, the rest is lingered on. */
export async function guardBody<T>(ctx: Context, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!ctx.req.readableEnded) lingerThenClose(ctx);
    throw err;
  }
}

/** Discards the rest of the body (at most LINGER_BYTES or LINGER_MS), then hangs up. */
export function lingerThenClose(ctx: Context): void {
  const { req } = ctx;
  // The client must not send its next request on a connection that may be cut below: say so.
  // But Node destroys a `Connection: close` socket as soon as the answer is written, which
  // resets it while the client is still sending and can lose the answer: only end our side
  // (FIN) there, and let the bounds below decide when to cut.
  ctx.set('Connection', 'close');
  const socket = req.socket;
  socket.destroySoon = () => socket.end();
  let discarded = 0;
  const hangUp = () => socket.destroy();
  const timer = setTimeout(hangUp, LINGER_MS);
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) hangUp();
  });
  // The whole body arrived within the bounds: the connection ends normally.
  req.once('end', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  req.resume();
}
