// The web client end to end: a real `hearth serve` with the built renderer, driven in Debian's
// Chromium. Two people in two browser profiles register, meet in a room and in a DM, talk live
// both ways, and join by alias. The tests run in order and build on each other.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, registerInUi, roomButton, screenshot, send, sessionOf, timeline, useHearth, type Window } from './helpers.ts';

let alice: Window;
let bob: Window;

describe('a conversation between two browsers', () => {
  const { hearth, open, problems } = useHearth();

  test('two people register in two browsers; Alice creates a room and invites Bob, who accepts', async () => {
    alice = await open();
    bob = await open();
    await registerInUi(alice.page, 'alice');
    await registerInUi(bob.page, 'bob');
    // Display names make the screens read like real use; the client shows them everywhere.
    await api(hearth(), await sessionOf(alice.page), 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    await api(hearth(), await sessionOf(bob.page), 'PUT', '/profile/@bob:localhost/displayname', { displayname: 'Bob Chen' });
    // A new name reaches other clients through rooms; with none yet, the page reads it on load.
    await alice.page.reload();
    await bob.page.reload();
    await alice.page.getByText('Alice Martin', { exact: true }).first().waitFor();
    await bob.page.getByText('Bob Chen', { exact: true }).first().waitFor();

    await alice.page.getByRole('button', { name: 'New room' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'New room' });
    await dialog.getByLabel('Name').fill('Design team');
    await dialog.getByLabel('Topic (optional)').fill('Mockups, reviews and the odd cat picture');
    await dialog.getByLabel('Invite (optional)').fill('@bob:localhost');
    await screenshot(alice.page, 'create-room-light');
    await dialog.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
    await alice.page.getByText('Mockups, reviews and the odd cat picture').first().waitFor();

    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Design team').waitFor();
    await invites.getByText('from Alice Martin').waitFor();
    await screenshot(bob.page, 'invite-light');
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Design team', level: 1 }).waitFor();
    await timeline(bob.page).getByText('Bob Chen joined').waitFor();
    await timeline(alice.page).getByText('Bob Chen joined').waitFor();

    await alice.page.getByRole('button', { name: 'Members' }).click();
    const members = alice.page.getByRole('complementary', { name: /Members/ });
    await members.getByText('Bob Chen').waitFor();
    await members.getByText('Alice Martin (you)').waitFor();
    await alice.page.getByRole('button', { name: 'Close members' }).click();
  });

  test('messages sent in quick succession arrive in the order typed, even while the formatter is still loading', async () => {
    // The first send loads the markdown chunk; a second send right behind it found the chunk's
    // dependencies already requested and could overtake the first (seen in CI: the room list's
    // preview showed the first message as the latest). A slow chunk makes that window wide.
    await alice.page.route(/\/assets\/markdown-[^/]*\.js$/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      await route.continue();
    });
    const composer = alice.page.locator('#composer-input');
    for (const text of ['First in line.', 'Second in line.', 'Third in line.']) {
      await composer.fill(text);
      await composer.press('Enter');
    }
    await timeline(bob.page).getByText('Third in line.').waitFor();
    await timeline(bob.page).getByText('First in line.').waitFor();
    const order = await timeline(bob.page)
      .getByText(/^(First|Second|Third) in line\.$/)
      .allTextContents();
    assert.deepEqual(order, ['First in line.', 'Second in line.', 'Third in line.']);
    await alice.page.unrouteAll();
  });

  test('messages appear live in the other browser, both ways; Shift+Enter is a newline and /me an emote', async () => {
    await send(alice.page, 'Hi Bob! The new mockups are up on the board.');
    await timeline(bob.page).getByText('Hi Bob! The new mockups are up on the board.').waitFor();

    const composer = bob.page.locator('#composer-input');
    await composer.fill('Looks great.');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('Can we move the sidebar to the left?');
    assert.equal(await composer.inputValue(), 'Looks great.\nCan we move the sidebar to the left?', 'Shift+Enter adds a line instead of sending');
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), '', 'Enter sends and clears the composer');
    const twoLines = timeline(alice.page).locator('.msg').filter({ hasText: 'Can we move the sidebar' });
    await twoLines.waitFor();
    assert.match(await twoLines.locator('.body').innerText(), /^Looks great\.\nCan we move the sidebar to the left\?$/);

    await send(alice.page, '/me nods and drags it over');
    const emote = timeline(bob.page).locator('.msg.emote').filter({ hasText: 'nods and drags it over' });
    await emote.waitFor();
    assert.equal((await emote.locator('.body').innerText()).trim(), '* Alice Martin nods and drags it over');

    await send(bob.page, 'Perfect, thanks!');
    await timeline(alice.page).getByText('Perfect, thanks!').waitFor();
    // Consecutive messages from one sender share one name header.
    await send(bob.page, 'Shipping it tomorrow.');
    await timeline(alice.page).getByText('Shipping it tomorrow.').waitFor();
    const last = timeline(alice.page).locator('.msg').last();
    assert.ok(await last.evaluate((el) => el.classList.contains('continuation')), 'the second message of a run is grouped under the first');
    await timeline(alice.page).getByText('Today', { exact: true }).waitFor();
  });

  test('a DM started by user ID reaches the other person as a direct chat, recorded in m.direct', async () => {
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    let dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@nobody:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    const unknown = dialog.getByRole('alert').filter({ hasText: 'No user has that ID' });
    await unknown.waitFor();
    assert.match(await unknown.innerText(), /M_NOT_FOUND/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@bob:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.getByRole('heading', { name: 'Bob Chen', level: 1 }).waitFor();
    await send(alice.page, 'Quick question about the release, got a minute?');

    const session = await sessionOf(alice.page);
    const direct = await api(hearth(), session, 'GET', '/user/@alice:localhost/account_data/m.direct');
    assert.equal(direct['@bob:localhost']?.length, 1, 'the DM is recorded in m.direct');

    const invites = bob.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('wants to chat').waitFor();
    await invites.getByText('Alice Martin').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await bob.page.getByRole('heading', { name: 'Alice Martin', level: 1 }).waitFor();
    await timeline(bob.page).getByText('Quick question about the release, got a minute?').waitFor();
    await send(bob.page, 'Sure, call me in five.');
    await timeline(alice.page).getByText('Sure, call me in five.').waitFor();
    const bobDirect = await api(hearth(), await sessionOf(bob.page), 'GET', '/user/@bob:localhost/account_data/m.direct');
    assert.deepEqual(bobDirect['@alice:localhost'], direct['@bob:localhost'], 'accepting a DM invite records it in m.direct too');

    // Starting a DM with the same person again opens the existing one.
    await alice.page.getByRole('button', { name: 'Message', exact: true }).click();
    dialog = alice.page.getByRole('dialog', { name: 'Message someone' });
    await dialog.getByLabel('User ID').fill('@bob:localhost');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    await alice.page.getByRole('heading', { name: 'Bob Chen', level: 1 }).waitFor();
    assert.equal(await roomButton(alice.page, 'Bob Chen').count(), 1);
  });

  test('join by alias, with a clear error for an unknown address', async () => {
    await alice.page.getByRole('button', { name: 'New room' }).click();
    const create = alice.page.getByRole('dialog', { name: 'New room' });
    await create.getByLabel('Name').fill('Lobby');
    await create.getByLabel('Address (optional)').fill('lobby');
    await create.getByLabel('Anyone can find and join this room').check();
    await create.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { name: 'Lobby', level: 1 }).waitFor();

    await bob.page.getByRole('button', { name: 'Join', exact: true }).click();
    const dialog = bob.page.getByRole('dialog', { name: 'Join a room' });
    await dialog.getByLabel('Room address').fill('#nowhere:localhost');
    await dialog.getByRole('button', { name: 'Join' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'No room has that address' }).waitFor();
    await dialog.getByLabel('Room address').fill('#lobby:localhost');
    await dialog.getByRole('button', { name: 'Join' }).click();
    await bob.page.getByRole('heading', { name: 'Lobby', level: 1 }).waitFor();
    await timeline(alice.page).getByText('Bob Chen joined').waitFor();
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
