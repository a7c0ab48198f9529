// End-to-end encryption in the web client: matrix-js-sdk's Rust crypto, loaded after the room list
// shows, in two browser profiles against a real `hearth serve`. The server's own SQLite file is
// read to prove it holds the ciphertext only. The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import sqlite3 from 'sqlite3';
import { waitForDeviceKeys } from './crypto-helpers.ts';
import { api, registerInUi, roomButton, screenshot, send, sessionOf, signInInUi, timeline, useHearth, type Window } from './helpers.ts';

const SECRET_1 = 'The launch code is tangerine-42';
const SECRET_2 = 'Noted: tangerine-42, burning this message';

let alice: Window;
let bob: Window;
let dmRoomId = '';

function query<T>(file: string, sql: string, params: unknown[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, params, (err2, rows) => {
        db.close();
        if (err2) reject(err2);
        else resolve(rows as T[]);
      });
    });
  });
}

describe('end-to-end encryption between two browsers', () => {
  const { hearth, open, problems } = useHearth();

  test('the crypto is not loaded on the sign-in screen, and only after the first /sync has answered', async () => {
    alice = await open();
    bob = await open();
    // One sequence for both: the order in which the first sync answered and the crypto was asked for.
    const seen: string[] = [];
    alice.page.on('requestfinished', (req) => {
      if (/\/_matrix\/client\/v3\/sync\?/.test(req.url())) seen.push('sync answered');
    });
    alice.page.on('request', (req) => {
      if (/rust-crypto-[^/]*\.js$/.test(req.url())) seen.push('crypto chunk');
      if (/\.wasm$/.test(req.url())) seen.push('crypto wasm');
    });
    await alice.page.getByRole('button', { name: 'Create an account' }).waitFor();
    assert.equal(seen.length, 0, `the sign-in screen loads no crypto: ${seen.join(', ')}`);
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost');
    await waitForDeviceKeys(hearth(), await sessionOf(bob.page), '@bob:localhost');
    assert.equal(seen[0], 'sync answered', `the first /sync answers before any crypto is fetched: ${seen.join(', ')}`);
    assert.ok(seen.includes('crypto chunk') && seen.includes('crypto wasm'), `the crypto was loaded after that: ${seen.join(', ')}`);
  });

  test('a new DM is encrypted; messages show in plaintext on both sides while the server stores only ciphertext', async () => {
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@bob:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.getByRole('heading', { name: 'bob', level: 1 }).waitFor();
    await alice.page.locator('.room-header').getByTitle('End-to-end encrypted').waitFor();
    await send(alice.page, SECRET_1);
    await timeline(alice.page).getByText(SECRET_1).waitFor();

    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('wants to chat').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
    await timeline(bob.page).getByText(SECRET_1).waitFor();
    await send(bob.page, SECRET_2);
    await timeline(alice.page).getByText(SECRET_2).waitFor();
    await roomButton(bob.page, 'alice').getByTitle('End-to-end encrypted').waitFor();
    assert.equal(await timeline(alice.page).getByText('Unable to decrypt').count(), 0, 'nothing stays unreadable with the keys at hand');
    await screenshot(alice.page, 'crypto-dm-light');

    const direct = await api(hearth(), await sessionOf(alice.page), 'GET', '/user/@alice:localhost/account_data/m.direct');
    dmRoomId = direct['@bob:localhost'][0];
    const db = path.join(hearth().dataDir, 'hearth.sqlite');
    const rows = await query<{ type: string; json: string }>(db, 'SELECT type, json FROM events WHERE room_id = ? ORDER BY stream_ordering', [dmRoomId]);
    assert.ok(
      rows.some((r) => r.type === 'm.room.encryption'),
      'the DM was created with m.room.encryption',
    );
    const encrypted = rows.filter((r) => r.type === 'm.room.encrypted');
    assert.equal(encrypted.length, 2, 'both messages are stored as m.room.encrypted');
    for (const r of encrypted) assert.equal(JSON.parse(r.json).content.algorithm, 'm.megolm.v1.aes-sha2');
    assert.equal(rows.filter((r) => r.type === 'm.room.message').length, 0, 'no message is stored in the clear');
    // Byte for byte, in every file of the data dir (the database, its write-ahead log, media, logs).
    for (const name of readdirSync(hearth().dataDir, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(hearth().dataDir, name);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue; // a directory
      }
      for (const secret of ['tangerine-42', 'launch code'])
        assert.equal(bytes.includes(Buffer.from(secret)), false, `${name} holds no plaintext ("${secret}")`);
    }
  });

  test("a second tab of Alice's session leaves the key store to the first (one Web Lock): it does not decrypt, the first still does", async () => {
    const second = await alice.context.newPage();
    const refused = second.waitForEvent('console', { predicate: (m) => m.text().includes('open in another window'), timeout: 60_000 });
    await second.goto(hearth().url);
    await roomButton(second, 'bob').click();
    await refused;
    assert.equal(await timeline(second).getByText(SECRET_1).count(), 0);
    await second.close();
    await timeline(alice.page).getByText(SECRET_1).waitFor();
  });

  test('a new session of Bob, without the keys, shows "Unable to decrypt" rather than hiding the messages', async () => {
    const other = await open();
    await signInInUi(other.page, 'bob');
    await roomButton(other.page, 'alice').click();
    await other.page.getByRole('heading', { name: 'alice', level: 1 }).waitFor();
    const unreadable = timeline(other.page).getByText('Unable to decrypt this message');
    await unreadable.nth(1).waitFor();
    assert.equal(await timeline(other.page).getByText('tangerine-42').count(), 0);
    await other.context.close();
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
