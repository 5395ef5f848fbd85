/**
 * Who may call what (docs/reference/powens-pay-api.md §2.2). Every /2.0 route declares an `access` rule in its config, and one
 * onRequest hook enforces it, so a route cannot forget its scope check (test/routes.test.ts checks).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { ApiError } from '../domain/errors.ts';
import { isAdmin } from '../domain/scopes.ts';
import type { Database } from '../store/schema.ts';
import { authenticate, cachedPrincipal, type Principal } from '../services/tokens.ts';

export interface AccessRule {
  /** Scopes that grant the route to a service token (admin always does). */
  service: readonly string[];
  /**
   * Scopes that grant the route to a token bound to one payment, only for that payment's `:id`.
   * Empty: payment-scoped tokens are refused.
   */
  paymentScoped: readonly string[];
}

export const PUBLIC = 'public' as const;
/** The admin dashboard's routes: an operator session (src/admin/routes.ts), never an API token. */
export const OPERATOR = 'operator' as const;
export type RouteAccess = AccessRule | typeof PUBLIC | typeof OPERATOR;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

export function checkAccess(principal: Principal, rule: AccessRule, paymentIdParam: string | undefined): void {
  if (principal.paymentId === null) {
    if (isAdmin(principal.scopes) || rule.service.some((s) => principal.scopes.includes(s))) return;
    throw new ApiError('forbidden', `this endpoint needs one of the scopes payments:admin${rule.service.length ? `, ${rule.service.join(', ')}` : ''}`);
  }
  if (paymentIdParam === undefined || rule.paymentScoped.length === 0) {
    throw new ApiError('forbidden', 'a payment-scoped token cannot use this endpoint');
  }
  if (String(principal.paymentId) !== paymentIdParam) {
    throw new ApiError('forbidden', 'this token is bound to another payment');
  }
  if (!rule.paymentScoped.some((s) => principal.scopes.includes(s))) {
    throw new ApiError('forbidden', `this endpoint needs one of the scopes ${rule.paymentScoped.join(', ')}`);
  }
}

/** May this principal see sensitive identity fields (`show_sensitive=true`)? */
export function canSeeSensitive(principal: Principal): boolean {
  return isAdmin(principal.scopes) || principal.scopes.includes('payments:validate') || principal.scopes.includes('payments:allow-sensitive');
}

export function makeAccessHook(db: Kysely<Database>, clock: Clock) {
  // Callback style: a token whose principal is cached (nearly every request) is checked without a promise.
  return function accessHook(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === PUBLIC || access === OPERATOR) {
      done();
      return;
    }
    const token = bearerToken(request);
    if (!token) {
      done(new ApiError('unauthorized', "You don't have the required authorization parameter to access this endpoint."));
      return;
    }
    const admit = (principal: Principal | null): void => {
      if (!principal) throw new ApiError('unauthorized', 'The token is invalid or has expired.');
      checkAccess(principal, access, (request.params as Record<string, string> | undefined)?.id);
      request.principal = principal;
    };
    const cached = cachedPrincipal(db, clock, token);
    if (cached !== undefined) {
      try {
        admit(cached);
      } catch (error) {
        done(error as Error);
        return;
      }
      done();
      return;
    }
    authenticate(db, clock, token).then(
      (principal) => {
        try {
          admit(principal);
        } catch (error) {
          done(error as Error);
          return;
        }
        done();
      },
      (error: Error) => done(error),
    );
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route has no access rule');
  return request.principal;
}
