/**
 * What one Berlin Group bank allows and how it wants to be called: the per-bank part of the
 * connector's configuration, parsed from the bank's stored options with the standard's defaults.
 * Each flag exists because real ASPSPs differ on it (berlin-group.md §11).
 */
import { isIPv4 } from 'node:net';
import type { ExecutionDateType } from '../../domain/payment-request.ts';

export type ScaApproach = 'redirect' | 'decoupled';

export interface BerlinGroupProfile {
  sca_approach: ScaApproach;
  /** Send `TPP-Explicit-Authorisation-Preferred: true` (the bank then answers with `startAuthorisation`). */
  explicit_authorisation: boolean;
  /** `instant-sepa-credit-transfers` is offered. */
  instant: boolean;
  /** `requestedExecutionDate` is accepted on single payments (an ASPSP extension in 1.3.12). */
  deferred: boolean;
  /** `periodic-payments` is offered. */
  periodic: boolean;
  /** `MonthlyVariable` with `monthsOfExecution` is accepted (Powens' four-monthly). */
  monthly_variable: boolean;
  /** `bulk-payments` is offered, with at most this many instructions (0: no bulk). */
  bulk_max_instructions: number;
  /** `debtorAccount` must be sent (the schema's rule); some banks let the payer pick it during SCA. */
  debtor_account: 'mandatory' | 'optional';
  /** `DELETE` of a payment is offered. */
  cancellation: boolean;
  /** Execution types for which the bank never reports more than ACSP (Powens `partial_status_tracking`). */
  partial_status_tracking: ExecutionDateType[];
  /** `PSU-ID-Type` sent with `PSU-ID` (decoupled), when the bank wants one. */
  psu_id_type: string | null;
  /** The TPP's own IPv4 address, sent as `PSU-IP-Address` when the payer's is unknown or IPv6. */
  tpp_ip_address: string;
  /** Deadline of each call to the bank. */
  timeout_ms: number;
  /** Status sync: first interval after the payer's return, and the longest interval. */
  poll_first_ms: number;
  poll_max_ms: number;
}

export const DEFAULT_PROFILE: BerlinGroupProfile = {
  sca_approach: 'redirect',
  explicit_authorisation: false,
  instant: true,
  deferred: false,
  periodic: false,
  monthly_variable: false,
  bulk_max_instructions: 0,
  debtor_account: 'mandatory',
  cancellation: true,
  partial_status_tracking: [],
  psu_id_type: null,
  tpp_ip_address: '127.0.0.1',
  timeout_ms: 30_000,
  poll_first_ms: 2_000,
  poll_max_ms: 15 * 60_000,
};

const EXECUTION_TYPES: readonly ExecutionDateType[] = ['first_open_day', 'instant', 'deferred', 'periodic'];

/** A wrong option names itself: the operator fixes the bank's configuration, not the code. */
export class ProfileError extends Error {
  readonly option: string;
  constructor(option: string, reason: string) {
    super(`berlin-group option ${option}: ${reason}`);
    this.option = option;
  }
}

function bool(raw: Record<string, unknown>, key: keyof BerlinGroupProfile): boolean {
  const value = raw[key];
  if (value === undefined || value === null) return DEFAULT_PROFILE[key] as boolean;
  if (typeof value !== 'boolean') throw new ProfileError(key, 'must be true or false');
  return value;
}

function int(raw: Record<string, unknown>, key: keyof BerlinGroupProfile, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined || value === null) return DEFAULT_PROFILE[key] as number;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProfileError(key, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(raw: Record<string, unknown>, key: keyof BerlinGroupProfile, values: readonly T[]): T {
  const value = raw[key];
  if (value === undefined || value === null) return DEFAULT_PROFILE[key] as T;
  if (typeof value !== 'string' || !values.includes(value as T)) throw new ProfileError(key, `must be one of ${values.join(', ')}`);
  return value as T;
}

/** Reads a bank's options (unknown keys are refused, so a typo does not silently fall back to a default). */
export function parseProfile(raw: Record<string, unknown> = {}): BerlinGroupProfile {
  for (const key of Object.keys(raw)) if (!(key in DEFAULT_PROFILE)) throw new ProfileError(key, 'is not an option of the berlin-group standard');
  const tracking = raw.partial_status_tracking ?? DEFAULT_PROFILE.partial_status_tracking;
  if (!Array.isArray(tracking) || tracking.some((t) => !EXECUTION_TYPES.includes(t as ExecutionDateType))) {
    throw new ProfileError('partial_status_tracking', `must be a list of ${EXECUTION_TYPES.join(', ')}`);
  }
  const ip = raw.tpp_ip_address ?? DEFAULT_PROFILE.tpp_ip_address;
  if (typeof ip !== 'string' || !isIPv4(ip)) throw new ProfileError('tpp_ip_address', 'must be an IPv4 address');
  const idType = raw.psu_id_type ?? null;
  if (idType !== null && (typeof idType !== 'string' || idType.length > 70)) throw new ProfileError('psu_id_type', 'must be a string of at most 70 characters');
  const profile: BerlinGroupProfile = {
    sca_approach: oneOf(raw, 'sca_approach', ['redirect', 'decoupled'] as const),
    explicit_authorisation: bool(raw, 'explicit_authorisation'),
    instant: bool(raw, 'instant'),
    deferred: bool(raw, 'deferred'),
    periodic: bool(raw, 'periodic'),
    monthly_variable: bool(raw, 'monthly_variable'),
    bulk_max_instructions: int(raw, 'bulk_max_instructions', 0, 10_000),
    debtor_account: oneOf(raw, 'debtor_account', ['mandatory', 'optional'] as const),
    cancellation: bool(raw, 'cancellation'),
    partial_status_tracking: [...new Set(tracking as ExecutionDateType[])],
    psu_id_type: idType as string | null,
    tpp_ip_address: ip,
    timeout_ms: int(raw, 'timeout_ms', 100, 300_000),
    poll_first_ms: int(raw, 'poll_first_ms', 100, 3_600_000),
    poll_max_ms: int(raw, 'poll_max_ms', 100, 86_400_000),
  };
  if (profile.poll_max_ms < profile.poll_first_ms) throw new ProfileError('poll_max_ms', 'must not be less than poll_first_ms');
  return profile;
}
