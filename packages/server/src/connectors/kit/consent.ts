/**
 * The payer's consent flows a connector may use (docs/banks.md, "Consent flows"). A connector
 * declares, per bank, which of them it uses (`Connector.consentFlows`); the core and the webview
 * carry each one:
 *
 * - `redirect`: the payer goes to a bank URL and comes back (`kind: 'redirect'` outcome).
 * - `decoupled`: the payer approves in the bank's app; the webview polls (`kind: 'decoupled'`).
 * - `embedded`: the webview asks what the bank needs, in steps the connector describes with the
 *   helpers below (`kind: 'fields'`): credentials, a choice of SCA method, a one-time code. The
 *   values go to the connector's `submitFields` and nowhere else: never stored, never logged.
 * - `oauth2`: OAuth 2.0 authorization code with PKCE (S256) and `state` (oauth.ts).
 * - `oidc-hybrid`: OpenID Connect hybrid flow (`response_type=code id_token`, `nonce`), whose
 *   answer comes back in the URL fragment (oauth.ts; the return page forwards it).
 */
import type { ConnectorOutcome, PaymentField } from './types.ts';

export { CONSENT_FLOWS, type ConsentFlow } from './types.ts';

/**
 * Names of the embedded steps' fields. Their values are secrets of the payer: redact.ts blanks
 * them in exchange bodies, and the core never writes them anywhere.
 */
export const EMBEDDED_FIELDS = { userId: 'psu_id', password: 'psu_password', method: 'sca_method', code: 'sca_code' } as const;

/** An SCA method the bank offers the payer (Berlin Group `scaMethods`, STET approaches…). */
export interface ScaMethod {
  id: string;
  label: string;
}

function field(name: string, type: PaymentField['type'], label: string, regex: string | null = null): PaymentField {
  return { name, type, label, required: true, regex, default: null };
}

type Common = { data: Record<string, unknown>; description?: string | null; bank_reference?: string | null };

/** Step 1: the payer's online-banking identifier and password. */
export function credentialsStep(common: Common, labels: { userId?: string; password?: string } = {}): ConnectorOutcome {
  return {
    kind: 'fields',
    fields: [
      field(EMBEDDED_FIELDS.userId, 'text', labels.userId ?? 'Online banking user id'),
      field(EMBEDDED_FIELDS.password, 'password', labels.password ?? 'Password'),
    ],
    ...common,
  };
}

/** Step 2: a choice among the SCA methods the bank returned. */
export function methodStep(common: Common, methods: readonly ScaMethod[], label = 'How do you want to confirm?'): ConnectorOutcome {
  return {
    kind: 'fields',
    fields: [{ ...field(EMBEDDED_FIELDS.method, 'list', label), values: methods.map((m) => ({ label: m.label, value: m.id })) }],
    ...common,
  };
}

/** Step 3: the one-time code the bank sent (SMS, app, card reader…). */
export function codeStep(common: Common, label = 'Enter the one-time code', regex = '^[0-9]{4,8}$'): ConnectorOutcome {
  return { kind: 'fields', fields: [field(EMBEDDED_FIELDS.code, 'text', label, regex)], ...common };
}
