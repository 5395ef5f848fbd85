/**
 * JSON bodies. `amount` values keep the exact text of the JSON number (JSON.parse source text),
 * so `50.90` is read as the decimal 50.90 and never goes through a binary float.
 * `__proto__` keys are dropped.
 */
import { ApiError } from '../domain/errors.ts';

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

const reviver: Reviver = (key, value, context) => {
  if (key === '__proto__') return undefined;
  if (key === 'amount' && typeof value === 'number' && context?.source !== undefined) return context.source;
  return value;
};

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new ApiError('missingParameter', 'body is required: send a JSON object', { field: 'body' });
  try {
    return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
  } catch {
    throw new ApiError('invalidValue', 'body: malformed JSON', { field: 'body' });
  }
}
