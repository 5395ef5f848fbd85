/**
 * The Berlin Group tables of docs/banks.md, rendered from the code's own tables so the document
 * cannot drift (test/berlin-group-docs.test.ts compares them).
 */
import { ERROR_TABLE, FALLBACK_BY_HTTP, PATH_TABLE } from './error-table.ts';
import { FREQUENCY_TABLE } from './initiation.ts';
import { PROFILE_KEYS } from './profile.ts';
import { TRANSACTION_STATUS_TABLE } from './status-table.ts';
import { code, markdownTable } from '../kit/doc-tables.ts';

export const DOC_START =
  '<!-- berlin-group-tables:start (generated from src/connectors/berlin-group; UPDATE_DOCS=1 npx vitest run test/unit/berlin-group-docs.test.ts) -->';
export const DOC_END = '<!-- berlin-group-tables:end -->';

export function berlinGroupDocTables(): string {
  const status = markdownTable(
    ['`transactionStatus`', 'Meaning', "Before the payer's SCA is known done", 'After', 'Where the bank reports no more (`partial_status_tracking`)'],
    TRANSACTION_STATUS_TABLE.map((r) => [code(r.code), r.meaning, code(r.beforeSca), code(r.afterSca), r.untracked ? code(r.untracked) : '—']),
  );
  const errors = markdownTable(
    ['NextGenPSD2 code', 'HTTP', 'Powens `error_code`', 'Rule'],
    ERROR_TABLE.map((r) => [r.codes.map(code).join(', '), r.http, r.powens === 'by path' ? 'by `path`' : code(r.powens), r.rule ?? '']),
  );
  const byPath = markdownTable(
    ['`path` contains', 'Powens `error_code`'],
    PATH_TABLE.map((r) => [r.within ? `${code(r.field)} of ${code(r.within)}` : code(r.field), code(r.powens)]),
  );
  const fallback = markdownTable(
    ['HTTP', 'Powens `error_code` when no code is known'],
    Object.entries(FALLBACK_BY_HTTP).map(([k, v]) => [k, code(v)]),
  );
  const frequencies = markdownTable(
    ['Powens `frequency`', '`frequencyCode`'],
    Object.entries(FREQUENCY_TABLE).map(([k, v]) => [
      code(k),
      v ? code(v) : '`MonthlyVariable` + `monthsOfExecution` where `monthly_variable` is set, else refused',
    ]),
  );
  const options = markdownTable(
    ['Profile option', 'Meaning'],
    Object.entries(PROFILE_KEYS).map(([k, v]) => [code(k), v]),
  );
  return [
    DOC_START,
    '#### Bank profile options (`berlin-group`)',
    '',
    options,
    '',
    '#### `transactionStatus` → payment state',
    '',
    "The raw code is kept as `bank_status`. A code outside this table (PRES, … are not in 1.3.12) changes nothing: the payment keeps its state and status sync keeps asking. The Verification of Payee codes of later versions (`RCVC` match, `RVCM` close match, `RVNC` no match or not checked) and German banks' pain.002 ones (`RVMC`, `RVNM`, `RVNA`) are known: the payment waits for the payer at the bank (after a close or no match, their decision on the payee's name); the code is the attempt's `bank_status` while it waits, and the result is kept (see \"Verification of Payee\" above). `rejected` takes its `error_code` from the answer's messages, else `insufficientFunds` (`fundsAvailable: false`), `CancelledByUser` (the payer came back on the Nok URI), `authenticationFailed` (scaStatus failed), `noAnswerFromCustomer` (SCA never started), else `noSpecifiedReason`; `CANC` is `CancelledByClient` after our `DELETE`, else `CancelledByUser`. `partial` (`PART`, no per-instruction detail) sets every instruction `accepted`.",
    '',
    status,
    '',
    '#### Error codes → Powens `error_code`',
    '',
    "Read from `tppMessages`, the status answer's `tppMessage`, and RFC 7807 `code` / `additionalErrors`; the first message that maps wins; `WARNING`s are ignored. 5xx, 429, timeouts and resets are not refusals: the call's outcome is unknown.",
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
