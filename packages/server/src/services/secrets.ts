/** Tokens are random and stored as SHA-256 hashes; client secrets with scrypt. Comparisons are constant-time. */
import { hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return hash('sha256', token, 'hex');
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function scryptAsync(secret: string, salt: Buffer, cost: { N: number; r: number; p: number } = SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, SCRYPT.keylen, { N: cost.N, r: cost.r, p: cost.p }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * The cost a stored hash was made with (`scrypt$N$r$p$…`), so that a hash keeps verifying if the
 * default cost changes; anything unexpected, or above the default, is verified at the default cost.
 */
function storedCost(N: string | undefined, r: string | undefined, p: string | undefined): { N: number; r: number; p: number } {
  const cost = { N: Number(N), r: Number(r), p: Number(p) };
  const valid =
    Number.isInteger(cost.N) &&
    cost.N >= 2 &&
    cost.N <= SCRYPT.N &&
    (cost.N & (cost.N - 1)) === 0 &&
    Number.isInteger(cost.r) &&
    cost.r >= 1 &&
    cost.r <= SCRYPT.r &&
    Number.isInteger(cost.p) &&
    cost.p >= 1 &&
    cost.p <= SCRYPT.p;
  return valid ? cost : SCRYPT;
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

// Verified against when the client is unknown, so that both failures take the same time.
const DUMMY_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

export async function verifySecret(secret: string, stored: string | null): Promise<boolean> {
  const [, N, r, p, saltB64, keyB64] = (stored ?? DUMMY_HASH).split('$');
  const expected = Buffer.from(keyB64 ?? '', 'base64');
  const actual = await scryptAsync(secret, Buffer.from(saltB64 ?? '', 'base64'), storedCost(N, r, p));
  return stored !== null && expected.length === actual.length && timingSafeEqual(expected, actual);
}
