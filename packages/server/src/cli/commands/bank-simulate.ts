/**
 * `payrail bank simulate`: runs a sandbox bank that speaks a real standard (Berlin Group
 * NextGenPSD2 1.3.12, STET PSD2 1.5), to try real-standard payments offline and to test against. `bank add`,
 * `list` and `remove` live in bank.ts; this file only adds the `simulate` subcommand to `bank`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { assertPortFree } from '../port.ts';
import { examples, runtimeOf, UsageError } from '../runtime.ts';
import { jsonOption } from '../output.ts';

/** The `bank` command group: created by whichever of bank.ts and this file registers first. */
export function bankGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'bank') ?? program.command('bank').description('banks: add, list, remove, and run a simulated one');
}

function integer(name: string, min: number, max: number) {
  return (raw: string) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return value;
  };
}

function seconds(raw: string): number {
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || value > 86_400) throw new InvalidArgumentError('--settle-seconds must be a number of seconds from 0 to 86400');
  return value;
}

export function registerBankSimulate(program: Command): void {
  const command = jsonOption(
    bankGroup(program)
      .command('simulate')
      .description('run a simulated bank speaking a payment standard (SCA page, settlement over time, faults): prints its base URL, runs until Ctrl-C')
      .addOption(new Option('--standard <STANDARD>', 'the standard it speaks').choices(['berlin-group', 'stet', 'obie']).makeOptionMandatory())
      .option('--port <N>', 'port to listen on (0: any free port)', integer('--port', 0, 65_535), 4020)
      .option('--host <ADDR>', 'address to listen on', '127.0.0.1')
      .option('--settle-seconds <S>', "time from the payer's approval to settled (ACSC)", seconds, 4)
      .addOption(
        new Option('--sca-approach <APPROACH>', 'SCA approach when the TPP states no preference').choices(['redirect', 'decoupled']).default('redirect'),
      )
      .option('--explicit-start', 'answer initiations with startAuthorisation instead of scaRedirect')
      .option('--cancellation-sca', "cancelling an approved, not yet executed payment needs the payer's SCA (202)")
      .option('--public-url <URL>', 'base of the SCA page links, when the payer reaches the simulator under another address')
      .option('--oauth-client-id <ID>', "the TPP's client id at the simulated bank's OAuth2 authorization server (turns it on)")
      .addOption(
        new Option('--oauth-client-auth <METHOD>', 'how the client authenticates at the token endpoint')
          .choices(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth'])
          .default('client_secret_basic'),
      )
      .option('--oauth-client-secret-file <FILE>', 'file whose first line is the client secret (client_secret_basic, client_secret_post)')
      .option(
        '--oauth-client-cert <PEM>',
        "certificate file whose key signs the client's assertions (private_key_jwt), or whose subject the client's mTLS certificate must have (tls_client_auth)",
      )
      .option('--oauth-token-seconds <N>', 'lifetime of the tokens it issues', integer('--oauth-token-seconds', 1, 86_400), 300)
      .option('--oauth-pre-step', 'every /v1 call needs a bearer token from the token endpoint (401 TOKEN_INVALID/TOKEN_EXPIRED otherwise)')
      .option('--sca-oauth', "answer initiations with a scaOAuth link: the payer authorises at the simulator's authorization server")
      .option(
        '--embedded',
        'offer embedded SCA (asked with TPP-Redirect-Preferred: false): password bank-password-42, methods sms-otp (code 123456) and push-otp (654321)',
      )
      .option(
        '--embedded-max-tries <N>',
        'embedded: wrong one-time codes before the authorisation fails (400 SCA_INVALID with the tries left, then scaStatus failed)',
        integer('--embedded-max-tries', 1, 10),
        1,
      )
      .option(
        '--embedded-password-key <PEM>',
        "embedded: the bank's RSA private key file; the password is taken only as psuData.encryptedPassword (JWE RSA-OAEP-256 + A256GCM) for its public key",
      )
      .option('--tls-cert <PEM>', 'berlin-group: listen on HTTPS with this server certificate (with --tls-key and --tls-client-ca)')
      .option('--tls-key <PEM>', "berlin-group: the server certificate's private key")
      .option('--tls-client-ca <PEM>', "berlin-group: the CA clients' certificates must chain to (mTLS; checked by the token endpoint's tls_client_auth)")
      .option('--mtls-api', 'berlin-group: every /v1 call needs a trusted client certificate (401 CERTIFICATE_MISSING/CERTIFICATE_INVALID), tokens bound to it')
      .option('--require-creditor-address', 'refuse a transfer without creditorAddress (400 FORMAT_ERROR, path creditorAddress)')
      .option(
        '--pain001',
        'take payments only as pain.001 XML products (pain.001-sepa-credit-transfers, …; periodic as multipart), answer status as pain.002 to Accept: application/xml',
      )
      .addOption(
        new Option(
          '--vop <MODE>',
          'Verification of Payee on every initiation: the status and payee-name result it answers; the payer decides at the bank',
        ).choices(['match', 'close-match', 'no-match', 'not-possible']),
      )
      .option(
        '--require-signature',
        'berlin-group: refuse a /v1 call without a valid signature (Digest, Signature over digest and x-request-id, TPP-Signature-Certificate): 401 SIGNATURE_MISSING/SIGNATURE_INVALID/CERTIFICATE_MISSING',
      )
      .option('--no-request-id-echo', 'berlin-group: answer without X-Request-ID, as some banks do (the file requires it)')
      .option('--require-date', 'refuse a /v1 call without a Date header (400 FORMAT_ERROR) or one more than 5 minutes off (TIMESTAMP_INVALID)')
      .option('--no-confirmation', "stet: execute on the payer's consent, without the PISP's POST /confirmation")
      .addOption(
        new Option('--redirect-flow <FLOW>', 'stet: REDIRECT as an OAuth2 authorization code grant or a plain redirect')
          .choices(['oauth2', 'redirect'])
          .default('oauth2'),
      )
      .addOption(new Option('--api-version <VERSION>', 'obie: the UK Open Banking version its payment API speaks').choices(['4.0', '3.1.11']).default('4.0'))
      .option(
        '--keys-dir <DIR>',
        'stet: where to write the TPP signing key and certificate it generates (default: a new temporary folder); obie: where the model bank keeps its key and the TPP key it generated (default: a folder in the system temp directory)',
      ),
  ).action(async (options: SimulateOptions, cmd: Command) => simulate(options, cmd));
  examples(
    command,
    'payrail bank simulate --standard berlin-group --port 4020',
    'payrail bank simulate --standard berlin-group --port 0 --sca-approach decoupled --settle-seconds 10 --json',
    'payrail bank simulate --standard berlin-group --oauth-client-id payrail --oauth-client-secret-file secret.txt --oauth-pre-step --sca-oauth',
    'payrail bank simulate --standard stet --port 4030',
    'payrail bank simulate --standard obie --api-version 3.1.11 --port 4040',
    'curl -X POST http://127.0.0.1:4020/_simulator/faults -H "Content-Type: application/json" -d \'{"kind":"hang","operation":"initiatePayment"}\'',
  );
}

interface SimulateOptions {
  standard: 'berlin-group' | 'stet' | 'obie';
  confirmation: boolean;
  redirectFlow: 'oauth2' | 'redirect';
  keysDir?: string;
  port: number;
  host: string;
  settleSeconds: number;
  scaApproach: 'redirect' | 'decoupled';
  explicitStart?: boolean;
  cancellationSca?: boolean;
  publicUrl?: string;
  apiVersion: '4.0' | '3.1.11';
  oauthClientId?: string;
  oauthClientAuth: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth';
  oauthClientSecretFile?: string;
  oauthClientCert?: string;
  oauthTokenSeconds: number;
  oauthPreStep?: boolean;
  scaOauth?: boolean;
  requireDate?: boolean;
  requireCreditorAddress?: boolean;
  pain001?: boolean;
  embedded?: boolean;
  vop?: 'match' | 'close-match' | 'no-match' | 'not-possible';
  requireSignature?: boolean;
  requestIdEcho: boolean;
  embeddedMaxTries: number;
  embeddedPasswordKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  mtlsApi?: boolean;
  json?: boolean;
}

function readOption(option: string, path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${option}: cannot read the file ${path}`);
  }
}

/** The simulated authorization server's settings, checked (none without --oauth-client-id). */
function oauthOptions(options: SimulateOptions) {
  const wanted = options.oauthPreStep || options.scaOauth || options.oauthClientSecretFile || options.oauthClientCert;
  if (!options.oauthClientId) {
    if (wanted) throw new UsageError('--oauth-client-id is needed for the OAuth2 options');
    return undefined;
  }
  const secret = readOption('--oauth-client-secret-file', options.oauthClientSecretFile)?.split(/\r?\n/)[0]?.trim() || null;
  const cert = readOption('--oauth-client-cert', options.oauthClientCert);
  const auth = options.oauthClientAuth;
  if ((auth === 'client_secret_basic' || auth === 'client_secret_post') && !secret)
    throw new UsageError(`--oauth-client-auth ${auth} needs --oauth-client-secret-file`);
  if (auth === 'private_key_jwt' && !cert) throw new UsageError('--oauth-client-auth private_key_jwt needs --oauth-client-cert');
  if (auth === 'tls_client_auth' && !options.tlsCert)
    throw new UsageError('--oauth-client-auth tls_client_auth needs HTTPS: give --tls-cert, --tls-key and --tls-client-ca');
  return {
    clientId: options.oauthClientId,
    clientAuth: auth,
    clientSecret: secret,
    clientCert: cert,
    tokenSeconds: options.oauthTokenSeconds,
    preStep: Boolean(options.oauthPreStep),
    scaOAuth: Boolean(options.scaOauth),
  };
}

/** The bank's private key for encrypted passwords (--embedded-password-key), checked. */
function embeddedPasswordKey(options: SimulateOptions): KeyObject | null {
  const pem = readOption('--embedded-password-key', options.embeddedPasswordKey);
  if (pem === null) return null;
  if (!options.embedded) throw new UsageError('--embedded-password-key needs --embedded');
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return key;
  } catch {
    throw new UsageError('--embedded-password-key: the file must hold an RSA private key (PEM)');
  }
}

/** HTTPS with client certificates (Berlin Group): all three files or none. */
function tlsOptions(options: SimulateOptions) {
  const given = [options.tlsCert, options.tlsKey, options.tlsClientCa].filter((v) => v !== undefined).length;
  if (given === 0) {
    if (options.mtlsApi) throw new UsageError('--mtls-api needs --tls-cert, --tls-key and --tls-client-ca');
    return null;
  }
  if (given !== 3) throw new UsageError('HTTPS needs all of --tls-cert, --tls-key and --tls-client-ca');
  return {
    cert: readOption('--tls-cert', options.tlsCert)!,
    key: readOption('--tls-key', options.tlsKey)!,
    clientCa: readOption('--tls-client-ca', options.tlsClientCa)!,
    requireApiCert: Boolean(options.mtlsApi),
  };
}

async function simulate(options: SimulateOptions, command: Command): Promise<void> {
  if (options.publicUrl !== undefined && !/^https?:\/\/[^/]+$/.test(options.publicUrl.replace(/\/$/, '')))
    throw new UsageError('--public-url must be an http(s) origin, e.g. http://bank.localhost:4020');
  const oauth = oauthOptions(options);
  const tls = tlsOptions(options);
  if (tls && options.standard !== 'berlin-group') throw new UsageError('--tls-cert, --tls-key, --tls-client-ca and --mtls-api are for --standard berlin-group');
  if (options.port !== 0) await assertPortFree(options.host, options.port);
  if (options.standard === 'stet') return simulateStet(options, command);
  if (options.standard === 'obie') return (await import('./bank-simulate-obie.ts')).simulateObie(options, command);
  const { startBerlinGroupSimulator } = await import('../../connectors/berlin-group/simulator/index.ts');
  const { DEFAULT_EMBEDDED } = await import('../../connectors/berlin-group/simulator/embedded.ts');
  const sim = await startBerlinGroupSimulator({
    host: options.host,
    port: options.port,
    settleAfterMs: Math.round(options.settleSeconds * 1000),
    scaApproach: options.scaApproach,
    explicitStart: Boolean(options.explicitStart),
    cancellationSca: Boolean(options.cancellationSca),
    ...(options.publicUrl ? { publicUrl: options.publicUrl.replace(/\/$/, '') } : {}),
    ...(oauth ? { oauth } : {}),
    requireDate: Boolean(options.requireDate),
    requireCreditorAddress: Boolean(options.requireCreditorAddress),
    pain001: Boolean(options.pain001),
    embedded: options.embedded ? { ...DEFAULT_EMBEDDED, maxTries: options.embeddedMaxTries, passwordKey: embeddedPasswordKey(options) } : null,
    tls,
    vop: options.vop ?? null,
    requireSignature: Boolean(options.requireSignature),
    echoRequestId: options.requestIdEcho !== false,
    log: (line) => process.stdout.write(options.json ? `${JSON.stringify({ log: line })}\n` : `${line}\n`),
  });
  runtimeOf(command).keepRunning = true;
  const stop = () => void sim.close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ standard: options.standard, url: sim.url, base_url: sim.url, control_url: `${sim.url}/_simulator`, ...(oauth ? { token_url: `${sim.url}/oauth/token` } : {}) })}\n`,
    );
  } else {
    process.stdout.write(
      `Berlin Group simulator listening on ${sim.url} (base URL for payrail bank add: ${sim.url})\n` +
        `Control endpoint (faults, decoupled approval): ${sim.url}/_simulator\n` +
        (oauth ? `OAuth2 token endpoint: ${sim.url}/oauth/token (metadata: ${sim.url}/.well-known/oauth-authorization-server)\n` : ''),
    );
  }
}

async function simulateStet(options: SimulateOptions, command: Command): Promise<void> {
  const { resolve } = await import('node:path');
  const { startStetSimulator } = await import('../../connectors/stet/simulator/index.ts');
  const sim = await startStetSimulator({
    host: options.host,
    port: options.port,
    settleAfterMs: Math.round(options.settleSeconds * 1000),
    confirmation: options.confirmation,
    redirectFlow: options.redirectFlow,
    ...(options.keysDir ? { keysDir: resolve(options.keysDir) } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl.replace(/\/$/, '') } : {}),
    log: (line) => process.stdout.write(options.json ? `${JSON.stringify({ log: line })}\n` : `${line}\n`),
  });
  runtimeOf(command).keepRunning = true;
  const stop = () => void sim.close().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const add = sim.addCommand();
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ standard: 'stet', url: sim.url, base_url: sim.baseUrl, token_url: sim.tokenUrl, authorization_url: sim.authorizationUrl, client_id: sim.clientId, signing_key: sim.keys.keyPath, signing_cert: sim.keys.certPath, key_id: sim.keyIdUrl, control_url: `${sim.url}/_simulator`, add_command: add })}\n`,
    );
  } else {
    process.stdout.write(
      `STET simulator listening on ${sim.url} (base URL for payrail bank add: ${sim.baseUrl})\n` +
        `Control endpoint (faults, decoupled approval, one-time codes): ${sim.url}/_simulator\n` +
        `Add it to Payrail with:\n${add}\n`,
    );
  }
}
