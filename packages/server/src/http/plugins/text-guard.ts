/**
 * No text column (SQLite or PostgreSQL) may hold a NUL byte, and no text can be stored as UTF-8 with
 * a lone UTF-16 surrogate (it would be silently replaced by U+FFFD): one preValidation hook refuses
 * both up front, in the query and the body, naming the field.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../../domain/errors.ts';

function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL bytes';
  if (!text.isWellFormed()) return 'must not contain a lone UTF-16 surrogate (invalid Unicode)';
  return null;
}

/** The first string (key or value) holding U+0000 or a lone surrogate: its path and what is wrong, or null. */
export function findBadText(value: unknown, path: string, depth = 0): { field: string; reason: string } | null {
  if (typeof value === 'string') {
    const reason = textProblem(value);
    return reason ? { field: path, reason } : null;
  }
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findBadText(item, `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const reason = textProblem(key);
    if (reason) return { field: at, reason };
    const found = findBadText(item, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

function textGuard(app: FastifyInstance, _options: unknown, done: (error?: Error) => void) {
  app.addHook('preValidation', (request, _reply, next) => {
    const bad = findBadText(request.query, '') ?? findBadText(request.body, '');
    next(bad === null ? undefined : new ApiError('invalidValue', `${bad.field || 'body'}: ${bad.reason}`, { field: bad.field || 'body' }));
  });
  done();
}

export default fp(textGuard, { name: 'payrail-text-guard', fastify: '5.x' });
