// Failed attempts with a growing wait (homeserver/users/failure-backoff.ts), with a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailureBackoff, LOGIN_BACKOFF } from '../../../homeserver/users/failure-backoff.ts';
import { LoginThrottle } from '../../../homeserver/users/login-throttle.ts';
import { MatrixError } from '../../../homeserver/http/matrix-error.ts';

const policy = { freeFailures: 3, firstWaitMs: 1000, maxWaitMs: 8000, forgetAfterMs: 60_000 };

test('the free failures cost nothing; each one after doubles the wait, up to the ceiling', () => {
  let now = 0;
  const backoff = new FailureBackoff(policy, () => now);
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    backoff.failed('alice');
    waits.push(backoff.waitMs('alice'));
    now += backoff.waitMs('alice');
  }
  assert.deepEqual(waits, [0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
});

test('a success starts the key again from nothing; other keys are untouched', () => {
  let now = 0;
  const backoff = new FailureBackoff(policy, () => now);
  for (let i = 0; i < 4; i++) {
    backoff.failed('alice');
    backoff.failed('bob');
  }
  now += 1000;
  backoff.succeeded('alice');
  backoff.failed('alice');
  assert.equal(backoff.waitMs('alice'), 0);
  backoff.failed('bob');
  assert.equal(backoff.waitMs('bob'), 2000);
});

test('a key with no failure for forgetAfterMs starts again from nothing', () => {
  let now = 0;
  const backoff = new FailureBackoff(policy, () => now);
  for (let i = 0; i < 5; i++) backoff.failed('alice');
  now += policy.forgetAfterMs + 1;
  backoff.failed('alice');
  assert.equal(backoff.waitMs('alice'), 0);
});

test('the number of keys kept is bounded however many keys fail', () => {
  let now = 0;
  const backoff = new FailureBackoff(policy, () => now, 100);
  for (let i = 0; i < 4; i++) backoff.failed('target');
  now += 1;
  for (let i = 0; i < 10_000; i++) backoff.failed(`someone ${i}`);
  assert.ok(backoff.size <= 100, `${backoff.size} keys`);
});

test('the login throttle refuses a guessed account from any address, and a guessing address for any account, with 429 and retry_after_ms', () => {
  let now = 0;
  const throttle = new LoginThrottle({ failuresPerAccount: 2, failuresPerAddress: 3 }, () => now);
  const refusal = (userId: string, address: string) => {
    try {
      throttle.check(userId, address);
      return undefined;
    } catch (err) {
      assert.ok(err instanceof MatrixError);
      return err;
    }
  };
  for (let i = 0; i < 3; i++) throttle.failed('@a:hs', '10.0.0.1');
  throttle.failed('@c:hs', '10.0.0.1');
  const err = refusal('@a:hs', '10.0.0.2');
  assert.equal(err?.status, 429);
  assert.equal(err?.errcode, 'M_LIMIT_EXCEEDED');
  assert.equal(err?.extra.retry_after_ms, LOGIN_BACKOFF.firstWaitMs);
  // The address 10.0.0.1 is past its three free failures as well, whatever account it names next.
  assert.equal(refusal('@b:hs', '10.0.0.1')?.status, 429);
  assert.equal(refusal('@b:hs', '10.0.0.2'), undefined);
  now += LOGIN_BACKOFF.firstWaitMs;
  assert.equal(refusal('@a:hs', '10.0.0.2'), undefined, 'heard again once the wait is over');
});
