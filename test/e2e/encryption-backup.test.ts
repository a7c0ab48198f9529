// Secure backup in the web client, against a real `hearth serve`: Alice writes in an encrypted DM,
// sets up the backup, and a new session of hers restores the keys with the recovery key and reads
// the messages. The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { until, waitForDeviceKeys } from './crypto-helpers.ts';
import {
  api,
  assertAccessible,
  PASSWORD,
  registerInUi,
  registerOverHttp,
  roomButton,
  screenshot,
  send,
  sessionOf,
  signInInUi,
  timeline,
  useHearth,
  type Window,
} from './helpers.ts';

const SECRET_1 = 'The launch code is tangerine-42';
const SECRET_2 = 'And the backup code is clementine-7';

let alice: Window;
let dmRoomId = '';

describe('secure backup with a recovery key', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice writes two messages in an encrypted DM', async () => {
    alice = await open();
    await registerOverHttp(hearth(), 'bob');
    await registerInUi(alice.page, 'alice');
    await waitForDeviceKeys(hearth(), await sessionOf(alice.page), '@alice:localhost');
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@bob:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.locator('.room-header').getByTitle('End-to-end encrypted').waitFor();
    await send(alice.page, SECRET_1);
    await send(alice.page, SECRET_2);
    await timeline(alice.page).getByText(SECRET_2).waitFor();
    const direct = await api(hearth(), await sessionOf(alice.page), 'GET', '/user/@alice:localhost/account_data/m.direct');
    dmRoomId = direct['@bob:localhost'][0];
  });

  test('secure backup: Alice sets it up and is shown a recovery key; a new session that enters it reads the old messages', async () => {
    await alice.page.getByRole('button', { name: 'Encryption' }).click();
    await alice.page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Set up secure backup' }).click();
    const setup = alice.page.getByRole('dialog', { name: 'Set up secure backup' });
    await assertAccessible(alice.page, 'secure backup dialog');
    // It sets up cross-signing too: the server asks for the password.
    await setup.getByLabel('Your password').fill(PASSWORD);
    await setup.getByRole('button', { name: 'Make a recovery key' }).click();
    const shown = setup.getByLabel('Recovery key');
    await shown.waitFor();
    const recoveryKey = (await shown.innerText()).trim();
    assert.match(recoveryKey, /^(\w{4} ){11}\w{4}$/, "a recovery key in the spec's format: 48 characters in groups of four");
    await screenshot(alice.page, 'crypto-backup-key-light');
    await setup.getByRole('button', { name: 'I have saved it' }).click();

    // The crypto uploads the room keys in the background (after up to 10 s): wait for the server to hold them.
    const aliceApi = await sessionOf(alice.page);
    await until(
      'the room key of her messages in the server-side backup',
      async () => {
        const version = await api(hearth(), aliceApi, 'GET', '/room_keys/version');
        const keys = await api(hearth(), aliceApi, 'GET', `/room_keys/keys?version=${encodeURIComponent(version.version)}`);
        return Object.keys(keys.rooms?.[dmRoomId]?.sessions ?? {}).length >= 1;
      },
      300,
      200,
    );

    const fresh = await open();
    await signInInUi(fresh.page, 'alice');
    await roomButton(fresh.page, 'bob').click();
    await timeline(fresh.page).getByText('Unable to decrypt this message').nth(1).waitFor();
    await fresh.page.getByRole('button', { name: 'Encryption' }).click();
    // A new recovery key here would replace a backup this session never read: it warns, and offers to restore first.
    await fresh.page.getByRole('dialog', { name: 'Encryption' }).getByRole('button', { name: 'Set up a new recovery key' }).click();
    const replacing = fresh.page.getByRole('dialog', { name: 'Set up secure backup' });
    await replacing.getByRole('alert').filter({ hasText: "You'll lose access to your encrypted messages" }).waitFor();
    await assertAccessible(fresh.page, 'new recovery key warning');
    await screenshot(fresh.page, 'crypto-new-key-warning-light');
    await replacing.getByRole('button', { name: 'Restore first' }).click();
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
    // The recovery key also opened the cross-signing keys: the new session signed itself with them.
    const freshDevice = ((await sessionOf(fresh.page)) as { deviceId?: string }).deviceId!;
    await until('the restored session signed by her self-signing key', async () => {
      const keys = await api(hearth(), aliceApi, 'POST', '/keys/query', { device_keys: { '@alice:localhost': [] } });
      const ssk = Object.keys(keys.self_signing_keys?.['@alice:localhost']?.keys ?? {})[0];
      return Boolean(ssk && keys.device_keys['@alice:localhost'][freshDevice]?.signatures?.['@alice:localhost']?.[ssk]);
    });
    await fresh.context.close();
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
