// The sender's backoff: doubling from the first wait up to the cap, jitter within bounds, a
// server's retry_after_ms honoured, and the failure count kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_POLICY, nextRetry } from '../../../homeserver/federation/sender/retry-policy.ts';
import type { RetryState } from '../../../homeserver/storage/federation-queue-store.ts';

test('the default backoff doubles from 1 s and stays at 1 h once there', () => {
  let r: RetryState | undefined;
  const intervals: number[] = [];
  for (let i = 0; i < 15; i++) {
    r = nextRetry(r, DEFAULT_RETRY_POLICY, 0, 0, () => 0.5);
    intervals.push(r.retryIntervalMs);
    assert.equal(r.nextAttemptTs, r.retryIntervalMs, 'no jitter at the midpoint');
  }
  assert.deepEqual(
    intervals,
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600].map((s) => s * 1000),
  );
  assert.equal(r!.failures, 15);
});

test('jitter keeps each wait within 10% of the interval', () => {
  const low = nextRetry(undefined, DEFAULT_RETRY_POLICY, 1000, 0, () => 0);
  const high = nextRetry(undefined, DEFAULT_RETRY_POLICY, 1000, 0, () => 0.999999);
  assert.equal(low.nextAttemptTs, 1000 + 900);
  assert.equal(high.nextAttemptTs, 1000 + 1100);
});

test("a server's retry_after_ms lengthens the wait but not the interval", () => {
  const r = nextRetry(undefined, DEFAULT_RETRY_POLICY, 0, 30_000, () => 0.5);
  assert.equal(r.nextAttemptTs, 30_000);
  assert.equal(r.retryIntervalMs, 1_000);
});

test('a configured policy with a first wait above its cap waits the cap', () => {
  const r = nextRetry(undefined, { initialMs: 5_000, maxMs: 2_000, multiplier: 2, jitter: 0 }, 0);
  assert.equal(r.nextAttemptTs, 2_000);
});
