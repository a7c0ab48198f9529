// The member list's actions end to end: Alice in Chromium changes Bob's level and removes Carol
// (a matrix-js-sdk client, one nobody here wrote); Bob (a second browser profile) sees what his
// new level allows. The room state is read back over HTTP. The tests run in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, MatrixError, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import { api, assertAccessible, registerInUi, sessionOf, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';
import { captureAll, dialog } from './settings-helpers.ts';

let alice: Window;
let bob: Window;
let aliceApi: ApiUser;
let carol: MatrixClient;
let roomId: string;

describe('member actions', () => {
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

  test('Alice makes Bob a moderator from the member list: power level 50 in the room state, and Bob sees the badge', async () => {
    await alice.page.getByRole('button', { name: 'Members' }).click();
    const members = alice.page.getByRole('complementary', { name: /Members/ });
    await members.getByRole('button', { name: /^bob/ }).click();
    const actions = members.getByRole('group', { name: 'Actions for bob' });
    await actions.getByLabel('Power level').selectOption({ label: 'Moderator' });
    await actions.getByRole('button', { name: 'Change' }).click();
    const confirm = dialog(alice.page, 'Make bob a Moderator?');
    await assertAccessible(alice.page, 'change level confirmation');
    await confirm.getByRole('button', { name: 'Change level' }).click();
    await confirm.waitFor({ state: 'detached' });
    const levels = await api(hearth(), aliceApi, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`);
    assert.equal(levels.users['@bob:localhost'], 50);
    await bob.page.getByRole('button', { name: 'Members' }).click();
    await bob.page
      .getByRole('complementary', { name: /Members/ })
      .getByRole('button', { name: /^bob.*Moderator$/ })
      .waitFor();
  });

  test('Alice removes Carol from the member list, after confirming; Carol (js-sdk) is no longer a member', async () => {
    const members = alice.page.getByRole('complementary', { name: /Members/ });
    await members.getByRole('button', { name: /^carol/ }).click();
    await captureAll(alice.page, 'member-actions');
    await members.getByRole('group', { name: 'Actions for carol' }).getByRole('button', { name: 'Remove from room' }).click();
    const confirm = dialog(alice.page, 'Remove carol?');
    await confirm.getByLabel('Reason (optional)').fill('Moved away');
    await assertAccessible(alice.page, 'remove confirmation');
    await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
    await confirm.waitFor({ state: 'detached' });
    const member = await api(hearth(), aliceApi, 'GET', `/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent('@carol:localhost')}`);
    assert.equal(member.membership, 'leave');
    assert.equal(member.reason, 'Moved away');
    await assert.rejects(carol.sendTextMessage(roomId, 'still here?'), (err: unknown) => err instanceof MatrixError && err.errcode === 'M_FORBIDDEN');
    await timeline(bob.page).getByText('alice removed carol').waitFor();
  });

  test('Bob, a moderator, is offered no action on Alice (the admin) but may message her', async () => {
    const members = bob.page.getByRole('complementary', { name: /Members/ });
    await members.getByRole('button', { name: /^alice/ }).click();
    const actions = members.getByRole('group', { name: 'Actions for alice' });
    await actions.getByRole('button', { name: 'Message' }).waitFor();
    assert.equal(await actions.getByRole('button', { name: /Remove|Ban|Change/ }).count(), 0);
  });

  test('no page error or CSP violation', () => {
    assert.deepEqual(problems(), []);
  });
});
