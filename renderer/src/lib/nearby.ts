// People nearby and the LAN sharing switch (issue #15's unstable org.hearth.lan API, README
// "Desktops on a LAN"): what the client reads from the server, and the plain view it shows.
// A server without `lan` answers 404 M_UNRECOGNIZED, and then the client shows nothing of it.
import type { MatrixClient } from 'matrix-js-sdk/lib/client.js';
import { Method } from 'matrix-js-sdk/lib/http-api/method.js';

export const LAN_PREFIX = '/_matrix/client/unstable/org.hearth.lan';
/** Global account data the server pushes once the user has read /nearby or /sharing. */
export const NEARBY_ACCOUNT_DATA = 'org.hearth.lan.nearby';

export interface NearbyPerson {
  userId: string;
  /** Display name, or the user ID when they have none. */
  name: string;
  /** The desktop they are on: its announced label, or its server name. */
  desktop: string;
}

export interface NearbyWarning {
  serverName: string;
  text: string;
  /** A changed certificate: an admin may forget the desktop, to trust its new certificate. */
  forgettable: boolean;
}

/** A desktop on the LAN now, which an admin may forget (unpin). */
export interface NearbyDesktop {
  serverName: string;
  /** Its announced label, or its server name. */
  name: string;
}

export interface NearbyView {
  /** Whether this server is sharing (discovering peers) now. */
  sharing: boolean;
  people: NearbyPerson[];
  warnings: NearbyWarning[];
  desktops: NearbyDesktop[];
}

const REPORT_TEXT: Record<string, string> = {
  impostor: 'claims to be a desktop it is not (wrong signing key): ignored',
  'certificate-changed': 'has a changed certificate: not trusted until an admin accepts it',
  'bad-announcement': 'sent an announcement that could not be read',
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/**
 * The view of a /nearby answer or `org.hearth.lan.nearby` content: everyone on the nearby desktops
 * but me, by name, and the discovery reports as warnings. Content comes from the server (or from
 * account data any client may write), so anything malformed is skipped rather than trusted.
 */
export function nearbyView(content: unknown, myUserId: string): NearbyView {
  const c = obj(content);
  const people: NearbyPerson[] = [];
  const desktops: NearbyDesktop[] = [];
  const seen = new Set<string>();
  for (const p of list(c.peers)) {
    const peer = obj(p);
    const serverName = str(peer.server_name);
    if (serverName === undefined) continue;
    const desktop = str(peer.label) ?? serverName;
    if (!desktops.some((d) => d.serverName === serverName)) desktops.push({ serverName, name: desktop });
    for (const u of list(peer.users)) {
      const user = obj(u);
      const userId = str(user.user_id);
      if (userId === undefined || !userId.startsWith('@') || userId === myUserId || seen.has(userId)) continue;
      seen.add(userId);
      people.push({ userId, name: str(user.displayname) ?? userId, desktop });
    }
  }
  // People with a display name first, by name; then those known only by their user ID.
  const unnamed = (p: NearbyPerson) => (p.name === p.userId ? 1 : 0);
  people.sort((a, b) => unnamed(a) - unnamed(b) || a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  const warnings: NearbyWarning[] = [];
  for (const r of list(c.reports)) {
    const report = obj(r);
    const serverName = str(report.server_name);
    const kind = str(report.kind);
    if (serverName === undefined || kind === undefined) continue;
    warnings.push({ serverName, text: REPORT_TEXT[kind] ?? `was reported (${kind})`, forgettable: kind === 'certificate-changed' });
  }
  return { sharing: c.sharing === true, people, warnings, desktops };
}

function lanRequest<T>(client: MatrixClient, method: Method, path: string, body?: Record<string, unknown>): Promise<T> {
  return client.http.authedRequest<T>(method, path, undefined, body, { prefix: LAN_PREFIX });
}

/** The sharing state, or null when the server does not offer LAN sharing (404). */
export async function readSharing(client: MatrixClient): Promise<{ enabled: boolean } | null> {
  try {
    const state = await lanRequest<{ enabled?: unknown }>(client, Method.Get, '/sharing');
    return { enabled: state.enabled === true };
  } catch (err) {
    if ((err as { httpStatus?: number }).httpStatus === 404) return null;
    throw err;
  }
}

export function readNearby(client: MatrixClient): Promise<unknown> {
  return lanRequest<unknown>(client, Method.Get, '/nearby');
}

/** Admin only: the server answers 403 M_FORBIDDEN to anyone else. */
export async function writeSharing(client: MatrixClient, enabled: boolean): Promise<void> {
  await lanRequest(client, Method.Put, '/sharing', { enabled });
}

/**
 * Admin only: unpins a desktop (like deleting its line in SSH's known_hosts); its next announcement
 * pins it afresh, with the certificate it has then.
 */
export async function forgetPeer(client: MatrixClient, serverName: string): Promise<void> {
  await lanRequest(client, Method.Delete, `/peers/${encodeURIComponent(serverName)}`);
}

/**
 * Whether I am a server admin, without changing anything: /capabilities lists
 * `m.account_moderation` only for users who may suspend or lock accounts (capabilities.yaml), which
 * on Hearth are its server admins, the same who may switch LAN sharing.
 */
export async function amServerAdmin(client: MatrixClient): Promise<boolean> {
  try {
    const res = await client.http.authedRequest<{ capabilities?: Record<string, unknown> }>(Method.Get, '/capabilities');
    return typeof res.capabilities?.['m.account_moderation'] === 'object';
  } catch {
    return false;
  }
}
