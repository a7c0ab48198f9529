// Who a desktop is on the LAN (issue #15). A desktop has no DNS name, so its server name is made
// from its Ed25519 signing key: `<26 base32 characters of SHA-256(public key)>.local`.
//  - Bound to the key: a peer announcing a name must announce the key that hashes to it, and its
//    /_matrix/key/v2/server must serve that key; 130 bits of SHA-256 cannot be matched by another key.
//  - Stable: the key lives in the data dir, so the name survives restarts and address changes.
//  - Unique on the LAN without coordination, and a valid server name (server-server-api.md
//    "Server names": a DNS name; one 26-character label, under DNS's 63) that real servers accept.
//  - `.local` (RFC 6762): the name is link-local by nature, and it is also the mDNS host name the
//    desktop announces its addresses under, so a machine with an mDNS resolver can find it too.
// The announcement (DNS-SD TXT record) carries the name, the key, the TLS certificate's fingerprint
// and the federation port, signed by the key: nobody can announce another desktop's name, nor
// point it at another certificate, without its private key.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { decodeBase64, encodeUnpaddedBase64, encodeUnpaddedBase64Url } from './base64.ts';
import { isValidEd25519KeyId, sign, verify, type SigningKey } from './signing-key.ts';

export const LAN_NAME_SUFFIX = '.local';
/** 26 base32 characters hold 130 bits: beyond any search for a second key with the same name. */
const LABEL_LENGTH = 26;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const LAN_NAME = /^[a-z2-7]{26}\.local$/;

/** The server name bound to an Ed25519 public key. */
export function lanServerName(publicKey: Uint8Array): string {
  const digest = createHash('sha256').update(publicKey).digest();
  let bits = 0;
  let value = 0;
  let label = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && label.length < LABEL_LENGTH) {
      label += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (label.length === LABEL_LENGTH) break;
  }
  return label + LAN_NAME_SUFFIX;
}

/** True for a name of the key-bound form (case-insensitive, as server names compare). */
export function isLanServerName(name: string): boolean {
  return LAN_NAME.test(name.toLowerCase());
}

/** True if `publicKey` (raw or unpadded base64) is the key `name` is bound to. */
export function nameMatchesKey(name: string, publicKey: Uint8Array | string): boolean {
  let raw: Uint8Array;
  try {
    raw = typeof publicKey === 'string' ? decodeBase64(publicKey) : publicKey;
  } catch {
    return false;
  }
  return raw.byteLength === 32 && lanServerName(raw) === name.toLowerCase();
}

/** The fingerprint a TLS certificate is pinned by: URL-safe unpadded base64 of SHA-256 of its DER. */
export function certFingerprint(der: Uint8Array): string {
  return encodeUnpaddedBase64Url(createHash('sha256').update(der).digest());
}

/** What a desktop announces about itself, every field but the signature. */
export interface LanAnnouncement {
  serverName: string;
  /** The federation listener's port (also the SRV record's: the two must agree). */
  port: number;
  /** `ed25519:<version>` */
  keyId: string;
  /** Unpadded base64 of the 32-byte public key. */
  publicKey: string;
  /** certFingerprint() of the federation listener's certificate. */
  tlsFingerprint: string;
  /** The app's version, for the user's information. */
  version: string;
  /** A human label (the user's display name), only when the user allowed it. */
  label?: string;
  /** Local parts of the users to show as nearby (the desktop's own account). */
  users: string[];
}

/** TXT values must fit DNS's 255-byte strings with their key; these keep well inside. */
export const MAX_LABEL_BYTES = 120;
export const MAX_USERS_BYTES = 200;
const MAX_VERSION_BYTES = 40;
/** Local parts that may be announced: the spec's historical grammar minus ',' (the separator). */
const LOCALPART = /^[a-z0-9._=\-/+]+$/;
/** The TXT format this code writes and reads; an announcement of another format is not ours to read. */
const FORMAT = '1';

type Txt = Record<string, string>;

/** The TXT record of `a`, signed with `key` (which must be the key `a` names). */
export function announcementTxt(a: LanAnnouncement, key: SigningKey): Txt {
  const txt: Txt = {
    v: FORMAT,
    sn: a.serverName,
    port: String(a.port),
    kid: a.keyId,
    pk: a.publicKey,
    tls: a.tlsFingerprint,
    ver: a.version,
    u: a.users.join(','),
  };
  if (a.label !== undefined && a.label !== '') txt.label = a.label;
  txt.sig = encodeUnpaddedBase64(sign(key.seed, signedBytes(txt)));
  return txt;
}

export type ParsedAnnouncement = { ok: true; announcement: LanAnnouncement } | { ok: false; reason: string };

/**
 * Reads a TXT record (as decoded by the mDNS library: keys to strings, or Buffers) and checks it:
 * format, sizes, that the name is bound to the key, and the signature. `srvPort` is the port of
 * the SRV record it came with.
 */
export function parseAnnouncementTxt(raw: unknown, srvPort: number): ParsedAnnouncement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'no TXT record' };
  // Keys come from the LAN: no prototype, so `__proto__` or `constructor` is just a key.
  const txt: Txt = Object.create(null) as Txt;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string') txt[k] = v;
    else if (Buffer.isBuffer(v)) txt[k] = v.toString('utf8');
  }
  if (txt.v !== FORMAT) return { ok: false, reason: `unknown announcement format ${JSON.stringify(txt.v)}` };
  for (const k of ['sn', 'port', 'kid', 'pk', 'tls', 'ver', 'u', 'sig']) {
    if (txt[k] === undefined) return { ok: false, reason: `no ${k} in the announcement` };
  }
  const serverName = txt.sn!.toLowerCase();
  if (!isLanServerName(serverName)) return { ok: false, reason: `${txt.sn} is not a key-bound LAN name` };
  const port = Number(txt.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || String(port) !== txt.port) return { ok: false, reason: 'bad port' };
  if (port !== srvPort) return { ok: false, reason: `signed port ${port} is not the SRV record's ${srvPort}` };
  if (!isValidEd25519KeyId(txt.kid!)) return { ok: false, reason: 'bad key id' };
  if (!/^[A-Za-z0-9_-]{43}$/.test(txt.tls!)) return { ok: false, reason: 'bad certificate fingerprint' };
  if (Buffer.byteLength(txt.ver!) > MAX_VERSION_BYTES) return { ok: false, reason: 'version too long' };
  if (txt.label !== undefined && Buffer.byteLength(txt.label) > MAX_LABEL_BYTES) return { ok: false, reason: 'label too long' };
  if (Buffer.byteLength(txt.u!) > MAX_USERS_BYTES) return { ok: false, reason: 'user list too long' };
  const users = txt.u === '' ? [] : txt.u!.split(',');
  if (!users.every((u) => LOCALPART.test(u))) return { ok: false, reason: 'bad user local part' };
  let publicKey: Buffer;
  let signature: Buffer;
  try {
    publicKey = decodeBase64(txt.pk!);
    signature = decodeBase64(txt.sig!);
  } catch {
    return { ok: false, reason: 'bad base64' };
  }
  if (!nameMatchesKey(serverName, publicKey)) return { ok: false, reason: `the key announced is not the key ${serverName} is bound to` };
  const signed: Txt = { ...txt };
  delete signed.sig;
  if (!verify(publicKey, signedBytes(signed), signature)) return { ok: false, reason: 'bad signature' };
  const announcement: LanAnnouncement = {
    serverName,
    port,
    keyId: txt.kid!,
    publicKey: encodeUnpaddedBase64(publicKey),
    tlsFingerprint: txt.tls!,
    version: txt.ver!,
    users,
  };
  if (txt.label !== undefined) announcement.label = txt.label;
  return { ok: true, announcement };
}

/** What the signature covers: a domain tag and the canonical JSON of every other field. */
function signedBytes(txt: Txt): Buffer {
  return Buffer.from(`hearth-lan-announcement\n${canonicalJson(txt)}`, 'utf8');
}
