// Which errors are the disk's (storage/disk-errors.ts): the codes the sqlite3 driver and node:fs
// put on their errors, also when wrapped as another error's `cause`, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diskFailure } from '../../../homeserver/storage/disk-errors.ts';

const withCode = (code: unknown, message = 'x') => Object.assign(new Error(message), { code });

test('SQLITE_FULL, ENOSPC and EDQUOT are a full disk; SQLITE_IOERR and EIO a failing one', () => {
  const cases: Array<[unknown, string | undefined]> = [
    [withCode('SQLITE_FULL', 'SQLITE_FULL: database or disk is full'), 'full'],
    [withCode('ENOSPC', 'ENOSPC: no space left on device, write'), 'full'],
    [withCode('EDQUOT'), 'full'],
    [withCode('SQLITE_IOERR', 'SQLITE_IOERR: disk I/O error'), 'io'],
    [withCode('EIO'), 'io'],
    [new Error('wrapped', { cause: withCode('SQLITE_FULL') }), 'full'],
  ];
  for (const [err, expected] of cases) assert.equal(diskFailure(err), expected, String(err));
});

test('other errors, and values that are not errors, are not the disk', () => {
  const cases: unknown[] = [
    withCode('SQLITE_CONSTRAINT'),
    withCode('SQLITE_BUSY'),
    withCode('ENOENT'),
    withCode('constructor'),
    withCode('__proto__'),
    withCode(28),
    new Error('no space left on device'),
    'ENOSPC',
    null,
    undefined,
    { code: 'toString' },
  ];
  for (const err of cases) assert.equal(diskFailure(err), undefined, String(err));
});
