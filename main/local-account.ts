// The Matrix account of the person at the keyboard: named after their OS user.

/**
 * A user id localpart for an OS user name. New Matrix ids may only use a-z 0-9 . _ = - / +
 * (appendices.md, "User Identifiers"). Following the spec's "Mapping from other character sets",
 * the name is lowercased and any other byte of its UTF-8, and '=' itself, is written as =xx in
 * hex, so distinct names stay distinct (e.g. "Anna Lee" -> "anna=20lee"). An empty or overlong
 * name becomes "me".
 */
export function localpartFor(osUserName: string | undefined): string {
  const name = (osUserName ?? '').trim().toLowerCase();
  let localpart = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    localpart += /[a-z0-9._\-/+]/.test(ch) ? ch : `=${byte.toString(16).padStart(2, '0')}`;
  }
  // A user id has at most 255 bytes (appendices.md); no OS allows a user name anywhere near that.
  return localpart === '' || localpart.length > 200 ? 'me' : localpart;
}
