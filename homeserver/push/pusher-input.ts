// Checks a POST /pushers/set body (pusher.yaml) and builds the stored pusher. Missing required
// keys are 400 M_MISSING_PARAM (as the spec's example), a key of the wrong type M_BAD_JSON, and
// a value Hearth cannot use (an unknown kind, a bad URL, a field over its limit) M_INVALID_PARAM.
import { MatrixError } from '../http/matrix-error.ts';
import type { JsonObject } from '../protocol/types.ts';

/** pusher.yaml: "Max length, 512 bytes." */
export const MAX_PUSHKEY_BYTES = 512;
/** pusher.yaml: "Max length, 64 chars." */
export const MAX_APP_ID_CHARS = 64;
/**
 * Display names, profile_tag and lang: what a settings screen shows in one line. 256 characters
 * is far more than any app or device name and keeps each stored pusher small.
 */
export const MAX_PUSHER_TEXT_CHARS = 256;
/**
 * The `data` object as JSON: a URL, `format` and a few custom keys a gateway wants back with each
 * push (pusher.yaml). 4 KiB holds that many times over; it is sent with every push.
 */
export const MAX_PUSHER_DATA_BYTES = 4096;
/** The only path an HTTP pusher's URL may have (pusher.yaml PusherData.url, spec v1.13). */
export const NOTIFY_PATH = '/_matrix/push/v1/notify';

/** A new or updated pusher as the client described it. */
export interface PusherInput {
  kind: 'http';
  appId: string;
  pushkey: string;
  appDisplayName: string;
  deviceDisplayName: string;
  profileTag: string | null;
  lang: string;
  data: JsonObject;
  url: URL;
  append: boolean;
}

export type PusherRequest = PusherInput | { kind: null; appId: string; pushkey: string };

export function parsePusherRequest(body: Record<string, unknown>): PusherRequest {
  const missing = ['kind', 'app_id', 'pushkey'].filter((k) => !Object.hasOwn(body, k));
  if (missing.length > 0) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameters: ${missing.join(', ')}`);
  const appId = text(body, 'app_id');
  const pushkey = text(body, 'pushkey');
  if (appId === '' || [...appId].length > MAX_APP_ID_CHARS) throw invalid(`'app_id' must have 1 to ${MAX_APP_ID_CHARS} characters`);
  if (pushkey === '' || Buffer.byteLength(pushkey) > MAX_PUSHKEY_BYTES) throw invalid(`'pushkey' must have 1 to ${MAX_PUSHKEY_BYTES} bytes`);
  const kind = body.kind;
  if (kind === null) return { kind: null, appId, pushkey };
  if (typeof kind !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'kind' must be a string or null");
  // Email pushers come with the family-server work (issue #14 leaves email out).
  if (kind !== 'http') throw invalid(`Unsupported pusher kind '${kind}': this server sends only 'http' pushes`);
  const needed = ['app_display_name', 'device_display_name', 'lang', 'data'].filter((k) => body[k] === undefined);
  if (needed.length > 0) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameters: ${needed.join(', ')}`);
  const data = body.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new MatrixError(400, 'M_BAD_JSON', "'data' must be an object");
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_PUSHER_DATA_BYTES) throw invalid(`'data' is limited to ${MAX_PUSHER_DATA_BYTES} bytes of JSON`);
  const d = data as JsonObject;
  if (d.format !== undefined && d.format !== 'event_id_only') throw invalid("'data.format' must be 'event_id_only' when present");
  const profileTag = body.profile_tag === undefined ? null : text(body, 'profile_tag');
  const append = body.append ?? false;
  if (typeof append !== 'boolean') throw new MatrixError(400, 'M_BAD_JSON', "'append' must be a boolean");
  return {
    kind,
    appId,
    pushkey,
    appDisplayName: shortText(body, 'app_display_name'),
    deviceDisplayName: shortText(body, 'device_display_name'),
    profileTag: profileTag === null ? null : shortText(body, 'profile_tag'),
    lang: shortText(body, 'lang'),
    data: d,
    url: notifyUrl(d.url),
    append,
  };
}

/**
 * pusher.yaml: "MUST be an HTTPS URL with a path of /_matrix/push/v1/notify". Plain http is
 * accepted too, for gateways on the LAN (where `pusher_private_gateways` lets them be reached):
 * Sygnal behind a local proxy and test gateways speak it, as Synapse allows.
 */
function notifyUrl(value: unknown): URL {
  if (value === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', "An 'http' pusher needs 'data.url'");
  if (typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', "'data.url' must be a string");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("'data.url' is not a URL");
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid("'data.url' must be an https URL");
  if (url.username !== '' || url.password !== '') throw invalid("'data.url' must not carry credentials");
  if (url.pathname !== NOTIFY_PATH) throw invalid(`'data.url' must have the path ${NOTIFY_PATH}`);
  return url;
}

function text(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== 'string') throw new MatrixError(400, 'M_BAD_JSON', `'${key}' must be a string`);
  return v;
}

function shortText(body: Record<string, unknown>, key: string): string {
  const v = text(body, key);
  if ([...v].length > MAX_PUSHER_TEXT_CHARS) throw invalid(`'${key}' is limited to ${MAX_PUSHER_TEXT_CHARS} characters`);
  return v;
}

function invalid(message: string): MatrixError {
  return new MatrixError(400, 'M_INVALID_PARAM', message);
}
