// Two matrix-js-sdk clients with their Rust crypto (@matrix-org/matrix-sdk-crypto-wasm) hold an
// end-to-end encrypted conversation through Hearth: device keys, one-time key claims, Olm-encrypted
// to-device room keys and Megolm messages all pass through the server, each side decrypts the
// other, and the server's SQLite files hold only ciphertext. Every response is validated against
// the spec's OpenAPI.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient, Preset, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertNoValidationFailures, clearValidationFailures, validationCounts } from '../helpers/openapi.ts';
import { fetchFn, PASSWORD, quietLogger, registerWithSdk, startSyncing, waitFor, WAIT_MS, waitForAsync } from '../helpers/sdk.ts';
import { Connection } from '../../homeserver/storage/sqlite.ts';

// The Rust crypto's requests (rust-crypto/OutgoingRequestProcessor.js) carry a 60 s
// localTimeoutMs, whose timeoutSignal() timer is never cleared (lib/http-api/utils.js); it would
// hold this process open for a minute after the last test. Unref timers that long, as
// test/helpers/sdk.ts does for the /sync ones: nothing here waits on them.
const setTimeoutBefore = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const timer = setTimeoutBefore(fn, ms, ...args);
  if ((ms ?? 0) >= 60_000) timer.unref();
  return timer;
}) as unknown as typeof setTimeout;

/** Plaintexts nobody could find by accident in a database file. */
const secret = (who: string) => `${who} says the kettle is on ${randomBytes(8).toString('hex')}`;

/** Every byte of the server's SQLite files: the database, its write-ahead log and shared memory. */
function databaseBytes(dataDir: string): Buffer {
  return Buffer.concat(
    readdirSync(dataDir)
      .filter((f) => f.startsWith('hearth.sqlite'))
      .map((f) => readFileSync(join(dataDir, f))),
  );
}

/** The decrypted message with that body in a client's view of the room, once it has decrypted it. */
function decryptedMessage(client: MatrixClient, roomId: string, body: string): MatrixEvent | undefined {
  return client
    .getRoom(roomId)
    ?.getLiveTimeline()
    .getEvents()
    .find((e) => e.getType() === 'm.room.message' && e.getContent().body === body);
}

describe('two matrix-js-sdk clients with Rust crypto hold an encrypted conversation', () => {
  let server: TestServer;
  let alice: MatrixClient;
  let bob: MatrixClient;
  let aliceLaptop: MatrixClient | undefined;
  let roomId: string;
  let plainRoomId: string;
  const sent: string[] = [];

  const client = (u: { userId: string; accessToken: string; deviceId: string }) =>
    createClient({ baseUrl: server.url, fetchFn, logger: quietLogger, userId: u.userId, accessToken: u.accessToken, deviceId: u.deviceId });

  before(async () => {
    clearValidationFailures();
    server = await startTestServer();
    alice = client(await registerWithSdk(server, 'alice'));
    bob = client(await registerWithSdk(server, 'bob'));
    // Node 22 has WebCrypto and WebAssembly; without IndexedDB the Rust crypto store lives in memory.
    await alice.initRustCrypto({ useIndexedDB: false });
    await bob.initRustCrypto({ useIndexedDB: false });
    await startSyncing(alice);
    await startSyncing(bob);
  });

  after(async () => {
    for (const c of [alice, bob, aliceLaptop]) c?.stopClient();
    await server?.stop();
  });

  test("each device publishes its identity keys and one-time keys, and sees the other's device", async () => {
    const aliceCrypto = alice.getCrypto()!;
    const bobCrypto = bob.getCrypto()!;
    // The Rust crypto uploads its keys on its own after the first sync.
    const bobDevice = await waitForAsync("bob's device in alice's /keys/query", async () =>
      (await aliceCrypto.getUserDeviceInfo([bob.getUserId()!], true)).get(bob.getUserId()!)?.get(bob.getDeviceId()!),
    );
    assert.equal(bobDevice.getIdentityKey(), (await bobCrypto.getOwnDeviceKeys()).curve25519, "with the Curve25519 key bob's device holds");
    assert.equal(bobDevice.getFingerprint(), (await bobCrypto.getOwnDeviceKeys()).ed25519, 'and its Ed25519 key');
  });

  test('alice creates a room, enables m.megolm.v1.aes-sha2, invites bob, and bob joins', async () => {
    ({ room_id: roomId } = await alice.createRoom({ name: 'Secret kitchen', preset: Preset.PrivateChat }));
    await alice.sendStateEvent(roomId, 'm.room.encryption' as never, { algorithm: 'm.megolm.v1.aes-sha2' } as never, '');
    await waitForAsync("alice's crypto to treat the room as encrypted", () => alice.getCrypto()!.isEncryptionEnabledInRoom(roomId));
    await alice.invite(roomId, bob.getUserId()!);
    await waitFor('bob to see the invite', () => bob.getRoom(roomId)?.getMyMembership() === 'invite');
    await bob.joinRoom(roomId);
    await waitFor("alice to see bob's join", () => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join');
    await waitForAsync("bob's crypto to treat the room as encrypted", () => bob.getCrypto()!.isEncryptionEnabledInRoom(roomId));
  });

  test("messages each way arrive as m.room.encrypted and each side decrypts the other's", async () => {
    for (let i = 0; i < 3; i++) {
      for (const [from, to, name] of [
        [alice, bob, 'alice'],
        [bob, alice, 'bob'],
      ] as const) {
        const body = secret(`${name} #${i}`);
        sent.push(body);
        await from.sendTextMessage(roomId, body);
        const ev = await waitFor(`${to.getUserId()} to decrypt "${body}"`, () => decryptedMessage(to, roomId, body), WAIT_MS * 2);
        assert.equal(ev.getWireType(), 'm.room.encrypted', 'the event travelled encrypted');
        assert.equal(ev.getWireContent().algorithm, 'm.megolm.v1.aes-sha2');
        assert.equal(ev.isDecryptionFailure(), false);
        assert.equal(ev.getSender(), from.getUserId());
      }
    }
  });

  test('alice sets up cross-signing (no UIA for a first master key); bob sees her device signed by her', async () => {
    let authAsked = false;
    await alice.getCrypto()!.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        authAsked = true;
        // No master key exists yet: the server must accept the upload without user-interactive auth.
        await makeRequest(null);
      },
    });
    assert.ok(authAsked, 'the SDK uploaded cross-signing keys');
    const aliceId = alice.getUserId()!;
    assert.equal(await bob.getCrypto()!.userHasCrossSigningKeys(aliceId, true), true, "bob downloads alice's master key");
    const status = await waitForAsync("bob to see alice's device signed by her self-signing key", async () => {
      const s = await bob.getCrypto()!.getDeviceVerificationStatus(aliceId, alice.getDeviceId()!);
      return s?.signedByOwner ? s : undefined;
    });
    assert.equal(status.signedByOwner, true, 'keys/signatures/upload reached keys/query');
  });

  test('alice backs up her room keys; a new device of hers restores them from the server and decrypts history', async () => {
    const crypto = alice.getCrypto()!;
    await crypto.resetKeyBackup();
    const info = await waitForAsync(
      "the backup to hold alice's room keys",
      async () => {
        const res = await fetch(`${server.api}/room_keys/version`, { headers: { authorization: `Bearer ${alice.getAccessToken()}` } });
        const body = (await res.json()) as { version: string; count: number; etag: string };
        return res.status === 200 && body.count > 0 ? body : undefined;
      },
      WAIT_MS * 2,
    );
    const privateKey = await crypto.getSessionBackupPrivateKey();
    assert.ok(privateKey, 'alice holds the backup decryption key');

    const login = await fetch(`${server.api}/login`, {
      method: 'POST',
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: PASSWORD }),
    }).then((r) => r.json() as Promise<{ user_id: string; access_token: string; device_id: string }>);
    aliceLaptop = client({ userId: login.user_id, accessToken: login.access_token, deviceId: login.device_id });
    await aliceLaptop.initRustCrypto({ useIndexedDB: false });
    await startSyncing(aliceLaptop);
    await aliceLaptop.getCrypto()!.storeSessionBackupPrivateKey(privateKey, info.version);
    const restored = await aliceLaptop.getCrypto()!.restoreKeyBackup();
    assert.ok(restored.imported > 0, `imported ${restored.imported} of ${restored.total} keys`);
    // Bob's messages were never sent to the laptop: only the backup can have given it their keys.
    const fromBob = sent.find((b) => b.startsWith('bob'))!;
    await waitFor('the laptop to decrypt a message bob sent before it existed', () => decryptedMessage(aliceLaptop!, roomId, fromBob), WAIT_MS * 2);
  });

  test('/messages gives back only m.room.encrypted events for the room', async () => {
    const res = await alice.createMessagesRequest(roomId, null, 100, 'b' as never);
    const messages = res.chunk.filter((e) => e.type === 'm.room.message' || e.type === 'm.room.encrypted');
    assert.ok(messages.length >= sent.length, `found ${messages.length} message events`);
    assert.ok(
      messages.every((e) => e.type === 'm.room.encrypted'),
      'no plaintext message event in the room',
    );
    const raw = JSON.stringify(res.chunk);
    for (const body of sent) assert.ok(!raw.includes(body), 'no plaintext in the raw events');
  });

  test("the server's database holds only ciphertext: no plaintext in its bytes, no m.room.message rows", async () => {
    // A control in an unencrypted room proves the byte search finds plaintext when it is stored.
    const control = secret('control');
    ({ room_id: plainRoomId } = await alice.createRoom({ name: 'Open porch', preset: Preset.PrivateChat }));
    await alice.sendTextMessage(plainRoomId, control);

    const bytes = databaseBytes(server.dataDir);
    assert.ok(bytes.includes(control), 'a plaintext message of an unencrypted room is found in the files');
    assert.ok(bytes.includes(roomId), 'the encrypted room is in the files');
    for (const body of sent) assert.ok(!bytes.includes(body), `"${body}" must not be stored in the clear`);

    const db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
    try {
      const rows = await db.all<{ type: string; json: string }>('SELECT type, json FROM events WHERE room_id = ?', roomId);
      const encrypted = rows.filter((r) => r.type === 'm.room.encrypted');
      assert.equal(rows.filter((r) => r.type === 'm.room.message').length, 0, 'no m.room.message event in the encrypted room');
      assert.ok(encrypted.length >= sent.length, `${encrypted.length} m.room.encrypted events stored`);
      for (const r of encrypted) {
        const content = (JSON.parse(r.json) as { content: Record<string, unknown> }).content;
        assert.equal(content.algorithm, 'm.megolm.v1.aes-sha2');
        assert.equal(typeof content.ciphertext, 'string');
        assert.equal(content.body, undefined);
      }
    } finally {
      await db.close();
    }
  });

  test("every response the SDKs received matches the spec's OpenAPI", () => {
    assertNoValidationFailures();
    assert.ok(validationCounts().validated > 20, JSON.stringify(validationCounts()));
  });
});
