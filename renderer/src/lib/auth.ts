// Signing in and creating an account, following what the server advertises: GET /login for
// login flows, and the user-interactive auth flows of POST /register
// (client-server-api "User-Interactive Authentication API").
import { makeClient } from './sdk.ts';
import type { Session } from './session.ts';

const DEVICE_NAME = 'Hearth';

/** Registration stages this client can complete without a browser detour. */
const SUPPORTED_STAGES = new Set(['m.login.dummy', 'm.login.registration_token']);

export interface ServerFlows {
  /** GET /login offers m.login.password. */
  password: boolean;
  /** Registration is possible, and with which stages. */
  registration: 'open' | 'token' | 'closed' | 'unsupported';
}

interface UiaResponse {
  session?: string;
  flows?: Array<{ stages: string[] }>;
  completed?: string[];
}

interface SdkError {
  httpStatus?: number;
  errcode?: string;
  data?: UiaResponse & { errcode?: string };
}

function isUia(err: unknown): err is SdkError & { data: UiaResponse } {
  const e = err as SdkError;
  return e?.httpStatus === 401 && Array.isArray(e.data?.flows);
}

/** The first flow whose every stage we can do, preferring the fewest stages. */
function pickFlow(flows: Array<{ stages: string[] }>): string[] | undefined {
  return flows.filter((f) => f.stages.every((s) => SUPPORTED_STAGES.has(s))).sort((a, b) => a.stages.length - b.stages.length)[0]?.stages;
}

export async function fetchServerFlows(baseUrl: string): Promise<ServerFlows> {
  const client = makeClient(baseUrl);
  const login = await client.loginFlows();
  const password = login.flows.some((f) => f.type === 'm.login.password');
  let registration: ServerFlows['registration'];
  try {
    // An empty request names no user: the server answers 401 with its flows and creates nothing.
    await client.registerRequest({});
    registration = 'unsupported';
  } catch (err) {
    if (isUia(err)) {
      const flow = pickFlow(err.data.flows ?? []);
      registration = !flow ? 'unsupported' : flow.includes('m.login.registration_token') ? 'token' : 'open';
    } else if ((err as SdkError).errcode === 'M_FORBIDDEN') {
      registration = 'closed';
    } else {
      registration = 'unsupported';
    }
  }
  return { password, registration };
}

function toSession(baseUrl: string, res: { user_id: string; access_token?: string; device_id?: string }): Session {
  if (!res.access_token || !res.device_id) throw new Error('The server did not return an access token');
  return { baseUrl, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id };
}

export async function loginWithPassword(baseUrl: string, username: string, password: string): Promise<Session> {
  const client = makeClient(baseUrl);
  const user = username.trim();
  const res = await client.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    initial_device_display_name: DEVICE_NAME,
  });
  return toSession(baseUrl, res);
}

export async function loginWithToken(baseUrl: string, token: string): Promise<Session> {
  const client = makeClient(baseUrl);
  const res = await client.loginRequest({ type: 'm.login.token', token, initial_device_display_name: DEVICE_NAME });
  return toSession(baseUrl, res);
}

/**
 * Registers through UIA: the first request (no `auth`) answers 401 with flows and a session, then
 * each stage of the chosen flow is completed in turn. Errors about the request itself (a taken
 * or invalid username) come back on the first request and are thrown as the server sent them.
 */
export async function register(baseUrl: string, username: string, password: string, registrationToken?: string): Promise<Session> {
  const client = makeClient(baseUrl);
  const body = { username: username.trim(), password, initial_device_display_name: DEVICE_NAME };
  let auth: Record<string, unknown> | undefined;
  for (let round = 0; round < 5; round++) {
    try {
      const res = await client.registerRequest(auth ? { ...body, auth } : body);
      return toSession(baseUrl, res);
    } catch (err) {
      if (!isUia(err)) throw err;
      const flow = pickFlow(err.data.flows ?? []);
      if (!flow) throw new Error('This server asks for a registration step Hearth cannot do', { cause: err });
      const done = new Set(err.data.completed ?? []);
      const next = flow.find((s) => !done.has(s));
      if (!next) throw err;
      // A stage that fails answers 401 with `errcode` set; stop rather than loop.
      if (auth?.type === next && err.data.errcode) throw err;
      if (next === 'm.login.registration_token') {
        if (!registrationToken) throw Object.assign(new Error('A registration token is required'), { errcode: 'HEARTH_TOKEN_REQUIRED' });
        auth = { type: next, token: registrationToken, session: err.data.session };
      } else {
        auth = { type: next, session: err.data.session };
      }
    }
  }
  throw new Error('Registration did not complete');
}
