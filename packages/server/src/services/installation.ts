/**
 * Per-installation secrets, created once and shared by every Payrail process on the database. Stored
 * sealed under the key-encryption keyring; a value written in clear text by an older version is sealed
 * in place the first time it is read.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { isSealed, type Keyring, openSecret, sealSecret } from './secret-box.ts';

export async function installationSecret(db: Kysely<Database>, keyring: Keyring, name: string): Promise<string> {
  await db
    .insertInto('installation_secrets')
    .values({ name, value: sealSecret(keyring, randomBytes(32).toString('base64url')) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('installation_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  if (isSealed(row.value)) return openSecret(keyring, row.value);
  // Clear text from before sealing: seal it, unless another process did first.
  await db
    .updateTable('installation_secrets')
    .set({ value: sealSecret(keyring, row.value) })
    .where('name', '=', name)
    .where('value', '=', row.value)
    .execute();
  return row.value;
}
