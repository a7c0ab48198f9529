// The signed-in session, kept in localStorage so that a reload stays signed in.

export interface Session {
  baseUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
}

const KEY = 'hearth.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.userId !== 'string' || typeof s.accessToken !== 'string' || typeof s.deviceId !== 'string') return null;
    return { baseUrl: typeof s.baseUrl === 'string' ? s.baseUrl : homeserverUrl(), userId: s.userId, accessToken: s.accessToken, deviceId: s.deviceId };
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

/** The homeserver that served this page: the renderer always talks to its own origin. */
export function homeserverUrl(): string {
  return location.origin;
}
