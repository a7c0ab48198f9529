// GET /_matrix/federation/v1/timestamp_to_event (events.yaml) and PUT /_matrix/federation/v1/invite
// (invites-v1.yaml), asked by a second real server over signed HTTPS, every answer validated
// against the server-server OpenAPI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertError, createRoom, enc, fed, remoteJoin, send, startPair, type Pair } from './room-data-helpers.ts';
import { checked } from '../../helpers/checked-call.ts';
import { getRoomVersion } from '../../../homeserver/protocol/room-versions.ts';
import { computeEventId, hashAndSignEvent } from '../../../homeserver/protocol/event-hashing.ts';
import { decodeSigningKeyFile } from '../../../homeserver/protocol/signing-key.ts';
import type { PDU } from '../../../homeserver/protocol/types.ts';

describe('federation: timestamp_to_event and the v1 invite', () => {
  let p: Pair;
  before(async () => {
    p = await startPair();
  });
  after(() => p?.stop());

  test('timestamp_to_event finds the closest event in each direction for a server in the room, and refuses one outside it', async () => {
    const roomId = await createRoom(p, { preset: 'public_chat' });
    await remoteJoin(p, roomId, 'bob');
    const first = await send(p, roomId, 'first');
    await new Promise((r) => setTimeout(r, 5)); // two distinct origin_server_ts
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    const second = await send(p, roomId, 'second');
    const back = await fed(p, 'GET', `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}?ts=${middle}&dir=b`);
    assert.equal(back.status, 200);
    assert.equal(back.body.event_id, first);
    assert.ok(back.body.origin_server_ts <= middle);
    const fwd = await fed(p, 'GET', `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}?ts=${middle}&dir=f`);
    assert.equal(fwd.body.event_id, second);
    // The client API answers from the same code: the same events for a member.
    const client = await checked(p.a, p.alice, 'GET', `/_matrix/client/v1/rooms/${enc(roomId)}/timestamp_to_event?ts=${middle}&dir=f`);
    assert.deepEqual(client.body, fwd.body);
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}?ts=${Date.now() + 60_000}&dir=f`), 404, 'M_NOT_FOUND');
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/timestamp_to_event/${enc(roomId)}?ts=${middle}&dir=x`), 400, 'M_INVALID_PARAM');
    const closed = await createRoom(p, { preset: 'private_chat' });
    assertError(await fed(p, 'GET', `/_matrix/federation/v1/timestamp_to_event/${enc(closed)}?ts=${middle}&dir=b`), 403, 'M_FORBIDDEN');
  });

  /** An invite of A's alice by @carol of B, signed by B, in a room of B this server never saw. */
  function inviteFromB(roomVersion: string) {
    const version = getRoomVersion(roomVersion)!;
    const key = decodeSigningKeyFile(readFileSync(join(p.b.dataDir, 'signing.key'), 'utf8'));
    const roomId = `!v1invite${roomVersion}:${p.bName}`;
    const pdu = hashAndSignEvent(
      {
        type: 'm.room.member',
        state_key: p.alice.userId,
        sender: `@carol:${p.bName}`,
        room_id: roomId,
        // invite_event.yaml requires `origin`, which the older servers that still send v1 invites set.
        origin: p.bName,
        content: { membership: 'invite' },
        prev_events: [],
        auth_events: [],
        depth: 5,
        origin_server_ts: Date.now(),
      } as unknown as PDU,
      version,
      p.bName,
      key,
    );
    const stripped = [{ type: 'm.room.create', state_key: '', sender: `@carol:${p.bName}`, content: { room_version: roomVersion } }];
    return { roomId, pdu, eventId: computeEventId(pdu, version), stripped };
  }

  test('a v1 invite (the event as body, its version from the stripped m.room.create) is co-signed, answered [200, {event}], and reaches the invitee', async () => {
    const { roomId, pdu, eventId, stripped } = inviteFromB('11');
    const r = await fed(p, 'PUT', `/_matrix/federation/v1/invite/${enc(roomId)}/${enc(eventId)}`, { ...pdu, unsigned: { invite_room_state: stripped } });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body) && r.body[0] === 200, JSON.stringify(r.body));
    const signed = r.body[1].event;
    assert.ok(signed.signatures[p.aName], "A's signature is added");
    assert.ok(signed.signatures[p.bName], "B's is kept");
    assert.equal(computeEventId(signed, getRoomVersion('11')!), eventId, 'the event is otherwise untouched');
    const sync = await checked(p.a, p.alice, 'GET', '/sync');
    assert.ok(sync.body.rooms?.invite?.[roomId], 'alice sees the invite');
  });

  test('a v1 invite that names no version this server implements is 400 M_INCOMPATIBLE_ROOM_VERSION', async () => {
    const { roomId, pdu, eventId } = inviteFromB('11');
    assertError(await fed(p, 'PUT', `/_matrix/federation/v1/invite/${enc(roomId)}/${enc(eventId)}`, pdu), 400, 'M_INCOMPATIBLE_ROOM_VERSION');
  });
});
