// Each step of state resolution v2 on its own, against the definitions in
// rooms/fragments/v2-state-res.md and rooms/v12.md "State resolution".

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';
import type { AuthRulesVersion } from '../../../homeserver/protocol/auth-rules-versions.ts';
import { authDifference, conflictedStateSubgraph, fullAuthChain, separateStateSets } from '../../../homeserver/protocol/state-res/conflicts.ts';
import { authChain, EventCache } from '../../../homeserver/protocol/state-res/events.ts';
import type { StateResEvent } from '../../../homeserver/protocol/state-res/events.ts';
import { iterativeAuthChecks } from '../../../homeserver/protocol/state-res/iterative-auth.ts';
import { mainlineOf, mainlineOrdering, MainlinePositions } from '../../../homeserver/protocol/state-res/mainline.ts';
import {
  comparePowerSortKeys,
  isPowerEvent,
  lexicographicalTopologicalSort,
  reverseTopologicalPowerOrdering,
  senderPowerLevel,
} from '../../../homeserver/protocol/state-res/power-ordering.ts';
import type { PowerSortKey } from '../../../homeserver/protocol/state-res/power-ordering.ts';
import { stateKey } from '../../../homeserver/protocol/types.ts';
import type { JsonObject, PDU } from '../../../homeserver/protocol/types.ts';
import { ALICE, BOB, CHARLIE, EVE, KEYS, member, power, standardRoom, topic } from './fixtures/state-res-dag.ts';

function rules(v: string): AuthRulesVersion {
  const r = authRulesVersion(v);
  assert.ok(r);
  return r;
}

interface Synthetic {
  id: string;
  type?: string;
  sender?: string;
  stateKey?: string;
  content?: JsonObject;
  auth?: string[];
  ts?: number;
}

/** Unsigned events with made-up ids: enough for the steps that only read the auth DAG and a few fields. */
function synthetic(specs: Synthetic[]): EventCache {
  const byId = new Map<string, StateResEvent>();
  for (const s of specs) {
    const pdu: PDU = {
      room_id: '!room:alice.example',
      sender: s.sender ?? ALICE,
      type: s.type ?? 'm.room.member',
      state_key: s.stateKey ?? '',
      content: s.content ?? {},
      origin_server_ts: s.ts ?? 0,
      depth: 1,
      prev_events: [],
      auth_events: s.auth ?? [],
      hashes: { sha256: 'x' },
      signatures: {},
    };
    byId.set(s.id, { eventId: s.id, pdu });
  }
  return new EventCache(async (id) => byId.get(id));
}

// ---- Unconflicted state map and conflicted state set ----

test('separateStateSets: a key with one value in every set is unconflicted; a differing or missing key is conflicted', () => {
  const a = stateKey('m.room.create', '');
  const b = stateKey('m.room.topic', '');
  const c = stateKey('m.room.name', '');
  const { unconflicted, conflicted } = separateStateSets([
    new Map([
      [a, '$create'],
      [b, '$t1'],
      [c, '$n1'],
    ]),
    new Map([
      [a, '$create'],
      [b, '$t2'],
    ]),
    new Map([
      [a, '$create'],
      [b, '$t1'],
      [c, '$n1'],
    ]),
  ]);
  assert.deepEqual([...unconflicted], [[a, '$create']]);
  assert.deepEqual([...(conflicted.get(b) ?? [])].sort(), ['$t1', '$t2']);
  // Missing from one state set: conflicted, though only one event id is involved.
  assert.deepEqual([...(conflicted.get(c) ?? [])], ['$n1']);
});

test('separateStateSets: one state set, or several identical ones, has nothing conflicted', () => {
  const s = new Map([
    [stateKey('m.room.create', ''), '$c'],
    [stateKey('m.room.topic', ''), '$t'],
  ]);
  for (const sets of [[s], [s, new Map(s), new Map(s)]]) {
    const { unconflicted, conflicted } = separateStateSets(sets);
    assert.equal(conflicted.size, 0);
    assert.deepEqual(unconflicted, s);
  }
});

// ---- Auth chain and auth difference ----

// A <- B <- C <- D, and E cites C and B (Synapse's AuthChainDifferenceTestCase shapes).
const CHAIN = [{ id: 'A' }, { id: 'B', auth: ['A'] }, { id: 'C', auth: ['B'] }, { id: 'D', auth: ['C'] }, { id: 'E', auth: ['C', 'B'] }];

test('authChain: everything reachable through auth_events, the starting events left out', async () => {
  const events = synthetic(CHAIN);
  assert.deepEqual([...(await authChain(['D'], events))].sort(), ['A', 'B', 'C']);
  assert.deepEqual([...(await authChain(['D', 'E'], events))].sort(), ['A', 'B', 'C']);
  assert.deepEqual([...(await authChain(['A'], events))], []);
});

test('auth difference: the union minus the intersection of the full auth chains', async () => {
  const events = synthetic(CHAIN);
  const s1 = new Map([
    ['a', 'A'],
    ['b', 'B'],
  ]);
  const s2 = new Map([['c', 'C']]);
  const chains = [await fullAuthChain(s1, events), await fullAuthChain(s2, events)];
  assert.deepEqual([...authDifference(chains)], ['C']);

  const s3 = new Map([
    ['a', 'A'],
    ['b', 'B'],
    ['e', 'E'],
  ]);
  const s4 = new Map([
    ['c', 'C'],
    ['d', 'D'],
  ]);
  const chains2 = [await fullAuthChain(s3, events), await fullAuthChain(s4, events)];
  assert.deepEqual([...authDifference(chains2)].sort(), ['D', 'E']);
});

test('auth difference: an event every state set holds is not in it, though only one set cites it', async () => {
  // B is in both state sets; only the second also holds C, which cites B.
  const events = synthetic(CHAIN);
  const chains = [
    await fullAuthChain(new Map([['b', 'B']]), events),
    await fullAuthChain(
      new Map([
        ['b', 'B'],
        ['c', 'C'],
      ]),
      events,
    ),
  ];
  assert.deepEqual([...authDifference(chains)], ['C']);
});

test('auth difference: a caller-supplied auth chain gives the same answer as walking auth_events', async () => {
  const events = synthetic(CHAIN);
  const supplied = async (ids: string[]): Promise<Set<string>> => authChain(ids, synthetic(CHAIN));
  const s1 = new Map([
    ['a', 'A'],
    ['e', 'E'],
  ]);
  const s2 = new Map([['d', 'D']]);
  const walked = authDifference([await fullAuthChain(s1, events), await fullAuthChain(s2, events)]);
  const given = authDifference([await fullAuthChain(s1, events, supplied), await fullAuthChain(s2, events, supplied)]);
  assert.deepEqual([...given].sort(), [...walked].sort());
  assert.deepEqual([...walked].sort(), ['D', 'E']);
});

// ---- Conflicted state subgraph (v12) ----

test('conflicted state subgraph: every event on an auth path between two conflicted events, endpoints included', async () => {
  //   P2 -> P1 -> P0 -> CREATE      X -> P1      Y -> CREATE
  const events = synthetic([
    { id: 'CREATE' },
    { id: 'P0', auth: ['CREATE'] },
    { id: 'P1', auth: ['P0', 'CREATE'] },
    { id: 'P2', auth: ['P1', 'CREATE'] },
    { id: 'X', auth: ['P1'] },
    { id: 'Y', auth: ['CREATE'] },
  ]);
  assert.deepEqual([...(await conflictedStateSubgraph(new Set(['P2', 'P0']), events))].sort(), ['P0', 'P1', 'P2']);
  // X and P2 both descend from P1 but neither reaches the other: no path, no subgraph.
  assert.deepEqual([...(await conflictedStateSubgraph(new Set(['P2', 'X']), events))], []);
  // Y is on no path; CREATE is below P0 but not between two conflicted events.
  assert.deepEqual([...(await conflictedStateSubgraph(new Set(['P2', 'P0', 'Y']), events))].sort(), ['P0', 'P1', 'P2']);
  // Two paths from X to P0 through P1: all of it.
  assert.deepEqual([...(await conflictedStateSubgraph(new Set(['X', 'CREATE']), events))].sort(), ['CREATE', 'P0', 'P1', 'X']);
});

// ---- Power events ----

test('isPowerEvent: power levels, join rules, and kicks and bans of others', () => {
  const ev = (type: string, sender: string, key: string | undefined, content: JsonObject = {}): PDU => ({ type, sender, state_key: key, content }) as PDU;
  const table: Array<[PDU, boolean, string]> = [
    [ev('m.room.power_levels', ALICE, ''), true, 'power levels'],
    [ev('m.room.join_rules', ALICE, '', { join_rule: 'invite' }), true, 'join rules'],
    [ev('m.room.member', ALICE, BOB, { membership: 'ban' }), true, 'a ban'],
    [ev('m.room.member', ALICE, BOB, { membership: 'leave' }), true, 'a kick'],
    [ev('m.room.member', BOB, BOB, { membership: 'leave' }), false, 'leaving yourself'],
    [ev('m.room.member', ALICE, BOB, { membership: 'invite' }), false, 'an invite'],
    [ev('m.room.member', BOB, BOB, { membership: 'join' }), false, 'a join'],
    [ev('m.room.topic', ALICE, ''), false, 'a topic'],
    [ev('m.room.create', ALICE, ''), false, 'the create event (not in the spec list)'],
    [ev('m.room.power_levels', ALICE, undefined), false, 'a message event of type power levels'],
  ];
  for (const [pdu, expected, what] of table) assert.equal(isPowerEvent(pdu), expected, what);
});

// ---- Reverse topological power ordering ----

test('lexicographicalTopologicalSort: Kahn with the smallest ready node first (Synapse LexicographicalTestCase)', () => {
  const before = new Map([
    ['l', new Set(['o'])],
    ['m', new Set(['n', 'o'])],
    ['n', new Set(['o'])],
    ['o', new Set<string>()],
    ['p', new Set(['o'])],
  ]);
  assert.deepEqual(
    lexicographicalTopologicalSort(before, (a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    ['o', 'l', 'n', 'm', 'p'],
  );
});

test('comparePowerSortKeys: greater power first, then smaller origin_server_ts, then smaller event id', () => {
  const keys: PowerSortKey[] = [
    { eventId: 'a', power: 0, originServerTs: 1 },
    { eventId: 'b', power: 0, originServerTs: 2 },
    { eventId: 'c', power: 0, originServerTs: 2 },
    { eventId: 'd', power: 25, originServerTs: 3 },
    { eventId: 'e', power: 50, originServerTs: 4 },
    { eventId: 'f', power: 75, originServerTs: 4 },
    { eventId: 'g', power: 100, originServerTs: 5 },
    { eventId: 'h', power: Infinity, originServerTs: 9 },
  ];
  assert.deepEqual(
    [...keys].sort(comparePowerSortKeys).map((k) => k.eventId),
    ['h', 'g', 'f', 'e', 'd', 'a', 'b', 'c'],
  );
});

test('reverse topological power ordering: auth ancestors first, ties by sender power, timestamp, event id', async () => {
  const pl = { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 } };
  const events = synthetic([
    { id: '$create', type: 'm.room.create', content: { creator: ALICE } },
    { id: '$pl', type: 'm.room.power_levels', content: pl, auth: ['$create'] },
    { id: '$x1', type: 'm.room.power_levels', sender: BOB, ts: 5, auth: ['$create', '$pl'] },
    { id: '$x2', type: 'm.room.power_levels', sender: CHARLIE, ts: 3, auth: ['$create', '$pl'] },
    { id: '$x3', type: 'm.room.power_levels', sender: ALICE, ts: 9, auth: ['$create', '$pl'] },
    { id: '$x4', type: 'm.room.power_levels', sender: CHARLIE, ts: 3, auth: ['$create', '$pl'] },
    // Alice's x5 has the most power but is authorised by x1 (through an event outside the set).
    { id: '$between', type: 'm.room.member', stateKey: ALICE, sender: ALICE, auth: ['$x1'] },
    { id: '$x5', type: 'm.room.power_levels', sender: ALICE, ts: 1, auth: ['$create', '$between'] },
  ]);
  const set = ['$x1', '$x2', '$x3', '$x4', '$x5'];
  // x5's auth events have no power levels: alice counts as the v10 creator (100), as with $pl.
  const order = await reverseTopologicalPowerOrdering(set, new Set(set), events, rules('10'));
  assert.deepEqual(order, ['$x3', '$x2', '$x4', '$x1', '$x5']);
});

test('reverse topological power ordering: X is enlarged by the auth ancestors of power events in the full conflicted set', async () => {
  const events = synthetic([
    { id: '$create', type: 'm.room.create', content: { creator: ALICE } },
    { id: '$join', type: 'm.room.member', stateKey: BOB, sender: BOB, ts: 7, auth: ['$create'] },
    { id: '$outside', type: 'm.room.member', stateKey: CHARLIE, sender: CHARLIE, ts: 0, auth: ['$create'] },
    { id: '$kick', type: 'm.room.member', stateKey: CHARLIE, sender: BOB, ts: 1, content: { membership: 'leave' }, auth: ['$join', '$outside'] },
  ]);
  // The full conflicted set holds $join but not $outside: $join is picked, $outside is not.
  const order = await reverseTopologicalPowerOrdering(['$kick'], new Set(['$kick', '$join']), events, rules('10'));
  assert.deepEqual(order, ['$join', '$kick']);
});

for (const v of ['10', '11', '12']) {
  test(`v${v} senderPowerLevel: read from the event's own auth events, with the creator rules of the version`, async () => {
    const dag = await standardRoom(v);
    await dag.add('PA', power(dag, ALICE, { [BOB]: 50 }, ['START']));
    await dag.add('TA', topic(ALICE, 'a', ['PA']));
    await dag.add('TB', topic(BOB, 'b', ['PA']));
    await dag.add('JE', member(EVE, EVE, 'join', ['PA']));
    const events = new EventCache(dag.getEvent);
    const level = async (name: string): Promise<number> => senderPowerLevel(await events.require(dag.id(name)), events, rules(v));
    const creator = v === '12' ? Infinity : 100;
    assert.equal(await level('TA'), creator);
    assert.equal(await level('TB'), 50);
    assert.equal(await level('JE'), 0);
    // IMA's auth events hold no power levels: the creator has 100 (v12: infinite), others 0.
    assert.equal(await level('IMA'), creator);
    assert.equal(await level('CREATE'), creator);
  });
}

// ---- Mainline ordering ----

// Mainline of P2: [P2, P1, P0]. Q and R are power levels off the mainline (R -> Q -> P1).
const MAINLINE = [
  { id: '$P0', type: 'm.room.power_levels' },
  { id: '$P1', type: 'm.room.power_levels', auth: ['$P0'] },
  { id: '$P2', type: 'm.room.power_levels', auth: ['$P1'] },
  { id: '$Q', type: 'm.room.power_levels', auth: ['$P1'] },
  { id: '$R', type: 'm.room.power_levels', auth: ['$Q'] },
  { id: '$A', type: 'm.room.topic', ts: 1, auth: ['$P2'] },
  { id: '$B', type: 'm.room.topic', ts: 2, auth: ['$P1'] },
  { id: '$C', type: 'm.room.topic', ts: 0, auth: ['$Q'] },
  { id: '$D', type: 'm.room.topic', ts: 2, auth: ['$R'] },
  { id: '$E', type: 'm.room.topic', ts: 5, auth: [] },
  { id: '$F', type: 'm.room.topic', ts: 9, auth: ['$P0'] },
];

test('mainline: follows the power levels in each auth_events from P0', async () => {
  const events = synthetic(MAINLINE);
  assert.deepEqual(
    [...(await mainlineOf('$P2', events))],
    [
      ['$P2', 0],
      ['$P1', 1],
      ['$P0', 2],
    ],
  );
  assert.deepEqual([...(await mainlineOf(undefined, events))], []);
});

test('mainline position: the index of the closest mainline power levels ancestor, e_0 itself not counted, else infinity', async () => {
  const events = synthetic(MAINLINE);
  const positions = new MainlinePositions(await mainlineOf('$P2', events), events);
  const expected: Record<string, number> = { $A: 0, $B: 1, $C: 1, $D: 1, $E: Infinity, $F: 2, $P2: 1, $Q: 1, $P0: Infinity };
  for (const [id, position] of Object.entries(expected)) assert.equal(await positions.positionOf(id), position, id);
});

test('mainline ordering: greater position first, then smaller origin_server_ts, then smaller event id', async () => {
  const events = synthetic(MAINLINE);
  const ids = ['$A', '$B', '$C', '$D', '$E', '$F'];
  assert.deepEqual(await mainlineOrdering(ids, '$P2', events), ['$E', '$F', '$C', '$B', '$D', '$A']);
  // Without resolved power levels every position is infinite: timestamp, then id.
  assert.deepEqual(await mainlineOrdering(ids, undefined, events), ['$C', '$A', '$B', '$D', '$E', '$F']);
});

// ---- Iterative auth checks ----

for (const v of ['11', '12']) {
  test(`v${v} iterative auth checks: events allowed against the state so far are applied, others ignored`, async () => {
    const dag = await standardRoom(v);
    await dag.add('PA', power(dag, ALICE, { [BOB]: 50 }, ['START']));
    await dag.add('TB', topic(BOB, 'bob', ['PA']));
    await dag.add('TC', topic(CHARLIE, 'charlie', ['START']), { authEvents: v === '12' ? ['IPOWER', 'IMC'] : ['CREATE', 'IPOWER', 'IMC'], rejected: true });
    const ctx = { events: new EventCache(dag.getEvent), rules: rules(v) };
    const start = dag.state('START');

    // Against START's state bob has no power: his topic is ignored; with PA applied first it passes.
    assert.equal((await iterativeAuthChecks(start, [dag.id('TB')], ctx)).get(KEYS.topic), undefined);
    const after = await iterativeAuthChecks(start, [dag.id('PA'), dag.id('TB')], ctx);
    assert.equal(after.get(KEYS.topic), dag.id('TB'));
    assert.equal(after.get(KEYS.powerLevels), dag.id('PA'));
    // The input map is not modified.
    assert.equal(start.get(KEYS.powerLevels), dag.id('IPOWER'));
    // An event marked rejected (it failed against its own auth events) is never applied.
    assert.equal((await iterativeAuthChecks(start, [dag.id('TC')], ctx)).get(KEYS.topic), undefined);
  });

  test(`v${v} iterative auth checks: a key missing from the state is taken from the event's auth_events, unless that event was rejected`, async () => {
    const dag = await standardRoom(v);
    await dag.add('PA', power(dag, ALICE, { [BOB]: 50 }, ['START']));
    await dag.add('TB', topic(BOB, 'bob', ['PA']));
    const tb = dag.id('TB');
    const good = { events: new EventCache(dag.getEvent), rules: rules(v) };
    // From an empty state (v2.1's start) every needed key comes from TB's auth events: PA, bob's join.
    assert.equal((await iterativeAuthChecks(new Map(), [tb], good)).get(KEYS.topic), tb);
    // The partially resolved state wins over the auth events: under IPOWER bob has 0.
    const withIpower = new Map([[KEYS.powerLevels, dag.id('IPOWER')]]);
    assert.equal((await iterativeAuthChecks(withIpower, [tb], good)).get(KEYS.topic), undefined);
    // A rejected auth event is not used: without PA there are no power levels and bob has 0.
    const pa = dag.id('PA');
    const rejectingPa = async (id: string): Promise<StateResEvent | undefined> => {
      const event = await dag.getEvent(id);
      return event && id === pa ? { ...event, rejected: true } : event;
    };
    const bad = { events: new EventCache(rejectingPa), rules: rules(v) };
    assert.equal((await iterativeAuthChecks(new Map(), [tb], bad)).get(KEYS.topic), undefined);
  });
}

test('iterative auth checks: a state set entry marked rejected is not used either; the auth event fills in', async () => {
  const dag = await standardRoom('11');
  await dag.add('PA', power(dag, ALICE, { [BOB]: 50 }, ['START']));
  await dag.add('TB', topic(BOB, 'bob', ['PA']));
  await dag.add('PX', power(dag, ALICE, { [BOB]: 0 }, ['PA']));
  const px = dag.id('PX');
  const load = async (id: string): Promise<StateResEvent | undefined> => {
    const event = await dag.getEvent(id);
    return event && id === px ? { ...event, rejected: true } : event;
  };
  const ctx = { events: new EventCache(load), rules: rules('11') };
  const state = new Map([[KEYS.powerLevels, px]]);
  assert.equal((await iterativeAuthChecks(state, [dag.id('TB')], ctx)).get(KEYS.topic), dag.id('TB'));
});
