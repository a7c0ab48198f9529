// Issue #13, "It must show" 2, pure side: fast-check properties of the protocol library.
// - canonical JSON: what it encodes is the appendix's form (keys by code point, integers only),
//   whatever the key order; anything else is a TypeError, never another failure;
// - event validation (the format check on receipt of a PDU): a PDU or a PduCheckError, and what
//   it accepts can be redacted, hashed and given an event id;
// - the auth rules: for any event against any state, they allow it or throw AuthError;
// - state resolution v2 (v10, v11, v12): on random forked rooms, the same answer whatever the
//   order of the state sets, of each set's entries, and of the events' arrival.
// The values canonical JSON cannot hold, at depth or in a PDU, are issue #13 class 2.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, compareCodePoints } from '../../homeserver/protocol/canonical-json.ts';
import { AuthError, checkAuthEventsList, checkEventAuth, type AuthEventEntry } from '../../homeserver/protocol/auth-rules.ts';
import { computeEventId, verifyContentHash } from '../../homeserver/protocol/event-hashing.ts';
import { redactEvent } from '../../homeserver/protocol/redaction.ts';
import { getRoomVersion } from '../../homeserver/protocol/room-versions.ts';
import { resolveStateV2, type StateResEvent } from '../../homeserver/protocol/state-res-v2.ts';
import type { PDU, StateKey, StateMap } from '../../homeserver/protocol/types.ts';
import { checkPduFormat, PduCheckError } from '../../homeserver/federation/pdu-checks.ts';
import { ALICE, BOB, CHARLIE, EVE, standardRoom, powerLevels, type Dag, type EventSpec } from '../homeserver/protocol/fixtures/state-res-dag.ts';
import { cleanJson, nastyValue } from './json-arbitraries.ts';
import { fuzzRuns, fuzzSeed } from './fuzz-runs.ts';

const options = (short: number) => ({ numRuns: fuzzRuns(short), seed: fuzzSeed() });
const VERSIONS = ['10', '11', '12'] as const;
const USERS = [ALICE, BOB, CHARLIE, EVE];

/** The appendix's canonical form computed another way: JSON.stringify over keys sorted by code point. */
function reference(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (typeof v !== 'object' || v === null) return v;
    const entries = Object.entries(v).sort(([a], [b]) => compareCodePoints(a, b));
    // A null-prototype object, so that a key named __proto__ stays a key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, child] of entries) out[k] = sorted(child);
    return out;
  };
  return JSON.stringify(sorted(value));
}

/** The same value with every object's keys inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, child] of Object.entries(value).reverse()) out[k] = reversedKeys(child);
  return out;
}

/** `value` with the field at one path replaced by `replacement` (removed when undefined). */
function setAt(value: unknown, path: string[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === undefined && Array.isArray(at)) at.splice(Number(last), 1);
  else if (replacement === undefined) delete at[last];
  else at[last] = replacement;
  return copy;
}

function pathsOf(value: unknown, max = 5): string[][] {
  const paths: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    if (path.length > 0) paths.push(path);
    if (typeof v === 'object' && v !== null && path.length < max) for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
  };
  walk(value, []);
  return paths;
}

/** `value` with one to three fields (at any depth) replaced by values from `values`, or removed. */
function mutated<T>(value: T, values: fc.Arbitrary<unknown>): fc.Arbitrary<T> {
  const paths = pathsOf(value);
  const one = fc.tuple(fc.constantFrom(...paths), fc.option(values, { nil: undefined, freq: 4 }));
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((edits) => {
    let out: unknown = value;
    for (const [path, replacement] of edits) {
      try {
        out = setAt(out, path, replacement);
      } catch {
        // An earlier edit removed or replaced this path's parent: skip this edit.
      }
    }
    return out as T;
  });
}

describe('canonical JSON, fuzzed', () => {
  test('any JSON value it can hold encodes to the appendix form (keys by code point), whatever the key order', () => {
    fc.assert(
      fc.property(cleanJson(8), (value) => {
        const encoded = canonicalJson(value);
        assert.equal(encoded, reference(value));
        assert.equal(canonicalJson(reversedKeys(value)), encoded);
        assert.equal(canonicalJson(JSON.parse(encoded)), encoded);
      }),
      options(2_000),
    );
  });

  test('any value at all (floats, 2^53+, NaN, lone surrogates, undefined) encodes or throws TypeError, nothing else', () => {
    const anything = fc.oneof(
      fc.anything({ maxDepth: 6, withNullPrototype: true, withBigInt: true }),
      cleanJson(6).chain((v) =>
        mutated(
          { v },
          fc.oneof(
            fc.double(),
            fc.string({ unit: 'binary' }),
            nastyValue.map((n) => JSON.parse(n.raw.length < 2000 ? n.raw : '0')),
          ),
        ),
      ),
    );
    fc.assert(
      fc.property(anything, (value) => {
        try {
          const encoded = canonicalJson(value);
          JSON.parse(encoded);
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
        }
      }),
      options(2_000),
    );
  });

  test('nesting thousands deep is a TypeError, not a stack overflow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 100_000 }), fc.boolean(), (depth, arrays) => {
        const value = JSON.parse(arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
        try {
          canonicalJson(value);
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
        }
      }),
      options(20),
    );
  });
});

/** Real events of a standard room (state-res-dag.ts), as the sources of mutation. */
async function roomOf(version: string): Promise<{ dag: Dag; state: StateMap; events: PDU[] }> {
  const dag = await standardRoom(version);
  const state: StateMap = new Map();
  for (const [key, id] of dag.state('START')) state.set(key, dag.byId.get(id)!.pdu);
  const events = [...dag.byId.values()].map((e) => e.pdu);
  return { dag, state, events };
}

describe('event validation, fuzzed', () => {
  for (const v of VERSIONS) {
    test(`v${v}: a mutated PDU is refused with PduCheckError or accepted, and what is accepted can be redacted, hashed and named`, async () => {
      const { dag, events } = await roomOf(v);
      const version = getRoomVersion(v)!;
      const raw = fc.oneof(
        fc.constantFrom(...events).chain((pdu) => mutated(pdu, cleanJson(3))),
        cleanJson(4),
      );
      fc.assert(
        fc.property(raw, (pdu) => {
          let checked: PDU;
          try {
            checked = checkPduFormat(pdu, version, dag.roomId);
          } catch (err) {
            if (err instanceof PduCheckError) return;
            throw err;
          }
          redactEvent(checked, version);
          verifyContentHash(checked);
          computeEventId(checked, version);
        }),
        options(1_000),
      );
    });

    // Found by the 100,000-case run (seed -929800168): a list with holes passed a check made with
    // every(), which skips them, and a later loop read undefined. JSON never has holes, but the
    // check must hold for any value it is given.
    test(`v${v}: prev_events or auth_events with holes (a sparse array) is refused with PduCheckError`, async () => {
      const { dag, events } = await roomOf(v);
      const version = getRoomVersion(v)!;
      const pdu = events.find((e) => e.type === 'm.room.member')!;
      const sparse = (list: string[]) => {
        const holed = new Array<string>(list.length + 1);
        holed[list.length] = '';
        return holed;
      };
      assert.throws(() => checkPduFormat({ ...pdu, auth_events: sparse(pdu.auth_events) }, version, dag.roomId), PduCheckError);
      assert.throws(() => checkPduFormat({ ...pdu, prev_events: sparse(pdu.prev_events) }, version, dag.roomId), PduCheckError);
    });

    // rooms/fragments/v6-canonical-json.md: such an event is discarded over federation.
    test(`v${v}: a PDU whose content holds a float, 2^53+ or a lone surrogate is refused by the format check`, async () => {
      const { dag, events } = await roomOf(v);
      const version = getRoomVersion(v)!;
      // A float written with an integral value ("1.0", "-0.0", "1e3") parses to an integer, which
      // the PDU then holds: only values that stay outside canonical JSON once parsed are refused.
      const bad = nastyValue
        .filter((n) => !n.what.startsWith('nesting'))
        .map((n) => JSON.parse(n.raw) as unknown)
        .filter((value) => !(typeof value === 'number' && Number.isSafeInteger(value)));
      const pdu = fc
        .tuple(fc.constantFrom(...events), bad, fc.boolean())
        .map(([event, value, nested]) => ({ ...event, content: { ...event.content, x: nested ? { y: [value] } : value } }));
      fc.assert(
        fc.property(pdu, (raw) => {
          assert.throws(() => checkPduFormat(raw, version, dag.roomId), PduCheckError);
        }),
        options(500),
      );
    });
  }
});

describe('the auth rules, fuzzed', () => {
  for (const v of VERSIONS) {
    test(`v${v}: any event against any state is allowed or refused with AuthError, never another error`, async () => {
      const { dag, state, events } = await roomOf(v);
      const rules = dag.rules;
      // Templates of every kind of event the rules look at, from every user, then mutated.
      const templates: PDU[] = [...events];
      for (const sender of USERS) {
        for (const target of USERS) {
          for (const membership of ['join', 'leave', 'ban', 'invite', 'knock']) {
            templates.push({ ...events[1]!, sender, state_key: target, content: { membership } });
          }
        }
        templates.push({ ...events[2]!, sender, content: powerLevels(dag, { [BOB]: 50 }, { ban: 50, events: { 'm.room.topic': 50 } }) });
        templates.push({ ...events[3]!, sender, content: { join_rule: 'knock' } });
      }
      // The rules' input is a PDU that passed the format check on receipt (or was built here):
      // whatever its content holds, it has the fields every PDU has.
      const version = getRoomVersion(v)!;
      const wellFormed = (pdu: PDU) => {
        try {
          checkPduFormat(pdu, version, undefined);
          return true;
        } catch {
          return false;
        }
      };
      const event = fc.constantFrom(...templates).chain((pdu) => fc.oneof(fc.constant(pdu), mutated(pdu, cleanJson(3)).filter(wellFormed)));
      // The state: the room's, with up to three of its events mutated (power levels with strings
      // for numbers, a create event without a version...).
      const stateKeys = [...state.keys()];
      const authState = fc.array(fc.tuple(fc.constantFrom(...stateKeys), fc.nat()), { maxLength: 3 }).chain((picks) =>
        fc
          .tuple(
            ...picks.map(([key]) =>
              mutated(state.get(key)!, cleanJson(3))
                .filter(wellFormed)
                .map((pdu) => [key, pdu] as const),
            ),
          )
          .map((changes) => {
            const out: StateMap = new Map(state);
            for (const [key, pdu] of changes) out.set(key, pdu);
            return out;
          }),
      );
      const withList = fc.boolean();
      fc.assert(
        fc.property(event, authState, withList, (pdu, authStateMap, listGiven) => {
          const entries: AuthEventEntry[] = [...authStateMap.values()].map((p) => ({ pdu: p }));
          try {
            checkEventAuth(pdu, authStateMap, rules, { createEventId: dag.id('CREATE'), ...(listGiven ? { authEvents: entries } : {}) });
          } catch (err) {
            if (!(err instanceof AuthError)) throw err;
          }
          try {
            checkAuthEventsList(pdu, entries, rules);
          } catch (err) {
            if (!(err instanceof AuthError)) throw err;
          }
        }),
        options(500),
      );
    });
  }
});

// ---- State resolution --------------------------------------------------------------------------

const step = fc.record({
  kind: fc.constantFrom('topic', 'power', 'member', 'joinRules'),
  sender: fc.constantFrom(...USERS),
  target: fc.constantFrom(...USERS),
  membership: fc.constantFrom('join', 'leave', 'ban', 'invite'),
  level: fc.constantFrom(0, 50, 100),
  joinRule: fc.constantFrom('public', 'invite'),
  prevs: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** Grows a forked room from the standard one: each step an event on top of one or two earlier ones. */
async function growRoom(version: string, steps: Step[]): Promise<{ dag: Dag; names: string[] }> {
  const dag = await standardRoom(version);
  const names = ['IMA', 'IPOWER', 'IJR', 'IMB', 'IMC', 'START'];
  for (const [i, s] of steps.entries()) {
    const prev = [...new Set(s.prevs.map((n) => names[n % names.length]!))];
    const spec: EventSpec =
      s.kind === 'topic'
        ? { type: 'm.room.topic', sender: s.sender, stateKey: '', content: { topic: `t${i}` }, prev }
        : s.kind === 'power'
          ? { type: 'm.room.power_levels', sender: s.sender, stateKey: '', content: powerLevels(dag, { [s.target]: s.level }), prev }
          : s.kind === 'member'
            ? { type: 'm.room.member', sender: s.sender, stateKey: s.target, content: { membership: s.membership }, prev }
            : { type: 'm.room.join_rules', sender: s.sender, stateKey: '', content: { join_rule: s.joinRule }, prev };
    const name = `E${i}`;
    try {
      await dag.add(name, spec);
    } catch {
      // Refused by the auth rules: kept as a rejected event, as a server that received it would.
      await dag.add(name, spec, { rejected: true });
    }
    names.push(name);
  }
  return { dag, names };
}

/** A copy of `items` in the order a seeded shuffle gives. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('state resolution v2, fuzzed', () => {
  test('on random forked rooms, the same state whatever the order of the state sets, of their entries and of the events', async () => {
    const scenario = fc.record({
      version: fc.constantFrom(...VERSIONS),
      steps: fc.array(step, { minLength: 1, maxLength: 10 }),
      picks: fc.array(fc.nat(), { minLength: 2, maxLength: 3 }),
      seeds: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ version, steps, picks, seeds }) => {
        const { dag, names } = await growRoom(version, steps);
        const sets = picks.map((n) => dag.state(names[n % names.length]!));
        const first = dag.describe(await dag.resolve(sets));
        const orders = [shuffled(sets, seeds[0]!), [...sets].reverse()];
        for (const [i, order] of orders.entries()) {
          // Each state set's entries in another insertion order, and the events loaded from a map
          // filled in another order: nothing may depend on Map iteration order.
          const reordered = order.map((set) => new Map(shuffled([...set.entries()], seeds[1]! + i) as Array<[StateKey, string]>));
          const arrival = new Map(shuffled([...dag.byId.entries()], seeds[2]! + i) as Array<[string, StateResEvent]>);
          const answer = await resolveStateV2({ roomVersion: version, stateSets: reordered, getEvent: async (id) => arrival.get(id) });
          assert.deepEqual(dag.describe(answer), first, `order ${i}`);
        }
      }),
      options(60),
    );
  });

  test('one state set resolves to itself', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...VERSIONS), fc.array(step, { minLength: 1, maxLength: 8 }), fc.nat(), async (version, steps, pick) => {
        const { dag, names } = await growRoom(version, steps);
        const state = dag.state(names[pick % names.length]!);
        assert.deepEqual(dag.describe(await dag.resolve([state, new Map(state)])), dag.describe(state));
      }),
      options(40),
    );
  });
});
