/** `POST /2.0/auth/token`: service tokens by client credentials (docs/reference/powens-pay-api.md §2.1), JSON or form-encoded. */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiError } from '../../domain/errors.ts';
import { sendError } from '../errors.ts';
import { issueServiceToken, type TokenRequest } from '../../services/tokens.ts';
import { errorResponses, TokenRequestBody, TokenResponse } from '../schemas.ts';

/** Client credentials may also come as HTTP Basic, as OAuth 2 clients often send them. */
function basicCredentials(header: string | undefined): { client_id: string; client_secret: string } | null {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { client_id: decodeURIComponent(decoded.slice(0, colon)), client_secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

/**
 * RFC 6749 §5.2 members beside the Powens ones, so that OAuth 2.0 client libraries show a reason:
 * `error` (the OAuth code) and `error_description` (the same text as `description`).
 */
export function oauthError(error: ApiError): { error: string; error_description: string } {
  let code = 'invalid_request';
  if (error.code === 'unauthorized') code = 'invalid_client';
  else if (error.field === 'scope') code = 'invalid_scope';
  else if (error.field === 'grant_type' && error.code === 'invalidValue') code = 'unsupported_grant_type';
  else if (error.status >= 500) code = 'server_error';
  return { error: code, error_description: error.message };
}

export const authTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  // Encapsulated: only this plugin's route answers with the OAuth members.
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error, oauthError));
  app.post(
    '/auth/token',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Get a service token',
        description:
          'Exchanges client credentials for a service token valid 30 minutes. Body as JSON or application/x-www-form-urlencoded; ' +
          'credentials may also be sent as HTTP Basic. A wrong secret and an unknown client get the same 401.',
        body: { ...TokenRequestBody, required: ['grant_type', 'scope'] },
        response: { 200: TokenResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const body: TokenRequest = { ...(request.body as TokenRequest) };
      let basic: ReturnType<typeof basicCredentials> = null;
      try {
        basic = basicCredentials(request.headers.authorization);
      } catch {
        basic = null;
      }
      if (basic && body.client_id === undefined) Object.assign(body, basic);
      return issueServiceToken(app.payrail.store.db, app.payrail.clock, body);
    },
  );
};
