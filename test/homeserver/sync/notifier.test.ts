// The notifier wakes long-polls; a waiter ended twice (a notify, then its client going away) must
// not take another long-poll of the same user out of reach of later notifies and of shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier } from '../../../homeserver/sync/notifier.ts';

const settled = (p: Promise<void>) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);

test('a waiter woken by a notify whose signal aborts afterwards leaves the next waiter of the same user reachable', async () => {
  const notifier = new Notifier();
  const first = new AbortController();
  const a = notifier.wait('@u:x', 30_000, first.signal);
  notifier.notifyUsers(['@u:x']);
  await a;
  const b = notifier.wait('@u:x', 30_000);
  first.abort(); // the first request's client goes away after it was answered
  notifier.notifyUsers(['@u:x']);
  assert.equal(await settled(b), true, 'the second waiter was not woken by the notify');
});

test('stop() ends a waiter registered after another of the same user was ended twice', async () => {
  const notifier = new Notifier();
  const first = new AbortController();
  const a = notifier.wait('@u:x', 30_000, first.signal);
  notifier.notifyUsers(['@u:x']);
  await a;
  const b = notifier.wait('@u:x', 30_000);
  first.abort();
  notifier.stop();
  assert.equal(await settled(b), true, 'stop() did not end the second waiter');
});

test('a notify for one user does not wake another; a timeout ends a waiter', async () => {
  const notifier = new Notifier();
  const other = notifier.wait('@v:x', 30);
  notifier.notifyUsers(['@u:x']);
  assert.equal(await settled(other), true); // ended by its 30 ms timeout, within the 50 ms window
  const c = notifier.wait('@v:x', 30_000);
  notifier.notifyUsers(['@u:x']);
  assert.equal(await settled(c), false);
  notifier.stop();
  await c;
});
