// PUT /_matrix/media/v3/upload/{serverName}/{mediaId} when the database refuses the media row
// (here a trigger, added through a second connection to the real file, aborts the UPDATE that
// fills the created id): the bytes already moved into place are removed, nothing is left in the
// temp folder, and the same id can be uploaded again once the database takes writes.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, registerUser, type TestServer, type TestUser } from '../../helpers/server.ts';
import { Connection } from '../../../homeserver/storage/sqlite.ts';
import { request } from './media-helpers.ts';

/** Every file under `dir`, recursively, by name. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('an upload to a created id whose database write fails', () => {
  let server: TestServer;
  let alice: TestUser;
  let conn: Connection;

  before(async () => {
    server = await startTestServer();
    alice = await registerUser(server, 'alice');
    conn = await Connection.open(join(server.dataDir, 'hearth.sqlite'));
  });
  after(async () => {
    await conn?.close();
    await server?.stop();
  });

  test('leaves no file behind, and the id can be filled once the write works', async () => {
    const created = await request(server, alice, 'POST', '/_matrix/media/v1/create');
    assert.equal(created.status, 200);
    const mediaId = (created.json.content_uri as string).split('/').pop()!;
    const put = (body: Buffer) =>
      request(server, alice, 'PUT', `/_matrix/media/v3/upload/${server.serverName}/${mediaId}`, { body, contentType: 'application/octet-stream' });

    await conn.exec("CREATE TRIGGER test_refuse_media BEFORE UPDATE ON media BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    const refused = await put(Buffer.alloc(4096, 1));
    assert.notEqual(refused.status, 200);
    assert.deepEqual(
      filesUnder(join(server.dataDir, 'media')).filter((name) => name.includes(mediaId)),
      [],
      'the bytes of the failed upload are removed',
    );
    assert.deepEqual(readdirSync(join(server.dataDir, 'media', 'tmp')), []);

    await conn.exec('DROP TRIGGER test_refuse_media');
    const bytes = Buffer.alloc(4096, 2);
    assert.equal((await put(bytes)).status, 200);
    const got = await request(server, alice, 'GET', `/_matrix/client/v1/media/download/${server.serverName}/${mediaId}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.bytes, bytes);
  });
});
