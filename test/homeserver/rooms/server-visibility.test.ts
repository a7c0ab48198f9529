// Server ACL evaluation (m.room.server_acl's rules, table-driven) and ServerView over rooms built by
// a real server: a server whose users left still reads what they could see, but is no longer "in".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { aclAllows, hostOf, ServerView } from '../../../homeserver/rooms/server-visibility.ts';
import { EventReader } from '../../../homeserver/rooms/event-reader.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { startTestServer, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { checked } from '../../helpers/checked-call.ts';

describe('aclAllows (event-schemas m.room.server_acl)', () => {
  const cases: Array<[string, Record<string, unknown> | undefined, string, boolean]> = [
    ['no ACL event: allow', undefined, 'evil.com', true],
    ['no allow list: deny everyone', { deny: [] }, 'good.org', false],
    ['allow * lets anyone in', { allow: ['*'] }, 'good.org', true],
    ['deny wins over allow', { allow: ['*'], deny: ['evil.com'] }, 'evil.com', false],
    ['the port is not considered', { allow: ['*'], deny: ['evil.com'] }, 'evil.com:8448', false],
    ['a glob with * matches subdomains', { allow: ['*'], deny: ['*.evil.com'] }, 'a.b.evil.com:1234', false],
    ['? matches exactly one character', { allow: ['serv?r.org'] }, 'server.org', true],
    ['? does not match none', { allow: ['serv?r.org'] }, 'servr.org', false],
    ['matching ignores case', { allow: ['GOOD.org'] }, 'good.ORG', true],
    ['not in allow: deny', { allow: ['good.org'] }, 'other.org', false],
    ['IPv4 literal denied when allow_ip_literals is false', { allow: ['*'], allow_ip_literals: false }, '1.2.3.4:8448', false],
    ['IPv6 literal denied when allow_ip_literals is false', { allow: ['*'], allow_ip_literals: false }, '[::1]:8448', false],
    ['IP literal allowed by default', { allow: ['*'] }, '1.2.3.4', true],
    ['allow_ip_literals not a boolean counts as true', { allow: ['*'], allow_ip_literals: 'no' }, '1.2.3.4', true],
    ['a hostname is fine with allow_ip_literals false', { allow: ['*'], allow_ip_literals: false }, 'good.org', true],
    ['non-string globs are ignored', { allow: [42, 'good.org'] }, 'good.org', true],
    ['a deny list that is not a list is ignored', { allow: ['*'], deny: 'evil.com' }, 'evil.com', true],
  ];
  for (const [name, content, server, expected] of cases) {
    test(name, () => assert.equal(aclAllows(content as never, server), expected));
  }

  test('hostOf drops the port only', () => {
    assert.equal(hostOf('example.org'), 'example.org');
    assert.equal(hostOf('example.org:8448'), 'example.org');
    assert.equal(hostOf('[::1]:8448'), '[::1]');
    assert.equal(hostOf('[::1]'), '[::1]');
    assert.equal(hostOf('1.2.3.4:80'), '1.2.3.4');
  });
});

describe('ServerView over a real server', () => {
  let server: TestServer;
  let alice: TestUser;
  let db: Connection;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    db = await Connection.open(join(server.dataDir, 'hearth.sqlite'), true);
  });
  after(async () => {
    await db?.close();
    await server?.stop();
  });

  const event = (reader: EventReader, id: string) => reader.getEvent(db, id).then((e) => e!);

  test('a server whose users all left is no longer in the room, yet still sees what they saw while joined', async () => {
    const roomId = (
      await checked(server, alice, 'POST', '/createRoom', {
        preset: 'private_chat',
        initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
      })
    ).body.room_id as string;
    const msg = (await checked(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, { msgtype: 'm.text', body: 'x' })).body
      .event_id as string;
    const reader = new EventReader();
    const own = new ServerView(reader, db, 'localhost');
    assert.equal(await own.isInRoom(roomId), true);
    assert.equal(await own.canSee(await event(reader, msg)), true);

    assert.equal((await checked(server, alice, 'POST', `/rooms/${encodeURIComponent(roomId)}/leave`, {})).status, 200);
    const after = new ServerView(reader, db, 'localhost');
    assert.equal(await after.isInRoom(roomId), false);
    assert.equal(await after.canSee(await event(reader, msg)), true, 'alice was joined when it was sent');
    await assert.rejects(after.assertMayRead(roomId, [await event(reader, msg)]), (e: any) => e.status === 403 && e.errcode === 'M_FORBIDDEN');

    const stranger = new ServerView(reader, db, 'elsewhere.example');
    assert.equal(await stranger.canSee(await event(reader, msg)), false);
    await assert.rejects(stranger.assertMayRead('!unknown:localhost'), (e: any) => e.status === 404 && e.errcode === 'M_NOT_FOUND');
  });
});
