/**
 * The UK Open Banking tables of docs/banks.md, rendered from the code's own tables so the document
 * cannot drift (test/unit/obie-docs.test.ts compares them).
 */
import { ERROR_TABLE, FALLBACK_BY_HTTP, PATH_TABLE } from './error-table.ts';
import { FREQUENCY_TABLE } from './initiation.ts';
import { PROFILE_KEYS } from './profile.ts';
import { STATUS_TABLE } from './status-table.ts';
import { code, markdownTable } from '../kit/doc-tables.ts';

export const DOC_START = '<!-- obie-tables:start (generated from src/connectors/obie; UPDATE_DOCS=1 npx vitest run test/unit/obie-docs.test.ts) -->';
export const DOC_END = '<!-- obie-tables:end -->';

export function obieDocTables(): string {
  const options = markdownTable(
    ['Profile option', 'Meaning'],
    Object.entries(PROFILE_KEYS).map(([k, v]) => [code(k), v]),
  );
  const statuses = markdownTable(
    ['`Status`', 'Version', 'Resources', 'Meaning', 'Payment state'],
    STATUS_TABLE.map((r) => [code(r.status), r.version, r.resources, r.meaning, code(r.state)]),
  );
  const errors = markdownTable(
    ['4.0 code', '3.1 `ErrorCode`', 'HTTP', 'Powens `error_code`', 'Rule'],
    ERROR_TABLE.map((r) => [
      code(r.code),
      r.name.startsWith('UK.OBIE') ? code(r.name) : r.name,
      r.http,
      r.powens === 'by path' ? 'by `Path`' : r.powens === '—' ? '—' : code(r.powens),
      r.rule ?? '',
    ]),
  );
  const byPath = markdownTable(
    ['`Path` contains', 'Powens `error_code`'],
    PATH_TABLE.map((r) => [code(r.field), code(r.powens)]),
  );
  const fallback = markdownTable(
    ['HTTP', 'Powens `error_code` when no code is known'],
    Object.entries(FALLBACK_BY_HTTP).map(([k, v]) => [k, code(v)]),
  );
  const frequencies = markdownTable(
    ['Powens `frequency`', 'OBIE frequency (from the start date)'],
    Object.entries(FREQUENCY_TABLE).map(([k, v]) => [code(k), code(v)]),
  );
  return [
    DOC_START,
    '#### Bank profile options (`obie`)',
    '',
    options,
    '',
    '#### Payment `Status` → payment state',
    '',
    'One table for both versions and the three resources; the raw status is kept as `bank_status`. A status outside it changes nothing (status sync keeps asking). A consent the bank answers `RJCT`/`Rejected`, or a refusal at the authorize page (`error=access_denied`: `CancelledByUser`), ends `rejected` before any payment.',
    '',
    statuses,
    '',
    '#### Error codes → Powens `error_code`',
    '',
    'Read from `Errors[].ErrorCode` (and v4 `StatusReason[].StatusReasonCode`); the first that maps wins. 5xx, 429, timeouts and resets are not refusals: the call’s outcome is unknown, and a lost consent or payment is asked again under the same `x-idempotency-key`.',
    '',
    errors,
    '',
    byPath,
    '',
    fallback,
    '',
    '#### Standing orders',
    '',
    frequencies,
    DOC_END,
  ].join('\n');
}
