// Password hashing with scrypt (node:crypto): memory-hard, no native dependency to build.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Slots } from '../lib/slots.ts';
import { MatrixError } from '../http/matrix-error.ts';

// N = 2^15 with r = 8 takes 32 MiB and a little more per hash (128 * N * r, plus scrypt's own
// block). That is past glibc's largest dynamic mmap threshold (32 MiB), so the buffer is always
// mapped and handed back when freed. At 16 MiB, the first free raised the threshold to that size,
// and every libuv thread that later hashed a password kept 16 MiB resident for good (measured:
// idle RSS 111 MiB against 92 MiB now). Hashes keep their parameters, so older ones still verify.
const PARAMS = { N: 32768, r: 8, p: 1 };
const KEY_LEN = 32;
/** Node refuses scrypt above 32 MiB unless told otherwise. */
const MAX_MEM = 64 * 1024 * 1024;

/**
 * Hashes at once, process-wide. scrypt runs on libuv's thread pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise), which file reads, DNS lookups and zlib share: two hashes
 * leave two threads for them, so a login flood cannot stall media or lookups for everyone.
 */
export const MAX_CONCURRENT_HASHES = 2;
/**
 * Logins, registrations and password stages that may wait for a hash slot. At 100-200 ms a hash
 * (measured on a busy 2-core machine) and two at a time, 32 in line is a wait of a few seconds;
 * anything past that is a flood, refused with 429 rather than queued without end.
 */
export const MAX_WAITING_HASHES = 32;
const HASH_RETRY_AFTER_MS = 1000;

const slots = new Slots(MAX_CONCURRENT_HASHES, {
  maxWaiting: MAX_WAITING_HASHES,
  // client-server-api "Rate limiting": 429 with retry_after_ms, about the time the queue takes to drain.
  refuse: () => new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many password checks at once; try again shortly', { retry_after_ms: HASH_RETRY_AFTER_MS }),
});
let runs = 0;

/**
 * A well-formed hash of no one's password, with the current parameters: checking a password for
 * an account that does not exist (or has none) runs the same scrypt as a wrong password, so the
 * answer's timing does not tell whether the user exists.
 */
export const DUMMY_HASH = 'scrypt$32768$8$1$PKIYV02/z8aS1XF5QwS/qA==$phZQ9MK2N65+jHSYeyVsWEj1Iy/6EjNCupWvAinZGMA=';

/** How many scrypt computations this process has started: lets tests see work that timing would hide. */
export function scryptRuns(): number {
  return runs;
}

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return slots.run(() => {
    runs += 1;
    return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LEN, { ...opts, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key))));
  });
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
