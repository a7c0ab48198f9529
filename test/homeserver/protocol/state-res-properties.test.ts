// Properties state resolution v2 must have whatever the DAG: the answer does not depend on the
// order of the state sets; one state set (or several equal ones) resolves to itself; versions 10 and
// 11 agree everywhere, and 12 agrees with them except where its cases say why not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveStateV2, StateResError } from '../../../homeserver/protocol/state-res-v2.ts';
import { CASES, SAME_IN_ALL } from './fixtures/state-res-cases.ts';
import { ALICE, BOB, EVE, member, permutations, power, standardRoom, topic } from './fixtures/state-res-dag.ts';
import type { Dag } from './fixtures/state-res-dag.ts';

for (const v of ['10', '11', '12']) {
  test(`v${v} the answer does not depend on the order of the state sets`, async () => {
    for (const forkCase of CASES.filter((c) => c.versions.includes(v))) {
      const { dag, stateSets } = await forkCase.build(v);
      const first = dag.describe(await dag.resolve(stateSets));
      for (const order of permutations(stateSets).slice(1)) {
        assert.deepEqual(dag.describe(await dag.resolve(order)), first, forkCase.name);
      }
    }
  });

  test(`v${v} three state sets resolve the same in all six orders`, async () => {
    const dag = await threeWayFork(v);
    const sets = [dag.state('TB'), dag.state('DEM'), dag.state('BAN')];
    const answers = new Set<string>();
    for (const order of permutations(sets)) answers.add(JSON.stringify(dag.describe(await dag.resolve(order))));
    assert.equal(answers.size, 1, [...answers].join('\n'));
    // Alice's demotion of bob wins on power; bob's topic is dropped; alice's ban of eve stands.
    assert.deepEqual(JSON.parse([...answers][0]), dag.describe(dag.stateWith('PM', ['DEM', 'BAN'])));
  });

  test(`v${v} one state set, or several equal ones, resolves to itself`, async () => {
    for (const forkCase of CASES.filter((c) => c.versions.includes(v))) {
      const { dag, stateSets } = await forkCase.build(v);
      for (const state of stateSets) {
        assert.deepEqual(await dag.resolve([state]), state, forkCase.name);
        assert.deepEqual(await dag.resolve([state, new Map(state), new Map(state)]), state, forkCase.name);
      }
    }
  });

  test(`v${v} every key the state sets agree on keeps its event`, async () => {
    for (const forkCase of CASES.filter((c) => c.versions.includes(v))) {
      const { dag, stateSets } = await forkCase.build(v);
      const resolved = await dag.resolve(stateSets);
      for (const [key, id] of stateSets[0]) {
        if (stateSets.every((s) => s.get(key) === id)) assert.equal(resolved.get(key), id, `${forkCase.name}: ${key}`);
      }
    }
  });
}

test('versions 10, 11 and 12 give the same answer for every case that says so (by event name)', async () => {
  for (const forkCase of CASES.filter((c) => SAME_IN_ALL.every((v) => c.versions.includes(v)))) {
    const answers = [];
    for (const v of SAME_IN_ALL) {
      const { dag, stateSets } = await forkCase.build(v);
      answers.push(dag.describe(await dag.resolve(stateSets)));
    }
    assert.deepEqual(answers[1], answers[0], `${forkCase.name}: v11 vs v10`);
    assert.deepEqual(answers[2], answers[0], `${forkCase.name}: v12 vs v10`);
  }
});

test('no state sets resolve to the empty state; an unknown room version or event is an error', async () => {
  const dag = await standardRoom('11');
  assert.deepEqual(await dag.resolve([]), new Map());
  await assert.rejects(dag.resolve([dag.state('START')], '1'), StateResError);
  const broken = dag.state('START');
  broken.set('m.room.topic\u0000', '$unknown');
  await assert.rejects(dag.resolve([broken, dag.state('START')]), StateResError);
});

test('a caller-supplied getAuthChain gives the same answers as walking auth_events', async () => {
  for (const forkCase of CASES) {
    const v = forkCase.versions[0];
    const { dag, stateSets, expected } = await forkCase.build(v);
    const getAuthChain = async (ids: string[]): Promise<Set<string>> => {
      const chain = new Set<string>();
      const stack = ids.flatMap((id) => dag.byId.get(id)?.pdu.auth_events ?? []);
      while (stack.length > 0) {
        const id = stack.pop() as string;
        if (chain.has(id)) continue;
        chain.add(id);
        stack.push(...(dag.byId.get(id)?.pdu.auth_events ?? []));
      }
      return chain;
    };
    const resolved = await resolveStateV2({ roomVersion: v, stateSets, getEvent: dag.getEvent, getAuthChain });
    assert.deepEqual(dag.describe(resolved), dag.describe(expected), forkCase.name);
  }
});

test('events from another room in the full conflicted set are refused', async () => {
  const a = await standardRoom('11');
  await a.add('T1', topic(ALICE, 'a', ['START']));
  const b = await standardRoom('12'); // another room (and version): its own room id
  await b.add('T2', topic(ALICE, 'b', ['START']));
  const foreign = a.state('START');
  foreign.set('m.room.topic\u0000', b.id('T2'));
  const getEvent = async (id: string) => (await a.getEvent(id)) ?? (await b.getEvent(id));
  await assert.rejects(
    resolveStateV2({ roomVersion: '11', stateSets: [a.state('T1'), foreign], getEvent }),
    (error: unknown) => error instanceof StateResError && /is in room/.test(error.message),
  );
});

/** START, then PM (bob 50), then three branches: bob's topic, alice demotes bob, alice bans eve. */
async function threeWayFork(v: string): Promise<Dag> {
  const dag = await standardRoom(v);
  await dag.add('PM', power(dag, ALICE, { [BOB]: 50 }, ['START']));
  await dag.add('TB', topic(BOB, 'bob', ['PM']));
  await dag.add('DEM', power(dag, ALICE, { [BOB]: 0 }, ['PM']));
  await dag.add('BAN', member(ALICE, EVE, 'ban', ['PM']));
  return dag;
}
