/**
 * Bodies in and out. Requests: JSON only (and forms on /auth/token, registered by its route), parsed
 * so that amounts keep their exact decimal text (../json.ts), with the raw text kept for idempotency;
 * a payment (up to 1000 instructions) may take 1 MB, every other route 64 KB. Answers: serialised
 * with JSON.stringify, so that amounts print exactly (JSON.rawJSON).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { parseJsonBody } from '../json.ts';

export const BODY_LIMIT = 1024 * 1024;
const SMALL_BODY_LIMIT = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's exact text (idempotency compares it). */
    rawBody: string | null;
  }
}

function jsonBodies(app: FastifyInstance, _options: unknown, done: (error?: Error) => void) {
  app.decorateRequest('rawBody', null);
  // Bodies are JSON; amounts keep their exact decimal text (see json.ts). Forms only on /auth/token.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, parsed) => {
    request.rawBody = body as string;
    try {
      parsed(null, parseJsonBody(body as string));
    } catch (error) {
      parsed(error as Error, undefined);
    }
  });
  // Responses are serialised with JSON.stringify so that amounts print exactly (JSON.rawJSON).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Bounded bodies: a payment (up to 1000 instructions) may take 1 MB, every other route 64 KB.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= route.url === '/2.0/payments' ? BODY_LIMIT : SMALL_BODY_LIMIT;
  });
  done();
}

export default fp(jsonBodies, { name: 'payrail-json-bodies', fastify: '5.x' });
