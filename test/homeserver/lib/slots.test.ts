// The counting semaphore of homeserver/lib/slots.ts (password hashes, thumbnail renders, initial /syncs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from '../../../homeserver/lib/slots.ts';
import { MatrixError } from '../../../homeserver/http/matrix-error.ts';

test('at most `slots` jobs run at once; past the queue a caller gets 429 at once; the rest all finish', async () => {
  const slots = new Slots(2, { maxWaiting: 3, refuse: () => new MatrixError(429, 'M_LIMIT_EXCEEDED', 'busy', { retry_after_ms: 750 }) });
  let running = 0;
  let most = 0;
  const gates: Array<() => void> = [];
  const job = () =>
    new Promise<string>((resolve) => {
      running += 1;
      most = Math.max(most, running);
      gates.push(() => {
        running -= 1;
        resolve('done');
      });
    });
  const accepted = Array.from({ length: 5 }, () => slots.run(job));
  await assert.rejects(slots.run(job), (err: unknown) => {
    assert.ok(err instanceof MatrixError);
    assert.equal(err.status, 429);
    assert.equal(err.errcode, 'M_LIMIT_EXCEEDED');
    assert.equal(err.extra.retry_after_ms, 750);
    return true;
  });
  while (gates.length > 0 || running > 0) {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done', 'done', 'done']);
  assert.equal(most, 2);
});

test('a job that throws frees its slot', async () => {
  const slots = new Slots(1, { maxWaiting: 1 });
  await assert.rejects(slots.run(() => Promise.reject(new Error('scrypt failed'))));
  assert.equal(await slots.run(() => Promise.resolve(7)), 7);
});
