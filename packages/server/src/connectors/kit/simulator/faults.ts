/**
 * Injectable faults of a simulated bank, whatever its standard: how a real bank fails, so tests
 * can reach every outcome of a bank call (ARCHITECTURE.md ("The bank boundary"): ok, refused,
 * unknown). Each fault applies to the next `times` matching calls (0: until cleared), to one
 * operation (the standard's operationIds) or to every API call. Each simulator builds its
 * `Faults` with its operations and the error codes its standard allows (`FaultRules`).
 */
import { randomUUID } from 'node:crypto';

/**
 * - `latency`: wait `latencyMs`, then answer normally (combines with one other fault).
 * - `error`: answer `status` (503 by default; 500, 503, 408 or 429: the statuses the standard
 *   defines without a body) with no body.
 * - `drop`: close the connection without an answer.
 * - `hang`: never answer; the connection stays open until the client gives up.
 * - `reject`: answer a 4xx `tppMessages` error with `code` (its status from the standard's lists).
 * `afterProcessing`: the bank does the work (creates the payment, records the cancellation) and
 * only then fails to answer: the "did the bank get it?" case. Default true for `hang`, false else.
 * `every`: the fault hits one matching call in `every` (the every-th, the 2·every-th…), the others
 * pass it by: a share of calls failing, reproducibly (soak tests). `times` counts the hits.
 */
export type FaultKind = 'latency' | 'error' | 'drop' | 'hang' | 'reject';
export const FAULT_KINDS: readonly FaultKind[] = ['latency', 'error', 'drop', 'hang', 'reject'];
const ERROR_STATUSES = [500, 503, 408, 429];

/** What one standard allows: its operations, and the HTTP status of a `reject` code (undefined: not one of its codes). */
export interface FaultRules<Op extends string> {
  /** The standard's name, for messages (`NextGenPSD2 1.3.12`, `STET 1.5`). */
  standard: string;
  operations: readonly Op[];
  rejectStatus(code: string, status: number | undefined, operation: Op | undefined): number | undefined;
}

export interface FaultSpec<Op extends string = string> {
  kind: FaultKind;
  operation?: Op;
  times?: number;
  latencyMs?: number;
  status?: number;
  code?: string;
  text?: string;
  afterProcessing?: boolean;
  every?: number;
}

export interface Fault<Op extends string = string> {
  id: string;
  kind: FaultKind;
  operation: Op | null;
  /** Calls left; null: until cleared. */
  remaining: number | null;
  hits: number;
  latencyMs?: number;
  status?: number;
  code?: string;
  text?: string;
  afterProcessing: boolean;
  /** One matching call in `every` is hit; `seen` counts the matching calls. */
  every: number;
  seen: number;
}

export class FaultError extends Error {}

function checkSpec<Op extends string>(spec: FaultSpec<Op>, rules: FaultRules<Op>): Fault<Op> {
  if (typeof spec !== 'object' || spec === null) throw new FaultError('a fault is an object');
  if (!FAULT_KINDS.includes(spec.kind)) throw new FaultError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (spec.operation !== undefined && !rules.operations.includes(spec.operation))
    throw new FaultError(`operation must be one of ${rules.operations.join(', ')}`);
  const times = spec.times ?? 1;
  if (!Number.isInteger(times) || times < 0 || times > 1_000_000) throw new FaultError('times must be an integer from 0 (until cleared) to 1000000');
  const fault: Fault<Op> = {
    id: randomUUID(),
    kind: spec.kind,
    operation: spec.operation ?? null,
    remaining: times === 0 ? null : times,
    hits: 0,
    afterProcessing: spec.afterProcessing ?? spec.kind === 'hang',
    every: spec.every ?? 1,
    seen: 0,
  };
  if (!Number.isInteger(fault.every) || fault.every < 1 || fault.every > 1_000_000) throw new FaultError('every must be an integer from 1 to 1000000');
  if (spec.kind === 'latency') {
    if (!Number.isInteger(spec.latencyMs) || spec.latencyMs! < 0 || spec.latencyMs! > 600_000)
      throw new FaultError('latencyMs must be an integer from 0 to 600000');
    fault.latencyMs = spec.latencyMs!;
  }
  if (spec.kind === 'error') {
    fault.status = spec.status ?? 503;
    if (!ERROR_STATUSES.includes(fault.status)) throw new FaultError(`status of an error fault must be one of ${ERROR_STATUSES.join(', ')}`);
  }
  if (spec.kind === 'reject') {
    if (typeof spec.code !== 'string') throw new FaultError('a reject fault needs a code');
    const status = rules.rejectStatus(spec.code, spec.status, spec.operation);
    if (status === undefined)
      throw new FaultError(`${spec.code} is not a ${rules.standard} payment error code${spec.status ? ` for HTTP ${spec.status}` : ''}`);
    Object.assign(fault, { code: spec.code, status, ...(spec.text ? { text: String(spec.text).slice(0, 500) } : {}) });
  }
  if (spec.afterProcessing !== undefined && typeof spec.afterProcessing !== 'boolean') throw new FaultError('afterProcessing must be a boolean');
  return fault;
}

export class Faults<Op extends string = string> {
  private faults: Fault<Op>[] = [];
  private readonly rules: FaultRules<Op>;

  constructor(rules: FaultRules<Op>) {
    this.rules = rules;
  }

  /** Adds faults (checked first: a wrong one throws a `FaultError` and none is added). */
  add(specs: FaultSpec<Op> | FaultSpec<Op>[]): Fault<Op>[] {
    const added = (Array.isArray(specs) ? specs : [specs]).map((spec) => checkSpec(spec, this.rules));
    this.faults.push(...added);
    return added;
  }

  list(): Fault<Op>[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }

  /** The latency and the outcome fault for one call, each consumed once. */
  take(operation: Op): { latencyMs: number; fault: Fault<Op> | null } {
    // Every matching fault sees the call; those whose turn it is (every `every`-th call) may hit it.
    const due = new Set<Fault<Op>>();
    for (const f of this.faults) {
      if (f.operation !== null && f.operation !== operation) continue;
      f.seen += 1;
      if (f.seen % f.every === 0) due.add(f);
    }
    const latency = this.faults.find((f) => f.kind === 'latency' && due.has(f));
    const fault = this.faults.find((f) => f.kind !== 'latency' && due.has(f)) ?? null;
    for (const used of [latency, fault]) {
      if (!used) continue;
      used.hits += 1;
      if (used.remaining !== null) used.remaining -= 1;
    }
    this.faults = this.faults.filter((f) => f.remaining === null || f.remaining > 0);
    return { latencyMs: latency?.latencyMs ?? 0, fault: fault ? { ...fault } : null };
  }
}
