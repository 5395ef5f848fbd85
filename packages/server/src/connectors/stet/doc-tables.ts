/**
 * The STET tables of docs/banks.md, rendered from the code's own tables so the document cannot
 * drift (test/unit/stet-docs.test.ts compares them).
 */
import { ERROR_BY_HTTP, FIELD_TABLE } from './error-table.ts';
import { PROFILE_KEYS } from './profile.ts';
import { FREQUENCY_TABLE } from './request.ts';
import { PAYMENT_STATUS_TABLE, REASON_TABLE, TRANSACTION_STATUS_TABLE } from './status-table.ts';
import { code, markdownTable } from '../kit/doc-tables.ts';

export const DOC_START = '<!-- stet-tables:start (generated from src/connectors/stet; UPDATE_DOCS=1 npx vitest run test/unit/stet-docs.test.ts) -->';
export const DOC_END = '<!-- stet-tables:end -->';

export function stetDocTables(): string {
  const options = markdownTable(
    ['Profile option', 'Meaning'],
    Object.entries(PROFILE_KEYS).map(([k, v]) => [code(k), v]),
  );
  const status = markdownTable(
    ['`paymentInformationStatus`', 'Meaning', "Before the payer's consent is known", 'After', 'In the 1.5.0.43 enum'],
    PAYMENT_STATUS_TABLE.map((r) => [code(r.code), r.meaning, code(r.beforeConsent), code(r.afterConsent), r.inFile ? 'yes' : '**no** (the file omits it)']),
  );
  const transactions = markdownTable(
    ['`transactionStatus` (per instruction)', 'Instruction state'],
    Object.entries(TRANSACTION_STATUS_TABLE).map(([k, v]) => [code(k), code(v)]),
  );
  const reasons = markdownTable(
    ['`statusReasonInformation`', 'Meaning', 'Powens `error_code`', 'In the 1.5.0.43 enum'],
    REASON_TABLE.map((r) => [code(r.code), r.meaning, code(r.powens), r.inFile ? 'yes' : '**no**']),
  );
  const errors = markdownTable(
    ['HTTP', 'Powens `error_code`', 'Meaning'],
    Object.entries(ERROR_BY_HTTP).map(([k, v]) => [k, code(v.powens), v.meaning]),
  );
  const fields = markdownTable(
    ['A 400 names (in `path` or `message`)', 'Powens `error_code`'],
    FIELD_TABLE.map((r) => [code(r.field), code(r.powens)]),
  );
  const frequencies = markdownTable(
    ['Powens `frequency`', 'STET `frequency`'],
    Object.entries(FREQUENCY_TABLE).map(([k, v]) => [code(k), v ? code(v) : 'none: refused (`invalidDate`)']),
  );
  return [
    DOC_START,
    '#### Bank profile options (`stet`)',
    '',
    options,
    '',
    '#### `paymentInformationStatus` → payment state',
    '',
    "The raw code is kept as `bank_status`. A code outside this table changes nothing: the payment keeps its state and status sync keeps asking. `rejected` takes its `error_code` from `statusReasonInformation` (payment level, else the first instruction's), table below (`DS02`, the reason Payrail's own cancellation sends, is `CancelledByClient`); no reason after the payer's refusal is `CancelledByUser`; else `noSpecifiedReason`. A bulk payment's instructions take their own `transactionStatus` where the bank gives one.",
    '',
    status,
    '',
    transactions,
    '',
    '#### `statusReasonInformation` → Powens `error_code`',
    '',
    reasons,
    '',
    '#### Errors (`ErrorModel`) → Powens `error_code`',
    '',
    "STET has no error codes: the HTTP status decides, refined for a 400 by the field the bank names. 5xx, 429, timeouts and resets are not refusals: the call's outcome is unknown. A 401 forgets the client token: a status read is made once more with a fresh one; an initiation, a confirmation or a cancellation is not (it is refused, and the next call gets a fresh token), so a renewal never sends a payment twice.",
    '',
    errors,
    '',
    fields,
    '',
    '#### Standing orders',
    '',
    frequencies,
    DOC_END,
  ].join('\n');
}
