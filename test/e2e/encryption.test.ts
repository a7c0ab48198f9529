// End-to-end encryption in the web client: matrix-js-sdk's Rust crypto, loaded after the room list
// shows, in two browser profiles against a real `hearth serve`. The server's own SQLite file is
// read to prove it holds the ciphertext only. The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import sqlite3 from 'sqlite3';
import {
  api,
  assertAccessible,
  registerInUi,
  roomButton,
  screenshot,
  send,
  sessionOf,
  signInInUi,
  timeline,
  useHearth,
  type ApiUser,
  type Hearth,
  type Window,
} from './helpers.ts';

const SECRET_1 = 'The launch code is tangerine-42';
const SECRET_2 = 'Noted: tangerine-42, burning this message';

let alice: Window;
let bob: Window;
let dmRoomId = '';

/** Waits until the server lists a device key for each of the user's sessions (its crypto is up). */
async function waitForDeviceKeys(hearth: Hearth, asUser: ApiUser, userId: string, count = 1): Promise<void> {
  for (;;) {
    const res = await api(hearth, asUser, 'POST', '/keys/query', { device_keys: { [userId]: [] } });
    if (Object.keys(res.device_keys?.[userId] ?? {}).length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

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

  test('two sessions of Alice verify each other by emoji: both show the same seven emoji, then "Verified"', async () => {
    const second = await open('dark');
    await signInInUi(second.page, 'alice');
    await second.page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost', 2);
    const secondDevice = JSON.parse((await second.page.evaluate(() => localStorage.getItem('hearth.session')))!).deviceId as string;

    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    const menu = alice.page.getByRole('dialog', { name: 'Encryption' });
    await menu.getByText(secondDevice).first().waitFor();
    await assertAccessible(alice.page, 'encryption dialog');
    await screenshot(alice.page, 'crypto-encryption-light');
    await menu.getByRole('button', { name: new RegExp(`Verify .*${secondDevice}`) }).click();
    const asking = alice.page.getByRole('dialog', { name: 'Verify session' });
    await asking.getByText(/Waiting for .* to accept/).waitFor();

    const asked = second.page.getByRole('dialog', { name: 'Verify session' });
    await asked.getByText(/wants to verify this session/).waitFor();
    await assertAccessible(second.page, 'verification request dialog');
    await screenshot(second.page, 'crypto-verify-request-dark');
    await asked.getByRole('button', { name: 'Accept' }).click();

    const emojiOf = async (page: typeof alice.page) => {
      const list = page.getByRole('list', { name: 'Emoji to compare' });
      await list.getByRole('listitem').nth(6).waitFor();
      return (await list.getByRole('listitem').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    };
    const mine = await emojiOf(alice.page);
    const theirs = await emojiOf(second.page);
    assert.equal(mine.length, 7, `seven emoji: ${mine.join(' | ')}`);
    assert.deepEqual(theirs, mine, 'both sessions show the same emoji, in the same order');
    await assertAccessible(alice.page, 'verification emoji dialog');
    await screenshot(alice.page, 'crypto-verify-emoji-light');
    await second.page.setViewportSize({ width: 390, height: 844 });
    await screenshot(second.page, 'crypto-verify-emoji-390');
    await asking.getByRole('button', { name: 'They match' }).click();
    await asked.getByRole('button', { name: 'They match' }).click();
    await asking.getByText(/^Verified/).waitFor();
    await asked.getByText(/^Verified/).waitFor();
    await asking.getByRole('button', { name: 'Done' }).click();
    await asked.getByRole('button', { name: 'Done' }).click();

    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    const again = alice.page.getByRole('dialog', { name: 'Encryption' });
    await again.getByRole('listitem').filter({ hasText: secondDevice }).getByText('Verified', { exact: true }).waitFor();
    await again.getByRole('button', { name: 'Close' }).click();
    await second.context.close();
  });

  test('secure backup: Alice sets it up and is shown a recovery key; a new session that enters it reads the old messages', async () => {
    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    await alice.page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Set up secure backup' }).click();
    const setup = alice.page.getByRole('dialog', { name: 'Set up secure backup' });
    await assertAccessible(alice.page, 'secure backup dialog');
    await setup.getByRole('button', { name: 'Make a recovery key' }).click();
    const shown = setup.getByLabel('Recovery key');
    await shown.waitFor();
    const recoveryKey = (await shown.innerText()).trim();
    assert.match(recoveryKey, /^(\w{4} ){11}\w{4}$/, "a recovery key in the spec's format: 48 characters in groups of four");
    await screenshot(alice.page, 'crypto-backup-key-light');
    await setup.getByRole('button', { name: 'I have saved it' }).click();

    // The crypto uploads the room keys in the background (after up to 10 s): wait for the server to hold both.
    const aliceApi = await sessionOf(alice.page);
    for (;;) {
      const version = await api(hearth(), aliceApi, 'GET', '/room_keys/version');
      const keys = await api(hearth(), aliceApi, 'GET', `/room_keys/keys?version=${encodeURIComponent(version.version)}`);
      const sessions = Object.values((keys.rooms?.[dmRoomId]?.sessions ?? {}) as Record<string, unknown>);
      if (sessions.length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    const fresh = await open();
    await signInInUi(fresh.page, 'alice');
    await roomButton(fresh.page, 'bob').click();
    await timeline(fresh.page).getByText('Unable to decrypt this message').nth(1).waitFor();
    await fresh.page.getByRole('button', { name: 'Encryption' }).click();
    await fresh.page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Restore from recovery key' }).click();
    const restore = fresh.page.getByRole('dialog', { name: 'Restore from recovery key' });
    await restore.getByLabel('Recovery key').fill('EsTc aaaa bbbb cccc');
    await restore.getByRole('button', { name: 'Restore' }).click();
    await restore.getByRole('alert').filter({ hasText: 'not a recovery key' }).waitFor();
    await restore.getByLabel('Recovery key').fill(recoveryKey);
    await assertAccessible(fresh.page, 'restore dialog');
    await restore.getByRole('button', { name: 'Restore' }).click();
    await restore.getByText(/Restored [1-9]\d* keys?/).waitFor();
    await restore.getByRole('button', { name: 'Done' }).click();
    // The messages redraw as they decrypt, with no reload.
    await timeline(fresh.page).getByText(SECRET_1).waitFor();
    await timeline(fresh.page).getByText(SECRET_2).waitFor();
    assert.equal(await timeline(fresh.page).getByText('Unable to decrypt').count(), 0);
    await fresh.context.close();
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
