/**
 * The STET connector's pure parts: the status and reason tables against STET's 1.5.0.43 file (and
 * what the file omits), errors, the PaymentRequestResource builder, where the payment id is found,
 * the signature scheme, and every profile option's effect.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ConnectorPayment } from '../../src/connectors/kit/types.ts';
import { createStetConnector } from '../../src/connectors/stet/connector.ts';
import { mapBankError } from '../../src/connectors/stet/error-table.ts';
import { STET_SETTINGS } from '../../src/connectors/stet/index.ts';
import { checkOptions, ProfileError } from '../../src/connectors/stet/profile.ts';
import { buildPaymentRequest, FREQUENCY_TABLE } from '../../src/connectors/stet/request.ts';
import { resourceIdOf } from '../../src/connectors/stet/responses.ts';
import { stetSignatureScheme } from '../../src/connectors/stet/signature.ts';
import { mapPaymentStatus, mapReason, PAYMENT_STATUS_TABLE, REASON_TABLE } from '../../src/connectors/stet/status-table.ts';

const SPEC = JSON.parse(readFileSync(new URL('../../spec/stet/stet-ais-pis-1.5.0.json', import.meta.url), 'utf8'));
const schemas = SPEC.components.schemas;
const BASE = { client_id: 'PSDFR-ACPR-12345', token_url: 'https://bank.example/token', key_id: 'https://pisp.example/qseal.pem' };
const profile = (extra: Record<string, unknown> = {}) => checkOptions({ ...BASE, ...extra }, 'redirect');
const NOW = Date.UTC(2026, 11, 7, 9, 30);
const CTX = { now: NOW, reportUrls: { ok: 'https://pay.example/ok', nok: 'https://pay.example/nok' } };

function payment(over: Partial<ConnectorPayment> = {}, count = 1): ConnectorPayment {
  return {
    id: 42,
    state: 'created',
    action: null,
    state_detail: null,
    execution_date_type: 'first_open_day',
    currency: 'EUR',
    instructions: Array.from({ length: count }, (_, i) => ({
      amount_minor: 5090 + i,
      currency: 'EUR',
      label: 'Commande n° 42 – été',
      execution_date: null,
      reference_id: `REF-${i + 1}`,
      beneficiary: { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'Café Société', bic: 'AGRIFRPP' },
      start_date: null,
      end_date: null,
      frequency: null,
    })),
    payer: { scheme_name: 'iban', identification: 'FR1420041010050500013M02606', label: null, bic: null },
    psu_ip_address: null,
    bank_payment_id: null,
    data: null,
    ...over,
  };
}

describe('status and reason tables', () => {
  it('every paymentInformationStatus of the file is mapped, and the table says which codes the file omits', () => {
    const enumerated: string[] = schemas.PaymentInformationStatusCode.enum;
    for (const code of enumerated) expect(PAYMENT_STATUS_TABLE.find((r) => r.code === code)?.inFile, code).toBe(true);
    // The 1.5.0.43 file describes PATC and ACCO (1.6) without listing them in its enum.
    expect(PAYMENT_STATUS_TABLE.filter((r) => !r.inFile).map((r) => r.code)).toEqual(['PATC', 'ACCO']);
    for (const code of ['PATC', 'ACCO']) expect(enumerated).not.toContain(code);
  });

  it('every statusReasonInformation of the file is mapped; DUPL and TECH are described but missing from its enum', () => {
    const enumerated: string[] = schemas.StatusReasonInformation.enum;
    for (const code of enumerated) expect(REASON_TABLE.find((r) => r.code === code)?.inFile, code).toBe(true);
    expect(enumerated).not.toContain('DUPL');
    expect(enumerated).not.toContain('TECH');
    expect(schemas.StatusReasonInformation.description).toMatch(/DUPL/);
  });

  it('maps statuses before and after the consent, and reasons to Powens codes', () => {
    expect(mapPaymentStatus('RCVD', { consented: false })).toBe('validating');
    expect(mapPaymentStatus('ACTC', { consented: false })).toBe('validating');
    expect(mapPaymentStatus('ACTC', { consented: true })).toBe('pending');
    expect(mapPaymentStatus('ACCP', { consented: false })).toBe('pending');
    expect(mapPaymentStatus('ACSC', { consented: false })).toBe('done');
    expect(mapPaymentStatus('ACWP', { consented: true })).toBe('accepted');
    expect(mapPaymentStatus('PART', { consented: true })).toBe('partial');
    expect(mapPaymentStatus('CANC', { consented: true })).toBe('rejected');
    expect(mapPaymentStatus('XXXX', { consented: true })).toBeNull();
    expect(mapReason('CUST').error_code).toBe('CancelledByUser');
    expect(mapReason('AM04').error_code).toBe('insufficientFunds');
    expect(mapReason('NOAS').error_code).toBe('noAnswerFromCustomer');
    expect(mapReason('AC01').error_code).toBe('invalidBeneficiary');
    expect(mapReason('DS02').error_code).toBe('CancelledByClient');
    expect(mapReason(null).error_code).toBe('noSpecifiedReason');
  });

  it('ErrorModel answers map by HTTP status, a 400 by the field it names', () => {
    expect(mapBankError(400, { status: 400, message: 'creditorAccount.iban is invalid' }).error_code).toBe('invalidBeneficiary');
    expect(mapBankError(400, { status: 400, message: 'x', path: 'creditTransferTransaction[0].instructedAmount.amount' }).error_code).toBe('invalidAmount');
    expect(mapBankError(400, { status: 400, message: 'bad' }).error_code).toBe('invalidValue');
    expect(mapBankError(406, { status: 406, message: 'Not Acceptable' }).error_code).toBe('bug');
    expect(mapBankError(403, null)).toMatchObject({ error_code: 'noSpecifiedReason', description: 'The bank refused the request (HTTP 403)' });
  });
});

describe('PaymentRequestResource', () => {
  it('a single SEPA transfer in the 1.5 shape', () => {
    const built = buildPaymentRequest(payment(), profile(), CTX);
    expect(built.ok).toBe(true);
    const body = (built as { body: Record<string, any> }).body;
    expect(body).toMatchObject({
      paymentInformationId: expect.stringMatching(/^PAYRAIL-42-/),
      creationDateTime: '2026-12-07T09:30:00.000Z',
      numberOfTransactions: 1,
      initiatingParty: { name: 'Payrail' },
      paymentTypeInformation: { serviceLevel: 'SEPA', categoryPurpose: 'DVPM' },
      debtorAccount: { iban: 'FR1420041010050500013M02606' },
      chargeBearer: 'SLEV',
      supplementaryData: { acceptedAuthenticationApproach: ['REDIRECT'], successfulReportUrl: CTX.reportUrls.ok, unsuccessfulReportUrl: CTX.reportUrls.nok },
    });
    expect(body.paymentTypeInformation.localInstrument).toBeUndefined();
    expect(body.creditTransferTransaction).toEqual([
      {
        paymentId: { instructionId: '42-1', endToEndId: 'REF-1' },
        requestedExecutionDate: '2026-12-07T00:00:00.000Z',
        instructedAmount: { amount: 50.9, currency: 'EUR' },
        beneficiary: { creditorAgent: { bicFi: 'AGRIFRPP' }, creditor: { name: 'Cafe Societe' }, creditorAccount: { iban: 'FR7630006000011234567890189' } },
        remittanceInformation: { unstructured: ['Commande n 42 - ete'] },
      },
    ]);
    expect(new RegExp(schemas.PaymentInformationId.pattern).test(body.paymentInformationId)).toBe(true);
  });

  it('instant: INST and no downgrade; deferred: its date', () => {
    const instant = buildPaymentRequest(payment({ execution_date_type: 'instant' }), profile(), CTX) as { body: Record<string, any> };
    expect(instant.body.paymentTypeInformation.localInstrument).toBe('INST');
    expect(instant.body.acceptInstantPaymentDowngrade).toBe(false);
    const p = payment({ execution_date_type: 'deferred' });
    p.instructions[0]!.execution_date = '2026-12-24';
    const deferred = buildPaymentRequest(p, profile(), CTX) as { body: Record<string, any> };
    expect(deferred.body.creditTransferTransaction[0].requestedExecutionDate).toBe('2026-12-24T00:00:00.000Z');
  });

  it('bulk: several creditTransferTransaction entries where the bank allows, refused beyond its maximum', () => {
    expect(buildPaymentRequest(payment({}, 3), profile(), CTX)).toMatchObject({ ok: false, error_code: 'invalidValue' });
    const bulk = buildPaymentRequest(payment({}, 3), profile({ bulk: true, max_instructions: 3 }), CTX) as { body: Record<string, any> };
    expect(bulk.body.numberOfTransactions).toBe(3);
    expect(bulk.body.creditTransferTransaction.map((t: any) => [t.paymentId.endToEndId, t.instructedAmount.amount])).toEqual([
      ['REF-1', 50.9],
      ['REF-2', 50.91],
      ['REF-3', 50.92],
    ]);
    expect(buildPaymentRequest(payment({}, 4), profile({ bulk: true, max_instructions: 3 }), CTX)).toMatchObject({ ok: false });
  });

  it('standing orders: standingOrderCharacteristics with every Powens frequency mapped (four-monthly refused)', () => {
    expect(Object.values(FREQUENCY_TABLE).filter(Boolean).sort()).toEqual([...schemas.FrequencyCode.enum].sort());
    const p = payment({ execution_date_type: 'periodic' });
    Object.assign(p.instructions[0]!, { start_date: '2027-01-05', end_date: '2027-12-05', frequency: 'two-weekly' });
    expect(buildPaymentRequest(p, profile(), CTX)).toMatchObject({ ok: false }); // not offered by default
    const built = buildPaymentRequest(p, profile({ standing_orders: true }), CTX) as { body: Record<string, any> };
    expect(built.body.creditTransferTransaction[0]).toMatchObject({
      requestedExecutionDate: '2027-01-05T00:00:00.000Z',
      standingOrderCharacteristics: { startDate: '2027-01-05T00:00:00.000Z', endDate: '2027-12-05T00:00:00.000Z', executionRule: 'FWNG', frequency: 'TOWK' },
    });
    p.instructions[0]!.frequency = 'four-monthly';
    expect(buildPaymentRequest(p, profile({ standing_orders: true }), CTX)).toMatchObject({ ok: false, error_code: 'invalidDate' });
  });

  it('profile: the 1.4 shape (date at payment level, amounts as strings); minimum amount; approach', () => {
    const old = buildPaymentRequest(payment(), profile({ version: '1.4.2' }), CTX) as { body: Record<string, any> };
    expect(old.body.requestedExecutionDate).toBe('2026-12-07T00:00:00.000Z');
    expect(old.body.creditTransferTransaction[0].requestedExecutionDate).toBeUndefined();
    expect(old.body.creditTransferTransaction[0].instructedAmount.amount).toBe('50.90');
    const strings = buildPaymentRequest(payment(), profile({ amount_type: 'string', execution_date_level: 'instruction' }), CTX) as {
      body: Record<string, any>;
    };
    expect(strings.body.creditTransferTransaction[0]).toMatchObject({ instructedAmount: { amount: '50.90' }, requestedExecutionDate: expect.any(String) });
    expect(buildPaymentRequest(payment(), profile({ minimum_amount: '1.50' }), CTX).ok).toBe(true);
    expect(buildPaymentRequest(payment(), profile({ minimum_amount: '51.00' }), CTX)).toMatchObject({ ok: false, error_code: 'invalidAmount' });
    const embedded = buildPaymentRequest(payment(), profile({ approach: 'EMBEDDED-1-FACTOR' }), CTX) as { body: Record<string, any> };
    expect(embedded.body.supplementaryData.acceptedAuthenticationApproach).toEqual(['EMBEDDED-1-FACTOR']);
    expect(checkOptions({ ...BASE }, 'decoupled').approach).toBe('DECOUPLED');
    expect(profile({ version: '1.4.1' }).redirect_flow).toBe('redirect');
  });
});

describe('where the payment id is', () => {
  const link = (href: string) => href;
  it('the Location header (absolute or relative), by default', () => {
    expect(resourceIdOf('location', '', { location: 'https://bank.example/stet/v1/payment-requests/PR-123' }, null)).toBe('PR-123');
    expect(resourceIdOf('location', '', { location: '/payment-requests/abc_9' }, null)).toBe('abc_9');
    expect(resourceIdOf('location', '', {}, null)).toBeNull();
  });
  it('a consent link query parameter, by any of the names banks use', () => {
    for (const name of ['paymentRequestResourceId', 'paymentRequestRessourceId', 'i', 'params[resourceId]'])
      expect(resourceIdOf('query', name, {}, link(`https://bank.example/consent?${encodeURIComponent(name)}=PR-77&nonce=x`)), name).toBe('PR-77');
  });
  it('the last path segment, or the fragment', () => {
    expect(resourceIdOf('path', '', {}, 'https://bank.example/finalisation-virement/PR-88')).toBe('PR-88');
    expect(resourceIdOf('fragment', '', {}, 'https://sg.example/app#obu/PR-99?lang=fr')).toBe('PR-99');
    expect(resourceIdOf('path', '', {}, 'https://bank.example/x/%2E%2E%2F..')).toBeNull();
  });
});

describe('signature scheme', () => {
  const pem = readFileSync(new URL('../fixtures/stet-qseal.pem', import.meta.url), 'utf8');
  const cert = new X509Certificate(pem);
  it('keyId forms: url, client_id, serial, der', () => {
    const base = { key_id: 'https://pisp.example/qseal.pem', client_id: 'PSDFR-ACPR-12345', signed_headers: ['(request-target)', 'digest', 'x-request-id'] };
    expect(stetSignatureScheme({ ...base, key_id_form: 'url' }).keyId(cert)).toBe('https://pisp.example/qseal.pem');
    expect(stetSignatureScheme({ ...base, key_id_form: 'client_id' }).keyId(cert)).toBe('PSDFR-ACPR-12345');
    expect(stetSignatureScheme({ ...base, key_id_form: 'serial' }).keyId(cert)).toBe(cert.serialNumber.toUpperCase());
    expect(stetSignatureScheme({ ...base, key_id_form: 'der' }).keyId(cert)).toBe(cert.raw.toString('base64'));
  });
  it('signed headers: the profile order, psu-* expanded, digest and x-request-id always', () => {
    const present = new Set(['digest', 'x-request-id', 'psu-ip-address', 'psu-user-agent', 'content-type', 'authorization']);
    const scheme = (signed: string[]) => stetSignatureScheme({ key_id_form: 'client_id', key_id: null, client_id: 'c', signed_headers: signed });
    expect(scheme(['(request-target)', 'digest', 'x-request-id', 'psu-*']).fields(present)).toEqual([
      '@request-target',
      'digest',
      'x-request-id',
      'psu-ip-address',
      'psu-user-agent',
    ]);
    expect(scheme(['(request-target)', 'digest', 'date']).fields(present)).toEqual(['@request-target', 'digest', 'x-request-id']);
    expect(scheme(['digest', 'psu-ip-address', 'x-request-id']).fields(present)).toEqual(['digest', 'psu-ip-address', 'x-request-id']);
  });
});

describe('profile checks', () => {
  it('names the wrong option', () => {
    expect(() => checkOptions({ ...BASE, colour: 'blue' }, 'redirect')).toThrow(/stet option colour/);
    expect(() => checkOptions({ token_url: BASE.token_url, key_id: BASE.key_id }, 'redirect')).toThrow(/client_id/);
    expect(() => checkOptions({ client_id: 'x', key_id: BASE.key_id }, 'redirect')).toThrow(/token_url/);
    expect(() => checkOptions({ client_id: 'x', token_url: BASE.token_url }, 'redirect')).toThrow(/key_id/);
    expect(() => checkOptions({ ...BASE, accept: 'text/html' }, 'redirect')).toThrow(ProfileError);
    expect(() => checkOptions({ ...BASE, signed_headers: ['Digest'] }, 'redirect')).toThrow(/signed_headers/);
    expect(() => checkOptions({ ...BASE, minimum_amount: '0' }, 'redirect')).toThrow(/minimum_amount/);
    expect(checkOptions({ ...BASE, key_id: undefined, key_id_form: 'client_id' }, 'redirect').key_id_form).toBe('client_id');
  });
});

describe('the descriptor a bank offers', () => {
  const connector = (profile: Record<string, unknown>) =>
    createStetConnector(
      {
        id: 7,
        uuid: '00000000-0000-4000-8000-000000000007',
        name: 'Banque',
        standard: 'stet',
        base_url: 'https://bank.example/stet',
        country: 'FR',
        bic: null,
        sca_approach: 'redirect',
        profile: { ...checkOptions({ ...BASE, ...profile }, 'redirect') }, // stored as bank add checks it
        has_client_cert: false,
        has_ca: false,
        has_signing_key: true,
        created_at: 0,
      },
      STET_SETTINGS,
    );
  it('cancellation, bulk, standing orders, execution types and the minimum amount follow the profile', () => {
    const plain = connector({}).descriptor.payment_settings;
    expect(plain).toMatchObject({ cancellation_available: true, maximum_number_of_instructions: 1, execution_frequencies: [], bulk_execution_date_types: [] });
    expect(plain.execution_date_types).toEqual(['first_open_day', 'instant', 'deferred']);
    const rich = connector({
      cancellation: false,
      bulk: true,
      max_instructions: 50,
      standing_orders: true,
      minimum_amount: '1.50',
      execution_date_types: ['first_open_day'],
    }).descriptor.payment_settings;
    expect(rich).toMatchObject({
      cancellation_available: false,
      maximum_number_of_instructions: 50,
      minimum_amount: { first_open_day: '1.50', periodic: '1.50' },
    });
    expect(rich.execution_date_types).toEqual(['first_open_day', 'periodic']);
    expect(rich.execution_frequencies).not.toContain('four-monthly');
    expect(rich.execution_frequencies).toContain('two-weekly');
  });
  it('the consent flow it declares follows approach and redirect_flow; initiating_party is the name sent', () => {
    expect(connector({}).consentFlows).toEqual(['oauth2']);
    expect(connector({ redirect_flow: 'redirect' }).consentFlows).toEqual(['redirect']);
    expect(connector({ approach: 'DECOUPLED' }).consentFlows).toEqual(['decoupled']);
    expect(connector({ approach: 'EMBEDDED-1-FACTOR' }).consentFlows).toEqual(['embedded']);
    const built = buildPaymentRequest(payment(), profile({ initiating_party: 'Boutique Exemple SAS' }), CTX) as { body: Record<string, any> };
    expect(built.body.initiatingParty).toEqual({ name: 'Boutique Exemple SAS' });
  });
});
