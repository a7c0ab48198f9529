// Room settings end to end: Alice changes things in Chromium and Bob (a second browser profile)
// or Carol on matrix-js-sdk (a client nobody here wrote) sees the result; the server's state is
// read back over HTTP. The tests run in order and build on each other. The member list's
// actions: member-actions.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { api, assertAccessible, registerInUi, sessionOf, useHearth, type ApiUser, type Window } from './helpers.ts';
import { captureAll, dialog } from './settings-helpers.ts';

/** An 8x8 PNG in Hearth's orange. */
const PNG_8X8 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGM45MiDFTEMLQkAps5DwRGu074AAAAASUVORK5CYII=', 'base64');

let alice: Window;
let bob: Window;
let aliceApi: ApiUser;
let carol: MatrixClient;
let roomId: string;

describe('room settings', () => {
  const { hearth, open, problems } = useHearth();

  test('Alice, Bob (browsers) and Carol (js-sdk) share a room Alice created', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    aliceApi = await sessionOf(alice.page);
    const creds = await registerWithSdk(hearth(), 'carol');
    carol = createClient({ baseUrl: hearth().url, ...creds, fetchFn, logger: quietLogger });
    ({ room_id: roomId } = await api(hearth(), aliceApi, 'POST', '/createRoom', {
      name: 'Garden club',
      preset: 'private_chat',
      invite: ['@bob:localhost', '@carol:localhost'],
    }));
    await carol.joinRoom(roomId);
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
    await alice.page
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('button', { name: /^Garden club/ })
      .click();
    await alice.page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
  });

  test("Alice sets the room's name and topic in Room settings; Bob's header changes", async () => {
    await alice.page.getByRole('button', { name: 'Room settings' }).click();
    const d = dialog(alice.page, /^Room settings/);
    await d.getByLabel('Room name').fill('Allotment crew');
    await d.getByLabel('Topic').fill('Seeds, slugs and Saturday digs');
    await d.getByRole('button', { name: 'Save' }).click();
    await d.getByRole('status').getByText('Saved.').waitFor();
    await bob.page.getByRole('heading', { name: 'Allotment crew', level: 1 }).waitFor();
    await bob.page.locator('.room-header .topic').getByText('Seeds, slugs and Saturday digs').waitFor();
    await captureAll(alice.page, 'room-general');
    await d.getByRole('tab', { name: 'Access' }).click();
    await assertAccessible(alice.page, 'room settings, Access');
    await d.getByRole('tab', { name: 'Permissions' }).click();
    await assertAccessible(alice.page, 'room settings, Permissions');
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test("an image picked as the room's avatar is uploaded and set as m.room.avatar", async () => {
    await alice.page.getByRole('button', { name: 'Room settings' }).click();
    const d = dialog(alice.page, /^Room settings/);
    await d.locator('input[type=file]').setInputFiles({ name: 'room.png', mimeType: 'image/png', buffer: PNG_8X8 });
    await d.getByRole('status').getByText('Room avatar saved.').waitFor();
    const avatar = await carol.getStateEvent(roomId, 'm.room.avatar', '');
    assert.match(avatar.url, /^mxc:\/\/localhost\/\S+$/, 'a js-sdk member reads the new avatar');
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test('Room settings > Access changes the join rule and history visibility in the room state', async () => {
    await alice.page.getByRole('button', { name: 'Room settings' }).click();
    const d = dialog(alice.page, /^Room settings/);
    await d.getByRole('tab', { name: 'Access' }).click();
    await d.getByLabel('Ask to join').check();
    await d.getByRole('status').getByText('Join rule saved.').waitFor();
    assert.equal((await api(hearth(), aliceApi, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.join_rules/`)).join_rule, 'knock');
    await d.getByLabel('Members only (since they joined)').check();
    await d.getByRole('status').getByText('History visibility saved.').waitFor();
    const history = await carol.getStateEvent(roomId, 'm.room.history_visibility', '');
    assert.equal(history.history_visibility, 'joined', 'a js-sdk member reads the new history visibility');
    await d.getByRole('button', { name: 'Close' }).click();
  });

  test('Room settings > General: Mute adds an override push rule for the room; Mentions only swaps it for a room rule', async () => {
    await alice.page.getByRole('button', { name: 'Room settings' }).click();
    const room = dialog(alice.page, /^Room settings/);
    await room.getByLabel('Mute').check();
    await room.getByRole('status').getByText('Notifications: Mute.').waitFor();
    const rule = await api(hearth(), aliceApi, 'GET', `/pushrules/global/override/${encodeURIComponent(roomId)}`);
    assert.deepEqual(rule.actions, []);
    assert.deepEqual(rule.conditions, [{ kind: 'event_match', key: 'room_id', pattern: roomId }]);
    await room.getByLabel('Mentions and keywords only').check();
    await room.getByRole('status').getByText('Notifications: Mentions and keywords only.').waitFor();
    await assert.rejects(api(hearth(), aliceApi, 'GET', `/pushrules/global/override/${encodeURIComponent(roomId)}`), /404/);
    assert.deepEqual((await api(hearth(), aliceApi, 'GET', `/pushrules/global/room/${encodeURIComponent(roomId)}`)).actions, []);
    await room.getByRole('button', { name: 'Close' }).click();
  });

  test('no page error or CSP violation', () => {
    assert.deepEqual(problems(), []);
  });
});
