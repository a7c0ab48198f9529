// Search indexing behind the timeline (rooms/search-indexer.ts), over real HTTP and a real SQLite
// file: a message is found by a search made right after it was sent, before the indexer's quiet
// period; one redacted before it was indexed is never found; messages left unindexed when the
// server stopped are indexed after the next start, and the recorded position moves past them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, registerUser, call, type TestServer, type TestUser } from '../../helpers/server.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { waitForAsync } from '../../helpers/poll.ts';

const dir = mkdtempSync(join(tmpdir(), 'hearth-search-indexer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('search indexing behind the timeline', () => {
  let server: TestServer;
  let alice: TestUser;
  let roomId: string;
  const send = (txn: string, body: string) =>
    call(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, { msgtype: 'm.text', body });
  const found = async (term: string) => {
    const res = await call(server, alice, 'POST', '/search', { search_categories: { room_events: { search_term: term } } });
    assert.equal(res.status, 200);
    return (res.body.search_categories.room_events.results as Array<{ result: { content: { body?: string } } }>).map((r) => r.result.content.body);
  };

  before(async () => {
    server = await startTestServer({ dataDir: dir });
    alice = await registerUser(server, 'alice');
    roomId = (await call(server, alice, 'POST', '/createRoom', { preset: 'private_chat' })).body.room_id;
  });
  after(async () => {
    await server?.stop();
  });

  test('a message is found by a search made right after its send', async () => {
    await send('a1', 'fresh bread at noon');
    assert.deepEqual(await found('bread'), ['fresh bread at noon']);
  });

  test('a message redacted before it was indexed is never found', async () => {
    const { event_id } = (await send('a2', 'secret croissant recipe')).body as { event_id: string };
    const redacted = await call(server, alice, 'PUT', `/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(event_id)}/r1`, {});
    assert.equal(redacted.status, 200);
    assert.deepEqual(await found('croissant'), []);
  });

  test('messages left unindexed at a stop (or a crash) are indexed after the next start, without a search asking', async () => {
    const first = (await send('a3', 'baguette one')).body as { event_id: string };
    await send('a4', 'baguette two');
    await found('baguette');
    await server.stop();
    // As a crash right after their commit would leave them: not yet indexed, the position before them.
    const file = join(dir, 'hearth.sqlite');
    const conn = await Connection.open(file);
    const { stream_ordering: from } = (await conn.get<{ stream_ordering: number }>('SELECT stream_ordering FROM events WHERE event_id = ?', first.event_id))!;
    await conn.run('DELETE FROM event_search WHERE rowid >= ?', from);
    await conn.run("UPDATE stream_counters SET value = ? WHERE name = 'search_indexed'", from - 1);
    await conn.close();

    server = await startTestServer({ dataDir: dir });
    const reader = await Connection.open(file, true);
    try {
      const indexed = () => reader.get<{ n: number }>("SELECT COUNT(*) AS n FROM event_search WHERE event_search MATCH 'baguette'").then((r) => r!.n);
      await waitForAsync('the background indexer', async () => (await indexed()) === 2);
      const position = await reader.get<{ value: number }>("SELECT value FROM stream_counters WHERE name = 'search_indexed'");
      const max = await reader.get<{ s: number }>('SELECT MAX(stream_ordering) AS s FROM events');
      assert.equal(position!.value, max!.s);
    } finally {
      await reader.close();
    }
    assert.deepEqual((await found('baguette')).sort(), ['baguette one', 'baguette two']);
  });
});
