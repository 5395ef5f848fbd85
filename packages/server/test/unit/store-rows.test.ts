/** The store's row helpers (store/rows.ts) and the column lists derived from the table maps (store/repositories/payments.ts). */
import { expect, it } from 'vitest';
import { INSTRUCTION_COLUMNS, PAGE_COLUMNS, PAYMENT_COLUMNS, PAYMENT_VIEW_COLUMNS } from '../../src/store/repositories/payments.ts';
import { marked, readJson, toJson } from '../../src/store/rows.ts';

it('marked lists the columns a map marks, in the map order', () => {
  const map = { a: true, b: false, c: 'view', d: true, e: 'page' } as const;
  expect(marked(map)).toEqual(['a', 'd']);
  expect(marked(map, 'view' as const)).toEqual(['c']);
  expect(marked(map, 'view' as const, 'page' as const)).toEqual(['c', 'e']);
});

it('a JSON column reads back what was written, and null stays null', () => {
  const account = { scheme_name: 'iban', identification: 'FR7630006000011234567890189', label: 'Ma boutique', issuer: null };
  expect(readJson(toJson(account))).toEqual(account);
  expect(toJson(account)).toBe(JSON.stringify(account));
  expect(readJson(null)).toBeNull();
});

it('the payment column lists are the ones the reads and the creation were tuned with', () => {
  // GET reads the 22 columns of the answer; a list page 26: those and what it needs besides (docs/performance.md, change 20).
  expect(PAYMENT_VIEW_COLUMNS).toHaveLength(22);
  expect(PAGE_COLUMNS).toEqual([...PAYMENT_VIEW_COLUMNS, 'instruction_count', 'total_minor', 'currency', 'execution_date_type']);
  // A creation writes every column but the generated id and version and the two left to their defaults
  // (the bank facts and the sync schedule live on the payment's attempts: services/attempts.ts).
  expect(PAYMENT_COLUMNS).toHaveLength(30);
  for (const column of ['id', 'version', 'psu_ip_address', 'current_attempt_id']) expect(PAYMENT_COLUMNS).not.toContain(column);
  expect(INSTRUCTION_COLUMNS).not.toContain('id');
  expect(INSTRUCTION_COLUMNS).toHaveLength(15);
});
