/**
 * The headers every answer carries (one onSend hook): its request id, nosniff, no referrer, a CSP
 * (API_CSP unless a page set its own) and framing refused unless the page's CSP allows a client's
 * origins, no-store unless the route set a cache policy; behind https, HSTS and Secure cookies.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { API_CSP } from '../csp.ts';

export interface SecurityHeaderOptions {
  /** Payers and operators reach us over https (the public URL is https). */
  httpsOnly: boolean;
}

function securityHeaders(app: FastifyInstance, options: SecurityHeaderOptions, done: (error?: Error) => void) {
  const { httpsOnly } = options;
  app.addHook('onSend', (request, reply, payload, next) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    const csp = reply.getHeader('content-security-policy');
    if (csp === undefined) {
      reply.header('content-security-policy', API_CSP);
      reply.header('x-frame-options', 'DENY');
    } else if (String(csp).includes("frame-ancestors 'none'")) {
      // Pages a client's origins may frame (the webview, the test bank) say so in their CSP; every other answer is never framed.
      reply.header('x-frame-options', 'DENY');
    }
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (httpsOnly) {
      reply.header('strict-transport-security', 'max-age=31536000');
      // Payers and operators reach us over https: every cookie, whoever set it, is Secure.
      const cookies = reply.getHeader('set-cookie');
      if (cookies !== undefined) {
        reply.removeHeader('set-cookie');
        reply.header(
          'set-cookie',
          [cookies].flat().map((c) => (/;\s*secure\b/i.test(String(c)) ? String(c) : `${String(c)}; Secure`)),
        );
      }
    }
    next(null, payload);
  });
  done();
}

export default fp(securityHeaders, { name: 'payrail-security-headers', fastify: '5.x' });
