/**
 * The sandbox banks: one per consent flow of the connector kit (kit/consent.ts), offered beside
 * Powens' "Connecteur de test" wherever the test bank is on, so that each page of the webview is
 * exercised before a real standard uses it. Their answers follow the test bank's lifecycle: an
 * approval is `done` (bank status ACSC), a refusal `rejected`. Documented in docs/banks.md.
 *
 * - redirect: the test bank's approval page;
 * - decoupled: approval in the "app" after ≈10 s (or one scenario step, if shorter);
 * - embedded: user id and password → a choice of SCA method → a one-time code;
 * - OAuth2: authorization code with PKCE and `state`, at the simulated authorization server that
 *   Payrail serves (`/2.0/testbank/oauth`), the code exchanged with `client_secret_basic`;
 * - OpenID hybrid: a signed request object, `code id_token` returned in the URL fragment, the
 *   id_token verified against the server's JWKS, the code exchanged with `private_key_jwt`.
 */
import {
  checkReturn,
  consentReturnUrl,
  exchangeCode,
  fetchJwks,
  type OAuthClient,
  type OAuthFlow,
  openPending,
  sealPending,
  sealToken,
  startAuthorization,
} from '../kit/oauth.ts';
import { codeStep, type ConsentFlow, credentialsStep, EMBEDDED_FIELDS, methodStep } from '../kit/consent.ts';
import type { ConfiguredBank, Connector, ConnectorContext, ConnectorOutcome, ConnectorPayment, PaymentSettings } from '../kit/types.ts';
import { bankPageUri, DECOUPLED_DELAY_MS, TEST_SETTINGS } from '../test-connector.ts';
import { SANDBOX_CLIENT_ID, SANDBOX_CLIENT_KID, SANDBOX_SCOPE, sandboxClientSecret, sandboxIssuer, sandboxKeys } from './authority.ts';

/** The embedded bank's credentials and codes (docs/banks.md). */
export const SANDBOX_PASSWORD = 'sandbox-secret-42';
export const SANDBOX_CODES: Record<string, string> = { sms: '482913', app: '735104' };
export const SANDBOX_METHODS = [
  { id: 'sms', label: 'SMS to +33 6 •• •• •• 42' },
  { id: 'app', label: 'Code shown in the bank app' },
];

/** One-time payments only, no cancellation: each sandbox bank shows one consent flow, nothing else. */
const settings: PaymentSettings = {
  ...TEST_SETTINGS,
  execution_date_types: ['first_open_day', 'instant'],
  execution_frequencies: [],
  maximum_number_of_instructions: 1,
  bulk_execution_date_types: [],
  cancellation_available: false,
  minimum_amount: { first_open_day: '0.01', instant: '0.01' },
};

export const SANDBOX_UUIDS: Record<ConsentFlow, string> = {
  redirect: '5a1f0c2e-8d3b-4b7e-9c41-0e6f1d2a7b01',
  decoupled: '5a1f0c2e-8d3b-4b7e-9c41-0e6f1d2a7b02',
  embedded: '5a1f0c2e-8d3b-4b7e-9c41-0e6f1d2a7b03',
  oauth2: '5a1f0c2e-8d3b-4b7e-9c41-0e6f1d2a7b04',
  'oidc-hybrid': '5a1f0c2e-8d3b-4b7e-9c41-0e6f1d2a7b05',
};

const NAMES: Record<ConsentFlow, string> = {
  redirect: 'Consent flow bank (redirect)',
  decoupled: 'Consent flow bank (decoupled)',
  embedded: 'Consent flow bank (embedded)',
  oauth2: 'Consent flow bank (OAuth2 + PKCE)',
  'oidc-hybrid': 'Consent flow bank (OpenID hybrid)',
};

const IDS: Record<ConsentFlow, number> = { redirect: 41, decoupled: 42, embedded: 43, oauth2: 44, 'oidc-hybrid': 45 };

function approved(data: Record<string, unknown>, ctx: ConnectorContext): ConnectorOutcome {
  return { kind: 'state', state: 'done', bank_status: 'ACSC', data: { ...data, approved_at: ctx.now } };
}

function rejected(data: Record<string, unknown>, error_code: string, error_description: string): ConnectorOutcome {
  return { kind: 'state', state: 'rejected', error_code, error_description, bank_status: 'RJCT', data };
}

/** The sandbox's own bank id of a payment (the intent the authorization request names). */
function intentId(payment: ConnectorPayment): string {
  return `SBX-${payment.id}`;
}

/** The OAuth client of the sandbox banks, as a real bank's would come from its configuration. */
export function sandboxClient(ctx: ConnectorContext, flow: OAuthFlow): OAuthClient {
  const issuer = sandboxIssuer(ctx.baseUrl);
  const keys = sandboxKeys(ctx.sign);
  return {
    clientId: SANDBOX_CLIENT_ID,
    issuer,
    authorizationEndpoint: `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/token`,
    redirectUri: consentReturnUrl(ctx.baseUrl),
    scope: SANDBOX_SCOPE,
    auth:
      flow === 'oauth2'
        ? { method: 'client_secret_basic', secret: sandboxClientSecret(ctx.sign) }
        : { method: 'private_key_jwt', key: keys.client, kid: SANDBOX_CLIENT_KID, alg: 'ES256' },
    requestObject: flow === 'oidc-hybrid' ? { key: keys.client, kid: SANDBOX_CLIENT_KID, alg: 'ES256' } : null,
    idTokenAlgorithms: ['ES256'],
  };
}

/** What no sandbox bank does (no cancellation, no later status: approval is final). */
const inert = {
  async resume(payment: ConnectorPayment) {
    return { kind: 'decoupled', description: 'Please confirm the transaction in the phone app.', data: payment.data ?? {} } as ConnectorOutcome;
  },
  async submitFields(payment: ConnectorPayment) {
    return rejected(payment.data ?? {}, 'bug', 'This bank asks for no information.');
  },
  async psuValidate(payment: ConnectorPayment) {
    return rejected(payment.data ?? {}, 'bug', 'This bank asks for no validation.');
  },
  async bankReturn(payment: ConnectorPayment) {
    return rejected(payment.data ?? {}, 'bug', 'This bank sends nobody away.');
  },
  async status() {
    return null;
  },
  async cancel(payment: ConnectorPayment) {
    return {
      kind: 'refused',
      error_code: 'notSupported',
      error_description: 'This bank cannot cancel a payment.',
      data: payment.data ?? {},
    } as ConnectorOutcome;
  },
  pollIntervalMs() {
    return 60_000;
  },
};

function sandbox(flow: ConsentFlow, parts: Partial<Connector> & Pick<Connector, 'start'>): Connector {
  return {
    ...inert,
    bank: null,
    consentFlows: [flow],
    descriptor: {
      id: IDS[flow],
      uuid: SANDBOX_UUIDS[flow],
      name: NAMES[flow],
      slug: `sandbox-${flow}`,
      hidden: false,
      beta: true,
      color: '6b7280',
      countries: ['FR', 'BE', 'DE', 'ES', 'IT', 'NL', 'PT', 'GB'],
      products: ['pay'],
      capabilities: ['transfer', 'onetimepayment'],
      payment_settings: settings,
      payment_fields: [],
    },
    ...parts,
  };
}

const redirectBank = sandbox('redirect', {
  async start(payment, _input, ctx) {
    return { kind: 'redirect', validate_uri: bankPageUri(payment, ctx, 'validate'), bank_reference: intentId(payment), data: {} };
  },
  async bankReturn(payment, params, ctx) {
    const data = payment.data ?? {};
    if (params.decision === 'approve') return approved(data, ctx);
    if (params.decision === 'refuse') return rejected(data, 'CancelledByUser', 'The payment was refused by the user at the bank.');
    return { kind: 'redirect', validate_uri: bankPageUri(payment, ctx, 'validate'), data };
  },
});

/** The app's answer comes after ≈10 s, or after one scenario step where the installation's is shorter (tests). */
function decoupledDelay(ctx: ConnectorContext): number {
  return Math.min(DECOUPLED_DELAY_MS, ctx.testStepMs);
}

const decoupledBank = sandbox('decoupled', {
  async start(payment, _input, ctx) {
    return { kind: 'decoupled', description: 'Please confirm the transaction in the phone app.', bank_reference: intentId(payment), data: { since: ctx.now } };
  },
  async resume(payment, ctx) {
    const data = payment.data ?? {};
    if (ctx.now - Number(data.since ?? ctx.now) < decoupledDelay(ctx)) {
      return { kind: 'decoupled', description: 'Please confirm the transaction in the phone app.', data };
    }
    // A label that says so is refused in the app (the payer's "No").
    if (/\brefuse\b/i.test(payment.instructions[0]?.label ?? '')) return rejected(data, 'CancelledByUser', 'The payer refused in the bank app.');
    return approved(data, ctx);
  },
});

/**
 * Embedded SCA: each step's answer goes to `submitFields` and is compared here, then forgotten:
 * `data` keeps only which step comes next and the chosen method, never a password or a code.
 */
const embeddedBank = sandbox('embedded', {
  async start(payment) {
    return credentialsStep(
      { data: { step: 'credentials' }, bank_reference: intentId(payment), description: 'Log in to the sandbox bank.' },
      { userId: 'Sandbox user id', password: 'Sandbox password' },
    );
  },
  async submitFields(payment, fields, ctx) {
    const data = payment.data ?? {};
    switch (data.step) {
      case 'credentials':
        if (!fields[EMBEDDED_FIELDS.userId] || fields[EMBEDDED_FIELDS.password] !== SANDBOX_PASSWORD) {
          return rejected({ step: 'failed' }, 'authenticationFailed', 'The user id or password is wrong.');
        }
        return methodStep({ data: { step: 'method' }, description: 'Choose how to confirm this payment.' }, SANDBOX_METHODS);
      case 'method': {
        const method = SANDBOX_METHODS.find((m) => m.id === fields[EMBEDDED_FIELDS.method]);
        if (!method) return rejected({ step: 'failed' }, 'authenticationFailed', 'Unknown confirmation method.');
        return codeStep({ data: { step: 'code', method: method.id }, description: `A code was sent: ${method.label}.` }, 'One-time code');
      }
      case 'code': {
        const expected = SANDBOX_CODES[String(data.method)];
        if (!expected || fields[EMBEDDED_FIELDS.code] !== expected) return rejected({ step: 'failed' }, 'authenticationFailed', 'The one-time code is wrong.');
        return approved({ step: 'done', method: data.method }, ctx);
      }
      default:
        return rejected(data, 'bug', 'This payment is not waiting for an answer.');
    }
  },
});

function oauthBank(flow: OAuthFlow): Connector {
  return sandbox(flow, {
    selfHosted: true,
    async start(payment, _input, ctx) {
      const client = sandboxClient(ctx, flow);
      const intent = intentId(payment);
      const { url, pending } = await startAuthorization(client, {
        flow,
        paymentId: payment.id,
        now: ctx.now,
        // The intent rides in the signed request object where there is one (as UK Open Banking's), else in the query.
        ...(client.requestObject ? { claims: { id_token: { openbanking_intent_id: { value: intent, essential: true } } } } : { params: { intent_id: intent } }),
      });
      return { kind: 'redirect', validate_uri: url, bank_reference: intent, data: { authorize: url }, consent: sealPending(ctx, pending) };
    },
    async bankReturn(payment, params, ctx) {
      const data = payment.data ?? {};
      const pending = openPending(ctx, payment.consent);
      if (!pending) return rejected(data, 'bug', 'The consent of this payment was lost.');
      const client = sandboxClient(ctx, flow);
      const jwks = flow === 'oidc-hybrid' ? await fetchJwks(ctx.http, `${client.issuer}/jwks`) : null;
      if (flow === 'oidc-hybrid' && !jwks) return { kind: 'unknown', reason: 'the bank key set could not be read', data };
      const checked = await checkReturn(client, pending, params, { now: ctx.now, jwks });
      // Not this payer's answer: nothing changes, the payment still waits at the bank.
      if (checked.foreign) return { kind: 'redirect', validate_uri: String(data.authorize), data };
      const { authorize: _used, ...rest } = data; // a state is good for one return: the sealed pending goes below
      if (!checked.ok) return { ...rejected(rest, checked.error_code, checked.error_description), consent: null };
      if (checked.idToken && checked.idToken.openbanking_intent_id !== intentId(payment)) {
        return { ...rejected(rest, 'authenticationFailed', "The bank's id_token names another payment."), consent: null };
      }
      const exchange = await exchangeCode(ctx.http, client, { code: checked.code, verifier: pending.verifier, now: ctx.now });
      if (exchange.kind === 'unknown') return { kind: 'unknown', reason: `token exchange: ${exchange.reason}`, data: rest };
      if (exchange.kind === 'refused') {
        return { ...rejected(rest, 'authenticationFailed', `The bank refused the authorization (${exchange.error}).`), consent: null };
      }
      // The payer's token replaces the spent authorization, sealed on the attempt for the calls that need it.
      return { ...approved(rest, ctx), consent: sealToken(ctx, exchange.token) };
    },
  });
}

export const SANDBOX_CONNECTORS: readonly Connector[] = [redirectBank, decoupledBank, embeddedBank, oauthBank('oauth2'), oauthBank('oidc-hybrid')];

/** The pseudo-bank behind the sandbox's HTTP calls: Payrail's own public URL. */
export function sandboxBank(baseUrl: string): ConfiguredBank {
  return {
    id: 0,
    uuid: SANDBOX_UUIDS.oauth2,
    name: 'Payrail sandbox',
    standard: 'test',
    base_url: baseUrl,
    country: null,
    bic: null,
    sca_approach: 'redirect',
    profile: { timeout_ms: 10_000 },
    has_client_cert: false,
    has_ca: false,
    has_signing_key: false,
    created_at: 0,
  };
}
