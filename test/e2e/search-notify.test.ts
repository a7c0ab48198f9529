// Finding and being told: message search over the server's /search, the room list's filter, and
// OS notifications for what Alice's push rules say should notify. Alice uses the web client in
// Chromium; Bob is a matrix-js-sdk client in this process (a client nobody here wrote). The
// notifications are recorded by an init script that wraps the browser's own window.Notification.
import assert from 'node:assert/strict';
import { before, after, describe, test } from 'node:test';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk } from '../helpers/sdk.ts';
import {
  api,
  assertAccessible,
  registerOverHttp,
  roomButton,
  screenshot,
  sessionOf,
  signInInUi,
  timeline,
  useHearth,
  type ApiUser,
  type Window,
} from './helpers.ts';

interface Shown {
  title: string;
  body: string;
  tag: string;
}
interface Recorder {
  __shown: Array<Shown & { instance?: Notification }>;
  /** Calls to the desktop preload's focusWindow (window.hearth, stood in for here). */
  __raised: number;
}

/** Grants notifications and wraps window.Notification to record each one, then loads the client. */
async function recordNotifications(w: Window, url: string): Promise<void> {
  await w.context.grantPermissions(['notifications'], { origin: url });
  await w.context.addInitScript(() => {
    const Real = window.Notification;
    const shown: Recorder['__shown'] = [];
    const recorder = globalThis as unknown as Recorder;
    recorder.__shown = shown;
    recorder.__raised = 0;
    // The desktop preload's bridge (main/preload.cts), as far as notifications use it.
    Object.defineProperty(window, 'hearth', { value: { focusWindow: () => void recorder.__raised++ } });
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        const entry: Recorder['__shown'][number] = { title, body: options?.body ?? '', tag: options?.tag ?? '' };
        shown.push(entry);
        super(title, options);
        entry.instance = this;
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recorded, writable: true, configurable: true });
  });
  await w.page.goto(url);
}

async function shownIn(w: Window): Promise<Shown[]> {
  return w.page.evaluate(() => (globalThis as unknown as Recorder).__shown.map(({ title, body, tag }) => ({ title, body, tag })));
}

async function waitForShown(w: Window, count: number): Promise<Shown[]> {
  try {
    await w.page.waitForFunction((n) => (globalThis as unknown as Recorder).__shown.length >= n, count);
  } catch (err) {
    throw new Error(`waiting for ${count} notifications, saw ${JSON.stringify(await shownIn(w))}`, { cause: err });
  }
  return shownIn(w);
}

describe('message search, the room filter and notifications', () => {
  const { hearth, open, problems } = useHearth();
  let alice: ApiUser;
  let bob: MatrixClient;
  const rooms: Record<string, string> = {};
  let win: Window;

  const aliceJoins = async (name: string, roomId: string) => {
    rooms[name] = roomId;
    await api(hearth(), alice, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  };

  before(async () => {
    const hs = hearth();
    alice = await registerOverHttp(hs, 'alice');
    await api(hs, alice, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    const creds = await registerWithSdk(hs, 'bob');
    bob = createClient({ baseUrl: hs.url, ...creds, fetchFn, logger: quietLogger });
    await bob.setDisplayName('Bob Chen');
    for (const name of ['Design team', 'Garden club', 'Quiet corner']) {
      const { room_id } = await bob.createRoom({ name, invite: ['@alice:localhost'] });
      await aliceJoins(name, room_id);
    }
    await bob.sendTextMessage(rooms['Design team']!, 'The quarterly budget review moves to Thursday');
    await bob.sendTextMessage(rooms['Design team']!, 'Lunch is on me');
    await bob.sendTextMessage(rooms['Garden club']!, 'Tomatoes need a Budget too, sadly');
    await bob.sendTextMessage(rooms['Garden club']!, 'Who waters the roses this week?');
    win = await open();
    await signInInUi(win.page, 'alice');
    await roomButton(win.page, 'Quiet corner').waitFor();
  });

  after(() => bob?.stopClient());

  test('a search lists the matching messages of two rooms with room, sender and the word marked; a result opens its room', async () => {
    const page = win.page;
    await roomButton(page, 'Design team').click();
    await page.getByRole('button', { name: 'Search messages' }).click();
    const dialog = page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByLabel('Words to find').fill('budget');
    await dialog.getByLabel('Words to find').press('Enter');
    await dialog.getByRole('status').filter({ hasText: '2 messages match “budget”.' }).waitFor();
    const results = dialog.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    assert.equal(await results.count(), 2);
    // Newest first: Garden club's message was sent last.
    assert.match(await results.nth(0).innerText(), /^Garden club\s.*\nBob Chen: Tomatoes need a Budget too, sadly$/s);
    assert.match(await results.nth(1).innerText(), /^Design team\s.*\nBob Chen: The quarterly budget review moves to Thursday$/s);
    assert.deepEqual(await dialog.locator('mark').allInnerTexts(), ['Budget', 'budget'], 'the searched word is marked, in any case');
    assert.equal(await dialog.getByText('Lunch is on me').count(), 0);

    // A client nobody here wrote asks the same, its answer checked against the spec's OpenAPI.
    const sdkResults = await bob.searchRoomEvents({ term: 'budget' });
    assert.deepEqual(
      sdkResults.results.map((r) => r.context.getEvent().getContent().body),
      ['Tomatoes need a Budget too, sadly', 'The quarterly budget review moves to Thursday'],
    );

    await assertAccessible(page, 'message search');
    await screenshot(page, 'p7-search-light');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'p7-search-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Only in the open room.
    await dialog.getByLabel('Only in Design team').check();
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: '1 message matches “budget”.' }).waitFor();
    assert.equal(await results.count(), 1);
    await dialog.getByLabel('Only in Design team').uncheck();

    await dialog.getByLabel('Words to find').fill('xylophone');
    await dialog.getByLabel('Words to find').press('Enter');
    await dialog.getByRole('status').filter({ hasText: 'No messages match “xylophone”.' }).waitFor();
    assert.equal(await results.count(), 0);

    await dialog.getByLabel('Words to find').fill('roses');
    await dialog.getByLabel('Words to find').press('Enter');
    await results.getByRole('button', { name: /Who waters the roses/ }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
  });

  test('a search with more results than a page shows the first ten, and "More results" brings the rest', async () => {
    const page = win.page;
    for (let i = 1; i <= 12; i++) await bob.sendTextMessage(rooms['Quiet corner']!, `Agenda item ${i}`);
    await roomButton(page, 'Quiet corner').getByText('Agenda item 12').waitFor();
    await page.getByRole('button', { name: 'Search messages' }).click();
    const dialog = page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByLabel('Words to find').fill('agenda');
    await dialog.getByLabel('Words to find').press('Enter');
    await dialog.getByRole('status').filter({ hasText: '12 messages match “agenda”.' }).waitFor();
    const results = dialog.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    // The server's page is ten by default (search.yaml "filter": limit); the rest is a next_batch away.
    assert.equal(await results.count(), 10);
    await dialog.getByRole('button', { name: 'More results' }).click();
    await results.nth(11).waitFor();
    assert.equal(await results.count(), 12);
    assert.match(await results.nth(11).innerText(), /Agenda item 1$/, 'the oldest last');
    assert.equal(await dialog.getByRole('button', { name: 'More results' }).count(), 0, 'nothing more to fetch');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  test('the message search dialog in dark', async () => {
    const dark = await open('dark');
    await signInInUi(dark.page, 'alice');
    await dark.page.getByRole('button', { name: 'Search messages' }).click();
    const dialog = dark.page.getByRole('dialog', { name: 'Search messages' });
    await dialog.getByLabel('Words to find').fill('budget');
    await dialog.getByLabel('Words to find').press('Enter');
    await dialog.getByRole('list', { name: 'Search results' }).getByRole('listitem').nth(1).waitFor();
    await assertAccessible(dark.page, 'message search (dark)');
    await screenshot(dark.page, 'p7-search-dark');
    await dark.context.close();
  });

  test('the filter above the room list narrows it by name; Escape brings every room back, Enter opens the first', async () => {
    const page = win.page;
    const filter = page.getByRole('searchbox', { name: 'Filter rooms' });
    const list = page.getByRole('navigation', { name: 'Rooms' }).getByRole('listitem');
    assert.equal(await list.count(), 3);
    await page.keyboard.press('Control+k');
    assert.equal(await filter.evaluate((el) => el === document.activeElement), true, 'Ctrl+K puts the cursor in the filter');
    await page.keyboard.type('GARD');
    assert.deepEqual(await list.locator('.room-name').allInnerTexts(), ['Garden club']);
    await filter.fill('corner quiet');
    assert.deepEqual(await list.locator('.room-name').allInnerTexts(), ['Quiet corner'], 'every word, in any order');
    await filter.fill('zzz');
    assert.equal(await list.count(), 0);
    await page.getByText('No rooms match “zzz”.').waitFor();
    await assertAccessible(page, 'room list, filtered to nothing');
    await filter.press('Escape');
    assert.equal(await filter.inputValue(), '');
    assert.equal(await list.count(), 3);
    await filter.fill('design');
    await filter.press('Enter');
    await page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
    await screenshot(page, 'p7-room-filter-light');
    await filter.fill('');
  });

  test('no notification for history or the first sync; a mention in another room notifies with its sender, room and text, and opens it', async () => {
    // Sent while the page is closed: history when it comes back.
    await win.page.goto('about:blank');
    await bob.sendMessage(rooms['Garden club']!, {
      msgtype: 'm.text',
      body: 'Alice Martin, did you see this earlier?',
      'm.mentions': { user_ids: ['@alice:localhost'] },
    } as never);
    await recordNotifications(win, hearth().url);
    const page = win.page;
    await roomButton(page, 'Design team').click();
    await timeline(page).getByText('Lunch is on me').waitFor();
    await roomButton(page, 'Garden club').getByText('did you see this earlier?').waitFor();

    await bob.sendMessage(rooms['Garden club']!, {
      msgtype: 'm.text',
      body: 'Alice Martin: the seeds are here',
      'm.mentions': { user_ids: ['@alice:localhost'] },
    } as never);
    const shown = await waitForShown(win, 1);
    assert.deepEqual(shown, [{ title: 'Bob Chen (Garden club)', body: 'Alice Martin: the seeds are here', tag: rooms['Garden club'] }]);

    // Clicking it (what the OS does when the user clicks) opens the room.
    await page.evaluate(() => (globalThis as unknown as Recorder).__shown[0]!.instance!.dispatchEvent(new Event('click')));
    await page.getByRole('heading', { name: 'Garden club', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as Recorder).__raised), 1, 'the desktop window is raised');
  });

  test('none for the open focused room, for her own message, for a muted room or with the switch off; a DM does notify', async () => {
    const page = win.page;
    await roomButton(page, 'Design team').click();
    const before = (await shownIn(win)).length;

    // The room she is looking at.
    await bob.sendTextMessage(rooms['Design team']!, 'Alice Martin, right here in the open room');
    await timeline(page).getByText('Alice Martin, right here in the open room').waitFor();
    // Her own message, from another of her sessions.
    await api(hearth(), await sessionOf(page), 'PUT', `/rooms/${encodeURIComponent(rooms['Garden club']!)}/send/m.room.message/own-1`, {
      msgtype: 'm.text',
      body: 'My own words',
    });
    await roomButton(page, 'Garden club').getByText('My own words').waitFor();
    // A room she muted (an override rule with no actions, as Element's "Mute" writes; push.md).
    const muted = rooms['Quiet corner']!;
    await api(hearth(), alice, 'PUT', `/pushrules/global/override/${encodeURIComponent(muted)}`, {
      conditions: [{ kind: 'event_match', key: 'room_id', pattern: muted }],
      actions: [],
    });
    await bob.sendMessage(muted, { msgtype: 'm.text', body: 'Alice Martin: shh, muted', 'm.mentions': { user_ids: ['@alice:localhost'] } } as never);
    await roomButton(page, 'Quiet corner').getByText('shh, muted').waitFor();
    // Notifications switched off in Settings.
    await page.evaluate(() => localStorage.setItem('hearth.notifications', 'off'));
    await bob.sendTextMessage(rooms['Garden club']!, 'Switched off, so silent');
    await roomButton(page, 'Garden club').getByText('Switched off, so silent').waitFor();
    await page.evaluate(() => localStorage.setItem('hearth.notifications', 'on'));

    // A DM: its invite notifies (.m.rule.invite_for_me), and so does its message
    // (.m.rule.room_one_to_one), titled by the sender alone. Everything above reached the page
    // before them, in earlier syncs: had any of it notified, it would be listed first.
    const { room_id: dm } = await bob.createRoom({ is_direct: true, invite: ['@alice:localhost'], preset: 'trusted_private_chat' as never });
    const invites = page.getByRole('region', { name: 'Invites' });
    await invites.getByText('wants to chat').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('heading', { name: 'Bob Chen', level: 1 }).waitFor();
    await roomButton(page, 'Design team').click();
    await bob.sendTextMessage(dm, 'Got a minute?');
    const shown = await waitForShown(win, before + 2);
    assert.deepEqual(shown.slice(before), [
      { title: 'Bob Chen', body: 'Invited you to chat', tag: dm },
      { title: 'Bob Chen', body: 'Got a minute?', tag: dm },
    ]);
  });

  test('an encrypted message this client cannot read notifies as "Encrypted message", never with its ciphertext', async () => {
    const before = (await shownIn(win)).length;
    // A megolm event as another client would send it (client-server-api "m.room.encrypted");
    // the SDK's types list only the events it encrypts itself, but the call sends any type.
    await bob.sendEvent(
      rooms['Garden club']!,
      'm.room.encrypted' as never,
      {
        algorithm: 'm.megolm.v1.aes-sha2',
        ciphertext: 'AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg37afzg8f3r9IsN9r4RNFg7MaZencUJe4qvELiDio',
        device_id: 'RJYKSTBOIE',
        sender_key: 'IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA',
        session_id: 'X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ',
      } as never,
    );
    const shown = await waitForShown(win, before + 1);
    assert.deepEqual(shown.slice(before), [{ title: 'Bob Chen (Garden club)', body: 'Encrypted message', tag: rooms['Garden club'] }]);
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
