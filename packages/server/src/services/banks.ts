/**
 * Configured banks (ARCHITECTURE.md, "The bank boundary"): each is one connector of its standard's module, with a stable
 * connector uuid and numeric id. Added by `payrail bank add` or a declarative file; private keys
 * are sealed (secret-box.ts) and never leave this file but through `openBankMaterial`.
 */
import { createPrivateKey, type KeyObject, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { isValidBIC } from 'ibantools';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import { bankConnectorId } from '../connectors/kit/descriptor.ts';
import type { BankMaterial } from '../connectors/kit/http.ts';
import { oauthMaterialProblem } from '../connectors/kit/client-token.ts';
import { BankConfigError, type BankProfile, type ConfiguredBank, type ConnectorModule } from '../connectors/kit/types.ts';
import type { BankRow, Database } from '../store/schema.ts';
import { type BankEntry, type BankSource, ConnectorRegistry, type RegistryOptions } from '../connectors/registry.ts';
import { openSecret, sealSecret, type Keyring } from './secret-box.ts';
import { readJson } from '../store/rows.ts';

/** A bank to add: PEM texts, not file names (the CLI and the file loader read the files). */
export interface BankInput {
  name: string;
  standard: string;
  base_url: string;
  country?: string | null;
  bic?: string | null;
  sca_approach?: 'redirect' | 'decoupled' | string | null;
  profile?: unknown;
  client_cert?: string | null;
  client_key?: string | null;
  ca?: string | null;
  signing_key?: string | null;
  signing_cert?: string | null;
  /** The bank's OAuth client secret (profile `oauth.client_auth` client_secret_basic or client_secret_post). */
  oauth_client_secret?: string | null;
}

/** What is shown of a bank: never key material. */
export interface BankView {
  /** The connector's numeric id (`id_connector`). */
  id: number;
  uuid: string;
  name: string;
  standard: string;
  base_url: string;
  country: string | null;
  bic: string | null;
  sca_approach: string;
  profile: BankProfile;
  client_certificate: CertificateView | null;
  ca_certificate: CertificateView | null;
  signing_certificate: CertificateView | null;
  has_client_key: boolean;
  has_signing_key: boolean;
  has_oauth_client_secret: boolean;
  created_at: string;
  removed_at: string | null;
}

export interface CertificateView {
  subject: string;
  issuer: string;
  serial: string;
  valid_to: string;
}

export class BankError extends ApiError {
  constructor(field: string, message: string) {
    super('invalidValue', `${field}: ${message}`, { field });
  }
}

function certificateView(pem: string | null): CertificateView | null {
  if (!pem) return null;
  const cert = new X509Certificate(pem);
  return {
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', '),
    serial: cert.serialNumber,
    valid_to: new Date(cert.validTo).toISOString(),
  };
}

export function bankView(row: BankRow): BankView {
  return {
    id: bankConnectorId(row.id),
    uuid: row.uuid,
    name: row.name,
    standard: row.standard,
    base_url: row.base_url,
    country: row.country,
    bic: row.bic,
    sca_approach: row.sca_approach,
    profile: readJson(row.profile),
    client_certificate: certificateView(row.client_cert),
    ca_certificate: certificateView(row.ca_cert),
    signing_certificate: certificateView(row.signing_cert),
    has_client_key: row.client_key_sealed !== null,
    has_signing_key: row.signing_key_sealed !== null,
    has_oauth_client_secret: row.oauth_client_secret_sealed !== null,
    created_at: new Date(row.created_at).toISOString(),
    removed_at: row.removed_at === null ? null : new Date(row.removed_at).toISOString(),
  };
}

export function configuredBank(row: BankRow): ConfiguredBank {
  return {
    id: row.id,
    uuid: row.uuid,
    name: row.name,
    standard: row.standard,
    base_url: row.base_url,
    country: row.country,
    bic: row.bic,
    sca_approach: row.sca_approach === 'decoupled' ? 'decoupled' : 'redirect',
    profile: readJson(row.profile),
    has_client_cert: row.client_cert !== null,
    has_ca: row.ca_cert !== null,
    has_signing_key: row.signing_key_sealed !== null,
    created_at: row.created_at,
  };
}

/** The banks stored in `db`, as the connector registry reads them; their keys opened with `keyring` (none without it). */
export function bankSource(db: Kysely<Database>, keyring: Keyring | null): BankSource {
  return {
    async banks() {
      const rows = await db.selectFrom('banks').selectAll().orderBy('id').execute();
      return rows.map(
        (row): BankEntry => ({
          id: row.id,
          name: row.name,
          standard: row.standard,
          removed: row.removed_at !== null,
          revision: JSON.stringify(row),
          configured: () => configuredBank(row),
          material() {
            const needsKeys = row.client_key_sealed !== null || row.signing_key_sealed !== null || row.oauth_client_secret_sealed !== null;
            if (needsKeys && !keyring) throw new Error('no key-encryption key to open its keys');
            return keyring ? openBankMaterial(keyring, row) : { ca: row.ca_cert };
          },
        }),
      );
    },
  };
}

/** The connector registry over the banks stored in `db` (see RegistryOptions; `keyring` opens their sealed keys). */
export function connectorRegistry(options: Omit<RegistryOptions, 'banks'> & { db: Kysely<Database>; keyring: Keyring | null }): ConnectorRegistry {
  const { db, keyring, ...rest } = options;
  return new ConnectorRegistry({ ...rest, banks: bankSource(db, keyring) });
}

/** Opens the bank's sealed keys, for its HTTP transport only. */
export function openBankMaterial(keyring: Keyring, row: BankRow): BankMaterial {
  return {
    clientCert: row.client_cert,
    clientKey: row.client_key_sealed ? openSecret(keyring, row.client_key_sealed) : null,
    ca: row.ca_cert,
    signingKey: row.signing_key_sealed ? openSecret(keyring, row.signing_key_sealed) : null,
    signingCert: row.signing_cert,
    oauthClientSecret: row.oauth_client_secret_sealed ? openSecret(keyring, row.oauth_client_secret_sealed) : null,
  };
}

function checkBaseUrl(value: string, apiPrefix: string | undefined): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BankError('base_url', 'must be an absolute http(s) URL');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username || url.password) {
    throw new BankError('base_url', 'must be an http(s) URL without query string, fragment or credentials');
  }
  const text = url.toString().replace(/\/+$/, '');
  if (apiPrefix && text.toLowerCase().endsWith(apiPrefix.toLowerCase()))
    throw new BankError('base_url', `is everything before ${apiPrefix} (Payrail appends ${apiPrefix}/…): drop the trailing ${apiPrefix}`);
  return text;
}

function checkCertificate(pem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new BankError(field, 'is not a PEM certificate');
  }
}

function checkPrivateKey(keyPem: string, keyField: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch {
    throw new BankError(keyField, 'is not a PEM private key (an encrypted key must be decrypted first)');
  }
}

function checkKeyPair(keyPem: string, certPem: string, keyField: string, certField: string): void {
  const key = checkPrivateKey(keyPem, keyField);
  if (!checkCertificate(certPem, certField).checkPrivateKey(key)) throw new BankError(keyField, `does not belong to the certificate in ${certField}`);
}

interface CheckedBank {
  name: string;
  standard: string;
  base_url: string;
  country: string | null;
  bic: string | null;
  sca_approach: 'redirect' | 'decoupled';
  profile: BankProfile;
  client_cert: string | null;
  client_key: string | null;
  ca: string | null;
  signing_key: string | null;
  signing_cert: string | null;
  oauth_client_secret: string | null;
}

export function checkBankInput(input: BankInput, modules: readonly ConnectorModule[]): CheckedBank {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > 100) throw new BankError('name', 'is required, at most 100 characters');
  if (/^\d+$/.test(name) || /^[0-9a-f-]{36}$/i.test(name)) throw new BankError('name', 'must not look like an id or a uuid');
  const module = modules.find((m) => m.standard === input.standard && m.standard !== 'test');
  if (!module)
    throw new BankError(
      'standard',
      `must be one of ${modules
        .filter((m) => m.standard !== 'test')
        .map((m) => m.standard)
        .join(', ')}`,
    );
  const country = input.country ? input.country.trim().toUpperCase() : null;
  if (country !== null && !/^[A-Z]{2}$/.test(country)) throw new BankError('country', 'must be an ISO 3166 two-letter code');
  const bic = input.bic ? input.bic.trim().toUpperCase() : null;
  if (bic !== null && !isValidBIC(bic)) throw new BankError('bic', 'is not a valid BIC');
  const sca = input.sca_approach ?? 'redirect';
  if (sca !== 'redirect' && sca !== 'decoupled') throw new BankError('sca_approach', 'must be redirect or decoupled');
  if (Boolean(input.client_cert) !== Boolean(input.client_key))
    throw new BankError(input.client_cert ? 'client_key' : 'client_cert', 'a client certificate needs its key and the key its certificate');
  if (input.client_cert && input.client_key) checkKeyPair(input.client_key, input.client_cert, 'client_key', 'client_cert');
  if (input.ca) checkCertificate(input.ca, 'ca');
  const keyAlone = module.signingCertificate === 'optional' && input.signing_key && !input.signing_cert;
  if (Boolean(input.signing_key) !== Boolean(input.signing_cert) && !keyAlone)
    throw new BankError(input.signing_key ? 'signing_cert' : 'signing_key', 'a signing key needs its certificate and the certificate its key');
  if (input.signing_key && input.signing_cert) checkKeyPair(input.signing_key, input.signing_cert, 'signing_key', 'signing_cert');
  if (keyAlone) checkPrivateKey(input.signing_key!, 'signing_key');
  let profile: BankProfile;
  try {
    profile = module.validateConfig(input.profile ?? {}, { sca_approach: sca });
  } catch (error) {
    if (error instanceof BankConfigError) throw new BankError('profile', error.message);
    throw error;
  }
  if (profile.signing && !input.signing_key) throw new BankError('signing_key', 'the profile asks for signing: give --signing-key and --signing-cert');
  const secret = typeof input.oauth_client_secret === 'string' ? input.oauth_client_secret.trim() : '';
  if (secret.length > 1000) throw new BankError('oauth_client_secret', 'is longer than 1000 characters');
  if (secret && !profile.oauth) throw new BankError('oauth_client_secret', 'the profile has no oauth client to use it');
  if (profile.oauth) {
    const problem = oauthMaterialProblem(profile.oauth, {
      clientSecret: secret !== '',
      signingKey: Boolean(input.signing_key),
      clientCert: Boolean(input.client_cert),
    });
    if (problem) throw new BankError(problem.field, problem.reason);
  }
  return {
    name,
    standard: module.standard,
    base_url: checkBaseUrl(input.base_url, module.apiPrefix),
    country,
    bic,
    sca_approach: sca,
    profile,
    client_cert: input.client_cert ?? null,
    client_key: input.client_key ?? null,
    ca: input.ca ?? null,
    signing_key: input.signing_key ?? null,
    signing_cert: input.signing_cert ?? null,
    oauth_client_secret: secret || null,
  };
}

export interface BankDeps {
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  modules: readonly ConnectorModule[];
}

/** The stored columns of a checked bank, keys sealed: one mapping for adding and for updating from the banks file. */
function bankColumns(bank: CheckedBank, keyring: Keyring) {
  return {
    standard: bank.standard,
    base_url: bank.base_url,
    country: bank.country,
    bic: bank.bic,
    sca_approach: bank.sca_approach,
    profile: JSON.stringify(bank.profile),
    client_cert: bank.client_cert,
    client_key_sealed: bank.client_key ? sealSecret(keyring, bank.client_key) : null,
    ca_cert: bank.ca,
    signing_key_sealed: bank.signing_key ? sealSecret(keyring, bank.signing_key) : null,
    signing_cert: bank.signing_cert,
    oauth_client_secret_sealed: bank.oauth_client_secret ? sealSecret(keyring, bank.oauth_client_secret) : null,
  };
}

async function liveByName(db: Kysely<Database>, name: string): Promise<BankRow | undefined> {
  return db.selectFrom('banks').selectAll().where('name', '=', name).where('removed_at', 'is', null).executeTakeFirst();
}

export async function addBank(deps: BankDeps, input: BankInput): Promise<BankView> {
  const bank = checkBankInput(input, deps.modules);
  if (await liveByName(deps.db, bank.name)) throw new ApiError('invalidValue', `name: a bank named "${bank.name}" exists already`, { field: 'name' });
  const row = await deps.db
    .insertInto('banks')
    .values({
      uuid: randomUUID(),
      name: bank.name,
      ...bankColumns(bank, deps.keyring),
      created_at: deps.clock.now(),
      removed_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return bankView(row);
}

export async function listBanks(db: Kysely<Database>, options: { includeRemoved?: boolean } = {}): Promise<BankView[]> {
  let q = db.selectFrom('banks').selectAll().orderBy('id');
  if (!options.includeRemoved) q = q.where('removed_at', 'is', null);
  return (await q.execute()).map(bankView);
}

/** By name, connector id, or uuid. */
export async function findBank(db: Kysely<Database>, ref: string): Promise<BankRow | undefined> {
  let q = db.selectFrom('banks').selectAll().where('removed_at', 'is', null);
  if (/^\d{1,15}$/.test(ref)) q = q.where('id', '=', Number(ref) - bankConnectorId(0));
  else if (/^[0-9a-f-]{36}$/i.test(ref)) q = q.where('uuid', '=', ref.toLowerCase());
  else q = q.where('name', '=', ref);
  return q.executeTakeFirst();
}

/** Hides the bank from new payments; its row stays so that payments already made with it keep their connector. */
export async function removeBank(deps: Pick<BankDeps, 'db' | 'clock'>, ref: string): Promise<BankView> {
  const row = await findBank(deps.db, ref);
  if (!row) throw new ApiError('notFound', `no bank "${ref}"`);
  const removed = await deps.db.updateTable('banks').set({ removed_at: deps.clock.now() }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
  return bankView(removed);
}

// ---- the declarative file ----

/** One entry of a banks file; PEM options are file paths, relative to the file. */
export interface BankFileEntry {
  name: string;
  standard: string;
  base_url: string;
  country?: string;
  bic?: string;
  sca_approach?: string;
  profile?: Record<string, unknown>;
  client_cert?: string;
  client_key?: string;
  ca?: string;
  signing_key?: string;
  signing_cert?: string;
  /** A file holding the OAuth client secret (its first line), relative to the banks file. */
  oauth_client_secret_file?: string;
}

const FILE_KEYS = [
  'name',
  'standard',
  'base_url',
  'country',
  'bic',
  'sca_approach',
  'profile',
  'client_cert',
  'client_key',
  'ca',
  'signing_key',
  'signing_cert',
  'oauth_client_secret_file',
];
const PEM_KEYS = ['client_cert', 'client_key', 'ca', 'signing_key', 'signing_cert'] as const;

export async function parseBanksFile(text: string, file: string): Promise<BankFileEntry[]> {
  // yaml is loaded when a banks file is read, not at start-up (docs/performance.md).
  const { parse: parseYaml } = await import('yaml');
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML 1.2 is a superset of JSON: one parser for both forms
  } catch (error) {
    throw new Error(`${file}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const list = (doc as { banks?: unknown })?.banks;
  if (!Array.isArray(list)) throw new Error(`${file}: expected a top-level "banks:" list`);
  return list.map((entry, i) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`${file}: banks[${i}] must be an object`);
    for (const key of Object.keys(entry))
      if (!FILE_KEYS.includes(key)) throw new Error(`${file}: banks[${i}].${key} is not a known key (${FILE_KEYS.join(', ')})`);
    for (const key of ['name', 'standard', 'base_url'])
      if (typeof (entry as Record<string, unknown>)[key] !== 'string') throw new Error(`${file}: banks[${i}].${key} is required`);
    return entry as BankFileEntry;
  });
}

/** A secret kept in a file: its first line, without the line end. */
export function readSecretFile(path: string): string {
  return readFileSync(path, 'utf8').split(/\r?\n/)[0]!.trim();
}

function sameBank(row: BankRow, bank: CheckedBank, keyring: Keyring): boolean {
  const open = (sealed: string | null) => (sealed ? openSecret(keyring, sealed) : null);
  return (
    row.standard === bank.standard &&
    row.base_url === bank.base_url &&
    row.country === bank.country &&
    row.bic === bank.bic &&
    row.sca_approach === bank.sca_approach &&
    row.profile === JSON.stringify(bank.profile) &&
    row.client_cert === bank.client_cert &&
    row.ca_cert === bank.ca &&
    row.signing_cert === bank.signing_cert &&
    open(row.client_key_sealed) === bank.client_key &&
    open(row.signing_key_sealed) === bank.signing_key &&
    open(row.oauth_client_secret_sealed) === bank.oauth_client_secret
  );
}

/**
 * Applies a banks file: a bank whose name is new is added, one whose settings changed is updated
 * in place (same uuid and id), an identical one is left alone. Banks absent from the file are kept
 * (remove them with `payrail bank remove`). Running it twice changes nothing the second time.
 */
export async function applyBanksFile(deps: BankDeps, file: string): Promise<{ added: string[]; updated: string[]; unchanged: string[] }> {
  const entries = await parseBanksFile(readFileSync(file, 'utf8'), file);
  const base = dirname(resolve(file));
  const result = { added: [] as string[], updated: [] as string[], unchanged: [] as string[] };
  for (const [i, entry] of entries.entries()) {
    const { oauth_client_secret_file: secretFile, ...fields } = entry;
    const input: BankInput = { ...fields };
    if (secretFile !== undefined) {
      try {
        input.oauth_client_secret = readSecretFile(isAbsolute(secretFile) ? secretFile : resolve(base, secretFile));
      } catch {
        throw new Error(`${file}: banks[${i}].oauth_client_secret_file: cannot read ${secretFile}`);
      }
    }
    for (const key of PEM_KEYS) {
      const path = entry[key];
      if (path === undefined) continue;
      try {
        input[key] = readFileSync(isAbsolute(path) ? path : resolve(base, path), 'utf8');
      } catch {
        throw new Error(`${file}: banks[${i}].${key}: cannot read ${path}`);
      }
    }
    const bank = checkBankInput(input, deps.modules);
    const existing = await liveByName(deps.db, bank.name);
    if (!existing) {
      await addBank(deps, input);
      result.added.push(bank.name);
    } else if (sameBank(existing, bank, deps.keyring)) {
      result.unchanged.push(bank.name);
    } else {
      await deps.db.updateTable('banks').set(bankColumns(bank, deps.keyring)).where('id', '=', existing.id).execute();
      result.updated.push(bank.name);
    }
  }
  return result;
}
