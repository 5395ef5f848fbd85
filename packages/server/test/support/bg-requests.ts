/** A minimal, standard-conformant NextGenPSD2 client for the simulator tests (docs/reference/berlin-group.md §2-§3). */
import { randomUUID } from 'node:crypto';

export const DEBTOR_IBAN = 'DE02100100109307118603';
export const CREDITOR_IBAN = 'DE89370400440532013000';

export const SINGLE = {
  endToEndIdentification: 'ORDER-0042',
  debtorAccount: { iban: DEBTOR_IBAN },
  instructedAmount: { currency: 'EUR', amount: '50.90' },
  creditorAccount: { iban: CREDITOR_IBAN },
  creditorName: 'ACME Corp.',
  remittanceInformationUnstructured: 'Order 0042',
};

export const BULK = {
  debtorAccount: { iban: DEBTOR_IBAN },
  batchBookingPreferred: true,
  payments: [
    { instructedAmount: { currency: 'EUR', amount: '10.00' }, creditorAccount: { iban: CREDITOR_IBAN }, creditorName: 'ACME Corp.' },
    { instructedAmount: { currency: 'EUR', amount: '0.99' }, creditorAccount: { iban: 'FR7630006000011234567890189' }, creditorName: 'Boulangerie' },
  ],
};

export interface BgResponse {
  status: number;
  headers: Headers;
  json: any;
}

export const TPP = { ok: 'https://tpp.example/return?state=s1', nok: 'https://tpp.example/failed?state=s1' };

export function bgHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    Accept: 'application/json',
    'X-Request-ID': randomUUID(),
    'PSU-IP-Address': '192.168.8.78',
    'TPP-Redirect-URI': TPP.ok,
    'TPP-Nok-Redirect-URI': TPP.nok,
    ...extra,
  };
}

export async function bg(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<BgResponse> {
  const headers = { ...bgHeaders(), ...options.headers };
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(options.timeoutMs ?? 20_000) };
  if (options.body !== undefined) {
    init.body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

/** The payer on the bank's SCA page, without a browser: read the form, press a button. Returns where the bank sends them. */
export async function decideOnPage(scaRedirect: string, decision: 'approve' | 'refuse'): Promise<{ status: number; location: string | null; page: string }> {
  const page = await (await fetch(scaRedirect)).text();
  const token = /name="token" value="([^"]+)"/.exec(page)?.[1];
  if (!token) throw new Error(`no form on the SCA page:\n${page}`);
  const response = await fetch(scaRedirect, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, decision }).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), page };
}
