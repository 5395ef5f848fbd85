/** Berlin Group connector, pure parts: initiation body, headers, paths, SEPA text, bank profile. */
import { describe, expect, it } from 'vitest';
import { buildInitiation, FREQUENCY_TABLE, type InitiationPayment } from '../../src/connectors/berlin-group/initiation.ts';
import { authorisationHeaders, initiationHeaders, psuContextHeaders, psuIpAddress } from '../../src/connectors/berlin-group/headers.ts';
import { authorisationIdFromLink, paths } from '../../src/connectors/berlin-group/paths.ts';
import { checkOptions, defaultOptions, ProfileError, PSU_HEADERS, resolveProfile, type BerlinGroupProfile } from '../../src/connectors/berlin-group/profile.ts';
import { sepaText } from '../../src/connectors/kit/sepa-text.ts';
import { EXECUTION_FREQUENCIES } from '../../src/domain/payment-request.ts';
import { readFileSync } from 'node:fs';

const SPEC = JSON.parse(readFileSync(new URL('../../spec/berlin-group/psd2-api-1.3.12.json', import.meta.url), 'utf8'));
const PAYER = 'DE89370400440532013000';
const BENEF = 'FR7630006000011234567890189';

function payment(overrides: Partial<InitiationPayment> = {}, instruction: Record<string, unknown> = {}): InitiationPayment {
  return {
    execution_date_type: 'first_open_day',
    currency: 'EUR',
    payer: { scheme_name: 'iban', identification: PAYER },
    instructions: [
      {
        amount_minor: 5090,
        currency: 'EUR',
        label: 'Order 0042',
        reference_id: 'Abc123-1',
        execution_date: null,
        beneficiary: { scheme_name: 'iban', identification: BENEF, label: 'ACME Corp.', bic: null },
        ...instruction,
      },
    ],
    ...overrides,
  };
}

const profile = (over: Partial<BerlinGroupProfile> = {}): BerlinGroupProfile => ({ ...resolveProfile({}, over.sca_approach ?? 'redirect'), ...over });

describe('initiation body', () => {
  it('first_open_day → payments/sepa-credit-transfers with the exact amount string and every required field', () => {
    const r = buildInitiation(payment(), profile());
    expect(r).toEqual({
      ok: true,
      service: 'payments',
      product: 'sepa-credit-transfers',
      body: {
        endToEndIdentification: 'Abc123-1',
        instructedAmount: { currency: 'EUR', amount: '50.90' },
        creditorAccount: { iban: BENEF },
        creditorName: 'ACME Corp.',
        remittanceInformationUnstructured: 'Order 0042',
        debtorAccount: { iban: PAYER },
      },
    });
    const required: string[] = SPEC.components.schemas.paymentInitiation_json.required;
    if (!r.ok) throw new Error('refused');
    for (const key of required) expect(r.body).toHaveProperty(key);
  });

  it.each([
    [1, '0.01'],
    [10, '0.10'],
    [100, '1.00'],
    [123456789, '1234567.89'],
    [999_999_999_999_999, '9999999999999.99'],
  ])('%i minor units → "%s" (no float on the way)', (minor, text) => {
    const r = buildInitiation(payment({}, { amount_minor: minor }), profile());
    if (!r.ok) throw new Error('refused');
    const amount = (r.body.instructedAmount as { amount: string }).amount;
    expect(amount).toBe(text);
    expect(amount).toMatch(new RegExp(`^${SPEC.components.schemas.amountValue.pattern}$`));
  });

  it('instant → instant-sepa-credit-transfers; refused where the bank has none', () => {
    const r = buildInitiation(payment({ execution_date_type: 'instant' }), profile());
    expect(r.ok && `${r.service}/${r.product}`).toBe('payments/instant-sepa-credit-transfers');
    expect(buildInitiation(payment({ execution_date_type: 'instant' }), profile({ execution_date_types: ['first_open_day'] }))).toMatchObject({
      ok: false,
      error_code: 'invalidValue',
    });
  });

  it('deferred → requestedExecutionDate, only where the profile allows it', () => {
    const p = payment({ execution_date_type: 'deferred' }, { execution_date: '2026-03-02' });
    expect(buildInitiation(p, profile())).toMatchObject({ ok: false, error_code: 'invalidDate' });
    const r = buildInitiation(p, profile({ deferred: true, execution_date_types: ['first_open_day', 'deferred'] }));
    expect(r).toMatchObject({ ok: true, service: 'payments', product: 'sepa-credit-transfers', body: { requestedExecutionDate: '2026-03-02' } });
  });

  it('cuts creditorName to 70, remittance to 140, endToEndIdentification to 35, in the SEPA character set', () => {
    const r = buildInitiation(
      payment(
        {},
        {
          label: `Facture n° 12 – Müller & Söhne ${'x'.repeat(200)}`,
          reference_id: 'R'.repeat(40),
          beneficiary: { scheme_name: 'iban', identification: BENEF, label: `Société Générale Straße ${'y'.repeat(100)}`, bic: 'SOGEFRPPXXX' },
        },
      ),
      profile(),
    );
    if (!r.ok) throw new Error('refused');
    const b = r.body as Record<string, string>;
    expect(b.creditorName!.length).toBeLessThanOrEqual(70);
    expect(b.creditorName!.startsWith('Societe Generale Strasse y')).toBe(true);
    expect(b.remittanceInformationUnstructured!.length).toBeLessThanOrEqual(140);
    expect(b.remittanceInformationUnstructured!.startsWith('Facture n 12 - Mueller + Soehne x')).toBe(true);
    expect(b.endToEndIdentification).toBe('R'.repeat(35));
    expect(b.creditorAgent).toBe('SOGEFRPPXXX');
    expect(b.creditorAgent).toMatch(new RegExp(`^${SPEC.components.schemas.bicfi.pattern}$`));
  });

  it("bulk → bulk-payments with one element per instruction, only up to the bank's limit", () => {
    const two = payment();
    two.instructions.push({ ...two.instructions[0]!, amount_minor: 7, reference_id: 'Abc123-2' });
    expect(buildInitiation(two, profile())).toMatchObject({ ok: false, error_code: 'invalidValue' });
    const r = buildInitiation(two, profile({ bulk: true, max_instructions: 2 }));
    if (!r.ok) throw new Error('refused');
    expect(r.service).toBe('bulk-payments');
    expect(r.body.debtorAccount).toEqual({ iban: PAYER });
    const elements = r.body.payments as Record<string, unknown>[];
    expect(elements.map((e) => (e.instructedAmount as { amount: string }).amount)).toEqual(['50.90', '0.07']);
    expect(elements[0]).not.toHaveProperty('debtorAccount');
    for (const key of SPEC.components.schemas.bulkPaymentInitiation_json.required as string[]) expect(r.body).toHaveProperty(key);
  });

  it('deferred bulk carries one requestedExecutionDate', () => {
    const p = payment({ execution_date_type: 'deferred' }, { execution_date: '2026-03-02' });
    p.instructions.push({ ...p.instructions[0]!, reference_id: 'Abc123-2' });
    const r = buildInitiation(p, profile({ deferred: true, bulk: true }));
    expect(r).toMatchObject({ ok: true, service: 'bulk-payments', body: { requestedExecutionDate: '2026-03-02' } });
  });

  it('periodic → periodic-payments with every Powens frequency mapped to a frequencyCode of the file', () => {
    const codes: string[] = SPEC.components.schemas.frequencyCode.enum;
    for (const f of EXECUTION_FREQUENCIES) {
      expect(f in FREQUENCY_TABLE, f).toBe(true);
      const mapped = FREQUENCY_TABLE[f];
      if (mapped !== null) expect(codes).toContain(mapped);
    }
    const p = payment({ execution_date_type: 'periodic' }, { start_date: '2026-02-01', end_date: '2026-12-31', frequency: 'monthly' });
    expect(buildInitiation(p, profile())).toMatchObject({ ok: false });
    const r = buildInitiation(p, profile({ execution_date_types: ['periodic'] }));
    expect(r).toMatchObject({
      ok: true,
      service: 'periodic-payments',
      product: 'sepa-credit-transfers',
      body: { startDate: '2026-02-01', endDate: '2026-12-31', frequency: 'Monthly', debtorAccount: { iban: PAYER } },
    });
    if (!r.ok) throw new Error('refused');
    for (const key of SPEC.components.schemas.periodicPaymentInitiation_json.required as string[]) expect(r.body).toHaveProperty(key);
  });

  it('four-monthly: MonthlyVariable with three months where the bank allows it, else refused', () => {
    const p = payment({ execution_date_type: 'periodic' }, { start_date: '2026-11-05', frequency: 'four-monthly' });
    expect(buildInitiation(p, profile({ execution_date_types: ['periodic'] }))).toMatchObject({ ok: false, error_code: 'invalidDate' });
    expect(buildInitiation(p, profile({ execution_date_types: ['periodic'], monthly_variable: true }))).toMatchObject({
      ok: true,
      body: { frequency: 'MonthlyVariable', monthsOfExecution: ['11', '3', '7'] },
    });
  });

  it('refuses before calling the bank what it cannot carry', () => {
    expect(buildInitiation(payment({ payer: null }), profile())).toMatchObject({ ok: false, error_code: 'invalidEmitter' });
    const optional = buildInitiation(payment({ payer: null }), profile({ providing_payer_account: 'optional' }));
    expect(optional.ok && optional.body).not.toHaveProperty('debtorAccount');
    expect(buildInitiation(payment({ currency: 'GBP' }, { currency: 'GBP' }), profile())).toMatchObject({ ok: false, error_code: 'invalidCurrency' });
    expect(
      buildInitiation(payment({}, { beneficiary: { scheme_name: 'sort_code_account_number', identification: '20000055555555', label: 'X' } }), profile()),
    ).toMatchObject({ ok: false, error_code: 'invalidBeneficiary' });
  });
});

describe('headers', () => {
  const returnUrls = { ok: 'https://pay.example/2.0/bank/return/ok?s=abc', nok: 'https://pay.example/2.0/bank/return/nok?s=abc' };

  it("PSU-IP-Address is always IPv4: the payer's, unwrapped, else the TPP's configured one", () => {
    const p = profile({ tpp_ip_address: '203.0.113.9' });
    expect(psuIpAddress('198.51.100.7', p)).toBe('198.51.100.7');
    expect(psuIpAddress('::ffff:198.51.100.7', p)).toBe('198.51.100.7');
    expect(psuIpAddress('2001:db8::1', p)).toBe('203.0.113.9');
    expect(psuIpAddress(null, p)).toBe('203.0.113.9');
    expect(psuIpAddress('not an ip', p)).toBe('203.0.113.9');
  });

  it('redirect: both TPP URIs from the core, explicit start when the profile says so', () => {
    const h = initiationHeaders({ profile: profile({ explicit_authorisation: true }), payerIp: '198.51.100.7', returnUrls, psuId: null });
    expect(h).toMatchObject({
      'PSU-IP-Address': '198.51.100.7',
      'TPP-Redirect-URI': returnUrls.ok,
      'TPP-Nok-Redirect-URI': returnUrls.nok,
      'TPP-Explicit-Authorisation-Preferred': 'true',
      'TPP-Redirect-Preferred': 'true',
    });
    expect(h).not.toHaveProperty('PSU-ID');
    expect(h).not.toHaveProperty('X-Request-ID'); // the core's attempt id
    expect(initiationHeaders({ profile: profile(), payerIp: null, returnUrls, psuId: null })).not.toHaveProperty('TPP-Explicit-Authorisation-Preferred');
  });

  it('decoupled: PSU-ID (and its type), no redirect URIs', () => {
    const h = initiationHeaders({ profile: profile({ sca_approach: 'decoupled', psu_id_type: 'HBCI' }), payerIp: null, returnUrls, psuId: 'jdoe' });
    expect(h).toMatchObject({ 'PSU-ID': 'jdoe', 'PSU-ID-Type': 'HBCI', 'TPP-Decoupled-Preferred': 'true' });
    expect(h).not.toHaveProperty('TPP-Redirect-URI');
    expect(authorisationHeaders({ profile: profile({ sca_approach: 'decoupled' }), payerIp: null, returnUrls, psuId: 'jdoe' })).toMatchObject({
      'PSU-ID': 'jdoe',
    });
  });

  it('every header we send is a parameter of initiatePayment in the file', () => {
    const names = new Set<string>(['content-type', 'accept']);
    for (const p of SPEC.paths['/v1/{payment-service}/{payment-product}'].post.parameters as { $ref: string }[]) {
      const name: string = SPEC.components.parameters[p.$ref.split('/').pop()!].name;
      names.add(name.toLowerCase());
    }
    const h = initiationHeaders({
      profile: profile({ explicit_authorisation: true, sca_approach: 'decoupled', psu_id_type: 'X', psu_headers: [...PSU_HEADERS] }),
      payerIp: '1.2.3.4',
      returnUrls,
      psuId: 'u',
      psuHttp: {
        user_agent: 'UA',
        accept: 'text/html',
        accept_charset: 'utf-8',
        accept_encoding: 'gzip',
        accept_language: 'de',
        http_method: 'POST',
        ip_port: '50123',
      },
    });
    // Every PSU context header the profile can list is one the file defines for the initiation.
    for (const name of PSU_HEADERS) expect(h[name], name).toBeTruthy();
    const r = initiationHeaders({ profile: profile(), payerIp: '1.2.3.4', returnUrls, psuId: null });
    for (const key of [...Object.keys(h), ...Object.keys(r)]) expect(names, key).toContain(key.toLowerCase());
  });
});

describe('paths', () => {
  const ref = { service: 'payments' as const, product: 'sepa-credit-transfers' as const, paymentId: 'a/b c' };
  it('are built from our own ids, relative to the base URL, with ids escaped', () => {
    expect(paths.initiate('bulk-payments', 'instant-sepa-credit-transfers')).toBe('/v1/bulk-payments/instant-sepa-credit-transfers');
    expect(paths.status(ref)).toBe('/v1/payments/sepa-credit-transfers/a%2Fb%20c/status');
    expect(paths.authorisation(ref, 'x1')).toBe('/v1/payments/sepa-credit-transfers/a%2Fb%20c/authorisations/x1');
    expect(paths.cancellationAuthorisations(ref)).toBe('/v1/payments/sepa-credit-transfers/a%2Fb%20c/cancellation-authorisations');
  });
  it('take only an authorisation id from a link, whatever its host or prefix', () => {
    expect(authorisationIdFromLink('https://evil.example/psd2/v1/payments/123/authorisations/auth-9')).toBe('auth-9');
    expect(authorisationIdFromLink('/v1/payments/sepa-credit-transfers/1/cancellation-authorisations/c7?x=1')).toBe('c7');
    expect(authorisationIdFromLink('/v1/payments/sepa-credit-transfers/1/status')).toBeNull();
    expect(authorisationIdFromLink('/authorisations/%2E%2E%2F%2E%2E')).toBeNull();
    expect(authorisationIdFromLink(null)).toBeNull();
  });
});

describe('SEPA text and bank profile', () => {
  it('keeps only the SEPA basic set, transliterating as the EPC table does', () => {
    expect(sepaText('Zoë  Ærø – café «n°1»', 140)).toBe('Zoe AEro - cafe n 1');
    expect(sepaText('日本', 70)).toBe('');
    expect(sepaText('a'.repeat(80), 70)).toHaveLength(70);
  });

  it("has the standard's defaults and names a wrong option", () => {
    expect(checkOptions({}, 'redirect')).toEqual(defaultOptions('redirect'));
    expect(checkOptions(null, 'redirect')).toMatchObject({
      providing_payer_account: 'mandatory',
      execution_date_types: ['first_open_day', 'instant'],
      deferred: false,
      psu_id_required: false,
    });
    expect(checkOptions({}, 'decoupled').psu_id_required).toBe(true);
    expect(checkOptions({ deferred: true }, 'redirect').execution_date_types).toEqual(['first_open_day', 'instant', 'deferred']);
    expect(checkOptions({ execution_date_types: ['periodic', 'deferred'] }, 'redirect')).toMatchObject({
      execution_date_types: ['deferred', 'periodic'],
      deferred: true,
    });
    expect(checkOptions({ bulk: true, max_instructions: 50 }, 'redirect')).toMatchObject({ bulk: true, max_instructions: 50 });
    expect(() => checkOptions({ bulk: 'yes' }, 'redirect')).toThrow(ProfileError);
    expect(() => checkOptions({ bulk_payments: true }, 'redirect')).toThrow(/bulk_payments: is not an option/);
    expect(() => checkOptions({ tpp_ip_address: '::1' }, 'redirect')).toThrow(/tpp_ip_address/);
    expect(() => checkOptions({ currencies: ['GBP'] }, 'redirect')).toThrow(/currencies/);
    expect(() => checkOptions({ poll_initial_ms: 5000, poll_max_ms: 1000 }, 'redirect')).toThrow(/poll_max_ms/);
    expect(() => checkOptions({ psu_id_required: false }, 'decoupled')).toThrow(/psu_id_required/);
    expect(() => checkOptions([], 'redirect')).toThrow(/profile/);
    expect(checkOptions({ psu_headers: ['PSU-Http-Method', 'PSU-User-Agent'] }, 'redirect').psu_headers).toEqual(['PSU-User-Agent', 'PSU-Http-Method']);
    expect(() => checkOptions({ psu_headers: ['PSU-Device-ID'] }, 'redirect')).toThrow(/psu_headers: must be a list of PSU-IP-Port/);
    expect(() => checkOptions({ psu_headers: 'PSU-User-Agent' }, 'redirect')).toThrow(/psu_headers/);
  });

  it("psu_headers: the listed PSU context headers come from the payer's request, only those, and none when the payer is not there", () => {
    const http = {
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
      accept: 'text/html',
      accept_charset: null,
      accept_encoding: 'gzip, br',
      accept_language: 'de-DE,de;q=0.9',
      http_method: 'POST',
      ip_port: '50123',
    };
    const input = { payerIp: '1.2.3.4', returnUrls: { ok: 'https://pay.example/ok', nok: 'https://pay.example/nok' }, psuId: null, psuHttp: http };
    const psu = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('PSU-')));
    expect(psu(initiationHeaders({ ...input, profile: profile() }))).toEqual({ 'PSU-IP-Address': '1.2.3.4' });
    const listed = profile({ psu_headers: ['PSU-User-Agent', 'PSU-Accept-Language', 'PSU-Http-Method', 'PSU-IP-Port', 'PSU-Accept-Charset'] });
    const expected = {
      'PSU-IP-Address': '1.2.3.4',
      'PSU-User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)',
      'PSU-Accept-Language': 'de-DE,de;q=0.9',
      'PSU-Http-Method': 'POST',
      'PSU-IP-Port': '50123',
    };
    expect(psu(initiationHeaders({ ...input, profile: listed }))).toEqual(expected);
    expect(psu(authorisationHeaders({ ...input, profile: listed }))).toEqual(expected);
    expect(psuContextHeaders(listed, null)).toEqual({});
  });
});
