// The pure parts of rooms/room-summary.ts, from the spec's text: the order of a space's children
// (spaces.md "Ordering of children within a space") and what of another server's summary reaches
// our clients (room_summary.yaml's fields, with their types).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { orderChildren, summaryFromRemote, type ChildLink } from '../../../homeserver/rooms/room-summary.ts';

const link = (room: string, ts: number, order?: unknown): ChildLink => ({
  type: 'm.space.child',
  state_key: room,
  sender: '@a:x',
  origin_server_ts: ts,
  content: order === undefined ? { via: ['x'] } : ({ via: ['x'], order } as never),
});

describe('orderChildren: spaces.md "Ordering of children within a space"', () => {
  const cases: Array<{ name: string; links: ChildLink[]; expected: string[] }> = [
    {
      name: 'valid orders first, by code point, whatever their timestamps',
      links: [link('!c', 1), link('!b', 9, 'b'), link('!a', 5, 'a')],
      expected: ['!a', '!b', '!c'],
    },
    { name: "'\\x20' sorts before '~'", links: [link('!tilde', 1, '~'), link('!space', 2, ' ')], expected: ['!space', '!tilde'] },
    { name: 'code points, not locale: "B" before "a"', links: [link('!lower', 1, 'a'), link('!upper', 2, 'B')], expected: ['!upper', '!lower'] },
    { name: 'without order: by origin_server_ts', links: [link('!late', 20), link('!early', 10)], expected: ['!early', '!late'] },
    { name: 'ties: by room id', links: [link('!b', 10), link('!a', 10)], expected: ['!a', '!b'] },
    { name: 'equal orders fall back to the timestamp', links: [link('!late', 20, 'x'), link('!early', 10, 'x')], expected: ['!early', '!late'] },
    {
      name: 'an invalid order counts as none: not a string, over 50 characters, a character outside \\x20-\\x7E',
      links: [link('!num', 1, 5), link('!long', 2, 'a'.repeat(51)), link('!uni', 3, 'é'), link('!valid', 4, 'zzz')],
      expected: ['!valid', '!num', '!long', '!uni'],
    },
  ];
  for (const c of cases)
    test(c.name, () =>
      assert.deepEqual(
        orderChildren(c.links).map((l) => l.state_key),
        c.expected,
      ),
    );
});

describe("summaryFromRemote: only room_summary.yaml's fields, with their types", () => {
  test('a well-formed summary keeps its fields and its live links', () => {
    const s = summaryFromRemote({
      room_id: '!r:x',
      num_joined_members: 3,
      world_readable: true,
      guest_can_join: false,
      join_rule: 'public',
      name: 'Room',
      canonical_alias: '#r:x',
      room_type: 'm.space',
      encryption: 'm.megolm.v1.aes-sha2',
      allowed_room_ids: ['!s:x'],
      children_state: [{ type: 'm.space.child', state_key: '!c:x', sender: '@a:x', content: { via: ['x'] }, origin_server_ts: 7 }],
    });
    assert.equal(s?.name, 'Room');
    assert.equal(s?.encryption, 'm.megolm.v1.aes-sha2');
    assert.deepEqual(s?.allowed_room_ids, ['!s:x']);
    assert.deepEqual(
      s?.children_state.map((c) => c.state_key),
      ['!c:x'],
    );
  });

  test('wrong types, unknown fields and dead links are dropped; no room id is no summary', () => {
    assert.equal(summaryFromRemote({ name: 'no id' }), undefined);
    assert.equal(summaryFromRemote([1]), undefined);
    assert.equal(summaryFromRemote({ room_id: 'not-a-room' }), undefined);
    const s = summaryFromRemote({
      room_id: '!r:x',
      num_joined_members: -1,
      world_readable: 'yes',
      name: 42,
      canonical_alias: 'no-hash',
      encryption: 'rot13',
      allowed_room_ids: ['!ok:x', 5, 'bad'],
      extra: 'ignored',
      children_state: [
        { type: 'm.space.child', state_key: '!gone:x', sender: '@a:x', content: {}, origin_server_ts: 1 },
        { type: 'm.space.parent', state_key: '!p:x', sender: '@a:x', content: { via: ['x'] }, origin_server_ts: 1 },
        { type: 'm.space.child', state_key: '!ok:x', sender: '@a:x', content: { via: ['x'] }, origin_server_ts: 1.5 },
      ],
    });
    assert.deepEqual(s, {
      room_id: '!r:x',
      num_joined_members: 0,
      world_readable: false,
      guest_can_join: false,
      allowed_room_ids: ['!ok:x'],
      children_state: [{ type: 'm.space.child', state_key: '!ok:x', sender: '@a:x', content: { via: ['x'] }, origin_server_ts: 0 }],
    });
  });
});
