/** Friendly names over the generated OpenAPI types. Enums stay open: a new server value is still a string. */
import type { components, paths } from './openapi.ts';

type Open<T extends string> = T | (string & {});

export type PaymentState = Open<'created' | 'validating' | 'pending' | 'accepted' | 'done' | 'rejected' | 'expired' | 'partial'>;
export type PaymentAction = Open<'redirect' | 'decoupled' | 'additionalInformationNeeded' | 'psuValidation' | 'confirm'>;
export type PaymentErrorCode = Open<
  | 'invalidEmitter'
  | 'insufficientFunds'
  | 'invalidAmount'
  | 'invalidCurrency'
  | 'invalidDate'
  | 'invalidBeneficiary'
  | 'invalidLabel'
  | 'invalidReferenceId'
  | 'regulatoryReason'
  | 'authenticationFailed'
  | 'noAnswerFromCustomer'
  | 'noSpecifiedReason'
  | 'CancelledByUser'
  | 'CancelledByClient'
  | 'confirmationRefused'
  | 'bankMessage'
  | 'invalidValue'
  | 'websiteUnavailable'
  | 'bug'
>;
export type Scope = Open<'payments:admin' | 'payments:read-only' | 'payments:allow-sensitive' | 'payments:validate' | 'payments:cancel'>;

export type Payment = Omit<components['schemas']['Payment'], 'state' | 'action' | 'error_code'> & {
  state: PaymentState;
  action: PaymentAction | null;
  error_code: PaymentErrorCode | null;
};
export type ApiErrorBody = components['schemas']['Error'];

type JsonBody<T> = T extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : T extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B
    : never;
type Ok<T> = T extends { responses: { 200: { content: { 'application/json': infer R } } } } ? R : never;
type Query<T> = T extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type PaymentInitRequest = JsonBody<paths['/2.0/payments']['post']>;
export type PaymentActionRequest = JsonBody<paths['/2.0/payments/{id}']['post']>;
export type ListPaymentsQuery = Query<paths['/2.0/payments']['get']>;
export type PaymentList = { payments: Payment[]; total: number };
export type ScopedToken = Ok<paths['/2.0/payments/{id}/scopedtoken']['post']>;
export type ServiceToken = Ok<paths['/2.0/auth/token']['post']>;
export type Incompatibilities = Ok<paths['/2.0/payments/{id}/incompatibilities']['get']>;
export type ConnectorList = Ok<paths['/2.0/connectors']['get']>;
export type ListConnectorsQuery = Query<paths['/2.0/connectors']['get']>;
export type Connector = Ok<paths['/2.0/connectors/{uuid}']['get']>;
export type DomainConfig = Ok<paths['/2.0/config']['get']>;
export type WebhookEndpoint = Ok<paths['/2.0/webhooks']['post']>;
export type WebhookList = Ok<paths['/2.0/webhooks']['get']>;
export type DeliveryList = Ok<paths['/2.0/webhooks/deliveries']['get']>;
export type DeliveriesQuery = Query<paths['/2.0/webhooks/deliveries']['get']>;
