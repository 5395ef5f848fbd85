/**
 * The sandbox banks' simulated authorization server (connectors/sandbox), served by Payrail under
 * `/2.0/testbank/oauth` wherever the test bank is on: discovery, JWKS, an authorization page with
 * Approve and Refuse, and a token endpoint. It checks what a strict bank checks: the client, the
 * exact redirect URI, `state`, PKCE S256, for the hybrid flow a signed request object and a
 * `nonce`, and the client's authentication (`client_secret_basic` or `private_key_jwt`). Codes are
 * signed (no table), live five minutes, and name their payment.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { formatMinorUnits } from '../../domain/money.ts';
import { consentReturnUrl, halfHash, pkceChallenge } from '../../connectors/kit/oauth.ts';
import {
  decodeCode,
  encodeCode,
  publicJwk,
  SANDBOX_CLIENT_ID,
  SANDBOX_CODE_TTL_MS,
  sandboxClientSecret,
  sandboxIssuer,
  sandboxKeys,
} from '../../connectors/sandbox/authority.ts';
import { sign, verifySignature } from '../../services/signed-urls.ts';
import { paymentForReturn } from '../../services/webview-sessions.ts';
import { messagePage, page } from '../../webview/layout.ts';
import { html } from '../html.ts';
import { PAGE_CSP } from '../csp.ts';

interface AuthorizationRequest {
  response_type: 'code' | 'code id_token';
  redirect_uri: string;
  state: string;
  nonce: string | null;
  code_challenge: string;
  payment: number;
}

function problemPage(reply: FastifyReply, status: number, message: string) {
  return messagePage(reply, status, { title: 'Sandbox bank', message }, PAGE_CSP);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The answer to the client: in the query (code flow) or the fragment (hybrid flow, errors included). */
function answerUrl(request: AuthorizationRequest, values: Record<string, string>): string {
  const encoded = new URLSearchParams(values).toString();
  return request.response_type === 'code id_token' ? `${request.redirect_uri}#${encoded}` : `${request.redirect_uri}?${encoded}`;
}

const AuthorizeQuery = Type.Record(Type.String(), Type.String({ maxLength: 8192 }));

export const sandboxOAuthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  if (!app.payrail.connectors.testBank) return;
  const { store, clock, secret } = app.payrail;
  await app.register(formbody, { bodyLimit: 32 * 1024 });
  const signer = (value: string) => sign(secret, value);
  const keys = sandboxKeys(signer);
  const baseOf = (request: Parameters<typeof app.payrail.actions>[0]) => app.payrail.actions(request).baseUrl;

  app.get('/testbank/oauth/jwks', { config: { access: 'public' }, schema: { hide: true } }, async () => ({ keys: [publicJwk(keys.as)] }));

  app.get('/testbank/oauth/.well-known/openid-configuration', { config: { access: 'public' }, schema: { hide: true } }, async (request) => {
    const issuer = sandboxIssuer(baseOf(request));
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code', 'code id_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
      id_token_signing_alg_values_supported: ['ES256'],
      request_object_signing_alg_values_supported: ['ES256'],
    };
  });

  /** Reads and checks an authorization request; a string is the reason it is refused. */
  async function readRequest(
    query: Record<string, string>,
    baseUrl: string,
  ): Promise<AuthorizationRequest | { error: string; redirect?: AuthorizationRequest }> {
    let params: Record<string, unknown> = { ...query };
    if (query.client_id !== SANDBOX_CLIENT_ID) return { error: 'Unknown client.' };
    if (query.request) {
      const { importJWK, jwtVerify } = await import('jose');
      try {
        const { payload } = await jwtVerify(query.request, await importJWK(publicJwk(keys.client), 'ES256'), {
          issuer: SANDBOX_CLIENT_ID,
          audience: sandboxIssuer(baseUrl),
          algorithms: ['ES256'],
          typ: 'oauth-authz-req+jwt',
          currentDate: new Date(clock.now()),
          requiredClaims: ['exp'],
        });
        params = payload as Record<string, unknown>;
      } catch {
        return { error: 'The request object is not valid.' };
      }
    }
    const redirectUri = String(params.redirect_uri ?? '');
    // Never send anything to a redirect URI that is not the registered one.
    if (redirectUri !== consentReturnUrl(baseUrl)) return { error: 'The redirect URI is not registered for this client.' };
    const responseType = params.response_type;
    if (responseType !== 'code' && responseType !== 'code id_token') return { error: 'Unsupported response type.' };
    const claims = params.claims as { id_token?: { openbanking_intent_id?: { value?: unknown } } } | undefined;
    const intent = String(claims?.id_token?.openbanking_intent_id?.value ?? params.intent_id ?? '');
    const request: AuthorizationRequest = {
      response_type: responseType,
      redirect_uri: redirectUri,
      state: typeof params.state === 'string' ? params.state : '',
      nonce: typeof params.nonce === 'string' ? params.nonce : null,
      code_challenge: typeof params.code_challenge === 'string' ? params.code_challenge : '',
      payment: /^SBX-\d{1,15}$/.test(intent) ? Number(intent.slice(4)) : 0,
    };
    if (!request.state) return { error: 'invalid_request: state is required', redirect: request };
    if (params.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(request.code_challenge)) {
      return { error: 'invalid_request: PKCE with S256 is required', redirect: request };
    }
    if (responseType === 'code id_token' && (!query.request || !request.nonce)) {
      return { error: 'invalid_request: the hybrid flow needs a signed request object and a nonce', redirect: request };
    }
    if (!request.payment) return { error: 'invalid_request: no payment intent', redirect: request };
    return request;
  }

  app.get('/testbank/oauth/authorize', { config: { access: 'public' }, schema: { hide: true, querystring: AuthorizeQuery } }, async (request, reply) => {
    const read = await readRequest(request.query, baseOf(request));
    if ('error' in read) {
      if (!read.redirect) return problemPage(reply, 400, read.error);
      const [error, description] = read.error.split(': ');
      return reply.redirect(answerUrl(read.redirect, { error: error!, error_description: description ?? '', state: read.redirect.state }), 303);
    }
    const payment = await paymentForReturn(store.db, read.payment);
    if (payment?.state !== 'validating' || payment.action !== 'redirect') {
      return problemPage(reply, 409, 'This payment is no longer waiting for your approval.');
    }
    const ticket = Buffer.from(JSON.stringify(read)).toString('base64url');
    const body = html`<h1>Sandbox bank — authorize a payment</h1>
<p class="muted">This is Payrail's simulated authorization server. Nothing real is paid.</p>
<section class="card"><p class="amount">${formatMinorUnits(payment.total_minor, payment.currency)} ${payment.currency}</p>
<p>${read.response_type === 'code' ? 'OAuth 2.0 authorization code with PKCE' : 'OpenID Connect hybrid flow'}</p></section>
<form method="post" action="/2.0/testbank/oauth/authorize"><input type="hidden" name="ticket" value="${ticket}"><input type="hidden" name="sig" value="${signer(`sandbox-oauth.ticket.${ticket}`)}">
<div class="actions"><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="refuse" class="danger">Refuse</button></div></form>`;
    return reply
      .code(200)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .header('cache-control', 'no-store')
      .send(page({ lang: 'en', title: 'Sandbox bank', body }));
  });

  app.post(
    '/testbank/oauth/authorize',
    {
      config: { access: 'public' },
      schema: {
        hide: true,
        body: Type.Object({ ticket: Type.String({ maxLength: 8192 }), sig: Type.String({ maxLength: 100 }), decision: Type.String({ maxLength: 20 }) }),
      },
    },
    async (request, reply) => {
      const { ticket, sig, decision } = request.body;
      if (!verifySignature(secret, `sandbox-oauth.ticket.${ticket}`, sig)) return problemPage(reply, 400, 'This form is not valid.');
      const read = JSON.parse(Buffer.from(ticket, 'base64url').toString('utf8')) as AuthorizationRequest;
      if (decision !== 'approve') {
        return reply.redirect(answerUrl(read, { error: 'access_denied', error_description: 'The payer refused.', state: read.state }), 303);
      }
      const now = clock.now();
      const code = encodeCode(signer, {
        payment: read.payment,
        client_id: SANDBOX_CLIENT_ID,
        redirect_uri: read.redirect_uri,
        code_challenge: read.code_challenge,
        nonce: read.nonce,
        exp: now + SANDBOX_CODE_TTL_MS,
      });
      if (read.response_type === 'code') return reply.redirect(answerUrl(read, { code, state: read.state }), 303);
      const { SignJWT, importJWK } = await import('jose');
      const seconds = Math.floor(now / 1000);
      const idToken = await new SignJWT({
        nonce: read.nonce,
        c_hash: halfHash(code, 'ES256'),
        s_hash: halfHash(read.state, 'ES256'),
        openbanking_intent_id: `SBX-${read.payment}`,
      })
        .setProtectedHeader({ alg: 'ES256', kid: keys.as.kid!, typ: 'JWT' })
        .setIssuer(sandboxIssuer(baseOf(request)))
        .setSubject(`SBX-${read.payment}`)
        .setAudience(SANDBOX_CLIENT_ID)
        .setIssuedAt(seconds)
        .setExpirationTime(seconds + 300)
        .sign(await importJWK(keys.as, 'ES256'));
      return reply.redirect(answerUrl(read, { code, id_token: idToken, state: read.state }), 303);
    },
  );

  /** The client authenticates with HTTP Basic (client_secret_basic) or a signed assertion (private_key_jwt). */
  async function clientAuthenticated(authorization: string | undefined, form: Record<string, string>, tokenUrl: string): Promise<boolean> {
    if (authorization?.startsWith('Basic ')) {
      const [id, password] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':').map(decodeURIComponent);
      return id === SANDBOX_CLIENT_ID && sameText(password ?? '', sandboxClientSecret(signer));
    }
    if (form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && form.client_assertion) {
      const { importJWK, jwtVerify } = await import('jose');
      try {
        await jwtVerify(form.client_assertion, await importJWK(publicJwk(keys.client), 'ES256'), {
          issuer: SANDBOX_CLIENT_ID,
          subject: SANDBOX_CLIENT_ID,
          audience: tokenUrl,
          algorithms: ['ES256'],
          currentDate: new Date(clock.now()),
          requiredClaims: ['exp', 'jti'],
        });
        return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  app.post(
    '/testbank/oauth/token',
    { config: { access: 'public' }, schema: { hide: true, body: Type.Record(Type.String(), Type.String({ maxLength: 8192 })) } },
    async (request, reply) => {
      const form = request.body;
      const tokenUrl = `${sandboxIssuer(baseOf(request))}/token`;
      const fail = (status: number, error: string, description: string) =>
        reply.code(status).header('cache-control', 'no-store').send({ error, error_description: description });
      if (!(await clientAuthenticated(request.headers.authorization, form, tokenUrl))) return fail(401, 'invalid_client', 'Client authentication failed.');
      if (form.grant_type !== 'authorization_code') return fail(400, 'unsupported_grant_type', 'Only authorization_code.');
      const grant = form.code ? decodeCode(signer, form.code, clock.now()) : null;
      if (!grant || grant.client_id !== SANDBOX_CLIENT_ID) return fail(400, 'invalid_grant', 'The code is not valid.');
      if (form.redirect_uri !== grant.redirect_uri) return fail(400, 'invalid_grant', 'The redirect URI does not match.');
      if (!form.code_verifier || !sameText(pkceChallenge(form.code_verifier), grant.code_challenge)) {
        return fail(400, 'invalid_grant', 'PKCE verification failed.');
      }
      return reply.header('cache-control', 'no-store').send({
        access_token: randomBytes(32).toString('base64url'),
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'payments',
      });
    },
  );
};
