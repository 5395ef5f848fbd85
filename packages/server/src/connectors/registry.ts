/**
 * The connectors Payrail offers: the built-in test bank (unless switched off) and every configured
 * bank, each built by its standard's module. Banks are read from the database and re-read at most
 * every `refreshMs` (a bank added by the CLI appears in a running server within that time). Each
 * bank's HTTP transport (mTLS agent, signer) is built once and kept while the bank is unchanged.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import type { BankRow, Database } from '../store/schema.ts';
import { configuredBank, openBankMaterial } from '../services/banks.ts';
import type { Keyring } from '../services/secret-box.ts';
import { createBankTransport, type BankTransport } from './kit/http.ts';
import type { Connector, ConnectorDescriptor, ConnectorModule } from './kit/types.ts';
import { CONNECTOR_MODULES } from './modules.ts';
import { testConnector } from './test-connector.ts';
import { SANDBOX_CONNECTORS, sandboxBank } from './sandbox/banks.ts';

export interface RegistryOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** Opens banks' sealed keys; without it, a bank with key material has no transport. */
  keyring: Keyring | null;
  /** The built-in test bank ("Connecteur de test"); on by default. */
  testBank?: boolean;
  modules?: readonly ConnectorModule[];
  refreshMs?: number;
  log?: (message: string, data: Record<string, unknown>) => void;
}

interface Entry {
  connector: Connector;
  row: BankRow | null;
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

  /** Offered connectors by uuid; with `{ any: true }` also removed banks' (their payments still sync). */
  async byUuid(uuid: string, options: { any?: boolean } = {}): Promise<Connector | undefined> {
    await this.fresh();
    const wanted = uuid.toLowerCase();
    return this.entries.find((e) => (e.live || options.any) && e.connector.descriptor.uuid === wanted)?.connector;
  }

  async byId(id: number): Promise<Connector | undefined> {
    await this.fresh();
    return this.entries.find((e) => e.live && e.connector.descriptor.id === id)?.connector;
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
    const rows = await this.options.db.selectFrom('banks').selectAll().orderBy('id').execute();
    const previous = new Map(this.entries.filter((e) => e.row).map((e) => [e.row!.id, e]));
    const next: Entry[] = [];
    if (this.testBank) {
      next.push({ connector: testConnector, row: null, transport: null, live: true });
      for (const connector of SANDBOX_CONNECTORS) next.push({ connector, row: null, transport: null, live: true, sandbox: true });
    }
    for (const row of rows) {
      const old = previous.get(row.id);
      if (old && sameRow(old.row!, row)) {
        next.push({ ...old, live: row.removed_at === null });
        previous.delete(row.id);
        continue;
      }
      const entry = this.build(row);
      if (entry) next.push(entry);
    }
    this.entries = next;
    this.loadedAt = this.options.clock.now();
    for (const stale of previous.values()) void stale.transport?.close().catch(() => undefined);
  }

  private build(row: BankRow): Entry | null {
    const module = this.modules.find((m) => m.standard === row.standard);
    if (!module) {
      this.options.log?.('bank skipped: no module for its standard', { bank: row.name, standard: row.standard });
      return null;
    }
    const bank = configuredBank(row);
    try {
      const needsKeys = row.client_key_sealed !== null || row.signing_key_sealed !== null;
      if (needsKeys && !this.options.keyring) throw new Error('no key-encryption key to open its keys');
      const material = this.options.keyring ? openBankMaterial(this.options.keyring, row) : { ca: row.ca_cert };
      const transport = createBankTransport(bank, material);
      return { connector: module.create(bank, { clock: this.options.clock }), row, transport, live: row.removed_at === null };
    } catch (error) {
      // Never the key material: only which bank and why.
      this.options.log?.('bank skipped: its configuration cannot be used', { bank: row.name, error: (error as Error).message });
      return null;
    }
  }
}

function sameRow(a: BankRow, b: BankRow): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function isPayConnector(connector: ConnectorDescriptor): boolean {
  return connector.products.includes('pay');
}
