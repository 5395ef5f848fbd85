/**
 * Operators of the installation and their dashboard sessions. Separate from merchants' clients and
 * tokens on purpose: a merchant's API token never opens the dashboard. Passwords are scrypt hashes;
 * session and sign-in link tokens are random and stored as SHA-256 hashes only.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError, invalid } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';
import { hashSecret, newToken, tokenHash, verifySecret } from './secrets.ts';

export const SESSION_TTL_MS = 8 * 3600 * 1000;
export const LINK_TTL_MS = 15 * 60 * 1000;

export interface Operator {
  id: number;
  email: string;
}

function checkEmail(value: string): string {
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid('email', 'must be an email address');
  return email;
}

/** Creates an operator with a generated password, returned once. */
export async function createOperator(db: Kysely<Database>, clock: Clock, emailInput: string): Promise<Operator & { password: string }> {
  const email = checkEmail(emailInput);
  if (await db.selectFrom('operators').select('id').where('email', '=', email).executeTakeFirst())
    throw new ApiError('invalidValue', `email: an operator ${email} already exists`, { field: 'email' });
  const password = randomBytes(18).toString('base64url');
  const { id } = await db
    .insertInto('operators')
    .values({ email, password_hash: await hashSecret(password), created_at: clock.now() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(id), email, password };
}

/** The operator with this email and password, or null (same time either way). */
export async function verifyOperator(db: Kysely<Database>, email: string, password: string): Promise<Operator | null> {
  const row = await db.selectFrom('operators').select(['id', 'email', 'password_hash']).where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
  const ok = await verifySecret(password, row?.password_hash ?? null);
  return ok && row ? { id: Number(row.id), email: row.email } : null;
}

async function issue(db: Kysely<Database>, clock: Clock, operatorId: number, kind: 'session' | 'link', ttlMs: number): Promise<string> {
  const token = newToken();
  const now = clock.now();
  await db
    .insertInto('operator_tokens')
    .values({ token_hash: tokenHash(token), operator_id: operatorId, kind, expires_at: now + ttlMs, created_at: now })
    .execute();
  // Expired tokens are useless; removing them here keeps the table small without a job.
  await db.deleteFrom('operator_tokens').where('expires_at', '<=', now).execute();
  return token;
}

export function startSession(db: Kysely<Database>, clock: Clock, operatorId: number): Promise<string> {
  return issue(db, clock, operatorId, 'session', SESSION_TTL_MS);
}

/** A one-time sign-in link token for `payrail admin login`. */
export async function signInLinkToken(db: Kysely<Database>, clock: Clock, emailInput: string): Promise<{ operator: Operator; token: string }> {
  const email = checkEmail(emailInput);
  const row = await db.selectFrom('operators').select(['id', 'email']).where('email', '=', email).executeTakeFirst();
  if (!row) throw new ApiError('notFound', `no operator ${email}: create one with payrail admin create --email ${email}`, { field: 'email' });
  return { operator: { id: Number(row.id), email: row.email }, token: await issue(db, clock, Number(row.id), 'link', LINK_TTL_MS) };
}

/** Uses up a sign-in link: a new session token, or null when the link is unknown, used or expired. */
export async function redeemSignInLink(db: Kysely<Database>, clock: Clock, token: string): Promise<string | null> {
  const hash = tokenHash(token);
  const deleted = await db
    .deleteFrom('operator_tokens')
    .where('token_hash', '=', hash)
    .where('kind', '=', 'link')
    .where('expires_at', '>', clock.now())
    .returning('operator_id')
    .executeTakeFirst();
  return deleted ? startSession(db, clock, Number(deleted.operator_id)) : null;
}

/** The operator of a live session token, or null. */
export async function sessionOperator(db: Kysely<Database>, clock: Clock, token: string | undefined): Promise<Operator | null> {
  if (!token || token.length > 100) return null;
  const row = await db
    .selectFrom('operator_tokens as t')
    .innerJoin('operators as o', 'o.id', 't.operator_id')
    .select(['o.id', 'o.email'])
    .where('t.token_hash', '=', tokenHash(token))
    .where('t.kind', '=', 'session')
    .where('t.expires_at', '>', clock.now())
    .executeTakeFirst();
  return row ? { id: Number(row.id), email: row.email } : null;
}

export async function endSession(db: Kysely<Database>, token: string): Promise<void> {
  await db.deleteFrom('operator_tokens').where('token_hash', '=', tokenHash(token)).execute();
}
