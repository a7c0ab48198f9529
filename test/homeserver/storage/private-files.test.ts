// The data folder and the database are readable by their owner only (issue: "Files others can
// read"), for a new data folder and for one an older Hearth left world-readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, registerUser } from '../../helpers/server.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

test('a new data folder is 0700 and the database, its WAL and its shared memory 0600', { skip: process.platform === 'win32' }, async () => {
  const parent = mkdtempSync(join(tmpdir(), 'hearth-perms-'));
  const dataDir = join(parent, 'data');
  const server = await startTestServer({ dataDir });
  try {
    await registerUser(server, 'alice'); // a write, so that the WAL and -shm exist
    assert.equal(mode(dataDir), 0o700);
    for (const f of ['hearth.sqlite', 'hearth.sqlite-wal', 'hearth.sqlite-shm', 'signing.key']) {
      assert.ok(existsSync(join(dataDir, f)), `${f} exists`);
      assert.equal(mode(join(dataDir, f)), 0o600, `${f} is 0600, not ${mode(join(dataDir, f)).toString(8)}`);
    }
  } finally {
    await server.stop();
    rmSync(parent, { recursive: true, force: true });
  }
});

test(
  'a data folder an older Hearth made 0755 with a 0644 database is taken back to 0700 and 0600 at start',
  { skip: process.platform === 'win32' },
  async () => {
    const parent = mkdtempSync(join(tmpdir(), 'hearth-perms-'));
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir);
    try {
      let server = await startTestServer({ dataDir });
      await registerUser(server, 'alice');
      await server.stop();
      chmodSync(dataDir, 0o755);
      for (const f of ['hearth.sqlite', 'hearth.sqlite-wal', 'hearth.sqlite-shm']) if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o644);
      server = await startTestServer({ dataDir });
      try {
        await registerUser(server, 'bob');
        assert.equal(mode(dataDir), 0o700);
        for (const f of ['hearth.sqlite', 'hearth.sqlite-wal', 'hearth.sqlite-shm']) assert.equal(mode(join(dataDir, f)), 0o600, f);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  },
);
