// Password hashing with scrypt (node:crypto): memory-hard, no native dependency to build.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// N = 2^15 with r = 8 takes 32 MiB and a little more per hash (128 * N * r, plus scrypt's own
// block). That is past glibc's largest dynamic mmap threshold (32 MiB), so the buffer is always
// mapped and handed back when freed. At 16 MiB, the first free raised the threshold to that size,
// and every libuv thread that later hashed a password kept 16 MiB resident for good (measured:
// idle RSS 111 MiB against 92 MiB now). Hashes keep their parameters, so older ones still verify.
const PARAMS = { N: 32768, r: 8, p: 1 };
const KEY_LEN = 32;
/** Node refuses scrypt above 32 MiB unless told otherwise. */
const MAX_MEM = 64 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LEN, { ...opts, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Format: scrypt$N$r$p$salt$hash (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
