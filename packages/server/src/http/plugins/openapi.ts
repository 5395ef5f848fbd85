/**
 * The OpenAPI document's metadata (GET /2.0/openapi.json, docs/openapi.json): @fastify/swagger
 * (../openapi-plugin.ts loads its builder lazily) with Payrail's title, tags and security scheme,
 * and the shared schemas the routes refer to. Registered before the routes, whose schemas it collects.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PAYRAIL_VERSION } from '../../version.ts';
import swagger from '../openapi-plugin.ts';
import { ErrorBody, PaymentResponse } from '../schemas.ts';

async function openapi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Payrail API',
        version: PAYRAIL_VERSION,
        description:
          'Pay-by-bank (PSD2 payment initiation) API, compatible with the Powens Pay API: same paths, fields, states and error codes. ' +
          'Every error answers with the body {code, description, message, request_id}; see docs/errors.md.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A service token from POST /2.0/auth/token, or a payment-scoped token.' } },
      },
      tags: [
        { name: 'auth', description: 'Service and payment-scoped tokens' },
        { name: 'payments', description: 'Payments' },
        { name: 'validation', description: 'Payment validation: what a (custom) validation webview does' },
        { name: 'connectors', description: 'Banks' },
        { name: 'admin', description: 'Domain configuration and webhooks' },
        { name: 'security', description: 'Response signatures, end-to-end encryption keys, terms of service' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(ErrorBody);
  app.addSchema(PaymentResponse);
}

export default fp(openapi, { name: 'payrail-openapi', fastify: '5.x' });
