// State resolution v2 on forked DAGs of real (hashed, signed, auth-checked) events, each with its
// known answer, in room versions 10, 11 and 12. Where v12 answers differently the case says why.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CASES } from './fixtures/state-res-cases.ts';
import { standardRoom } from './fixtures/state-res-dag.ts';

for (const forkCase of CASES) {
  for (const v of forkCase.versions) {
    test(`v${v} ${forkCase.name}: ${forkCase.why}`, async () => {
      const { dag, stateSets, expected } = await forkCase.build(v);
      const resolved = await dag.resolve(stateSets);
      assert.deepEqual(dag.describe(resolved), dag.describe(expected));
    });
  }
}

test('the state after a merge is the resolution of the states of its prev_events (topic after a merge, v11)', async () => {
  const forkCase = CASES.find((c) => c.name === 'topic after a merge');
  assert.ok(forkCase);
  const { dag } = await forkCase.build('11');
  // MZ1 merged PA2's branch with T3's: its state is the topic-basic answer.
  assert.deepEqual(dag.describe(dag.state('MZ1')), dag.describe(dag.stateWith('START', ['PA2', 'T2'])));
});

test('the standard room fixture is built from real events: ids are reference hashes, everyone signed', async () => {
  for (const v of ['10', '11', '12']) {
    const dag = await standardRoom(v);
    for (const { eventId, pdu } of dag.byId.values()) {
      assert.match(eventId, /^\$[A-Za-z0-9_-]{43}$/);
      const server = pdu.sender.slice(pdu.sender.indexOf(':') + 1);
      assert.ok(pdu.signatures[server]?.['ed25519:1'], `${eventId} is signed by ${server}`);
      assert.match(pdu.hashes.sha256, /^[A-Za-z0-9+/]{43}$/);
    }
    if (v === '12') assert.equal(dag.roomId, `!${dag.id('CREATE').slice(1)}`);
  }
});
