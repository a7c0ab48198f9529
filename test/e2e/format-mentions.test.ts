// The composer's @-autocomplete (issue #16, part P1): it lists the room's members, picks one
// with the keyboard, and sends a pill: a matrix.to link in formatted_body and the user in
// m.mentions (push.md "Intentional mentions"), which the server highlights for them.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { NotificationCountType, type MatrixClient } from 'matrix-js-sdk';
import { waitFor } from '../helpers/sdk.ts';
import { assertAccessible, screenshot, timeline, type Window } from './helpers.ts';
import { useFormattingRoom } from './format-room.ts';

describe('@-mentions with autocomplete', () => {
  const room = useFormattingRoom();
  const { problems, bobSees } = room;
  let bob: MatrixClient;
  let roomId: string;
  let alice: Window;
  let dana: Window;
  before(() => {
    ({ bob, roomId, alice, dana } = { bob: room.bob(), roomId: room.roomId(), alice: room.alice(), dana: room.dana() });
  });

  test('@ in the composer lists members (arrows, Escape, Enter, Tab); the pick is a pill that mentions Bob and highlights for him', async () => {
    const page = alice.page;
    const composer = page.locator('#composer-input');
    const list = page.getByRole('listbox', { name: 'Mention a member' });
    await composer.fill('Thanks @');
    await list.waitFor();
    const options = list.getByRole('option');
    assert.equal(await options.count(), 2, 'everyone but Alice');
    assert.match(await options.nth(0).innerText(), /Bob Chen\s*@bob:localhost/);
    assert.match(await options.nth(1).innerText(), /Dana Scully\s*@dana:localhost/);
    assert.equal(await composer.getAttribute('aria-expanded'), 'true');
    const activeId = async () => composer.getAttribute('aria-activedescendant');
    assert.equal(await activeId(), await options.nth(0).getAttribute('id'));
    await composer.press('ArrowDown');
    assert.equal(await activeId(), await options.nth(1).getAttribute('id'));
    assert.equal(await options.nth(1).getAttribute('aria-selected'), 'true');
    await composer.press('ArrowUp');
    assert.equal(await activeId(), await options.nth(0).getAttribute('id'));
    await screenshot(page, 'format-autocomplete-light');
    await assertAccessible(page, 'mention autocomplete');
    await composer.press('Escape');
    await list.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), 'Thanks @', 'Escape only closes the list');
    assert.equal(await composer.getAttribute('aria-expanded'), 'false');

    // Typing on narrows the list again; Tab picks.
    await composer.pressSequentially('da');
    await list.getByRole('option', { name: /Dana Scully/ }).waitFor();
    assert.equal(await options.count(), 1);
    await composer.press('Tab');
    await list.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), 'Thanks Dana Scully ');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'composer-input', 'Tab picked, it did not move the focus');

    // Leaving the composer closes the list.
    await composer.fill('Thanks @');
    await list.waitFor();
    await timeline(page).click({ position: { x: 5, y: 5 } });
    await list.waitFor({ state: 'detached' });

    // Enter picks (it does not send), and the message carries the pill.
    await composer.fill('Thanks @bo');
    await list.getByRole('option', { name: /Bob Chen/ }).waitFor();
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), 'Thanks Bob Chen ');
    await composer.pressSequentially('for the review');
    await composer.press('Enter');
    const ev = await bobSees('Thanks Bob Chen for the review');
    assert.deepEqual(ev.getContent()['m.mentions'], { user_ids: ['@bob:localhost'] });
    assert.equal(ev.getContent().formatted_body, 'Thanks <a href="https://matrix.to/#/@bob:localhost">Bob Chen</a> for the review');
    await waitFor("the server's highlight count for Bob to be 1", () => bob.getRoom(roomId)?.getUnreadNotificationCount(NotificationCountType.Highlight) === 1);
    const pill = timeline(dana.page).locator('.msg').filter({ hasText: 'for the review' }).locator('a.pill');
    assert.equal(await pill.innerText(), 'Bob Chen');
    assert.equal(await pill.getAttribute('href'), 'https://matrix.to/#/@bob:localhost');
    await screenshot(dana.page, 'format-timeline-light');
  });

  test('the timeline and the mention list in dark and at 390 px', async () => {
    const page = alice.page;
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'format-timeline-dark');
    const composer = page.locator('#composer-input');
    await composer.fill('@');
    await page.getByRole('listbox', { name: 'Mention a member' }).waitFor();
    await screenshot(page, 'format-autocomplete-dark');
    await assertAccessible(page, 'mention autocomplete, dark');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'format-autocomplete-390');
    await composer.press('Escape');
    await screenshot(page, 'format-timeline-390');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
    await composer.fill(''); // stops its "typing…" for the others
  });

  test('no Content-Security-Policy violation or uncaught error in any window', () => {
    assert.deepEqual(problems(), []);
  });
});
