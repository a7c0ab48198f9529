// serversInRoom over a real SQLite database: the servers with a joined member, and only those.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../../../homeserver/storage/database.ts';
import { eventsStore } from '../../../homeserver/storage/events-store.ts';
import { serverOfUser, serversInRoom } from '../../../homeserver/rooms/servers-in-room.ts';

test('serversInRoom lists the servers of joined members only, ports included, once each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-servers-in-room-'));
  const db = await Database.open(join(dir, 'hearth.sqlite'));
  try {
    const members: Array<[string, string]> = [
      ['@a:here.example', 'join'],
      ['@b:here.example', 'join'],
      ['@c:other.example:8448', 'join'],
      ['@d:left.example', 'leave'],
      ['@e:banned.example', 'ban'],
      ['@f:invited.example', 'invite'],
      ['@g:[::1]:8448', 'join'],
    ];
    await db.write(async (tx) => {
      let n = 0;
      for (const [user, membership] of members) await eventsStore.setMembership(tx, '!r:here.example', user, membership, `$e${n}`, ++n);
      await eventsStore.setMembership(tx, '!other:here.example', '@z:elsewhere.example', 'join', '$z', 99);
    });
    assert.deepEqual([...(await serversInRoom(db.reader, '!r:here.example'))].sort(), ['[::1]:8448', 'here.example', 'other.example:8448']);
    assert.deepEqual([...(await serversInRoom(db.reader, '!unknown:here.example'))], []);
    assert.equal(serverOfUser('@c:other.example:8448'), 'other.example:8448');
    assert.equal(serverOfUser('nonsense'), undefined);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
