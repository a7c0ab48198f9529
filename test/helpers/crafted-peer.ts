// A small federation server written for tests: it holds one room whose events the test crafts
// (signed with its own key, as a real server's would be), and answers what a joining server asks
// of a room's resident server: its key, make_join/send_join, /backfill, /state_ids, /event,
// /event_auth, /send. It plays servers we do not own (an older Synapse that gives two events the
// same depth), which no Hearth would produce.
import https from 'node:https';
import { generateSelfSigned } from '../../homeserver/federation/tls.ts';
import { ourKeyDocument } from '../../homeserver/federation/keys.ts';
import { generateSigningKey, type SigningKey } from '../../homeserver/protocol/signing-key.ts';
import { hashSignAndIdentify, type DraftPDU } from '../../homeserver/protocol/event-hashing.ts';
import { getRoomVersion } from '../../homeserver/protocol/room-versions.ts';
import type { JsonObject, PDU } from '../../homeserver/protocol/types.ts';

export interface CraftedEvent {
  eventId: string;
  pdu: PDU;
}

export interface CraftedPeer {
  serverName: string;
  port: number;
  key: SigningKey;
  roomId: string;
  version: string;
  /** Every event of the room, in the order crafted. */
  events: CraftedEvent[];
  /** Signs `draft` (room id, origin and timestamp filled in) and adds it to the room. */
  add(draft: Omit<DraftPDU, 'room_id' | 'origin_server_ts'> & { origin_server_ts?: number }): CraftedEvent;
  /** The state after `eventId`: each (type, state_key)'s newest event along prev_events. */
  stateAfter(eventId: string): CraftedEvent[];
  stop(): Promise<void>;
}

/** Starts a peer named `127.0.0.1:<port>` with an empty room of `version`; the test adds its events. */
export async function startCraftedPeer(port: number, version = '10'): Promise<CraftedPeer> {
  const serverName = `127.0.0.1:${port}`;
  const key = generateSigningKey();
  const roomVersion = getRoomVersion(version)!;
  const roomId = `!crafted${port}:${serverName}`;
  const events: CraftedEvent[] = [];
  const byId = new Map<string, CraftedEvent>();

  const add: CraftedPeer['add'] = (draft) => {
    const full = { origin_server_ts: Date.now(), ...draft, room_id: roomId, origin: serverName } as DraftPDU;
    const { pdu, eventId } = hashSignAndIdentify(full, roomVersion, serverName, key);
    const e = { eventId, pdu };
    events.push(e);
    byId.set(eventId, e);
    return e;
  };
  const ancestors = (ids: string[], limit: number): CraftedEvent[] => {
    // Breadth-first back through prev_events, newest first: what /backfill answers.
    const out: CraftedEvent[] = [];
    const seen = new Set<string>();
    let front = ids;
    while (front.length > 0 && out.length < limit) {
      const next: string[] = [];
      for (const id of front) {
        const e = byId.get(id);
        if (!e || seen.has(id) || out.length >= limit) continue;
        seen.add(id);
        out.push(e);
        next.push(...e.pdu.prev_events);
      }
      front = next;
    }
    return out;
  };
  const stateAfter = (eventId: string): CraftedEvent[] => {
    const state = new Map<string, CraftedEvent>();
    // Oldest first along the chain (the crafted rooms are linear), the newest of each key wins.
    for (const e of ancestors([eventId], Infinity).reverse()) if (e.pdu.state_key !== undefined) state.set(`${e.pdu.type}\u0000${e.pdu.state_key}`, e);
    return [...state.values()];
  };
  const stateBefore = (e: CraftedEvent) => e.pdu.prev_events.flatMap((id) => stateAfter(id));
  const authChain = (list: CraftedEvent[]): CraftedEvent[] => {
    const out = new Map<string, CraftedEvent>();
    const walk = (ids: string[]) => {
      for (const id of ids) {
        const a = byId.get(id);
        if (!a || out.has(id)) continue;
        out.set(id, a);
        walk(a.pdu.auth_events);
      }
    };
    for (const e of list) walk(e.pdu.auth_events);
    return [...out.values()];
  };
  const txn = (pdus: PDU[]) => ({ origin: serverName, origin_server_ts: Date.now(), pdus });

  const route = (method: string, url: URL, body: unknown): [number, unknown] => {
    const p = url.pathname.split('/').map(decodeURIComponent);
    const path = url.pathname;
    if (method === 'GET' && path === '/_matrix/key/v2/server') return [200, ourKeyDocument(serverName, key, Date.now())];
    if (method === 'GET' && path === '/_matrix/federation/v1/version') return [200, { server: { name: 'crafted-peer', version: '0' } }];
    if (method === 'PUT' && path.startsWith('/_matrix/federation/v1/send/')) return [200, { pdus: {} }];
    if (method === 'GET' && path.startsWith('/_matrix/federation/v1/make_join/')) {
      const userId = p[6]!;
      const last = events[events.length - 1]!;
      const state = stateAfter(last.eventId);
      const pick = (type: string, k = '') => state.find((e) => e.pdu.type === type && e.pdu.state_key === k)!.eventId;
      const event: JsonObject = {
        type: 'm.room.member',
        state_key: userId,
        sender: userId,
        room_id: roomId,
        origin: serverName,
        origin_server_ts: Date.now(),
        content: { membership: 'join' },
        depth: last.pdu.depth + 1,
        prev_events: [last.eventId],
        auth_events: [pick('m.room.create'), pick('m.room.power_levels'), pick('m.room.join_rules')],
      };
      return [200, { room_version: version, event }];
    }
    if (method === 'PUT' && path.startsWith('/_matrix/federation/v2/send_join/')) {
      const join = { eventId: p[6]!, pdu: body as PDU };
      const state = stateBefore(join);
      events.push(join);
      byId.set(join.eventId, join);
      return [
        200,
        {
          origin: serverName,
          members_omitted: false,
          state: state.map((e) => e.pdu),
          auth_chain: authChain([...state, join]).map((e) => e.pdu),
          event: join.pdu,
        },
      ];
    }
    if (method === 'GET' && path.startsWith('/_matrix/federation/v1/backfill/')) {
      const limit = Number(url.searchParams.get('limit') ?? 10);
      return [200, txn(ancestors(url.searchParams.getAll('v'), limit).map((e) => e.pdu))];
    }
    if (method === 'GET' && path.startsWith('/_matrix/federation/v1/state_ids/')) {
      const e = byId.get(url.searchParams.get('event_id') ?? '');
      if (!e) return [404, { errcode: 'M_NOT_FOUND', error: 'Unknown event' }];
      const state = stateBefore(e);
      return [200, { pdu_ids: state.map((x) => x.eventId), auth_chain_ids: authChain(state).map((x) => x.eventId) }];
    }
    if (method === 'GET' && path.startsWith('/_matrix/federation/v1/event/')) {
      const e = byId.get(p[5]!);
      return e ? [200, txn([e.pdu])] : [404, { errcode: 'M_NOT_FOUND', error: 'Unknown event' }];
    }
    if (method === 'GET' && path.startsWith('/_matrix/federation/v1/event_auth/')) {
      const e = byId.get(p[6]!);
      return e ? [200, { auth_chain: authChain([e]).map((x) => x.pdu) }] : [404, { errcode: 'M_NOT_FOUND', error: 'Unknown event' }];
    }
    return [404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }];
  };

  const tls = await generateSelfSigned('127.0.0.1', '127.0.0.1');
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const [status, body] = route(req.method ?? 'GET', new URL(req.url ?? '/', 'https://peer'), text ? JSON.parse(text) : undefined);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    serverName,
    port,
    key,
    roomId,
    version,
    events,
    add,
    stateAfter,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
