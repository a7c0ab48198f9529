// lib/crypto.ts's SyncGate (what keeps the first /sync's room keys for the crypto that loads
// after it) and the words for an encrypted message that is not readable (yet).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SyncGate, cryptoStorePrefix } from '../../renderer/src/lib/crypto.ts';
import { DECRYPTING_TEXT, UNDECRYPTABLE_TEXT, VERIFICATION_REQUEST_TEXT, describeEvent, messageText, type EventLike } from '../../renderer/src/lib/events.ts';

const BASE = 'http://hs.test/_matrix/client/v3';

/** A stand-in for the network (a world we do not own): answers each request with its URL. */
function network() {
  const asked: string[] = [];
  const fetchFn = async (input: RequestInfo | URL) => {
    const url = String(input);
    asked.push(url);
    return new Response(JSON.stringify({ url, to_device: { events: [{ type: 'm.room.encrypted', sender: '@a:x', content: {} }] } }), { status: 200 });
  };
  return { asked, fetchFn };
}

describe('SyncGate', () => {
  test('keeps a copy of the first /sync answer for the crypto, and gives it once', async () => {
    const net = network();
    const gate = new SyncGate(net.fetchFn);
    const res = await gate.fetch(`${BASE}/sync?timeout=0`);
    assert.equal(((await res.json()) as { url: string }).url, `${BASE}/sync?timeout=0`, 'the SDK still reads the rest of the answer');
    const kept = gate.takeCaptured();
    assert.equal(kept?.toDeviceEvents.length, 1, 'with its to-device messages');
    assert.equal(gate.takeCaptured(), null);
  });

  test('holds the /sync that would acknowledge those to-device messages until the crypto is attached', async () => {
    const net = network();
    const gate = new SyncGate(net.fetchFn);
    await gate.fetch(`${BASE}/sync?timeout=0`);
    let answered = false;
    const next = gate.fetch(`${BASE}/sync?since=s1&timeout=30000`).then(() => (answered = true));
    // Other requests go through meanwhile.
    await gate.fetch(`${BASE}/keys/upload`);
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'the acknowledging /sync waits');
    assert.deepEqual(net.asked, [`${BASE}/sync?timeout=0`, `${BASE}/keys/upload`], 'and is not even sent');
    gate.open();
    await next;
    assert.equal(net.asked.at(-1), `${BASE}/sync?since=s1&timeout=30000`);
    await gate.fetch(`${BASE}/sync?since=s2`);
    assert.equal(gate.takeCaptured(), null, 'once open, nothing more is kept');
  });

  test('past the hold time, /sync goes on, and its answers are kept for the crypto still loading', async () => {
    const net = network();
    const gate = new SyncGate(net.fetchFn, 1);
    await gate.fetch(`${BASE}/sync?timeout=0`);
    await gate.fetch(`${BASE}/sync?since=s1`);
    await gate.fetch(`${BASE}/sync?since=s2`);
    assert.equal(gate.takeCaptured()?.toDeviceEvents.length, 3, 'no to-device message is lost meanwhile');
  });

  test('a to-device message kept for the crypto is taken out of the answer the SDK reads: it reaches the crypto once, not also from the sync loop', async () => {
    const gate = new SyncGate(network().fetchFn, 1);
    const answer = (await (await gate.fetch(`${BASE}/sync?timeout=0`)).json()) as { to_device?: { events?: unknown[] } };
    assert.equal(answer.to_device?.events?.length ?? 0, 0, 'the SDK, which may hand this answer to the crypto attached meanwhile, does not see it');
    assert.equal(gate.takeCaptured()?.toDeviceEvents.length, 1, 'the replay does');
    gate.open();
    const after = (await (await gate.fetch(`${BASE}/sync?since=s9`)).json()) as { to_device?: { events?: unknown[] } };
    assert.equal(after.to_device?.events?.length, 1, 'once attached, the sync loop gets them as they come');
  });

  test('the kept device list changes and key counts are merged: a user who left after a change is "left", the latest count wins', async () => {
    const answers = [
      { device_lists: { changed: ['@a:x', '@b:x'] }, device_one_time_keys_count: { signed_curve25519: 3 } },
      { device_lists: { left: ['@a:x'] }, device_one_time_keys_count: { signed_curve25519: 50 } },
    ];
    const gate = new SyncGate(async () => new Response(JSON.stringify(answers.shift()), { status: 200 }), 1);
    await gate.fetch(`${BASE}/sync?timeout=0`);
    await gate.fetch(`${BASE}/sync?since=s1`);
    const kept = gate.takeCaptured();
    assert.deepEqual(kept?.deviceLists, { changed: ['@b:x'], left: ['@a:x'] });
    assert.deepEqual(kept?.oneTimeKeysCounts, { signed_curve25519: 50 });
  });

  test('if the crypto never loads, the kept to-device messages stay bounded: past the cap /sync waits (the server keeps the rest) until the gate opens', async () => {
    const net = network();
    const gate = new SyncGate(net.fetchFn, 1, 2);
    await gate.fetch(`${BASE}/sync?timeout=0`);
    await gate.fetch(`${BASE}/sync?since=s1`);
    assert.equal(gate.pending, 2);
    let answered = false;
    const third = gate.fetch(`${BASE}/sync?since=s2`).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, false, 'past the hold time, but full: the next /sync is not sent, so the server still holds what it would bring');
    assert.equal(net.asked.length, 2);
    gate.open();
    await third;
    assert.equal(gate.pending, 0, 'opening (attached or failed) lets the kept copies go');
  });

  test('a held /sync ends when the client stops (its request is aborted)', async () => {
    const gate = new SyncGate(network().fetchFn);
    const abort = new AbortController();
    const held = gate.fetch(`${BASE}/sync?since=s1`, { signal: abort.signal });
    abort.abort(new Error('stopped'));
    await assert.rejects(held, /stopped/);
  });

  test('the crypto store is named per user and device', () => {
    assert.notEqual(cryptoStorePrefix('@a:x', 'D1'), cryptoStorePrefix('@a:x', 'D2'));
    assert.notEqual(cryptoStorePrefix('@a:x', 'D1'), cryptoStorePrefix('@b:x', 'D1'));
  });
});

describe('an encrypted message that is not readable', () => {
  const encrypted = (extra: Partial<EventLike>): EventLike => ({
    getType: () => 'm.room.encrypted',
    getContent: () => ({ algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' }),
    getPrevContent: () => ({}),
    getSender: () => '@b:x',
    getStateKey: () => undefined,
    getTs: () => 0,
    ...extra,
  });

  test('reads "Decrypting…" while the crypto loads or works on it, not "Unable to decrypt"', () => {
    assert.equal(messageText(encrypted({ shouldAttemptDecryption: () => true, isDecryptionFailure: () => false })), DECRYPTING_TEXT);
    assert.equal(messageText(encrypted({ isBeingDecrypted: () => true, isDecryptionFailure: () => false })), DECRYPTING_TEXT);
    assert.equal(
      describeEvent(encrypted({ shouldAttemptDecryption: () => true }), () => 'Bob', true),
      `Bob: ${DECRYPTING_TEXT}`,
    );
  });

  test('reads "Unable to decrypt" once decryption was tried and failed (the keys are missing)', () => {
    const failed = encrypted({
      getType: () => 'm.room.message',
      shouldAttemptDecryption: () => false,
      isBeingDecrypted: () => false,
      isDecryptionFailure: () => true,
    });
    assert.equal(messageText(failed), UNDECRYPTABLE_TEXT);
    assert.equal(messageText(encrypted({ shouldAttemptDecryption: () => false, isBeingDecrypted: () => false })), UNDECRYPTABLE_TEXT);
  });
});

test('an in-room verification request reads as one, not as its fallback body for clients that cannot verify', () => {
  const request: EventLike = {
    getType: () => 'm.room.message',
    getContent: () => ({
      msgtype: 'm.key.verification.request',
      body: '@a:x is requesting to verify your key, but your client does not support in-chat key verification.',
    }),
    getPrevContent: () => ({}),
    getSender: () => '@a:x',
    getStateKey: () => undefined,
    getTs: () => 0,
  };
  assert.equal(messageText(request), VERIFICATION_REQUEST_TEXT);
});
