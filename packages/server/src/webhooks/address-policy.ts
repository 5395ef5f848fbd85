/**
 * Which addresses webhook deliveries may reach. A merchant registers a URL; without this policy the
 * delivery job would POST to whatever it names or resolves to — loopback, the private network, a
 * cloud metadata service — and the delivery log would report back what answered (SSRF). Only global
 * unicast addresses are allowed, unless development allows private ones.
 *
 * Registration checks what the name resolves to now; delivery checks again at connection time, in
 * the DNS lookup the connection itself uses, so the checked address is the one connected to (no
 * second resolution between check and use).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Agent } from 'undici';

export const REFUSED_ADDRESS = 'refused: the host resolves to a non-public address';

export class RefusedAddressError extends Error {
  readonly code = 'EPAYRAILREFUSED';
  constructor() {
    super(REFUSED_ADDRESS);
  }
}

/** Global unicast only: loopback, private, link-local, CGNAT, unique-local, mapped, reserved… are not. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address); // ::ffff:a.b.c.d is judged as a.b.c.d
  return parsed.range() === 'unicast';
}

/** `[fd00:ec2::254]` → `fd00:ec2::254` */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * At registration: null when the URL may be registered, else why not. A name that does not resolve
 * now is accepted (DNS can be down); delivery checks again.
 */
export async function refusedWebhookHost(url: URL, lookup: (host: string) => Promise<string[]> = resolveAll): Promise<string | null> {
  const host = bareHost(url.hostname).toLowerCase();
  if (isIP(host)) return isPublicAddress(host) ? null : `${host} is not a public address`;
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name`;
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch {
    return null;
  }
  const bad = addresses.find((a) => !isPublicAddress(a));
  return bad === undefined ? null : `${host} resolves to ${bad}, which is not a public address`;
}

async function resolveAll(host: string): Promise<string[]> {
  const found = await Promise.race([
    dnsLookupAsync(host, { all: true, verbatim: true }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('DNS timeout')), 3000).unref()),
  ]);
  return found.map((a) => a.address);
}

/** A DNS lookup for connections that fails, without connecting, when any address found is not public. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    if (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) return callback(new RefusedAddressError(), '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

let undici: Promise<typeof import('undici')> | null = null;
/** undici, loaded on the first delivery rather than at start-up (docs/performance.md). */
export function loadUndici(): Promise<typeof import('undici')> {
  undici ??= import('undici');
  return undici;
}

let publicAgent: Agent | null = null;
/** The HTTP dispatcher for deliveries: public addresses only, or the default one when private ones are allowed. */
export async function webhookDispatcher(allowPrivate: boolean): Promise<Agent | undefined> {
  if (allowPrivate) return undefined;
  const { Agent } = await loadUndici();
  publicAgent ??= new Agent({ connect: { lookup: publicOnlyLookup } });
  return publicAgent;
}

/** Was this fetch failure our refusal (anywhere in its cause chain)? */
export function isRefusal(error: unknown): boolean {
  for (let e = error as { cause?: unknown; code?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === 'EPAYRAILREFUSED' || e instanceof RefusedAddressError) return true;
  }
  return false;
}
