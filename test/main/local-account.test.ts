import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localpartFor } from '../../main/local-account.ts';

const table: Array<[string | undefined, string]> = [
  ['alice', 'alice'],
  ['Alice', 'alice'],
  ['j.doe-2_x/y+z', 'j.doe-2_x/y+z'],
  ['Anna Lee', 'anna=20lee'],
  ['a=b', 'a=3db'],
  ['josé', 'jos=c3=a9'],
  ['DOMAIN\\bob', 'domain=5cbob'],
  ['  padded  ', 'padded'],
  ['', 'me'],
  [undefined, 'me'],
  ['x'.repeat(300), 'me'],
];

for (const [name, expected] of table) {
  test(`OS user ${JSON.stringify(name)} gets the localpart ${JSON.stringify(expected)}`, () => {
    const localpart = localpartFor(name);
    assert.equal(localpart, expected);
    // The grammar of new user ids (appendices.md, "User Identifiers").
    assert.match(localpart, /^[a-z0-9._=\-/+]+$/);
  });
}

test('names that differ only in a character outside the grammar stay distinct', () => {
  assert.notEqual(localpartFor('a b'), localpartFor('a_b'));
  assert.notEqual(localpartFor('a=20b'), localpartFor('a b'));
});
