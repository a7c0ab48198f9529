// The user's sessions (devices) as the settings screen lists them, and the password step
// (User-Interactive Authentication) that signing a session out or changing the password needs
// (client-server-api "User-Interactive Authentication API", "m.login.password").

export interface Device {
  device_id: string;
  display_name?: string;
  last_seen_ts?: number;
  last_seen_ip?: string;
}

export interface ListedDevice {
  id: string;
  name: string;
  current: boolean;
  lastSeenTs: number | null;
  lastSeenIp: string | null;
}

/** This session first, then the others by when they were last seen, most recent first. */
export function listDevices(devices: readonly Device[], currentId: string): ListedDevice[] {
  return devices
    .map((d) => ({
      id: d.device_id,
      name: d.display_name?.trim() || d.device_id,
      current: d.device_id === currentId,
      lastSeenTs: typeof d.last_seen_ts === 'number' ? d.last_seen_ts : null,
      lastSeenIp: typeof d.last_seen_ip === 'string' ? d.last_seen_ip : null,
    }))
    .sort((a, b) => Number(b.current) - Number(a.current) || (b.lastSeenTs ?? 0) - (a.lastSeenTs ?? 0) || a.id.localeCompare(b.id));
}

/** "Last seen 12 Mar 2026, 14:05 from 10.0.0.2", or what is known of it. */
export function describeLastSeen(d: Pick<ListedDevice, 'lastSeenTs' | 'lastSeenIp'>, locale?: string): string {
  const parts: string[] = [];
  if (d.lastSeenTs !== null) {
    const when = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d.lastSeenTs);
    parts.push(`Last seen ${when}`);
  }
  if (d.lastSeenIp) parts.push(`${parts.length ? 'from' : 'Seen from'} ${d.lastSeenIp}`);
  return parts.length ? parts.join(' ') : 'Never seen';
}

export interface PasswordAuth {
  type: 'm.login.password';
  identifier: { type: 'm.id.user'; user: string };
  password: string;
  session?: string;
}

interface UiaError {
  httpStatus?: number;
  data?: { session?: string; flows?: Array<{ stages?: string[] }> };
}

/**
 * Runs `call`, answering the server's UIA challenge with the password: the first call goes
 * without `auth` (the server answers 401 with a session and the flows it accepts), the second
 * with the m.login.password stage in that session. A server that wants no auth answers the
 * first; one that offers no password flow fails as it answered.
 */
export async function withPassword<T>(userId: string, password: string, call: (auth?: PasswordAuth) => Promise<T>): Promise<T> {
  try {
    return await call(undefined);
  } catch (err) {
    const e = err as UiaError;
    const offersPassword = e?.data?.flows?.some((f) => f.stages?.length === 1 && f.stages[0] === 'm.login.password');
    if (e?.httpStatus !== 401 || !offersPassword) throw err;
    const auth: PasswordAuth = { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password };
    if (typeof e.data?.session === 'string') auth.session = e.data.session;
    return call(auth);
  }
}

/**
 * The longest session name the settings screen takes: Synapse's limit
 * (MAX_DEVICE_DISPLAY_NAME_LEN), so a name made here is accepted by any server it syncs with.
 */
export const DEVICE_NAME_MAX = 100;
