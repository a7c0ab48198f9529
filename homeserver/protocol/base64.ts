// Base64 as Matrix uses it (appendices.md "Unpadded Base64", "URL-safe unpadded Base64"):
// RFC 4648 without `=` padding; the URL-safe form swaps `+/` for `-_` (used by v4+ event ids).

/** Standard alphabet, no padding: signatures, hashes, keys. */
export function encodeUnpaddedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** URL-safe alphabet, no padding: event ids (rooms/fragments/v4-event-ids.md) and v12 room ids. */
export function encodeUnpaddedBase64Url(bytes: Uint8Array): string {
  // Node's 'base64url' encoding never pads.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

// Either alphabet, with or without padding. Node's own decoder silently skips characters it does
// not know, so the shape is checked first: otherwise garbage would decode to some bytes.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Decodes base64 in either alphabet, padded or not ("implementations SHOULD accept input with or
 * without padding"). Throws a `TypeError` if `s` is not base64.
 */
export function decodeBase64(s: string): Buffer {
  const body = s.replace(/=+$/, '');
  const padded = body.length !== s.length;
  // A single leftover character carries only 6 bits, which is no byte: never valid.
  if (!BASE64.test(s) || body.length % 4 === 1 || (padded && s.length % 4 !== 0)) {
    throw new TypeError('invalid base64');
  }
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
