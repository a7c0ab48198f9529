// The token-bucket limiter (homeserver/http/rate-limit.ts) with a fake clock: its memory stays
// bounded whatever keys arrive. Keying by user or address is tested over HTTP in
// test/homeserver/clientapi/abuse-limits.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BUCKETS, RateLimiter } from '../../../homeserver/http/rate-limit.ts';

test('a new key per request cannot grow the bucket map past its bound, even within one instant', () => {
  const frozen = () => 1_000_000;
  const limiter = new RateLimiter(50, 300, frozen);
  // A frozen clock: no bucket refills, so none is "full" and cheap to forget. Each insert past
  // the bound must still cost little (the old sweep rescanned the whole map on every insert).
  for (let i = 0; i < MAX_BUCKETS * 3; i++) limiter.take(`address 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  assert.ok(limiter.size <= MAX_BUCKETS, `${limiter.size} buckets`);
});

test('a limited client stays limited while others come and go, as long as it keeps asking', () => {
  let now = 0;
  const limiter = new RateLimiter(1, 2, () => now, 100);
  assert.equal(limiter.take('greedy'), 0);
  assert.equal(limiter.take('greedy'), 0);
  for (let i = 0; i < 1000; i++) {
    now += 1;
    limiter.take(`passer-by ${i}`);
    if (i % 50 === 0) assert.ok(limiter.take('greedy') > 0, 'still waiting');
  }
  assert.ok(limiter.size <= 100);
});

test('wait() tells the time until a token without taking one', () => {
  let now = 0;
  const limiter = new RateLimiter(0.5, 1, () => now);
  assert.equal(limiter.wait('a'), 0);
  assert.equal(limiter.wait('a'), 0, 'asking did not spend it');
  assert.equal(limiter.take('a'), 0);
  assert.equal(limiter.wait('a'), 2000);
  now = 1500;
  assert.equal(limiter.wait('a'), 500);
  now = 2000;
  assert.equal(limiter.wait('a'), 0);
});
