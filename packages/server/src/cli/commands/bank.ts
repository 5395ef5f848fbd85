/**
 * `payrail bank add|list|remove|exchanges`: configured banks (each one connector) and the bank
 * exchange log of a payment. PEM options are file paths; private keys are sealed before they are
 * stored and never printed. `registerBank` returns the `bank` command so other groups (the bank
 * simulator) can add subcommands to it.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../../domain/clock.ts';
import { jsonOption, printData, table } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { parseId, storeOptions, withStore } from '../store-options.ts';

function readPem(option: string, path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${option}: cannot read the file ${path}`);
  }
}

function parseProfile(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError('--profile must be a JSON object, e.g. \'{"bulk":true}\'');
  }
}

interface AddOptions {
  standard?: string;
  name?: string;
  baseUrl?: string;
  country?: string;
  bic?: string;
  scaApproach?: string;
  profile?: string;
  clientCert?: string;
  clientKey?: string;
  ca?: string;
  signingKey?: string;
  signingCert?: string;
  oauthClientSecretFile?: string;
  clientId?: string;
  tokenUrl?: string;
  authorizationUrl?: string;
  keyId?: string;
  apiVersion?: string;
  issuer?: string;
  signingKid?: string;
  tokenAuth?: string;
  financialId?: string;
}

/**
 * Profile keys of the standards that use them, given as options: `--client-id` (STET, UK Open
 * Banking), `--token-url`, `--authorization-url`, `--key-id` (STET), `--api-version`, `--issuer`,
 * `--signing-kid`, `--token-auth`, `--financial-id` (UK Open Banking). They join `--profile`.
 */
function withProfileOptions(profile: unknown, options: AddOptions): unknown {
  const flags: Record<string, string | undefined> = {
    client_id: options.clientId,
    token_url: options.tokenUrl,
    authorization_url: options.authorizationUrl,
    key_id: options.keyId,
    api_version: options.apiVersion,
    issuer: options.issuer,
    signing_kid: options.signingKid,
    token_auth: options.tokenAuth,
    financial_id: options.financialId,
  };
  const extra = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  if (Object.keys(extra).length === 0) return profile;
  if (profile !== undefined && (typeof profile !== 'object' || profile === null || Array.isArray(profile)))
    throw new UsageError('--profile must be a JSON object');
  return { ...(profile as Record<string, unknown> | undefined), ...extra };
}

async function keyringOf(config: { keyEncryptionKeys: string[]; dataDir: string }) {
  const { loadKeyring } = await import('../../services/secret-box.ts');
  return loadKeyring({ keys: config.keyEncryptionKeys, dataDir: config.dataDir });
}

export function registerBank(program: Command): Command {
  const bank = (program.commands.find((c) => c.name() === 'bank') ?? program.command('bank')).description(
    'configured banks (one connector each), the bank exchange log and a simulated bank',
  );
  examples(
    bank,
    'payrail bank add --standard berlin-group --name "Demo Bank" --base-url http://127.0.0.1:4010',
    'payrail bank list',
    'payrail bank exchanges --payment 42',
  );

  const add = jsonOption(storeOptions(bank.command('add').description('add a bank; prints it (uuid, id, name…), never its keys')))
    .option('--standard <STANDARD>', 'the bank interface standard (berlin-group, stet, obie)')
    .option('--name <NAME>', 'the name payers see in the bank picker (unique)')
    .option(
      '--base-url <URL>',
      "the bank API's base URL: everything before /v1 (berlin-group), before /payment-requests (stet), before /domestic-payment-consents (obie)",
    )
    .option('--country <CC>', 'ISO 3166 country code (groups the bank in the picker)')
    .option('--bic <BIC>', "the bank's BIC")
    .option('--sca-approach <APPROACH>', 'redirect or decoupled', 'redirect')
    .option('--client-cert <PEM>', 'TLS client certificate file (eIDAS QWAC), for mTLS')
    .option('--client-key <PEM>', 'its private key file (stored sealed)')
    .option('--ca <PEM>', "CA certificate file the bank's server certificate must chain to (default: the system CAs)")
    .option('--signing-key <PEM>', 'HTTP signature private key file (eIDAS QSealC key; stored sealed)')
    .option('--signing-cert <PEM>', 'HTTP signature certificate file (sent as TPP-Signature-Certificate; obie: optional)')
    .option('--oauth-client-secret-file <FILE>', "file whose first line is the bank's OAuth client secret (profile oauth; stored sealed)")
    .option('--client-id <ID>', 'OAuth2 client id at the bank (stet: the organisation identifier of your eIDAS certificate; obie: from the registration)')
    .option('--token-url <URL>', "the bank's OAuth2 token endpoint (stet)")
    .option('--authorization-url <URL>', "the bank's OAuth2 authorization endpoint for the payer's consent (stet)")
    .option('--key-id <KEYID>', 'the keyId published with HTTP signatures (stet: the URL of your QSealC certificate)')
    .option('--api-version <VERSION>', 'obie: the UK Open Banking version the bank serves (4.0 or 3.1.11)')
    .option('--issuer <URL>', "obie: the authorization server's issuer (its discovery document gives the endpoints)")
    .option('--signing-kid <KID>', 'obie: kid of the signing key (--signing-key, PS256)')
    .option('--token-auth <METHOD>', 'obie: token endpoint authentication, private_key_jwt or tls_client_auth (with --client-cert/--client-key)')
    .option('--financial-id <ID>', 'obie: x-fapi-financial-id, where the bank wants it')
    .option('--profile <JSON>', 'bank profile, a JSON object (see docs/banks.md), e.g. \'{"bulk":true,"poll_initial_ms":2000}\'')
    .action(async (options: AddOptions, cmd: Command) => {
      if (!options.standard) throw new UsageError('--standard is required (berlin-group, stet, obie)');
      if (!options.name) throw new UsageError('--name is required');
      if (!options.baseUrl) throw new UsageError('--base-url is required');
      const input = {
        name: options.name,
        standard: options.standard,
        base_url: options.baseUrl,
        country: options.country ?? null,
        bic: options.bic ?? null,
        sca_approach: options.scaApproach ?? 'redirect',
        profile: withProfileOptions(parseProfile(options.profile), options),
        client_cert: readPem('--client-cert', options.clientCert),
        client_key: readPem('--client-key', options.clientKey),
        ca: readPem('--ca', options.ca),
        signing_key: readPem('--signing-key', options.signingKey),
        signing_cert: readPem('--signing-cert', options.signingCert),
        oauth_client_secret: readPem('--oauth-client-secret-file', options.oauthClientSecretFile)?.split(/\r?\n/)[0]?.trim() ?? null,
      };
      const { addBank } = await import('../../services/banks.ts');
      const { CONNECTOR_MODULES } = await import('../../connectors/modules.ts');
      const added = await withStore(cmd, async (store, config) =>
        addBank({ db: store.db, keyring: await keyringOf(config), clock: systemClock, modules: CONNECTOR_MODULES }, input),
      );
      printData(cmd, added, (b) => `added bank "${b.name}": connector id ${b.id}, uuid ${b.uuid} (${b.standard}, ${b.base_url})`);
    });
  examples(
    add,
    'payrail bank add --standard berlin-group --name "Demo Bank" --base-url http://127.0.0.1:4010 --country DE --json',
    'payrail bank add --standard berlin-group --name "Real Bank" --base-url https://api.bank.example/psd2 --client-cert qwac.pem --client-key qwac.key --signing-key qseal.key --signing-cert qseal.pem',
    'payrail bank add --standard stet --name "Banque Exemple" --base-url https://api.banque.example/stet/psd2/v1.5 --country FR --client-id PSDFR-ACPR-12345 --token-url https://api.banque.example/oauth/token --key-id https://pisp.example/qseal.pem --client-cert qwac.pem --client-key qwac.key --signing-key qseal.key --signing-cert qseal.pem',
    'payrail bank add --standard obie --name "UK Bank" --base-url https://rs.bank.example/open-banking/v4.0/pisp --country GB --api-version 4.0 --issuer https://as.bank.example --client-id ABC123 --signing-key obseal.key --signing-kid kid-1 --token-auth private_key_jwt --client-cert obwac.pem --client-key obwac.key',
  );

  const list = jsonOption(storeOptions(bank.command('list').description('list the configured banks')))
    .option('--all', 'include removed banks')
    .action(async (options: { all?: boolean }, cmd: Command) => {
      const { listBanks } = await import('../../services/banks.ts');
      const banks = await withStore(cmd, (store) => listBanks(store.db, { includeRemoved: Boolean(options.all) }));
      printData(cmd, { banks }, ({ banks: rows }) =>
        rows.length === 0
          ? 'no bank configured (the test bank is built in)'
          : table(
              ['ID', 'UUID', 'NAME', 'STANDARD', 'SCA', 'BASE URL', 'MTLS', 'SIGNING'],
              rows.map((b) => [
                b.id,
                b.uuid,
                b.name,
                b.standard,
                b.sca_approach,
                b.base_url,
                b.has_client_key ? 'yes' : 'no',
                b.has_signing_key ? 'yes' : 'no',
              ]),
            ),
      );
    });
  examples(list, 'payrail bank list', 'payrail bank list --all --json');

  const remove = jsonOption(storeOptions(bank.command('remove').description('remove a bank from the offer (payments already made with it keep syncing)')))
    .argument('<NAME|ID|UUID>', 'the bank: its name, connector id or uuid')
    .action(async (ref: string, _options, cmd: Command) => {
      const { removeBank } = await import('../../services/banks.ts');
      const removed = await withStore(cmd, (store) => removeBank({ db: store.db, clock: systemClock }, ref));
      printData(cmd, removed, (b) => `removed bank "${b.name}" (connector id ${b.id})`);
    });
  examples(remove, 'payrail bank remove "Demo Bank"', 'payrail bank remove 1001');

  const exchanges = jsonOption(storeOptions(bank.command('exchanges').description("a payment's bank attempts and exchange log (bodies redacted)")))
    .option('--payment <ID>', 'the payment (required)', parseId('--payment'))
    .action(async (options: { payment?: number }, cmd: Command) => {
      if (!options.payment) throw new UsageError('--payment is required');
      const paymentId = options.payment;
      const { paymentExchanges } = await import('../../http/routes/exchanges.ts');
      const log = await withStore(cmd, (store) => paymentExchanges(store.db, paymentId));
      printData(cmd, log, (l) =>
        l.exchanges.length === 0
          ? `no bank exchange for payment ${l.id_payment}`
          : [
              // One line per attempt (initiation at a bank) once there is more than one, then every exchange with its attempt's number.
              ...(l.payment_attempts.length > 1
                ? [
                    table(
                      ['ATTEMPT', 'BANK', 'BANK PAYMENT ID', 'BANK STATUS', 'OUTCOME', 'STARTED', 'CALLS'],
                      l.payment_attempts.map((a) => [
                        `${a.number}${a.current ? ' (current)' : ''}`,
                        a.bank_id ?? a.connector_uuid,
                        a.bank_payment_id ?? '-',
                        a.bank_status ?? '-',
                        a.outcome,
                        a.created_at,
                        a.calls.length,
                      ]),
                    ),
                    '',
                  ]
                : []),
              table(
                ['TIME', 'OPERATION', 'OUTCOME', 'METHOD', 'PATH', 'STATUS', 'MS', 'REQUEST ID', ...(l.payment_attempts.length > 1 ? ['ATTEMPT'] : [])],
                l.exchanges.map((e) => [
                  e.created_at,
                  e.operation,
                  e.outcome,
                  e.method,
                  e.path,
                  e.status ?? e.error,
                  e.duration_ms,
                  e.request_id,
                  ...(l.payment_attempts.length > 1 ? [e.attempt ?? '-'] : []),
                ]),
              ),
            ].join('\n'),
      );
    });
  examples(exchanges, 'payrail bank exchanges --payment 42', 'payrail bank exchanges --payment 42 --json');
  return bank;
}
