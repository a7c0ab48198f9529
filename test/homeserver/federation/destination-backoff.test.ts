// Failures cached per destination (issue #13, class 5): waits double from BACKOFF_FIRST_MS up to
// BACKOFF_MAX_MS, a success clears them, and the number of destinations remembered is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALIVE_MAX_ENTRIES,
  BACKOFF_FIRST_MS,
  BACKOFF_MAX_ENTRIES,
  BACKOFF_MAX_MS,
  DestinationBackoff,
} from '../../../homeserver/federation/destination-backoff.ts';

test('each failure doubles the wait, up to the cap; a success clears it', () => {
  let now = 0;
  const b = new DestinationBackoff(() => now);
  assert.equal(b.isBackingOff('a.org'), false);
  let expected = BACKOFF_FIRST_MS;
  for (let i = 0; i < 20; i++) {
    b.failed('a.org');
    assert.equal(b.isBackingOff('a.org'), true);
    now += expected - 1;
    assert.equal(b.isBackingOff('a.org'), true, `failure ${i + 1}: still waiting 1 ms before ${expected} ms`);
    now += 1;
    assert.equal(b.isBackingOff('a.org'), false, `failure ${i + 1}: free after ${expected} ms`);
    expected = Math.min(expected * 2, BACKOFF_MAX_MS);
  }
  assert.equal(expected, BACKOFF_MAX_MS);
  b.failed('A.org');
  assert.equal(b.isBackingOff('a.ORG'), true, 'names compare case-insensitively');
  b.succeeded('a.org');
  assert.equal(b.isBackingOff('a.org'), false);
  b.failed('a.org');
  now += BACKOFF_FIRST_MS;
  assert.equal(b.isBackingOff('a.org'), false, 'after a success the wait starts again from the first');
});

test('at most BACKOFF_MAX_ENTRIES destinations are remembered, the oldest failure forgotten first', () => {
  const b = new DestinationBackoff(() => 0);
  for (let i = 0; i <= BACKOFF_MAX_ENTRIES; i++) b.failed(`s${i}.org`);
  assert.equal(b.size, BACKOFF_MAX_ENTRIES);
  assert.equal(b.isBackingOff('s0.org'), false);
  assert.equal(b.isBackingOff('s1.org'), true);
});

test('a server is known alive after an answer until its next failure; at most ALIVE_MAX_ENTRIES are remembered', () => {
  const b = new DestinationBackoff(() => 0);
  assert.equal(b.isKnownAlive('a.org'), false);
  b.succeeded('A.org');
  assert.equal(b.isKnownAlive('a.org'), true);
  b.failed('a.org');
  assert.equal(b.isKnownAlive('a.org'), false);
  for (let i = 0; i <= ALIVE_MAX_ENTRIES; i++) b.succeeded(`s${i}.org`);
  assert.equal(b.isKnownAlive('s0.org'), false);
  assert.equal(b.isKnownAlive(`s${ALIVE_MAX_ENTRIES}.org`), true);
});
