/**
 * Which addresses webhook deliveries may reach. A merchant registers a URL; without this policy the
 * delivery job would POST to whatever it names or resolves to — loopback, the private network, a
 * cloud metadata service — and the delivery log would report back what answered (SSRF). Production
 * allows only global unicast addresses; development also allows loopback and private networks (a
 * shop on 127.0.0.1 receives its webhooks). No mode allows a cloud metadata service or anything
 * link-local: those are refused in every mode, whatever the spelling (the URL parser already turns
 * `2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376` and `169.254.169.254.` into 169.254.169.254;
 * IPv6 forms that carry an IPv4 address — mapped, compatible, NAT64, 6to4, Teredo — are judged or
 * refused here).
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

/**
 * Refused in every mode: link-local (where AWS, GCP, Azure, OpenStack and DigitalOcean serve
 * instance metadata at 169.254.169.254, ECS at 169.254.170.2) and the metadata services outside it.
 */
const METADATA_RANGES = [
  '169.254.0.0/16', // IPv4 link-local: 169.254.169.254 and friends
  'fe80::/10', // IPv6 link-local
  'fd00:ec2::/32', // AWS instance metadata and DNS over IPv6 (fd00:ec2::254, fd00:ec2::23)
  '100.100.100.200/32', // Alibaba Cloud
  '192.0.0.192/32', // Oracle Cloud
].map((cidr) => ipaddr.parseCIDR(cidr));

/** Host names of metadata services (they resolve to the addresses above inside their cloud). */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** What development allows besides public addresses. */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat', 'unspecified']);

/** IPv4-compatible IPv6 (`::a.b.c.d`, deprecated): ipaddr.js calls it unicast, but it carries an IPv4 address. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

export type AddressClass = 'public' | 'private' | 'refused';

/**
 * public: global unicast. private: loopback, RFC 1918, unique-local, CGNAT, unspecified (allowed in
 * development). refused: metadata, link-local, multicast, reserved, IPv6 forms that carry an IPv4
 * address other than mapped (judged as that IPv4 address), and anything that is not an address.
 */
export function classifyAddress(address: string): AddressClass {
  if (!ipaddr.isValid(address)) return 'refused';
  const parsed = ipaddr.process(address); // ::ffff:a.b.c.d is judged as a.b.c.d
  if (METADATA_RANGES.some(([range, bits]) => parsed.kind() === range.kind() && parsed.match(range, bits))) return 'refused';
  const range = parsed.range();
  if (range === 'unicast') return parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE) ? 'refused' : 'public';
  return PRIVATE_RANGES.has(range) ? 'private' : 'refused';
}

/** Global unicast only: loopback, private, link-local, CGNAT, unique-local, reserved… are not. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === 'public';
}

/** May a webhook connect to this address? Public always; private ones when allowed (development); metadata never. */
export function isAllowedAddress(address: string, allowPrivate: boolean): boolean {
  const verdict = classifyAddress(address);
  return verdict === 'public' || (allowPrivate && verdict === 'private');
}

/**
 * At delivery, before connecting: an address literal the policy refuses (literals are never looked
 * up) or a metadata service's name. Other names are checked by the connection's own lookup.
 */
export function refusedHost(url: URL, allowPrivate: boolean): boolean {
  const host = bareHost(url.hostname).toLowerCase().replace(/\.$/, '');
  if (isIP(host) !== 0) return !isAllowedAddress(host, allowPrivate);
  return METADATA_NAMES.has(host);
}

/** The 400 for a refused webhook or token URL, naming the field. */
export function refusedUrlMessage(refused: string, allowPrivate: boolean): string {
  return allowPrivate
    ? `${refused}; no mode sends webhooks there`
    : `${refused}; webhooks go to public addresses only (--allow-private-webhooks allows private ones in development)`;
}

/** `[fd00:ec2::254]` → `fd00:ec2::254` */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * At registration: null when the URL may be registered, else why not. A name that does not resolve
 * now is accepted (DNS can be down); delivery checks again.
 */
export async function refusedWebhookHost(url: URL, allowPrivate = false, lookup: (host: string) => Promise<string[]> = resolveAll): Promise<string | null> {
  const host = bareHost(url.hostname).toLowerCase().replace(/\.$/, '');
  const why = (address: string) => (classifyAddress(address) === 'private' ? 'is not a public address' : 'is a cloud metadata, link-local or reserved address');
  if (isIP(host)) return isAllowedAddress(host, allowPrivate) ? null : `${host} ${why(host)}`;
  if (METADATA_NAMES.has(host)) return `${host} is a cloud metadata service`;
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return `${host} is a loopback name`;
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch {
    return null;
  }
  const bad = addresses.find((a) => !isAllowedAddress(a, allowPrivate));
  return bad === undefined ? null : `${host} resolves to ${bad}, which ${why(bad)}`;
}

async function resolveAll(host: string): Promise<string[]> {
  const found = await Promise.race([
    dnsLookupAsync(host, { all: true, verbatim: true }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('DNS timeout')), 3000).unref()),
  ]);
  return found.map((a) => a.address);
}

type Resolver = (hostname: string, options: { all: true }, callback: (error: Error | null, addresses: LookupAddress[]) => void) => void;

/**
 * A DNS lookup for connections that fails, without connecting, when any address found is not
 * allowed. `resolve` is the system resolver (a test may give its own).
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = dnsLookup as unknown as Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      if (addresses.length === 0 || addresses.some((a) => !isAllowedAddress(a.address, allowPrivate))) return callback(new RefusedAddressError(), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Production's connection lookup: public addresses only. */
export const publicOnlyLookup: LookupFunction = guardedLookup(false);

let undici: Promise<typeof import('undici')> | null = null;
/** undici, loaded on the first delivery rather than at start-up (docs/performance.md). */
export function loadUndici(): Promise<typeof import('undici')> {
  undici ??= import('undici');
  return undici;
}

const agents = new Map<boolean, Agent>();
/** The HTTP dispatcher for deliveries: its connections look names up through the policy (private addresses too when allowed). */
export async function webhookDispatcher(allowPrivate: boolean): Promise<Agent> {
  const { Agent } = await loadUndici();
  let agent = agents.get(allowPrivate);
  if (!agent) {
    agent = new Agent({ connect: { lookup: guardedLookup(allowPrivate) } });
    agents.set(allowPrivate, agent);
  }
  return agent;
}

/** Was this fetch failure our refusal (anywhere in its cause chain)? */
export function isRefusal(error: unknown): boolean {
  for (let e = error as { cause?: unknown; code?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === 'EPAYRAILREFUSED' || e instanceof RefusedAddressError) return true;
  }
  return false;
}
