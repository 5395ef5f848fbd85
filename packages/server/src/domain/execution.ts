/** When and how often a payment executes (Powens' execution_date_type and frequency). */
export const EXECUTION_DATE_TYPES = ['first_open_day', 'instant', 'deferred', 'periodic'] as const;
export type ExecutionDateType = (typeof EXECUTION_DATE_TYPES)[number];

export const EXECUTION_FREQUENCIES = [
  'daily',
  'weekly',
  'two-weekly',
  'monthly',
  'two-monthly',
  'quarterly',
  'four-monthly',
  'semiannually',
  'yearly',
] as const;
export type ExecutionFrequency = (typeof EXECUTION_FREQUENCIES)[number];
