// The room the formatting tests share (format.test.ts, format-mentions.test.ts): Alice and Dana
// use the web client in two browser profiles; Bob is a matrix-js-sdk client in this process.
import { after, before } from 'node:test';
import { createClient, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { fetchFn, quietLogger, registerWithSdk, startSyncing, waitFor } from '../helpers/sdk.ts';
import { api, registerOverHttp, roomButton, signInInUi, timeline, useHearth, type Window } from './helpers.ts';

export const ROOM = 'Formatting';

export function useFormattingRoom() {
  const { hearth, open, problems } = useHearth();
  let bob: MatrixClient;
  let roomId: string;
  let alice: Window;
  let dana: Window;

  before(async () => {
    const hs = hearth();
    const aliceUser = await registerOverHttp(hs, 'alice');
    const danaUser = await registerOverHttp(hs, 'dana');
    await api(hs, aliceUser, 'PUT', '/profile/@alice:localhost/displayname', { displayname: 'Alice Martin' });
    await api(hs, danaUser, 'PUT', '/profile/@dana:localhost/displayname', { displayname: 'Dana Scully' });
    const creds = await registerWithSdk(hs, 'bob');
    bob = createClient({ baseUrl: hs.url, ...creds, fetchFn, logger: quietLogger });
    await bob.setDisplayName('Bob Chen');
    await startSyncing(bob);
    ({ room_id: roomId } = await bob.createRoom({ name: ROOM, invite: ['@alice:localhost', '@dana:localhost'] }));
    await api(hs, aliceUser, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    await api(hs, danaUser, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    alice = await open();
    dana = await open();
    for (const [w, name] of [
      [alice, 'alice'],
      [dana, 'dana'],
    ] as const) {
      await signInInUi(w.page, name);
      await roomButton(w.page, ROOM).click();
      await timeline(w.page).getByText('Dana Scully joined').waitFor();
    }
  });

  after(() => bob?.stopClient());

  return {
    open,
    problems,
    bob: () => bob,
    roomId: () => roomId,
    alice: () => alice,
    dana: () => dana,
    /** Bob's copy of the first event whose body is `body`. */
    bobSees: (body: string) =>
      waitFor(`Bob to receive "${body}"`, () =>
        bob
          .getRoom(roomId)
          ?.getLiveTimeline()
          .getEvents()
          .find((ev: MatrixEvent) => ev.getContent().body === body),
      ),
  };
}
