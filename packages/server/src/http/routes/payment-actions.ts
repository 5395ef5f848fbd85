/**
 * `POST /2.0/payments/{id}`: one endpoint whose body decides the operation (docs/reference/powens-pay-api.md §3.2) — validate,
 * resume, fields, psu_validate, confirm, cancel — and `GET /2.0/payments/{id}/incompatibilities`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, invalid, missing } from '../../domain/errors.ts';
import { isAdmin } from '../../domain/scopes.ts';
import { checkRedirectUri } from '../../domain/payment-request.ts';
import { cancelPaymentByClient } from '../../services/payment-actions.ts';
import {
  compatibilityOf,
  confirmPayment,
  psuValidate,
  resumePayment,
  submitFields,
  takeTurn,
  validatePayment,
  type ValidateBody,
} from '../../services/payment-actions.ts';
import { getPayment, parseBoolean, paymentView, readPaymentView } from '../../services/payments.ts';
import type { Principal } from '../../services/tokens.ts';
import { principalOf, type AccessRule } from '../access.ts';
import { decryptJweInputs } from '../jose-hooks.ts';
import type { FastifyInstance } from 'fastify';
import { showSensitive } from './payments.ts';
import { AccountRequest, errorResponses, PaymentIdParams, ShowSensitiveQuery } from '../schemas.ts';

export const ACTION_ACCESS = {
  action: { service: ['payments:validate', 'payments:cancel'], paymentScoped: ['payments:validate', 'payments:cancel'] },
  incompatibilities: { service: ['payments:read-only', 'payments:validate'], paymentScoped: ['payments:validate'] },
} as const satisfies Record<string, AccessRule>;

const ActionBody = Type.Object(
  {
    validate_mechanism: Type.Optional(Type.String({ maxLength: 64 })),
    validation_mechanism: Type.Optional(Type.String({ maxLength: 64, description: 'Accepted alias of validate_mechanism.' })),
    webview_url: Type.Optional(
      Type.String({ maxLength: 2048, description: "Where the bank sends the payer back; on Payrail's origin or a registered redirect URI's origin." }),
    ),
    connector_uuid: Type.Optional(Type.String({ maxLength: 64 })),
    id_connector: Type.Optional(Type.Integer()),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 1024 }), { description: 'Connector fields (validate) or answers to additionalInformationNeeded.' }),
    ),
    website: Type.Optional(Type.String({ maxLength: 255 })),
    payer: Type.Optional(AccountRequest),
    validated: Type.Optional(Type.Boolean()),
    resume: Type.Optional(Type.Boolean()),
    psu_validate: Type.Optional(Type.Boolean()),
    confirm: Type.Optional(Type.Boolean()),
    cancel: Type.Optional(Type.Boolean()),
    client_redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
    client_state: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { title: 'PaymentActionRequest' },
);

function requireScope(principal: Principal, scope: string, what: string): void {
  if (!isAdmin(principal.scopes) && !principal.scopes.includes(scope)) {
    throw new ApiError('forbidden', `${what} needs the scope payments:admin or ${scope}`);
  }
}

export const paymentActionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock } = app.payrail;

  app.post(
    '/payments/:id',
    {
      config: { access: ACTION_ACCESS.action },
      // Connector fields and payer fields may arrive as JWE (end-to-end encryption, GET /2.0/publickey).
      preValidation: decryptJweInputs(app as unknown as FastifyInstance, ['fields', 'payer']),
      schema: {
        tags: ['validation'],
        summary: 'Validate, resume, answer fields, PSU validation, confirm or cancel a payment',
        description:
          'The body decides: `cancel` → cancel (payments:cancel); `confirm` → manual confirmation (payments:admin); `resume: true` → re-check a ' +
          '`decoupled` approval; `psu_validate` → answer `psuValidation`; `fields` on a validating payment → answer `additionalInformationNeeded`; ' +
          'otherwise a PaymentValidateRequest (`connector_uuid`, `webview_url`, `validate_mechanism`, `fields`, `payer`) starts validation of a ' +
          'created payment. Validation operations need payments:admin or payments:validate (a payment-scoped token for this payment).',
        security: [{ bearer: [] }],
        params: PaymentIdParams,
        querystring: ShowSensitiveQuery,
        body: ActionBody,
        response: { 200: { $ref: 'Payment#' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const sensitive = showSensitive(principal, request.query.show_sensitive);
      const id = Number(request.params.id);
      const body = request.body;
      const env = app.payrail.actions(request);
      const domain = principal.domainId;

      if (body.cancel !== undefined) {
        requireScope(principal, 'payments:cancel', 'cancel');
        if (body.cancel !== true) throw invalid('cancel', 'must be true');
        // PaymentCancelRequest (docs/reference/powens-pay-api.md §4.7): client_redirect_uri is required, where the payer returns if the bank asks them to approve.
        if (body.client_redirect_uri === undefined) throw missing('client_redirect_uri');
        const client_redirect_uri = checkRedirectUri(body.client_redirect_uri, 'client_redirect_uri', principal.redirectUris);
        await cancelPaymentByClient(env, await getPayment(store.db, domain, id), { client_redirect_uri, client_state: body.client_state });
      } else if (body.confirm !== undefined) {
        if (!isAdmin(principal.scopes)) throw new ApiError('forbidden', 'confirm needs the scope payments:admin');
        await confirmPayment(env, domain, id, body.confirm);
      } else {
        requireScope(principal, 'payments:validate', 'validation');
        if (body.resume !== undefined) {
          if (body.resume !== true) throw invalid('resume', 'must be true');
          await resumePayment(env, domain, id);
        } else if (body.psu_validate !== undefined) {
          await psuValidate(env, domain, id, body.psu_validate);
        } else {
          // The payment decides which action this is; a validation goes on with what was read here, in its turn (services/turns.ts).
          const turn = await takeTurn(env, 'before');
          try {
            const record = await getPayment(store.db, domain, id);
            const { payment } = record;
            if (payment.state === 'validating' && body.fields !== undefined && body.webview_url === undefined) {
              turn.end();
              await submitFields(env, domain, id, body.fields);
            } else {
              if (body.webview_url === undefined && body.connector_uuid === undefined && body.fields === undefined && payment.state !== 'created') {
                throw missing('webview_url');
              }
              // Answered as the validation left it: no read after it (docs/performance.md).
              const validated = await validatePayment(env, domain, id, body as ValidateBody, principal.redirectUris, null, { record, turn });
              return paymentView(validated.payment, validated.instructions, sensitive);
            }
          } finally {
            turn.end();
          }
        }
      }
      // The answer shows the payment as it is now (one statement on PostgreSQL).
      const view = await readPaymentView(store.db, domain, id);
      return paymentView(view.payment, view.instructions, sensitive);
    },
  );

  app.get(
    '/payments/:id/incompatibilities',
    {
      config: { access: ACTION_ACCESS.incompatibilities },
      schema: {
        tags: ['validation'],
        summary: 'Connectors that cannot (or may not) make this payment',
        description:
          "One entry per connector with at least one reason, with Powens' reason codes (maxAmount, minAmount, maxBulk, maxDateDelta, minDateDelta, " +
          'nspDateType, nspFrequency, nspBulk, nspBenefScheme, nspPayer, nspExecDate, nspCurrency, trustBenef). Payrail adds connector_uuid and id_connector.',
        security: [{ bearer: [] }],
        params: PaymentIdParams,
        querystring: Type.Object({ all: Type.Optional(Type.String({ description: 'true to include hidden connectors.' })) }),
        response: {
          200: Type.Array(
            Type.Object({
              connector_uuid: Type.String(),
              id_connector: Type.Integer(),
              type: Type.String(),
              reasons: Type.Array(
                Type.Object({
                  code: Type.String(),
                  type: Type.String(),
                  description: Type.String(),
                  value_connector: Type.Unknown(),
                  value_payment: Type.Unknown(),
                }),
              ),
            }),
          ),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const all = parseBoolean(request.query.all, 'all');
      const record = await getPayment(store.db, principal.domainId, Number(request.params.id));
      return (await app.payrail.connectors.list())
        .filter((c) => all || !c.descriptor.hidden)
        .map((connector) => {
          const reasons = compatibilityOf(record, connector, clock.now());
          return {
            connector_uuid: connector.descriptor.uuid,
            id_connector: connector.descriptor.id,
            type: reasons.some((r) => r.type === 'incompatible') ? 'incompatible' : 'warning',
            reasons,
          };
        })
        .filter((entry) => entry.reasons.length > 0);
    },
  );
};
