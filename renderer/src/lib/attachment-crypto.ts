// Encrypted attachments (client-server-api "Sending encrypted attachments", end_to_end_encryption.md):
// in an encrypted room a file is encrypted with a one-time AES-CTR 256 key before it is uploaded,
// and the key, IV and the ciphertext's SHA-256 travel in the (Megolm-encrypted) event as an
// EncryptedFile, so the server only ever holds ciphertext. WebCrypto does all of it.

/** The spec's EncryptedFile (api/client-server/definitions/encrypted_file), as sent. */
export interface EncryptedFile {
  url: string;
  key: { kty: 'oct'; key_ops: string[]; alg: 'A256CTR'; k: string; ext: true };
  iv: string;
  hashes: { sha256: string };
  v: 'v2';
}

/** The ciphertext does not match the hash in the event: the server (or anyone) changed the file. */
export class AttachmentDamagedError extends Error {
  constructor() {
    super('This attachment is damaged');
  }
}

/**
 * Encrypts a file for upload: a fresh random key and a fresh IV per file (the spec forbids reusing
 * either), the IV's last 8 bytes zero because they are the block counter, which must start at 0.
 * Returns the ciphertext to upload and the EncryptedFile fields but `url` (known after the upload).
 */
export async function encryptAttachment(plaintext: BufferSource): Promise<{ ciphertext: Uint8Array<ArrayBuffer>; file: Omit<EncryptedFile, 'url'> }> {
  const iv = new Uint8Array(16);
  crypto.getRandomValues(iv.subarray(0, 8));
  const key = await crypto.subtle.generateKey({ name: 'AES-CTR', length: 256 }, true, ['encrypt', 'decrypt']);
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: iv, length: 64 }, key, plaintext));
  const jwk = await crypto.subtle.exportKey('jwk', key);
  const sha256 = new Uint8Array(await crypto.subtle.digest('SHA-256', ciphertext));
  return {
    ciphertext,
    file: {
      key: { kty: 'oct', key_ops: ['encrypt', 'decrypt'], alg: 'A256CTR', k: jwk.k!, ext: true },
      iv: unpaddedBase64(iv),
      hashes: { sha256: unpaddedBase64(sha256) },
      v: 'v2',
    },
  };
}

/**
 * The plaintext of a downloaded attachment. The hash is checked BEFORE decrypting ("Clients MUST
 * verify the hash before using the file contents"): a mismatch throws AttachmentDamagedError and
 * nothing of the file is used.
 */
export async function decryptAttachment(ciphertext: ArrayBuffer | Uint8Array<ArrayBuffer>, file: EncryptedFile): Promise<ArrayBuffer> {
  const expected = decodeBase64(file.hashes.sha256);
  const actual = new Uint8Array(await crypto.subtle.digest('SHA-256', ciphertext));
  if (!expected || !sameBytes(expected, actual)) throw new AttachmentDamagedError();
  const iv = decodeBase64(file.iv)!;
  const key = await crypto.subtle.importKey('jwk', { kty: 'oct', alg: 'A256CTR', k: file.key.k, ext: true }, { name: 'AES-CTR' }, false, ['decrypt']);
  return crypto.subtle.decrypt({ name: 'AES-CTR', counter: iv, length: 64 }, key, ciphertext);
}

/**
 * An EncryptedFile from someone's event, checked field by field (it comes from any client): an
 * mxc:// url, v2, an A256CTR octet key of 32 bytes, a 16-byte IV and a 32-byte SHA-256. Anything
 * else is null: not a file this client can open.
 */
export function parseEncryptedFile(v: unknown): EncryptedFile | null {
  if (!isObject(v) || !isObject(v.key) || !isObject(v.hashes)) return null;
  const { url, key, iv, hashes } = v;
  if (typeof url !== 'string' || !url.startsWith('mxc://')) return null;
  // v1 (before the counter rule) is not sent by any current client; the spec only defines v2.
  if (v.v !== 'v2') return null;
  if (key.kty !== 'oct' || key.alg !== 'A256CTR' || typeof key.k !== 'string') return null;
  if (decodeBase64(key.k)?.length !== 32) return null;
  if (typeof iv !== 'string' || decodeBase64(iv)?.length !== 16) return null;
  if (typeof hashes.sha256 !== 'string' || decodeBase64(hashes.sha256)?.length !== 32) return null;
  const ops = Array.isArray(key.key_ops) ? key.key_ops.filter((o): o is string => typeof o === 'string') : [];
  return { url, key: { kty: 'oct', key_ops: ops, alg: 'A256CTR', k: key.k, ext: true }, iv, hashes: { sha256: hashes.sha256 }, v: 'v2' };
}

/** The spec's "unpadded base64" (appendices.md): standard alphabet, no trailing `=`. */
export function unpaddedBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/=+$/, '');
}

/**
 * Bytes of base64, padded or not, standard or URL-safe (the JWK `k` is URL-safe, the IV and hash
 * standard; some clients pad): null when it is not base64 at all.
 */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> | null {
  const std = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(std) || std.length % 4 === 1) return null;
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
