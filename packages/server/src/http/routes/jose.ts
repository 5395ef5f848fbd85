/**
 * Powens' security features: response-signature keys (`GET /2.0/sign-keys`, `/sign-keys/{id}`), the
 * end-to-end encryption public key (`GET /2.0/publickey`) and terms of service (`GET /2.0/terms`,
 * `GET`/`POST /2.0/payments/{id}/terms`). Public keys and the terms text are public by nature.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { formatDateTime } from '../../domain/dates.ts';
import { ApiError } from '../../domain/errors.ts';
import { encryptionPublicJwk, listSigningKeys, type StoredKey } from '../../services/jose-keys.ts';
import { getPayment } from '../../services/payments.ts';
import { acceptTerms, currentTerms, paymentTerms } from '../../services/terms.ts';
import { PUBLIC, principalOf, type AccessRule } from '../access.ts';
import { errorResponses, PaymentIdParams } from '../schemas.ts';

export const TERMS_ACCESS = {
  paymentTerms: { service: ['payments:validate'], paymentScoped: ['payments:validate'] },
} as const satisfies Record<string, AccessRule>;

const Jwk = Type.Object(
  { kty: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String(), n: Type.String(), e: Type.String() },
  { additionalProperties: true },
);
const SignKey = Type.Object(
  {
    ...Jwk.properties,
    id: Type.Integer({ description: 'ID of the key (the JWS header `kid`).' }),
    public_key: Type.String({ description: 'PEM of the public key.' }),
    deprecated: Type.Union([Type.String(), Type.Null()], {
      description: 'If set, the key was rotated out: signatures it made still verify, new ones never use it.',
    }),
  },
  { title: 'SignKey' },
);
const TermsView = Type.Object({
  terms: Type.Object({ id: Type.Integer(), version: Type.Integer(), created: Type.String(), url: Type.Union([Type.String(), Type.Null()]) }),
  content: Type.String(),
  language: Type.String(),
});
const PaymentTermsView = Type.Object({
  id_terms: Type.Integer({ description: 'The current terms.' }),
  to_sign: Type.Boolean({ description: 'true while the payer has not accepted the current terms.' }),
  accepted: Type.Union([Type.String(), Type.Null()], { description: 'When the payer accepted them.' }),
});

function signKeyView(key: StoredKey) {
  return { ...key.publicJwk, id: key.id, public_key: key.publicPem, deprecated: key.deprecatedAt === null ? null : formatDateTime(key.deprecatedAt) } as never;
}

export const joseRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, keyring } = app.payrail;
  const db = store.db;

  app.get(
    '/sign-keys',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['security'],
        summary: 'Response-signature keys, past and present',
        description: "A JWK Set: each key is a JWK (RS256, `kid` = id) with Powens' `id`, `public_key` (PEM) and `deprecated` fields.",
        response: { 200: Type.Object({ keys: Type.Array(SignKey) }) },
      },
    },
    async () => ({ keys: (await listSigningKeys(db, keyring, clock)).map(signKeyView) }),
  );

  app.get(
    '/sign-keys/:id',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['security'],
        summary: 'One response-signature key',
        params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) }),
        response: { 200: SignKey, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const key = (await listSigningKeys(db, keyring, clock)).find((k) => k.id === Number(request.params.id));
      if (!key) throw new ApiError('notFound', `no signing key ${request.params.id}`);
      return signKeyView(key);
    },
  );

  app.get(
    '/publickey',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['security'],
        summary: 'End-to-end encryption public key',
        description: 'An RSA JWK (`alg` RSA-OAEP-256): encrypt each sensitive value into a compact JWE (RSA-OAEP-256, A256GCM, with this `kid`).',
        response: { 200: Jwk },
      },
    },
    async () => encryptionPublicJwk(db, keyring, clock) as never,
  );

  app.get(
    '/terms',
    {
      config: { access: PUBLIC },
      schema: { tags: ['security'], summary: 'The current terms of service', response: { 200: TermsView } },
    },
    async () => {
      const terms = await currentTerms(db, clock);
      return {
        terms: { id: terms.id, version: terms.version, created: formatDateTime(terms.createdAt), url: terms.url },
        content: terms.content,
        language: terms.language,
      };
    },
  );

  app.get(
    '/payments/:id/terms',
    {
      config: { access: TERMS_ACCESS.paymentTerms },
      schema: {
        tags: ['validation'],
        summary: 'Whether the payer has accepted the current terms',
        security: [{ bearer: [] }],
        params: PaymentIdParams,
        response: { 200: PaymentTermsView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { payment } = await getPayment(db, principalOf(request).domainId, Number(request.params.id));
      const { terms, acceptedAt } = await paymentTerms(db, clock, Number(payment.id));
      return { id_terms: terms.id, to_sign: acceptedAt === null, accepted: acceptedAt === null ? null : formatDateTime(acceptedAt) };
    },
  );

  app.post(
    '/payments/:id/terms',
    {
      config: { access: TERMS_ACCESS.paymentTerms },
      schema: {
        tags: ['validation'],
        summary: "Record the payer's acceptance of the current terms",
        security: [{ bearer: [] }],
        params: PaymentIdParams,
        body: Type.Object({ id_terms: Type.Integer({ description: 'The current terms id (GET /2.0/terms).' }) }),
        response: { 200: Type.Object({ success: Type.Literal('ok') }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { payment } = await getPayment(db, principalOf(request).domainId, Number(request.params.id));
      await acceptTerms(db, clock, Number(payment.id), request.body.id_terms);
      return { success: 'ok' as const };
    },
  );
};
