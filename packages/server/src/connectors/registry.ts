/**
 * The connectors Payrail offers: the built-in test bank (unless switched off) and every configured
 * bank, each built by its standard's module. Banks are read from a BankSource (the database's, in
 * services/banks.ts: `connectorRegistry`) and re-read at most every `refreshMs` (a bank added by
 * the CLI appears in a running server within that time). Each bank's HTTP transport (mTLS agent,
 * signer) is built once and kept while the bank is unchanged.
 */
import type { Clock } from '../domain/clock.ts';
import { type BankMaterial, createBankTransport, type BankTransport } from './kit/http.ts';
import type { ConfiguredBank, Connector, ConnectorDescriptor, ConnectorModule } from './kit/types.ts';
import { CONNECTOR_MODULES } from './modules.ts';
import { testConnector } from './test-connector.ts';
import { SANDBOX_CONNECTORS, sandboxBank } from './sandbox/banks.ts';

/** One configured bank, as the registry needs it. */
export interface BankEntry {
  id: number;
  name: string;
  standard: string;
  removed: boolean;
  /** Equal for two reads of an unchanged bank (its connector and transport are kept then). */
  revision: string;
  /** The bank's configuration, for its standard's module. */
  configured(): ConfiguredBank;
  /** Its key material, opened for its HTTP transport; throws when it cannot be opened. */
  material(): BankMaterial;
}

/** Where the registry reads the configured banks (services/banks.ts reads them from the database). */
export interface BankSource {
  /** Every configured bank, removed ones included, by id. */
  banks(): Promise<BankEntry[]>;
}

export interface RegistryOptions {
  banks: BankSource;
  clock: Clock;
  /** The built-in test bank ("Connecteur de test"); on by default. */
  testBank?: boolean;
  modules?: readonly ConnectorModule[];
  refreshMs?: number;
  /** A lookup by uuid or id that finds nothing reads the banks again if the last read is at least this old (a bank just added elsewhere); 250 ms by default. */
  missRefreshMs?: number;
  log?: (message: string, data: Record<string, unknown>) => void;
}

interface Entry {
  connector: Connector;
  bank: BankEntry | null;
  transport: BankTransport | null;
  live: boolean;
  /** A sandbox bank (connectors/sandbox): offered in the webview, not in the API's lists. */
  sandbox?: boolean;
}

export class ConnectorRegistry {
  readonly modules: readonly ConnectorModule[];
  readonly testBank: boolean;
  private entries: Entry[] = [];
  private readonly selfTransports = new Map<string, BankTransport>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  private readonly options: RegistryOptions;

  constructor(options: RegistryOptions) {
    this.options = options;
    this.modules = options.modules ?? CONNECTOR_MODULES;
    this.testBank = options.testBank ?? true;
  }

  /** Connectors listed to merchants (`GET /2.0/connectors`, `/incompatibilities`), the test bank first. */
  async list(): Promise<Connector[]> {
    await this.fresh();
    return this.entries.filter((e) => e.live && !e.sandbox).map((e) => e.connector);
  }

  /**
   * Connectors the payer may choose in the webview: the listed ones, then the sandbox banks (one
   * per consent flow, only where the test bank is on), which the API's lists leave out so that
   * Powens' clients see the connector list Powens documents.
   */
  async offered(): Promise<Connector[]> {
    await this.fresh();
    return this.entries.filter((e) => e.live).map((e) => e.connector);
  }

  /** Every known connector, removed banks included (names of past payments' banks). */
  async all(): Promise<Connector[]> {
    await this.fresh();
    return this.entries.map((e) => e.connector);
  }

  /** Every connector a payment may name (`connector_uuid` at creation), the sandbox banks included. */
  async descriptors(): Promise<ConnectorDescriptor[]> {
    return (await this.offered()).map((c) => c.descriptor);
  }

  /**
   * Offered connectors by uuid; with `{ any: true }` also removed banks' (their payments still sync).
   * A bank added by another process (`payrail bank add`) is found at once, not at the next refresh.
   */
  async byUuid(uuid: string, options: { any?: boolean } = {}): Promise<Connector | undefined> {
    const wanted = uuid.toLowerCase();
    return this.findFresh((e) => (e.live || options.any === true) && e.connector.descriptor.uuid === wanted);
  }

  async byId(id: number): Promise<Connector | undefined> {
    return this.findFresh((e) => e.live && e.connector.descriptor.id === id);
  }

  /** The connector `match` finds; on a miss, once more after reading the banks again, at most every missRefreshMs (unknown uuids cannot make it read the database more often). */
  private async findFresh(match: (e: Entry) => boolean): Promise<Connector | undefined> {
    await this.fresh();
    const found = this.entries.find(match);
    if (found || this.options.clock.now() - this.loadedAt < (this.options.missRefreshMs ?? 250)) return found?.connector;
    this.invalidate();
    await this.fresh();
    return this.entries.find(match)?.connector;
  }

  /**
   * The HTTP transport of a bank's connector; for a sandbox bank whose endpoints Payrail serves
   * (`selfHosted`), one to Payrail's own public URL; null for the test bank.
   */
  transportOf(connector: Connector, baseUrl?: string): BankTransport | null {
    const transport = this.entries.find((e) => e.connector === connector)?.transport ?? null;
    if (transport || !connector.selfHosted || !baseUrl) return transport;
    let self = this.selfTransports.get(baseUrl);
    if (!self) {
      self = { ...createBankTransport(sandboxBank(baseUrl), {}), selfHosted: true };
      if (this.selfTransports.size >= 8) this.closeSelfTransports();
      this.selfTransports.set(baseUrl, self);
    }
    return self;
  }

  private closeSelfTransports(): void {
    for (const t of this.selfTransports.values()) void t.close().catch(() => undefined);
    this.selfTransports.clear();
  }

  /** Forgets the cache: the next lookup reads the banks again. */
  invalidate(): void {
    this.loadedAt = -Infinity;
  }

  async close(): Promise<void> {
    this.closeSelfTransports();
    await Promise.all(this.entries.map((e) => e.transport?.close().catch(() => undefined)));
    this.entries = [];
  }

  private async fresh(): Promise<void> {
    if (this.options.clock.now() - this.loadedAt < (this.options.refreshMs ?? 2000)) return;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    await this.loading;
  }

  private async load(): Promise<void> {
    const banks = await this.options.banks.banks();
    const previous = new Map(this.entries.filter((e) => e.bank).map((e) => [e.bank!.id, e]));
    const next: Entry[] = [];
    if (this.testBank) {
      next.push({ connector: testConnector, bank: null, transport: null, live: true });
      for (const connector of SANDBOX_CONNECTORS) next.push({ connector, bank: null, transport: null, live: true, sandbox: true });
    }
    for (const bank of banks) {
      const old = previous.get(bank.id);
      if (old && old.bank!.revision === bank.revision) {
        next.push({ ...old, live: !bank.removed });
        previous.delete(bank.id);
        continue;
      }
      const entry = this.build(bank);
      if (entry) next.push(entry);
    }
    this.entries = next;
    this.loadedAt = this.options.clock.now();
    for (const stale of previous.values()) void stale.transport?.close().catch(() => undefined);
  }

  private build(entry: BankEntry): Entry | null {
    const module = this.modules.find((m) => m.standard === entry.standard);
    if (!module) {
      this.options.log?.('bank skipped: no module for its standard', { bank: entry.name, standard: entry.standard });
      return null;
    }
    const bank = entry.configured();
    try {
      const transport = createBankTransport(bank, entry.material(), module.signatureScheme?.(bank));
      return { connector: module.create(bank, { clock: this.options.clock }), bank: entry, transport, live: !entry.removed };
    } catch (error) {
      // Never the key material: only which bank and why.
      this.options.log?.('bank skipped: its configuration cannot be used', { bank: entry.name, error: (error as Error).message });
      return null;
    }
  }
}

export function isPayConnector(connector: ConnectorDescriptor): boolean {
  return connector.products.includes('pay');
}
