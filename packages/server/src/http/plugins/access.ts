/**
 * Who may call what: without a public URL, links take the request's origin, so only a Host on the
 * allow-list is served (../hosts.ts); then every route's access rule is enforced (../access.ts).
 * One or two onRequest hooks, in that order.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Clock } from '../../domain/clock.ts';
import type { Database } from '../../store/schema.ts';
import { makeAccessHook } from '../access.ts';
import { DEFAULT_ALLOWED_HOSTS, makeHostCheck } from '../hosts.ts';

export interface AccessOptions {
  db: Kysely<Database>;
  clock: Clock;
  publicUrl: string | null;
  /** Host names (any port) that may decide link origins when publicUrl is null; loopback names by default. */
  allowedHosts?: readonly string[] | undefined;
}

function access(app: FastifyInstance, options: AccessOptions, done: (error?: Error) => void) {
  app.decorateRequest('principal', null);
  // Without a public URL, links take the request's origin: only from a Host on the allow-list.
  if (!options.publicUrl) app.addHook('onRequest', makeHostCheck(options.allowedHosts ?? DEFAULT_ALLOWED_HOSTS));
  app.addHook('onRequest', makeAccessHook(options.db, options.clock));
  done();
}

export default fp(access, { name: 'payrail-access', fastify: '5.x' });
