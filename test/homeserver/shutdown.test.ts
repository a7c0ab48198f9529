// stop() with long-polls in flight: what a desktop app quitting under a syncing client does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, registerUser, startTestServer } from '../helpers/server.ts';

/** Everything the server logs to stderr while `fn` runs (the homeserver logs handler failures there). */
async function captureStderr(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(String(chunk));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join('');
}

test('stop() answers open /sync and /events long-polls and returns without waiting for keep-alive', async () => {
  const server = await startTestServer();
  const user = await registerUser(server, 'poller');
  const headers = { authorization: `Bearer ${user.accessToken}` };
  const sync = fetch(`${server.api}/sync?timeout=30000&since=s1000000_0`, { headers });
  const events = fetch(`${server.api}/events?timeout=30000`, { headers });
  await new Promise((r) => setTimeout(r, 300)); // both are parked in the notifier
  const started = Date.now();
  await server.stop();
  const took = Date.now() - started;
  // The force-close fallback is 10 s; a stop that ends its long-polls properly takes milliseconds.
  assert.ok(took < 3000, `stop() took ${took} ms`);
  assert.equal((await sync).status, 200);
  assert.equal((await events).status, 200);
});

test('stop() while aborted /sync requests are still computing waits for their handlers instead of closing SQLite under them', async () => {
  const server = await startTestServer();
  const user = await registerUser(server, 'leaver');
  for (let i = 0; i < 5; i++) await call(server, user, 'POST', '/createRoom', { name: `room ${i}` });
  const logged = await captureStderr(async () => {
    // As matrix-js-sdk's stopClient() does just before an app stops its server: the requests are
    // cancelled while the server is still building their responses, so their connections are gone.
    const ac = new AbortController();
    const syncs = Array.from({ length: 20 }, () =>
      fetch(`${server.api}/sync`, { headers: { authorization: `Bearer ${user.accessToken}` }, signal: ac.signal }).catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await Promise.all(syncs);
    await server.stop();
  });
  assert.doesNotMatch(logged, /\[hearth\].*failed/, 'no handler failed against a closed database');
});
