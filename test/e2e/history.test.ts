// Back-pagination in the browser: 200 messages seeded over HTTP before Alice joins, then paged
// back by scrolling up until the room's creation, in order, with the view kept in place.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, registerOverHttp, signInInUi, timeline, useHearth } from './helpers.ts';

const HISTORY = 200;

describe('history', () => {
  const { hearth, open, problems } = useHearth();

  test(`back-pagination: scrolling up loads ${HISTORY} earlier messages, in order, keeping the view in place`, async (t) => {
    await registerOverHttp(hearth(), 'alice');
    const alice = await open();
    await signInInUi(alice.page, 'alice');
    await alice.page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
    const carol = await registerOverHttp(hearth(), 'carol');
    await api(hearth(), carol, 'PUT', '/profile/@carol:localhost/displayname', { displayname: 'Carol Diaz' });
    const { room_id: roomId } = await api(hearth(), carol, 'POST', '/createRoom', { name: 'Project history', invite: ['@alice:localhost'] });
    for (let i = 1; i <= HISTORY; i++) {
      await api(hearth(), carol, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/seed${i}`, {
        msgtype: 'm.text',
        body: `History message ${i}`,
      });
    }
    const invites = alice.page.getByRole('region', { name: 'Invites' });
    await invites.getByText('Project history').waitFor();
    await invites.getByRole('button', { name: 'Accept' }).click();
    await alice.page.getByRole('heading', { name: 'Project history', level: 1 }).waitFor();
    const log = timeline(alice.page);
    await log.getByText(`History message ${HISTORY}`, { exact: true }).waitFor();

    const started = Date.now();
    let rounds = 0;
    while ((await log.getByText('This is the beginning of').count()) === 0) {
      assert.ok(++rounds < 40, 'reached the start of the room within 40 scrolls');
      const before = await log.locator('.msg').count();
      await log.evaluate((el) => (el.scrollTop = 0));
      // Wait for the loading to settle: the view may have paged on its own before this scroll
      // (a short first screen fills itself), and the check below is about the state after.
      await alice.page.waitForFunction(
        ([n]) => {
          const log = document.querySelector('[role=log]')!;
          if (log.textContent!.includes('This is the beginning of')) return true;
          return log.querySelectorAll('.msg').length > n! && !log.querySelector('.start')!.textContent!.includes('Loading');
        },
        [before],
      );
      // The messages that were on screen stay there: the new ones go above, out of view.
      if ((await log.getByText('This is the beginning of').count()) === 0) {
        const state = await log.evaluate((el) => ({
          top: el.scrollTop,
          height: el.scrollHeight,
          client: el.clientHeight,
          msgs: el.querySelectorAll('.msg').length,
          start: el.querySelector('.start')?.textContent,
        }));
        assert.ok(state.top > 0, `the scroll position is kept after older messages are inserted (round ${rounds}, before ${before}: ${JSON.stringify(state)})`);
      }
    }
    const elapsed = Date.now() - started;
    const texts = await log.locator('.msg .body').allInnerTexts();
    const history = texts.filter((t) => t.startsWith('History message '));
    assert.equal(history.length, HISTORY);
    assert.deepEqual(
      history,
      Array.from({ length: HISTORY }, (_, i) => `History message ${i + 1}`),
      'in the order they were sent',
    );
    await log.getByText('Carol Diaz created and configured the room').waitFor();
    t.diagnostic(`paged back through ${HISTORY} messages in ${elapsed} ms (${rounds} scrolls)`);
  });

  test('no Content-Security-Policy violation or uncaught error', () => {
    assert.deepEqual(problems(), []);
  });
});
