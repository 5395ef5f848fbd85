/**
 * What a simulated bank received, so tests can assert "never sent twice": every API call, and
 * every initiation with its X-Request-ID and a hash of its body. Bounded, for a long-running
 * `payrail bank simulate`. Shared by the simulators of every standard (`Op`: its operationIds).
 */
import { createHash } from 'node:crypto';

export interface ReceivedCall<Op extends string = string> {
  operation: Op | null;
  method: string;
  path: string;
  requestId: string | null;
  at: number;
  /** What authorised the call: a client token (OAuth2 pre-step), the payer's token (OAuth2 SCA), none, or a refused one. */
  bearer?: 'client' | 'payer' | 'none' | 'refused';
  /** Over HTTPS: the client certificate the call came with (trusted: it chains to the bank's client CA). */
  certificate?: 'trusted' | 'untrusted' | 'none';
  /** Whether the call carried `Signature` and `Digest` headers (HTTP-signature standards). */
  signed?: { signature: boolean; digest: boolean };
  /** The `keyId` and the `headers` list of the call's draft-cavage `Signature`, as received (HTTP-signature standards). */
  signature?: { keyId: string | null; headers: string[] } | null;
  /** The payer's context headers the call carried (`PSU-IP-Port`, `PSU-User-Agent`, `PSU-Accept*`, `PSU-Http-Method`…; not `PSU-ID`), by lower-case name. */
  psuContext?: Record<string, string>;
}

export interface ReceivedInitiation {
  requestId: string | null;
  /** SHA-256 of the body bytes as received. */
  bodyHash: string;
  /** The payment it created, if it got that far. */
  paymentId: string | null;
  at: number;
}

const LIMIT = 100_000;

/** The payer context headers of a request (`psu-*` but the payer's identity: `psu-id`, `psu-id-type`, `psu-corporate-id*`); undefined when none. */
export function psuContextOf(headers: Record<string, string | string[] | undefined>): Record<string, string> | undefined {
  const found = Object.entries(headers).filter(
    (entry): entry is [string, string] => entry[0].startsWith('psu-') && !/^psu-(id|id-type|corporate-id.*)$/.test(entry[0]) && typeof entry[1] === 'string',
  );
  return found.length === 0 ? undefined : Object.fromEntries(found);
}

export const hashBody = (raw: string | Buffer): string => createHash('sha256').update(raw).digest('hex');

export class Received<Op extends string = string> {
  calls: ReceivedCall<Op>[] = [];
  initiations: ReceivedInitiation[] = [];

  recordCall(call: ReceivedCall<Op>): void {
    if (this.calls.length >= LIMIT) this.calls.shift();
    this.calls.push(call);
  }

  recordInitiation(initiation: ReceivedInitiation): ReceivedInitiation {
    if (this.initiations.length >= LIMIT) this.initiations.shift();
    this.initiations.push(initiation);
    return initiation;
  }

  count(operation: Op): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  initiationsWithRequestId(requestId: string): number {
    return this.initiations.filter((i) => i.requestId === requestId).length;
  }

  /** How often this exact body (object or raw text) was received as an initiation. */
  initiationsWithBody(body: string | object): number {
    const hash = hashBody(typeof body === 'string' ? body : JSON.stringify(body));
    return this.initiations.filter((i) => i.bodyHash === hash).length;
  }

  /** Request ids and body hashes received in more than one initiation. */
  duplicates(): { requestIds: string[]; bodyHashes: string[] } {
    const repeated = (values: (string | null)[]) => {
      const seen = new Map<string, number>();
      for (const v of values) if (v !== null) seen.set(v, (seen.get(v) ?? 0) + 1);
      return [...seen].filter(([, n]) => n > 1).map(([v]) => v);
    };
    return { requestIds: repeated(this.initiations.map((i) => i.requestId)), bodyHashes: repeated(this.initiations.map((i) => i.bodyHash)) };
  }

  summary() {
    const byOperation: Record<string, number> = {};
    for (const c of this.calls) byOperation[c.operation ?? 'unrouted'] = (byOperation[c.operation ?? 'unrouted'] ?? 0) + 1;
    const by = (of: (c: ReceivedCall<Op>) => string | undefined) => {
      const table: Record<string, Record<string, number>> = {};
      for (const c of this.calls) {
        const value = of(c);
        if (!value) continue;
        const key = c.operation ?? 'unrouted';
        const row = table[key] ?? {};
        table[key] = row;
        row[value] = (row[value] ?? 0) + 1;
      }
      return table;
    };
    return {
      calls: this.calls.length,
      byOperation,
      byBearer: by((c) => c.bearer),
      byCertificate: by((c) => c.certificate),
      initiations: this.initiations,
      duplicates: this.duplicates(),
      /** Calls that carried payer context headers: which, with what. */
      psuContext: this.calls.filter((c) => c.psuContext).map((c) => ({ operation: c.operation, requestId: c.requestId, headers: c.psuContext })),
    };
  }

  clear(): void {
    this.calls = [];
    this.initiations = [];
  }
}
