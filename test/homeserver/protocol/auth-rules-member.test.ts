// Auth rule 4 (v12: 5): m.room.member. v8 inserted 4.2 (join_authorised_via_users_server), moving
// join/invite/leave/ban/knock from 4.2..4.6 to 4.3..4.7; v12 moved the whole rule to 5.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject, PDU } from '../../../homeserver/protocol/types.ts';
import { ALICE, BOB, CAROL, DAVE, Room, VERSIONS, assertAllowed, assertRejected, byVersion, standardRoom, versionsFrom } from './fixtures/room-state.ts';

function member(room: Room, sender: string, target: string, content: JsonObject, prev?: string[]): PDU {
  return room.event({ type: 'm.room.member', sender, state_key: target, content, prev_events: prev });
}

/** The number of the membership rules in version v: 4 (v12: 5) then the sub-rule. */
const M = (v: string): string => byVersion(v, { 6: '4', 12: '5' });
/** Sub-rule numbers of join/invite/leave/ban/knock/unknown per version. */
const sub = (v: string) =>
  byVersion(v, {
    6: { join: 2, invite: 3, leave: 4, ban: 5, knock: NaN, unknown: 6 },
    7: { join: 2, invite: 3, leave: 4, ban: 5, knock: 6, unknown: 7 },
    8: { join: 3, invite: 4, leave: 5, ban: 6, knock: 7, unknown: 8 },
  });

for (const v of VERSIONS) {
  const m = M(v);
  const s = sub(v);
  const join = `${m}.${s.join}`;
  const invite = `${m}.${s.invite}`;
  const leave = `${m}.${s.leave}`;
  const ban = `${m}.${s.ban}`;
  const joinOtherwise = `${join}.${byVersion(v, { 6: 6, 8: 7 })}`;

  test(`v${v} rule ${m}.1: an m.room.member without state_key or membership is rejected`, () => {
    const room = standardRoom(v, 'public');
    const noKey = room.event({ type: 'm.room.member', sender: BOB, content: { membership: 'join' } });
    assertRejected(() => room.check(noKey), `${m}.1`);
    assertRejected(() => room.check(member(room, BOB, BOB, { displayname: 'Bob' })), `${m}.1`);
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'join' })));
  });

  // ---- join ----

  test(`v${v} rule ${join}.1: the creator's join right after m.room.create is allowed`, () => {
    const room = new Room(v); // only the create event
    const creatorJoin = member(room, ALICE, ALICE, { membership: 'join' }, [room.createEventId]);
    assertAllowed(() => room.check(creatorJoin));
    // Not the only previous event: no join rule admits the creator (no m.room.join_rules: invite).
    const twoPrevs = member(room, ALICE, ALICE, { membership: 'join' }, [room.createEventId, '$other']);
    assertRejected(() => room.check(twoPrevs), joinOtherwise);
    // The previous event is not the create event.
    const wrongPrev = member(room, ALICE, ALICE, { membership: 'join' }, ['$not-the-create']);
    assertRejected(() => room.check(wrongPrev), joinOtherwise);
    // Someone else joining right after the create event gets no such pass.
    const bobJoin = member(room, BOB, BOB, { membership: 'join' }, [room.createEventId]);
    assertRejected(() => room.check(bobJoin), joinOtherwise);
  });

  test(`v${v} rule ${join}.2: a join whose sender is not the state_key is rejected`, () => {
    const room = standardRoom(v, 'public');
    assertRejected(() => room.check(member(room, ALICE, BOB, { membership: 'join' })), `${join}.2`);
  });

  test(`v${v} rule ${join}.3: a join from a banned user is rejected`, () => {
    const room = standardRoom(v, 'public').member(BOB, 'ban', ALICE);
    assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' })), `${join}.3`);
  });

  test(`v${v} rule ${join}.4: with join rule invite, only invited or joined users may join`, () => {
    const room = standardRoom(v, 'invite');
    assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' })), joinOtherwise);
    room.member(BOB, 'invite', ALICE);
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'join' })));
    room.member(BOB, 'join');
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'join', displayname: 'B' })));
    room.member(BOB, 'leave');
    assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' })), joinOtherwise);
  });

  test(`v${v} rule ${join}.${byVersion(v, { 6: 5, 8: 6 })}: with join rule public, anyone not banned may join`, () => {
    const room = standardRoom(v, 'public');
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'join' })));
    room.member(BOB, 'leave');
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'join' })));
  });

  test(`v${v} rule ${joinOtherwise}: a join under any other join rule is rejected`, () => {
    for (const rule of ['private', 'made.up']) {
      const room = standardRoom(v, rule);
      assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' })), joinOtherwise);
    }
  });

  // ---- invite ----

  test(`v${v} rule ${invite}.2: an invite from a user who is not joined is rejected`, () => {
    const room = standardRoom(v).member(BOB, 'invite', ALICE);
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'invite' })), `${invite}.2`);
  });

  test(`v${v} rule ${invite}.3: inviting a user who is joined or banned is rejected`, () => {
    const room = standardRoom(v).join(BOB).member(CAROL, 'ban', ALICE);
    assertRejected(() => room.check(member(room, ALICE, BOB, { membership: 'invite' })), `${invite}.3`);
    assertRejected(() => room.check(member(room, ALICE, CAROL, { membership: 'invite' })), `${invite}.3`);
  });

  test(`v${v} rule ${invite}.4: an invite from a user at the invite level is allowed`, () => {
    const room = standardRoom(v).join(BOB);
    assertAllowed(() => room.check(member(room, BOB, CAROL, { membership: 'invite' })));
    // Re-inviting an invited user, or inviting one who left, is allowed too.
    room.member(CAROL, 'invite', ALICE).member(DAVE, 'leave', ALICE);
    assertAllowed(() => room.check(member(room, BOB, CAROL, { membership: 'invite' })));
    assertAllowed(() => room.check(member(room, BOB, DAVE, { membership: 'invite' })));
  });

  test(`v${v} rule ${invite}.5: an invite from a user below the invite level is rejected`, () => {
    const room = standardRoom(v).join(BOB);
    const pl = room.state.get('m.room.power_levels\u0000')!.content;
    room.powerLevels({ ...pl, invite: 10 });
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'invite' })), `${invite}.5`);
  });

  // ---- third-party invites: rule invite.1 ----

  const tpiRoom = (): Room =>
    standardRoom(v)
      .join(BOB)
      .set('m.room.third_party_invite', 'tok', { display_name: 'c…', public_key: 'KEY1', public_keys: [{ public_key: 'KEY2' }] }, BOB);
  const tpiInvite = (room: Room, tpi: JsonObject | string, target = CAROL, sender = BOB): PDU =>
    member(room, sender, target, { membership: 'invite', third_party_invite: tpi as JsonObject });
  const signed = (extra: JsonObject = {}): JsonObject => ({
    signed: { mxid: CAROL, token: 'tok', signatures: { 'id.example': { 'ed25519:0': 'sig' } }, ...extra },
  });
  const verifier = (seen: string[][]) => (s: JsonObject, keys: string[]) => {
    seen.push(keys);
    return s.token === 'tok';
  };

  test(`v${v} rule ${invite}.1.1: a third-party invite of a banned user is rejected`, () => {
    const room = tpiRoom().member(CAROL, 'ban', ALICE);
    assertRejected(() => room.check(tpiInvite(room, signed()), { verifyThirdPartyInvite: () => true }), `${invite}.1.1`);
  });

  test(`v${v} rule ${invite}.1.2: a third_party_invite without signed is rejected`, () => {
    const room = tpiRoom();
    assertRejected(() => room.check(tpiInvite(room, { display_name: 'c' })), `${invite}.1.2`);
    assertRejected(() => room.check(tpiInvite(room, 'not an object')), `${invite}.1.2`);
  });

  test(`v${v} rule ${invite}.1.3: a signed object without mxid and token is rejected`, () => {
    const room = tpiRoom();
    assertRejected(() => room.check(tpiInvite(room, { signed: { mxid: CAROL } })), `${invite}.1.3`);
    assertRejected(() => room.check(tpiInvite(room, { signed: { token: 'tok' } })), `${invite}.1.3`);
  });

  test(`v${v} rule ${invite}.1.4: a signed mxid other than the state_key is rejected`, () => {
    const room = tpiRoom();
    assertRejected(() => room.check(tpiInvite(room, signed(), DAVE), { verifyThirdPartyInvite: () => true }), `${invite}.1.4`);
  });

  test(`v${v} rule ${invite}.1.5: a token with no m.room.third_party_invite in state is rejected`, () => {
    const room = tpiRoom();
    assertRejected(() => room.check(tpiInvite(room, signed({ token: 'other' })), { verifyThirdPartyInvite: () => true }), `${invite}.1.5`);
  });

  test(`v${v} rule ${invite}.1.6: a third-party invite from someone other than the invitation's sender is rejected`, () => {
    const room = tpiRoom();
    assertRejected(() => room.check(tpiInvite(room, signed(), CAROL, ALICE), { verifyThirdPartyInvite: () => true }), `${invite}.1.6`);
  });

  test(`v${v} rule ${invite}.1.7: a third-party invite whose signature matches a public key is allowed`, () => {
    const room = tpiRoom();
    const seen: string[][] = [];
    assertAllowed(() => room.check(tpiInvite(room, signed()), { verifyThirdPartyInvite: verifier(seen) }));
    assert.deepEqual(seen, [['KEY1', 'KEY2']]);
    // Allowed outright: the sender's own membership and level are not consulted.
    room.member(BOB, 'leave');
    assertAllowed(() => room.check(tpiInvite(room, signed()), { verifyThirdPartyInvite: () => true }));
  });

  test(`v${v} rule ${invite}.1.8: a third-party invite with no matching signature is rejected`, () => {
    const room = tpiRoom();
    assertRejected(() => room.check(tpiInvite(room, signed()), { verifyThirdPartyInvite: () => false }), `${invite}.1.8`);
    // Without a verifier nothing can match.
    assertRejected(() => room.check(tpiInvite(room, signed())), `${invite}.1.8`);
  });

  // ---- leave ----

  test(`v${v} rule ${leave}.1: leaving oneself is allowed only from invite${Number(v) >= 7 ? ', join or knock' : ' or join'}`, () => {
    const room = standardRoom(v).join(BOB).member(CAROL, 'invite', ALICE).member(DAVE, 'ban', ALICE);
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'leave' })));
    assertAllowed(() => room.check(member(room, CAROL, CAROL, { membership: 'leave' })));
    assertRejected(() => room.check(member(room, DAVE, DAVE, { membership: 'leave' })), `${leave}.1`);
    const stranger = '@stranger:e.example';
    assertRejected(() => room.check(member(room, stranger, stranger, { membership: 'leave' })), `${leave}.1`);
    room.member(stranger, 'knock');
    const fromKnock = () => room.check(member(room, stranger, stranger, { membership: 'leave' }));
    if (Number(v) >= 7) assertAllowed(fromKnock);
    else assertRejected(fromKnock, `${leave}.1`);
  });

  test(`v${v} rule ${leave}.2: kicking by a user who is not joined is rejected`, () => {
    const room = standardRoom(v).join(BOB).member(ALICE, 'leave');
    assertRejected(() => room.check(member(room, ALICE, BOB, { membership: 'leave' })), `${leave}.2`);
  });

  test(`v${v} rule ${leave}.3: unbanning by a user below the ban level is rejected`, () => {
    const room = standardRoom(v).join(BOB).member(CAROL, 'ban', ALICE);
    const pl = room.state.get('m.room.power_levels\u0000')!.content;
    room.powerLevels({ ...pl, users: { ...(pl.users as JsonObject), [BOB]: 60 }, kick: 50, ban: 70 });
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'leave' })), `${leave}.3`);
    assertAllowed(() => room.check(member(room, ALICE, CAROL, { membership: 'leave' })));
  });

  test(`v${v} rule ${leave}.4: kicking a lower user by a user at the kick level is allowed`, () => {
    const room = standardRoom(v).join(BOB);
    assertAllowed(() => room.check(member(room, ALICE, BOB, { membership: 'leave' })));
  });

  test(`v${v} rule ${leave}.5: kicking a user at one's own level, or below the kick level, is rejected`, () => {
    const room = standardRoom(v).join(BOB, CAROL);
    // BOB and CAROL are both at 0 < kick 50.
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'leave' })), `${leave}.5`);
    const pl = room.state.get('m.room.power_levels\u0000')!.content;
    room.powerLevels({ ...pl, users: { ...(pl.users as JsonObject), [BOB]: 60, [CAROL]: 60 } });
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'leave' })), `${leave}.5`);
  });

  // ---- ban ----

  test(`v${v} rule ${ban}.1: a ban by a user who is not joined is rejected`, () => {
    const room = standardRoom(v).join(BOB).member(ALICE, 'leave');
    assertRejected(() => room.check(member(room, ALICE, BOB, { membership: 'ban' })), `${ban}.1`);
  });

  test(`v${v} rule ${ban}.2: a ban of a lower user by a user at the ban level is allowed`, () => {
    const room = standardRoom(v).join(BOB);
    assertAllowed(() => room.check(member(room, ALICE, BOB, { membership: 'ban' })));
    assertAllowed(() => room.check(member(room, ALICE, CAROL, { membership: 'ban' }))); // not in the room
  });

  test(`v${v} rule ${ban}.3: a ban below the ban level or of an equal user is rejected`, () => {
    const room = standardRoom(v).join(BOB, CAROL);
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'ban' })), `${ban}.3`);
    const pl = room.state.get('m.room.power_levels\u0000')!.content;
    room.powerLevels({ ...pl, users: { ...(pl.users as JsonObject), [BOB]: 50, [CAROL]: 50 } });
    assertRejected(() => room.check(member(room, BOB, CAROL, { membership: 'ban' })), `${ban}.3`);
  });

  // ---- unknown ----

  test(`v${v} rule ${m}.${s.unknown}: an unknown membership is rejected`, () => {
    const room = standardRoom(v).join(BOB);
    assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'dance' })), `${m}.${s.unknown}`);
    assertRejected(() => room.check(member(room, BOB, BOB, { membership: 7 })), `${m}.${s.unknown}`);
  });
}

test('v6 rule 4.6: membership knock is unknown before v7 and rejected', () => {
  const room = standardRoom('6', 'knock');
  assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'knock' })), '4.6');
});

test('v6 rule 4.2.6: join rule knock does not admit invited users before v7', () => {
  const room = standardRoom('6', 'knock').member(BOB, 'invite', ALICE);
  assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' })), '4.2.6');
  const v7 = standardRoom('7', 'knock').member(BOB, 'invite', ALICE);
  assertAllowed(() => v7.check(member(v7, BOB, BOB, { membership: 'join' }))); // v7 rule 4.2.4
});

test('v11 rule 4.3.1: the creator is the create sender, not content.creator', () => {
  const room = new Room('11', { createContent: { creator: BOB } });
  assertAllowed(() => room.check(member(room, ALICE, ALICE, { membership: 'join' }, [room.createEventId])));
  assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' }, [room.createEventId])), '4.3.7');
  const v10 = new Room('10', { createContent: { creator: BOB } });
  assertAllowed(() => v10.check(member(v10, BOB, BOB, { membership: 'join' }, [v10.createEventId])));
});

test('v12 rule 5.3.1: only the create sender, not an additional creator, joins on the create event alone', () => {
  const room = new Room('12', { additionalCreators: [BOB] });
  assertAllowed(() => room.check(member(room, ALICE, ALICE, { membership: 'join' }, [room.createEventId])));
  assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'join' }, [room.createEventId])), '5.3.7');
});

test('v8 rule 4.3.1: without createEventId, "only the create event before" means one prev and no members yet', () => {
  const room = new Room('8');
  const join = member(room, ALICE, ALICE, { membership: 'join' }, ['$whatever']);
  assertAllowed(() => room.check(join, { createEventId: undefined }));
  room.join(BOB);
  assertRejected(() => room.check(join, { createEventId: undefined }), '4.3.7');
});

// ---- knock (v7+) ----

for (const v of versionsFrom(7)) {
  const k = `${M(v)}.${sub(v).knock}`;

  test(`v${v} rule ${k}.1: knocking where the join rule is not knock${Number(v) >= 10 ? ' or knock_restricted' : ''} is rejected`, () => {
    for (const rule of ['invite', 'public', 'restricted']) {
      const room = standardRoom(v, rule);
      assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'knock' })), `${k}.1`);
    }
    const kr = standardRoom(v, 'knock_restricted');
    const knock = () => kr.check(member(kr, BOB, BOB, { membership: 'knock' }));
    if (Number(v) >= 10) assertAllowed(knock);
    else assertRejected(knock, `${k}.1`);
  });

  test(`v${v} rule ${k}.2: knocking on behalf of someone else is rejected`, () => {
    const room = standardRoom(v, 'knock');
    assertRejected(() => room.check(member(room, ALICE, BOB, { membership: 'knock' })), `${k}.2`);
  });

  test(`v${v} rule ${k}.3: knocking by a user who is not banned, invited or joined is allowed`, () => {
    const room = standardRoom(v, 'knock');
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'knock' })));
    room.member(BOB, 'leave');
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'knock' })));
  });

  test(`v${v} rule ${k}.4: knocking while banned, invited or joined is rejected`, () => {
    const room = standardRoom(v, 'knock').member(BOB, 'ban', ALICE).member(CAROL, 'invite', ALICE);
    assertRejected(() => room.check(member(room, BOB, BOB, { membership: 'knock' })), `${k}.4`);
    assertRejected(() => room.check(member(room, CAROL, CAROL, { membership: 'knock' })), `${k}.4`);
    assertRejected(() => room.check(member(room, ALICE, ALICE, { membership: 'knock' })), `${k}.4`);
  });

  test(`v${v} rule ${M(v)}.${sub(v).join}.4: with join rule knock, invited users may join and knockers may not`, () => {
    const room = standardRoom(v, 'knock').member(BOB, 'invite', ALICE).member(CAROL, 'knock');
    assertAllowed(() => room.check(member(room, BOB, BOB, { membership: 'join' })));
    const otherwise = `${M(v)}.${sub(v).join}.${byVersion(v, { 7: 6, 8: 7 })}`;
    assertRejected(() => room.check(member(room, CAROL, CAROL, { membership: 'join' })), otherwise);
  });
}

// ---- restricted joins (v8+) ----

for (const v of ['6', '7']) {
  test(`v${v} rule 4.2.6: join rules restricted and knock_restricted are unknown before v8 and admit nobody`, () => {
    for (const rule of ['restricted', 'knock_restricted']) {
      const room = standardRoom(v, rule).join(BOB);
      const join = member(room, CAROL, CAROL, { membership: 'join', join_authorised_via_users_server: ALICE });
      join.signatures['a.example'] = { 'ed25519:k': 'sig' };
      assertRejected(() => room.check(join), '4.2.6');
    }
  });
}

for (const v of versionsFrom(8)) {
  const m = M(v);
  const r = `${m}.3.5`;
  const restrictedJoin = (room: Room, user: string, via?: string): PDU => {
    const content: JsonObject = { membership: 'join' };
    if (via !== undefined) content.join_authorised_via_users_server = via;
    const pdu = member(room, user, user, content);
    if (via !== undefined) pdu.signatures[via.slice(via.indexOf(':') + 1)] = { 'ed25519:k': 'sig' };
    return pdu;
  };

  test(`v${v} rule ${m}.2.1: join_authorised_via_users_server must be signed by that user's server`, () => {
    const room = standardRoom(v, 'restricted');
    const join = member(room, CAROL, CAROL, { membership: 'join', join_authorised_via_users_server: ALICE });
    assertRejected(() => room.check(join), `${m}.2.1`); // only c.example signed
    join.signatures['a.example'] = { 'ed25519:k': 'sig' };
    assertAllowed(() => room.check(join));
    // The injected signature check decides when given.
    assertRejected(() => room.check(join, { isSignedBy: (_e, server) => server !== 'a.example' }), `${m}.2.1`);
    // Even outside restricted rooms, and for any membership.
    const pub = standardRoom(v, 'public');
    const leave = member(pub, BOB, BOB, { membership: 'leave', join_authorised_via_users_server: 42 as never });
    assertRejected(() => pub.check(leave), `${m}.2.1`);
  });

  const rules = Number(v) >= 10 ? ['restricted', 'knock_restricted'] : ['restricted'];
  for (const rule of rules) {
    test(`v${v} rule ${r}.1: join rule ${rule} admits invited and joined users without an authoriser`, () => {
      const room = standardRoom(v, rule).member(BOB, 'invite', ALICE);
      assertAllowed(() => room.check(restrictedJoin(room, BOB)));
      room.join(BOB);
      assertAllowed(() => room.check(restrictedJoin(room, BOB)));
    });

    test(`v${v} rule ${r}.2: join rule ${rule} rejects an authoriser who is not joined or cannot invite`, () => {
      const room = standardRoom(v, rule).member(BOB, 'invite', ALICE);
      assertRejected(() => room.check(restrictedJoin(room, CAROL)), `${r}.2`); // no authoriser
      assertRejected(() => room.check(restrictedJoin(room, CAROL, BOB)), `${r}.2`); // invited, not joined
      room.join(BOB);
      const pl = room.state.get('m.room.power_levels\u0000')!.content;
      room.powerLevels({ ...pl, invite: 50 });
      assertRejected(() => room.check(restrictedJoin(room, CAROL, BOB)), `${r}.2`); // joined, below invite
    });

    test(`v${v} rule ${r}.3: join rule ${rule} admits a join authorised by a joined user able to invite`, () => {
      const room = standardRoom(v, rule).join(BOB);
      assertAllowed(() => room.check(restrictedJoin(room, CAROL, BOB)));
      assertAllowed(() => room.check(restrictedJoin(room, CAROL, ALICE)));
    });
  }

  if (Number(v) < 10) {
    test(`v${v} rule ${m}.3.7: join rule knock_restricted is unknown before v10 and admits nobody`, () => {
      const room = standardRoom(v, 'knock_restricted').join(BOB);
      assertRejected(() => room.check(restrictedJoin(room, CAROL, BOB)), `${m}.3.7`);
    });
  }
}

test('v6 rule 4.2: join_authorised_via_users_server means nothing before v8', () => {
  const room = standardRoom('6', 'public');
  const join = member(room, CAROL, CAROL, { membership: 'join', join_authorised_via_users_server: ALICE });
  assertAllowed(() => room.check(join));
});

// ---- v12: creators have infinite power ----

test('v12 rule 5.5.4 and 5.6.2: a creator can kick and ban users at any level', () => {
  const room = standardRoom('12').join(BOB);
  const pl = room.state.get('m.room.power_levels\u0000')!.content;
  room.powerLevels({ ...pl, users: { [BOB]: 9000 } });
  assertAllowed(() => room.check(member(room, ALICE, BOB, { membership: 'leave' })));
  assertAllowed(() => room.check(member(room, ALICE, BOB, { membership: 'ban' })));
});

test('v12 rule 5.5.5 and 5.6.3: nobody, not even another creator, can kick or ban a creator', () => {
  const room = standardRoom('12', 'invite', { additionalCreators: [CAROL] }).join(BOB, CAROL);
  const pl = room.state.get('m.room.power_levels\u0000')!.content;
  room.powerLevels({ ...pl, users: { [BOB]: 9000 } });
  assertRejected(() => room.check(member(room, BOB, ALICE, { membership: 'leave' })), '5.5.5');
  assertRejected(() => room.check(member(room, BOB, ALICE, { membership: 'ban' })), '5.6.3');
  assertRejected(() => room.check(member(room, CAROL, ALICE, { membership: 'ban' })), '5.6.3');
  // But an additional creator outranks everyone else.
  assertAllowed(() => room.check(member(room, CAROL, BOB, { membership: 'ban' })));
});

test('v11 rule 4.6.3: before v12 the creator is an ordinary user at its listed level', () => {
  const room = standardRoom('11').join(BOB);
  room.powerLevels({ users: { [ALICE]: 100, [BOB]: 100 } });
  assertRejected(() => room.check(member(room, ALICE, BOB, { membership: 'ban' })), '4.6.3');
  assertRejected(() => room.check(member(room, BOB, ALICE, { membership: 'ban' })), '4.6.3');
});
