/**
 * The STET simulator on its own and as `payrail bank simulate --standard stet`: the printed
 * `payrail bank add` line (every option, key files as absolute paths), answers that never depend
 * on the request's `Host` header, and what it refuses (tokens, signatures, PKCE, the form's secret).
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBankSigner } from '../src/connectors/kit/signing.ts';
import { startStetSimulator, type StetSimulator } from '../src/connectors/stet/simulator/index.ts';
import { stetSignatureScheme } from '../src/connectors/stet/signature.ts';
import { commandWords } from './e2e/bg-stack.ts';
import { BIN, exited, waitFor } from './support/processes.ts';

const BODY = {
  paymentInformationId: 'TEST-1',
  creationDateTime: '2026-12-07T10:00:00.000Z',
  numberOfTransactions: 1,
  initiatingParty: { name: 'Payrail' },
  paymentTypeInformation: { serviceLevel: 'SEPA' },
  creditTransferTransaction: [
    {
      paymentId: { instructionId: '1', endToEndId: 'E2E-1' },
      requestedExecutionDate: '2026-12-07T00:00:00.000Z',
      instructedAmount: { amount: 12.5, currency: 'EUR' },
      beneficiary: { creditor: { name: 'ACME' }, creditorAccount: { iban: 'FR7630006000011234567890189' } },
      remittanceInformation: { unstructured: ['Order 1'] },
    },
  ],
  supplementaryData: { acceptedAuthenticationApproach: ['REDIRECT'], successfulReportUrl: 'https://pay.example/ok' },
};

describe('the STET simulator', () => {
  let sim: StetSimulator;
  beforeAll(async () => {
    sim = await startStetSimulator({ settleAfterMs: 1_000 });
  });
  afterAll(() => sim?.close());

  async function clientToken(form: Record<string, string> = {}) {
    const response = await fetch(sim.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'pisp', client_id: sim.clientId, ...form }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, string> };
  }

  /** A signed API call with a raw `Host` header (fetch would not let us set it). */
  async function call(method: string, path: string, body: unknown, options: { host?: string; token?: string; tamper?: boolean } = {}) {
    const token = options.token ?? (await clientToken()).json.access_token!;
    const text = body === undefined ? '' : JSON.stringify(body);
    const signer = createBankSigner(
      sim.keys.key,
      sim.keys.cert,
      stetSignatureScheme({
        key_id_form: 'url',
        key_id: sim.keyIdUrl,
        client_id: sim.clientId,
        signed_headers: ['(request-target)', 'digest', 'x-request-id'],
      }),
    );
    const headers = await signer.sign({
      method,
      url: `${sim.url}${path}`,
      headers: {
        Authorization: `Bearer ${token}`,
        'X-Request-ID': randomUUID(),
        Accept: 'application/hal+json',
        ...(text ? { 'Content-Type': 'application/json' } : {}),
      },
      body: text,
    });
    if (options.tamper) headers.Digest = `SHA-256=${createHash('sha256').update('other').digest('base64')}`;
    const url = new URL(path, sim.url);
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: any }>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method, headers: { ...headers, Host: options.host ?? url.host } },
        (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: data ? JSON.parse(data) : null }));
        },
      );
      req.on('error', reject);
      req.end(text || undefined);
    });
  }

  it('answers never depend on the Host header (a proxy in between may rewrite it)', async () => {
    const created = await call('POST', '/payment-requests', BODY, { host: 'evil.example:8443' });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/hal+json; charset=utf-8');
    expect(created.headers.location).toMatch(new RegExp(`^${sim.url}/payment-requests/PR`));
    expect(created.json._links.consentApproval.href).toMatch(new RegExp(`^${sim.url}/authorize\\?`));
    const id = String(created.headers.location).split('/').pop()!;
    const read = await call('GET', `/payment-requests/${id}`, undefined, { host: 'evil.example' });
    expect(read.json._links.request.href).toBe(`${sim.url}/payment-requests/${id}`);
    expect(read.json.paymentRequest).toMatchObject({ resourceId: id, paymentInformationStatus: 'RCVD' });
  });

  it('refuses a missing or unknown token, a bad signature, a wrong client and scope', async () => {
    expect((await call('POST', '/payment-requests', BODY, { token: 'nope' })).status).toBe(401);
    const tampered = await call('POST', '/payment-requests', BODY, { tamper: true });
    expect(tampered.status).toBe(401);
    expect(tampered.json.message).toMatch(/Digest/);
    expect((await clientToken({ client_id: 'someone-else' })).json.error).toBe('invalid_client');
    expect((await clientToken({ scope: 'aisp' })).json.error).toBe('invalid_scope');
  });

  it('the authorization endpoint: Approve gives a code for the redirect_uri; a wrong PKCE verifier is refused; the form needs its secret', async () => {
    const created = await call('POST', '/payment-requests', BODY);
    const verifier = 'v'.repeat(50);
    const authorize = new URL(created.json._links.consentApproval.href);
    Object.entries({
      client_id: sim.clientId,
      redirect_uri: 'https://pay.example/2.0/consent/return',
      state: '7.abc',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).forEach(([k, v]) => {
      authorize.searchParams.set(k, v);
    });
    const page = await (await fetch(authorize)).text();
    expect(page).toContain('12.50 EUR');
    expect(page).toContain('>Approve</button>');
    expect(page).toContain('>Refuse</button>');
    const form = new URLSearchParams([...page.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
    const forged = new URLSearchParams(form);
    forged.set('token', 'x'.repeat(32));
    forged.set('decision', 'approve');
    expect((await fetch(new URL('/authorize', sim.url), { method: 'POST', body: forged, redirect: 'manual' })).status).toBe(400);
    form.set('decision', 'approve');
    const answer = await fetch(new URL('/authorize', sim.url), { method: 'POST', body: form, redirect: 'manual' });
    const back = new URL(answer.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('7.abc');
    const exchange = (verifierSent: string) =>
      fetch(sim.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: sim.clientId,
          code: back.searchParams.get('code')!,
          redirect_uri: 'https://pay.example/2.0/consent/return',
          code_verifier: verifierSent,
        }),
      });
    expect((await exchange('w'.repeat(50))).status).toBe(400); // and the code is spent
    expect((await exchange(verifier)).status).toBe(400);
  });

  it('the control endpoint forces a status (even one the file omits) and lists payments with their one-time code', async () => {
    const created = await call('POST', '/payment-requests', { ...BODY, supplementaryData: { acceptedAuthenticationApproach: ['EMBEDDED-1-FACTOR'] } });
    const id = String(created.headers.location).split('/').pop()!;
    expect(created.json).toMatchObject({ appliedAuthenticationApproach: 'EMBEDDED-1-FACTOR' });
    const listed = (await (await fetch(`${sim.url}/_simulator/payments/${id}`)).json()) as { otp: string; status: string };
    expect(listed.otp).toMatch(/^\d{6}$/);
    const forced = await fetch(`${sim.url}/_simulator/payments/${id}/status`, { method: 'POST', body: JSON.stringify({ status: 'ACCO' }) });
    expect(((await forced.json()) as { status: string }).status).toBe('ACCO');
    expect((await fetch(`${sim.url}/_simulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'reject', code: 'TEAPOT' }) })).status).toBe(400);
  });
});

describe('payrail bank simulate --standard stet', () => {
  it('prints its base URL and one payrail bank add line with every option (key files as absolute paths)', async () => {
    const proc = spawn(process.execPath, [BIN, 'bank', 'simulate', '--standard', 'stet', '--port', '0', '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const url = await waitFor(
        'the simulator to listen',
        () => {
          if (proc.exitCode !== null) throw new Error(output);
          return /^STET simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(base URL for payrail bank add: \1\)$/m.exec(output)?.[1];
        },
        30_000,
      );
      const line = await waitFor('the add line', () => /^payrail bank add --standard stet .*$/m.exec(output)?.[0], 10_000);
      const words = commandWords(line);
      const option = (name: string) => words[words.indexOf(name) + 1]!;
      for (const name of ['--name', '--base-url', '--client-id', '--token-url', '--authorization-url', '--signing-key', '--signing-cert', '--key-id'])
        expect(words, name).toContain(name);
      expect(option('--base-url')).toBe(url);
      expect(option('--token-url')).toBe(`${url}/token`);
      for (const file of [option('--signing-key'), option('--signing-cert')]) {
        expect(isAbsolute(file)).toBe(true);
        expect(existsSync(file)).toBe(true);
      }
      expect(await (await fetch(option('--key-id'))).text()).toContain('BEGIN CERTIFICATE');
    } finally {
      proc.kill('SIGTERM');
      await exited(proc);
    }
    expect(proc.exitCode).toBe(0);
  });
});
