// Issue #16's "seen broken" items in the room list: unread and highlight badges from the server's
// counts (not from the events the page happened to load). The other person is a matrix-js-sdk
// client in this process, a client nobody here wrote.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';
import { api, registerOverHttp, roomButton, screenshot, signInInUi, timeline, useHearth, type ApiUser, type Window } from './helpers.ts';

describe('counts, mentions and send failures', () => {
  const { hearth, open, problems } = useHearth();
  let alice: ApiUser;
  let bob: MatrixClient;
  let roomId: string;
  let win: Window;

  before(async () => {
    const hs = hearth();
    alice = await registerOverHttp(hs, 'alice');
    await api(hs, alice, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    const creds = await registerWithSdk(hs, 'bob');
    bob = createClient({ baseUrl: hs.url, ...creds, fetchFn, logger: quietLogger });
    await bob.setDisplayName('Bob Chen');
    await startSyncing(bob);
    ({ room_id: roomId } = await bob.createRoom({ name: 'Backlog', invite: ['@alice:localhost'] }));
    await api(hs, alice, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    win = await open();
    await signInInUi(win.page, 'alice');
    await roomButton(win.page, 'Backlog').waitFor();
  });

  after(() => bob?.stopClient());

  test('after a reload the badge shows the server count of 60 unread, not the 30 loaded, and marks the mention', async () => {
    const page = win.page;
    // The page is closed while the messages arrive; its session stays in localStorage.
    await page.goto('about:blank');
    for (let i = 1; i < 60; i++) await bob.sendTextMessage(roomId, `Backlog item ${i}`);
    const { event_id: lastId } = await bob.sendMessage(roomId, {
      msgtype: 'm.text',
      body: 'Alice Martin: item 60 is yours',
      'm.mentions': { user_ids: ['@alice:localhost'] },
    } as never);
    await page.goto(hearth().url);
    const badge = roomButton(page, 'Backlog').locator('.badge');
    await badge.filter({ hasText: '60' }).waitFor();
    assert.equal(await badge.getAttribute('class').then((c) => /\bhighlight\b/.test(c ?? '')), true, 'a room that mentions the user has a highlight badge');
    assert.match(await badge.innerText(), /60 unread, 1 mention/);
    await screenshot(page, 'room-list-server-counts-light');
    // Opening the room reads it: the badge goes, and stays gone once the server's counts come back.
    await roomButton(page, 'Backlog').click();
    await timeline(page).getByText('item 60 is yours').waitFor();
    await badge.waitFor({ state: 'detached' });
    await waitFor("Alice's read receipt to reach the server", () => bob.getRoom(roomId)?.getEventReadUpTo('@alice:localhost') === lastId);
    await page.reload();
    await roomButton(page, 'Backlog').getByText('item 60 is yours').waitFor();
    assert.equal(await badge.count(), 0, 'no badge after a reload once read');
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
