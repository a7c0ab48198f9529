// The same conversation across two federated Hearth servers (issue #16), each a real `hearth serve`
// with the built web client: Alice on server A in one browser profile, Bob on server B in another.
// Everything between them goes over the Server-Server API on loopback (HTTPS, self-signed
// certificates trusted by name). The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { freePort } from '../helpers/server.ts';
import {
  api,
  assertAccessible,
  assertPrerequisites,
  launchChromium,
  openWindow,
  registerInUi,
  screenshot,
  send,
  sessionOf,
  startHearth,
  timeline,
  type Hearth,
  type Window,
} from './helpers.ts';
import { act, row } from './actions-room.ts';

/**
 * Each server is named by its federation listener's address (an IP literal with a port is reached
 * directly, no DNS), and trusts the other's self-signed certificate; a name listed in
 * `trust_self_signed` is also a private peer, so federation to loopback is allowed for it alone.
 */
function federatingConfig(ownName: string, peerName: string): string {
  return ['registration: open', 'federation:', `  listen: "${ownName}"`, `  trust_self_signed: ["${peerName}"]`, ''].join('\n');
}

const ROOM = 'Across the bridge';

describe('one conversation across two federated Hearth servers', () => {
  let a: Hearth;
  let b: Hearth;
  let nameA: string;
  let nameB: string;
  let browser: Browser;
  let alice: Window;
  let bob: Window;

  before(async () => {
    assertPrerequisites();
    nameA = `127.0.0.1:${await freePort()}`;
    nameB = `127.0.0.1:${await freePort()}`;
    [a, b, browser] = await Promise.all([
      startHearth(federatingConfig(nameA, nameB), nameA),
      startHearth(federatingConfig(nameB, nameA), nameB),
      launchChromium(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  test('Alice registers on server A and Bob on server B, each in their own browser', async () => {
    [alice, bob] = await Promise.all([openWindow(browser, a.url), openWindow(browser, b.url)]);
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    await api(a, await sessionOf(alice.page), 'PUT', `/profile/${encodeURIComponent(`@alice:${nameA}`)}/displayname`, { displayname: 'Alice Martin' });
    await api(b, await sessionOf(bob.page), 'PUT', `/profile/${encodeURIComponent(`@bob:${nameB}`)}/displayname`, { displayname: 'Bob Chen' });
    assert.equal((await sessionOf(alice.page)).userId, `@alice:${nameA}`);
    assert.equal((await sessionOf(bob.page)).userId, `@bob:${nameB}`);
  });

  test("Alice creates a room and invites Bob of the other server from the room's invite dialog; Bob accepts in his browser", async () => {
    await alice.page.getByRole('button', { name: 'New room' }).click();
    const create = alice.page.getByRole('dialog', { name: 'New room' });
    await create.getByLabel('Name').fill(ROOM);
    await create.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { name: ROOM, level: 1 }).waitFor();

    await alice.page.getByRole('button', { name: 'Invite someone' }).click();
    const invite = alice.page.getByRole('dialog', { name: `Invite to ${ROOM}` });
    await invite.getByLabel('User ID').fill(`@bob:${nameB}`);
    await invite.getByRole('button', { name: 'Invite', exact: true }).click();
    await invite.waitFor({ state: 'detached' });

    // The invite reached server B over federation (/invite), and Bob's client through his /sync.
    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText(ROOM).waitFor();
    await invites.getByText('from Alice Martin').waitFor();
    await screenshot(bob.page, 'federated-invite-light');
    await invites.getByRole('button', { name: 'Accept' }).click();
    // Accepting is a remote join (make_join/send_join through server A).
    await bob.page.getByRole('heading', { name: ROOM, level: 1 }).waitFor();
    await timeline(bob.page).getByText('Bob Chen joined').waitFor();
    await timeline(alice.page).getByText('Bob Chen joined').waitFor();

    // Each side knows the other's member event, with the name set on the other server.
    await bob.page.getByRole('button', { name: 'Members' }).click();
    const members = bob.page.getByRole('complementary', { name: /Members/ });
    await members.getByText('Alice Martin').waitFor();
    await members.getByText('Bob Chen (you)').waitFor();
    await bob.page.getByRole('button', { name: 'Close members' }).click();
  });

  test('messages go both ways and show in both browsers, under the sender from the other server', async () => {
    await send(alice.page, 'Hello from server A!');
    await row(bob.page, 'Hello from server A!').waitFor();
    assert.match(await row(bob.page, 'Hello from server A!').innerText(), /Alice Martin/);

    await send(bob.page, 'Hi Alice, greetings from server B.');
    await row(alice.page, 'Hi Alice, greetings from server B.').waitFor();
    assert.match(await row(alice.page, 'Hi Alice, greetings from server B.').innerText(), /Bob Chen/);
    await row(bob.page, 'Hi Alice, greetings from server B.').waitFor();
  });

  test("typing in Alice's browser shows in Bob's, on the other server", async () => {
    await alice.page.locator('#composer-input').fill('Let me check');
    await bob.page.locator('.typing').filter({ hasText: 'Alice Martin is typing…' }).waitFor();
    await alice.page.locator('#composer-input').fill('');
  });

  test('a reply (with its read receipt), a reaction and an edit made on one server show on the other; sending the edit ends its typing line at once', async () => {
    // Alice replies to Bob's message: Bob sees the quote.
    await act(alice.page, 'Hi Alice, greetings from server B.', 'Reply');
    await alice.page.getByText('Replying to Bob Chen').waitFor();
    await send(alice.page, 'Glad the bridge holds.');
    const reply = row(bob.page, 'Glad the bridge holds.');
    await reply.waitFor();
    assert.match(await reply.locator('.quote').innerText(), /Bob Chen\s+Hi Alice, greetings from server B\./);
    // Bob has it on screen, so his client sends a read receipt, which reaches Alice's server as an m.receipt EDU.
    await row(alice.page, 'Glad the bridge holds.').getByRole('img', { name: 'Read by Bob Chen' }).waitFor();

    // Bob reacts to Alice's first message: Alice sees his reaction with his name.
    await act(bob.page, 'Hello from server A!', 'React with 👍');
    await row(alice.page, 'Hello from server A!')
      .getByRole('button', { name: /^👍 1: Bob Chen reacted with 👍$/ })
      .waitFor();

    // Bob edits his message from the toolbar: Alice sees the new text once, marked edited.
    await act(bob.page, 'Hi Alice, greetings from server B.', 'Edit');
    await bob.page.getByText('Editing your message').waitFor();
    const requests: string[] = [];
    bob.page.on('request', (r) => {
      if (r.method() !== 'PUT') return;
      if (r.url().includes('/typing/')) requests.push(`typing ${(JSON.parse(r.postData() ?? '{}') as { typing?: boolean }).typing}`);
      else if (r.url().includes('/send/m.room.message/')) requests.push('send');
    });
    await send(bob.page, 'Hi Alice, warm greetings from server B.');
    await bob.page.getByText('Editing your message').waitFor({ state: 'detached' });
    // Sending the edit ends Bob's typing at once, as sending a message does (not after the idle pause).
    assert.deepEqual(requests.slice(-2), ['typing false', 'send']);
    await alice.page.locator('.typing').filter({ hasText: 'typing' }).waitFor({ state: 'detached' });
    await alice.page
      .locator('.msg .body')
      .filter({ hasText: /^Hi Alice, warm greetings from server B\. \(edited\)$/ })
      .waitFor();
    assert.equal(await row(alice.page, 'greetings from server B').count(), 1, 'the edit is not a second message');

    await screenshot(alice.page, 'federated-conversation-light');
    await screenshot(bob.page, 'federated-conversation-bob-light');
    await assertAccessible(alice.page, 'room shared with a user of another server');
  });

  test('no Content-Security-Policy violation or uncaught error in either window', () => {
    assert.deepEqual([...alice.problems, ...bob.problems], []);
  });
});
