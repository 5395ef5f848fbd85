/**
 * The installation's JOSE key pairs (Powens' "Response signature" and "End-to-end encryption"):
 * an RS256 key signs responses asked for with `sign_response=true`, an RSA-OAEP-256 key decrypts
 * the JWE values payers' front-ends send. Keys are made with `jose` on first use; private keys are
 * stored sealed under the key-encryption keyring. Rotating the signing key deprecates the old one,
 * which stays listed so that signatures it made still verify.
 */
import type { CryptoKey, JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import type { Database, JoseKeysTable } from '../store/schema.ts';
import { type Keyring, openSecret, sealSecret } from './secret-box.ts';
import { readJson } from '../store/rows.ts';

export type KeyKind = JoseKeysTable['kind'];
export const SIGN_ALG = 'RS256';
export const ENCRYPT_ALG = 'RSA-OAEP-256';
export const ENCRYPT_ENC = 'A256GCM';

export interface StoredKey {
  id: number;
  kind: KeyKind;
  publicPem: string;
  publicJwk: JWK;
  createdAt: number;
  deprecatedAt: number | null;
}

interface KeyRow {
  id: number;
  kind: KeyKind;
  public_pem: string;
  public_jwk: string;
  private_sealed: string;
  created_at: number;
  deprecated_at: number | null;
}

function toStored(row: KeyRow): StoredKey {
  return {
    id: Number(row.id),
    kind: row.kind,
    publicPem: row.public_pem,
    publicJwk: readJson(row.public_jwk),
    createdAt: Number(row.created_at),
    deprecatedAt: row.deprecated_at === null ? null : Number(row.deprecated_at),
  };
}

async function currentRow(db: Kysely<Database>, kind: KeyKind): Promise<KeyRow | undefined> {
  return db.selectFrom('jose_keys').selectAll().where('kind', '=', kind).where('deprecated_at', 'is', null).executeTakeFirst() as Promise<KeyRow | undefined>;
}

/** A new key pair's row; `kid` is the row id, so it is set once the row exists. */
async function insertKey(db: Kysely<Database>, keyring: Keyring, clock: Clock, kind: KeyKind): Promise<void> {
  const alg = kind === 'sign' ? SIGN_ALG : ENCRYPT_ALG;
  const { exportJWK, exportPKCS8, exportSPKI, generateKeyPair } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair(alg, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(publicKey);
  const row = await db
    .insertInto('jose_keys')
    .values({
      kind,
      public_pem: await exportSPKI(publicKey),
      public_jwk: JSON.stringify(jwk),
      private_sealed: sealSecret(keyring, await exportPKCS8(privateKey)),
      created_at: clock.now(),
      deprecated_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(row.id);
  const full: JWK = { ...jwk, kid: String(id), alg, use: kind === 'sign' ? 'sig' : 'enc' };
  await db
    .updateTable('jose_keys')
    .set({ public_jwk: JSON.stringify(full) })
    .where('id', '=', id)
    .execute();
}

/** The current key of a kind, created if there is none (two processes racing: the unique index keeps one). */
async function ensureCurrent(db: Kysely<Database>, keyring: Keyring, clock: Clock, kind: KeyKind): Promise<KeyRow> {
  const existing = await currentRow(db, kind);
  if (existing) return existing;
  try {
    await db.transaction().execute((tx) => insertKey(tx, keyring, clock, kind));
  } catch (error) {
    if (!(await currentRow(db, kind))) throw error;
  }
  return (await currentRow(db, kind))!;
}

const privateKeys = new Map<string, CryptoKey>();

async function privateKeyOf(keyring: Keyring, row: KeyRow): Promise<CryptoKey> {
  const cacheKey = `${row.kind}:${row.id}:${row.private_sealed}`;
  let key = privateKeys.get(cacheKey);
  if (!key) {
    const { importPKCS8 } = await import('jose');
    key = await importPKCS8(openSecret(keyring, row.private_sealed), row.kind === 'sign' ? SIGN_ALG : ENCRYPT_ALG);
    privateKeys.set(cacheKey, key);
  }
  return key;
}

export async function currentSigningKey(db: Kysely<Database>, keyring: Keyring, clock: Clock): Promise<{ id: number; key: CryptoKey }> {
  const row = await ensureCurrent(db, keyring, clock, 'sign');
  return { id: Number(row.id), key: await privateKeyOf(keyring, row) };
}

export async function encryptionPublicJwk(db: Kysely<Database>, keyring: Keyring, clock: Clock): Promise<JWK> {
  return toStored(await ensureCurrent(db, keyring, clock, 'encrypt')).publicJwk;
}

/** The encryption private key a JWE names by `kid` (current or not), or null when there is none such. */
export async function decryptionKey(db: Kysely<Database>, keyring: Keyring, kid: string | undefined): Promise<CryptoKey | null> {
  const query = db.selectFrom('jose_keys').selectAll().where('kind', '=', 'encrypt');
  const row = (
    kid === undefined
      ? await query.where('deprecated_at', 'is', null).executeTakeFirst()
      : /^[0-9]{1,15}$/.test(kid)
        ? await query.where('id', '=', Number(kid)).executeTakeFirst()
        : undefined
  ) as KeyRow | undefined;
  return row ? privateKeyOf(keyring, row) : null;
}

/** Every signing key, oldest first, the signing key created if there is none yet. */
export async function listSigningKeys(db: Kysely<Database>, keyring: Keyring, clock: Clock): Promise<StoredKey[]> {
  await ensureCurrent(db, keyring, clock, 'sign');
  const rows = (await db.selectFrom('jose_keys').selectAll().where('kind', '=', 'sign').orderBy('id').execute()) as KeyRow[];
  return rows.map(toStored);
}

/** A new signing key becomes current; the previous one is deprecated (still listed, still verifying). */
export async function rotateSigningKey(db: Kysely<Database>, keyring: Keyring, clock: Clock): Promise<{ current: number; deprecated: number | null }> {
  return db.transaction().execute(async (tx) => {
    const old = await currentRow(tx, 'sign');
    if (old) await tx.updateTable('jose_keys').set({ deprecated_at: clock.now() }).where('id', '=', old.id).execute();
    await insertKey(tx, keyring, clock, 'sign');
    const current = (await currentRow(tx, 'sign'))!;
    return { current: Number(current.id), deprecated: old ? Number(old.id) : null };
  });
}
