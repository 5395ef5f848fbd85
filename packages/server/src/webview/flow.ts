/**
 * The webview's step logic (docs/reference/powens-pay-api.md §5.3, §7): which page the payer sees for the payment as it stands
 * (`currentStep`), what a posted form does (`perform`), and where the payer leaves to (`exitTo`,
 * `finalRedirect`). No HTML here (pages.ts) and no HTTP (routes.ts); the store only through services.
 */
import type { Clock } from '../domain/clock.ts';
import { isCompatible } from '../domain/compatibility.ts';
import { ApiError } from '../domain/errors.ts';
import { FINAL_STATES, type PaymentState } from '../domain/states.ts';
import type { Connector, PaymentField, PsuHttp } from '../connectors/kit/types.ts';
import type { ConnectorRegistry } from '../connectors/registry.ts';
import { DETAIL, mayInitiateAgain } from '../services/payment-checks.ts';
import {
  type ActionEnvironment,
  cancelByPayer,
  compatibilityOf,
  psuValidate,
  resumePayment,
  submitFields,
  validatePayment,
} from '../services/payment-actions.ts';
import type { PaymentRecord } from '../services/payments.ts';
import type { WebviewExit } from './layout.ts';
import type { Lang } from './i18n.ts';
import type { WebviewContext } from './context.ts';
import { readJson } from '../store/rows.ts';

export function flowPath(lang: Lang): string {
  return `/2.0/auth/webview/${lang}/flow`;
}

/** `client_redirect_uri` (or the error exit `redirect_uri`) with the callback parameters of docs/reference/powens-pay-api.md §7.3. */
export function callbackUrl(base: string, params: Record<string, string | number | null | undefined>): string {
  return exitTo(base, params).url;
}

export function exitTo(base: string, params: Record<string, string | number | null | undefined>): WebviewExit {
  const kept: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') kept[key] = value;
  const query = new URLSearchParams(Object.entries(kept).map(([k, v]): [string, string] => [k, String(v)]));
  return { url: `${base}?${query.toString()}`, params: kept };
}

/** The webview reference's error exit: `error` (lower-case code) and `error_description`, plus the payment when known. */
export function errorExit(
  base: string,
  error: string,
  description: string,
  extra: { state?: string | null; id_payment?: number; error_code?: string | null } = {},
): WebviewExit {
  return exitTo(base, { state: extra.state, id_payment: extra.id_payment, error, error_code: extra.error_code, error_description: description });
}

export function finalRedirect(record: PaymentRecord, ctx: WebviewContext): WebviewExit {
  const p = record.payment;
  return exitTo(p.client_redirect_uri, {
    state: ctx.state ?? p.client_state,
    id_payment: p.id,
    // A payment waiting for the merchant's confirmation is, for the payer, validated (docs/reference/powens-pay-api.md §5.3).
    payment_state: p.state === 'validating' && p.action === 'confirm' ? 'pending' : p.state,
    error_code: p.state === 'rejected' ? p.error_code : null,
    bank_message: p.state === 'rejected' ? p.error_description : null,
  });
}

/** The entry rule of docs/reference/powens-pay-api.md §5.3: act only on created, or validating with an action other than confirm. */
export function webviewMayAct(record: PaymentRecord): boolean {
  const { state, action } = record.payment;
  return state === 'created' || (state === 'validating' && action !== 'confirm' && !FINAL_STATES.has(state as PaymentState));
}

/** The banks offered for this payment, split into the payer's country and the others, filtered by the search. */
export async function bankGroups(
  record: PaymentRecord,
  connectors: ConnectorRegistry,
  clock: Clock,
  search: string,
): Promise<{ matching: number; home: Connector[]; others: Connector[] }> {
  const compatible = (await connectors.offered()).filter((c) => !c.descriptor.hidden && isCompatible(compatibilityOf(record, c, clock.now())));
  const needle = search.trim().toLowerCase();
  const matching = compatible.filter((c) => !needle || c.descriptor.name.toLowerCase().includes(needle) || c.descriptor.slug.includes(needle));
  const home = record.payment.country;
  return {
    matching: matching.length,
    home: matching.filter((c) => c.descriptor.countries.includes(home)),
    others: matching.filter((c) => !c.descriptor.countries.includes(home)),
  };
}

/** One page of the flow, as the payment stands. */
export type Step =
  /** The initiation is being sent: the page checks again shortly. */
  | { kind: 'initiating' }
  /** The payer chose a bank: its static fields (and the payer's account where the bank wants it) before the initiation. */
  | { kind: 'bankForm'; connector: Connector; fields: PaymentField[]; needsPayer: boolean }
  | { kind: 'banks' }
  /** The bank's answer to the initiation was lost (or is still awaited); a fresh attempt only where it is safe. */
  | { kind: 'unknown'; initiating: boolean; retry: Connector | null }
  | { kind: 'redirect'; uri: string }
  | { kind: 'decoupled'; description: string | null }
  /** The connector's next step: what the bank needs from the payer (embedded SCA: credentials, a method, a code). */
  | { kind: 'fields'; fields: PaymentField[]; description: string | null }
  | { kind: 'psu' };

export async function currentStep(record: PaymentRecord, connectors: ConnectorRegistry, clock: Clock, chosen: string | undefined): Promise<Step> {
  const p = record.payment;
  if (p.state === 'created') {
    if (p.state_detail === DETAIL.initiating) return { kind: 'initiating' };
    const connector = chosen ? await connectors.byUuid(chosen) : undefined;
    if (!connector) return { kind: 'banks' };
    return {
      kind: 'bankForm',
      connector,
      needsPayer: !p.payer && connector.descriptor.payment_settings.providing_payer_account === 'mandatory',
      fields: connector.descriptor.payment_fields.filter((f) => (f.auth_mechanisms ?? ['webauth']).includes('webauth')),
    };
  }
  if (p.state_detail === DETAIL.initiationUnknown || p.state_detail === DETAIL.initiating) {
    const connector = p.connector_uuid ? await connectors.byUuid(p.connector_uuid, { any: true }) : undefined;
    const retry = connector && mayInitiateAgain(p, connector, clock.now()) ? connector : null;
    return { kind: 'unknown', initiating: p.state_detail === DETAIL.initiating, retry };
  }
  if (p.action === 'redirect' && p.validate_uri) return { kind: 'redirect', uri: p.validate_uri };
  if (p.action === 'decoupled') return { kind: 'decoupled', description: p.error_description };
  if (p.action === 'additionalInformationNeeded') {
    return { kind: 'fields', fields: readJson(p.fields) ?? [], description: p.error_description };
  }
  return { kind: 'psu' };
}

/** What the route does after a posted form. */
export type FormResult =
  /** A same-origin 303 (the flow page again, with extra query parameters). */
  | { kind: 'see'; url: string }
  /** Wherever the payment leads next (a bank's page, or the flow): `navigate` in layout.ts. */
  | { kind: 'go'; url: string }
  /** The payer leaves the webview. */
  | { kind: 'leave'; exit: WebviewExit }
  /** Anything else went wrong: the payer goes back with `error=server_error`. */
  | { kind: 'failure'; error: unknown };

/** The payer's values of the connector's fields (`field_NAME` inputs); empty ones are not sent. */
export function fieldValues(form: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(form)
      .filter(([k]) => k.startsWith('field_'))
      .map(([k, v]) => [k.slice(6), v])
      .filter(([, v]) => v !== ''),
  );
}

/**
 * Carries out one posted form (`op`: choose, validate, resume, fields, psu, cancel). What the payer
 * typed (credentials, codes) goes to the connector and nowhere else: never stored, never logged.
 */
export async function perform(
  env: ActionEnvironment,
  ctx: WebviewContext,
  form: Record<string, string>,
  /** The payer's address and browser request, for the bank's PSU headers (never stored). */
  payer: { ip: string; http: PsuHttp },
  withState: (ctx: WebviewContext) => Promise<WebviewContext>,
): Promise<FormResult> {
  const flow = `${flowPath(ctx.lang)}?w=${form.w!}`;
  const values = fieldValues(form);
  try {
    switch (form.op) {
      case 'choose': {
        const connector = form.connector_uuid ? await env.connectors.byUuid(form.connector_uuid) : undefined;
        if (!connector) return { kind: 'see', url: `${flow}&error=input` };
        return { kind: 'see', url: `${flow}&connector=${connector.descriptor.uuid}` };
      }
      case 'validate': {
        const { payment } = await validatePayment(
          env,
          ctx.domainId,
          ctx.paymentId,
          {
            connector_uuid: form.connector_uuid ?? null,
            webview_url: `${env.baseUrl}${flow}`,
            validate_mechanism: 'webauth',
            fields: values,
            ...(form.payer_iban ? { payer: { scheme_name: 'iban', identification: form.payer_iban } } : {}),
          },
          [],
          payer,
        );
        return { kind: 'go', url: payment.action === 'redirect' && payment.validate_uri ? payment.validate_uri : flow };
      }
      case 'resume':
        await resumePayment(env, ctx.domainId, ctx.paymentId);
        return { kind: 'see', url: flow };
      case 'fields':
        await submitFields(env, ctx.domainId, ctx.paymentId, values, payer.http);
        return { kind: 'see', url: flow };
      case 'psu':
        await psuValidate(env, ctx.domainId, ctx.paymentId, form.answer === 'yes');
        return { kind: 'see', url: flow };
      case 'cancel': {
        const payment = await cancelByPayer(env, ctx.domainId, ctx.paymentId);
        return {
          kind: 'leave',
          exit: exitTo(ctx.redirectUri, {
            state: (await withState(ctx)).state ?? payment.client_state,
            id_payment: payment.id,
            error: 'cancelled',
            error_code: payment.error_code,
          }),
        };
      }
      default:
        return { kind: 'see', url: `${flow}&error=input` };
    }
  } catch (error) {
    // The payment moved on (a replayed or late form): the flow page shows where it stands, or exits.
    if (error instanceof ApiError && error.code === 'invalidState') return { kind: 'see', url: flow };
    // What the payer typed is wrong: the same step again, with a message.
    if (error instanceof ApiError && (error.code === 'invalidValue' || error.code === 'missingParameter')) {
      const connector = form.op === 'validate' && form.connector_uuid ? `&connector=${encodeURIComponent(form.connector_uuid)}` : '';
      return { kind: 'see', url: `${flow}${connector}&error=input` };
    }
    return { kind: 'failure', error };
  }
}
