// lib/crypto.ts's SyncGate (what keeps the first /sync's room keys for the crypto that loads
// after it) and the words for an encrypted message that is not readable (yet).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SyncGate, cryptoStorePrefix } from '../../renderer/src/lib/crypto.ts';
import { DECRYPTING_TEXT, UNDECRYPTABLE_TEXT, describeEvent, messageText, type EventLike } from '../../renderer/src/lib/events.ts';

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
    assert.equal(((await res.json()) as { url: string }).url, `${BASE}/sync?timeout=0`, 'the SDK still reads the whole answer');
    const kept = await gate.takeCaptured();
    assert.equal(kept.length, 1);
    assert.equal(kept[0]!.to_device?.events?.length, 1, 'with its to-device messages');
    assert.deepEqual(await gate.takeCaptured(), []);
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
    assert.deepEqual(await gate.takeCaptured(), [], 'once open, nothing more is kept');
  });

  test('past the hold time, /sync goes on, and its answers are kept for the crypto still loading', async () => {
    const net = network();
    const gate = new SyncGate(net.fetchFn, 1);
    await gate.fetch(`${BASE}/sync?timeout=0`);
    await gate.fetch(`${BASE}/sync?since=s1`);
    await gate.fetch(`${BASE}/sync?since=s2`);
    assert.equal((await gate.takeCaptured()).length, 3, 'no to-device message is lost meanwhile');
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
