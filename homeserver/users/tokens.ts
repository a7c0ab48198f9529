import { createHash, randomBytes } from 'node:crypto';

/** Tokens are stored hashed: a leaked database file does not hand out sessions. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export function newDeviceId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const bytes = randomBytes(10);
  return Array.from(bytes, (b) => alphabet[b % 26]).join('');
}
