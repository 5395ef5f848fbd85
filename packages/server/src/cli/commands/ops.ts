/**
 * Operator commands: `payrail sync failed` / `sync retry ID` (payments whose status sync is in the
 * `failed` state), `payrail backup --output FILE` (an online copy of the embedded database) and
 * `payrail restore --from FILE` (that copy into a new data folder, checked first).
 */
import { chmodSync, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { sql } from 'kysely';
import { systemClock } from '../../domain/clock.ts';
import { listFailedSyncs, retrySync } from '../../services/sync-status.ts';
import { jsonOption, printData } from '../output.ts';
import { examples, UsageError } from '../runtime.ts';
import { configOf, parseId, storeOptions, withStore } from '../store-options.ts';

export function registerOps(program: Command): void {
  const sync = program.command('sync').description('status sync with the banks: payments whose sync failed');
  const failed = jsonOption(
    storeOptions(sync.command('failed').description('list payments whose last status syncs failed (still retried, at most hourly)')),
  ).action(async (_options, cmd: Command) =>
    withStore(cmd, async (store) => {
      const payments = await listFailedSyncs(store.db);
      printData(cmd, { payments }, () =>
        payments.length
          ? payments
              .map(
                (p) =>
                  `${p.id}\t${p.state}\t${p.sync_failures} failures\tnext ${p.next_sync_at ? new Date(p.next_sync_at).toISOString() : '-'}\t${p.sync_error ?? ''}`,
              )
              .join('\n')
          : 'no payment has a failed status sync',
      );
    }),
  );
  examples(failed, 'payrail sync failed', 'payrail sync failed --json --database-url postgres://payrail@db/payrail');
  const retry = jsonOption(
    storeOptions(
      sync.command('retry').description('ask the bank about one payment again at once').argument('<PAYMENT_ID>', 'the payment', parseId('PAYMENT_ID')),
    ),
  ).action(async (id: number, _options, cmd: Command) =>
    withStore(cmd, async (store) => {
      await retrySync(store.db, systemClock, id);
      printData(cmd, { id, retried: true }, () => `payment ${id}: status sync scheduled now`);
    }),
  );
  examples(retry, 'payrail sync retry 42');

  const backup = jsonOption(
    storeOptions(
      program.command('backup').description('copy the embedded SQLite database while Payrail runs (VACUUM INTO); PostgreSQL: use pg_dump'),
    ).requiredOption('--output <FILE>', 'the file to write (must not exist)'),
  ).action(async (options: { output: string }, cmd: Command) =>
    withStore(cmd, async (store) => {
      if (store.dialect !== 'sqlite') throw new UsageError('backup copies the embedded SQLite database; for PostgreSQL use pg_dump (see docs/operations.md)');
      if (existsSync(options.output)) throw new UsageError(`--output ${options.output} already exists`);
      // One consistent snapshot, taken inside a read transaction: writers go on meanwhile (WAL).
      await sql`vacuum into ${options.output}`.execute(store.db);
      chmodSync(options.output, 0o600); // it holds what the database holds

      printData(cmd, { output: options.output }, () => `backup written to ${options.output}`);
    }),
  );
  examples(backup, 'payrail backup --output /var/backups/payrail-$(date +%F).sqlite');

  const restore = jsonOption(
    storeOptions(
      program
        .command('restore')
        .description('restore a `payrail backup` file into a new data folder, after checking it and its keys; PostgreSQL: use pg_restore'),
    )
      .requiredOption('--from <FILE>', 'the backup file (payrail backup --output)')
      .option('--key-file <FILE>', "development (no --key-encryption-key): the backed-up data folder's key-encryption.key, copied into the new one"),
  ).action(async (options: { from: string; keyFile?: string }, cmd: Command) => {
    const config = configOf(cmd);
    if (config.databaseUrl) throw new UsageError('restore fills an embedded data folder; for PostgreSQL use pg_restore (see docs/operations.md)');
    const { RestoreError, restoreBackup } = await import('../../services/restore.ts');
    let report: ReturnType<typeof restoreBackup>;
    try {
      report = restoreBackup({ from: options.from, dataDir: config.dataDir, keys: config.keyEncryptionKeys, keyFile: options.keyFile });
    } catch (error) {
      if (error instanceof RestoreError || (error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError((error as Error).message);
      throw error;
    }
    printData(
      cmd,
      report,
      (r) =>
        `restored ${options.from} into ${r.database}: ${r.counts.payments} payments, ${r.counts.clients} clients, ` +
        `${r.counts.webhook_endpoints} webhook endpoints, ${r.counts.banks} banks; ${r.sealed_secrets} sealed secrets open ` +
        `(key-encryption key ${r.key_ids.join(', ') || '-'}, from ${r.keys_from})\nstart it with: payrail serve --data-dir ${config.dataDir}`,
    );
  });
  examples(
    restore,
    'payrail restore --from /var/backups/payrail-2026-01-15.sqlite --data-dir /srv/payrail-restored --key-file /srv/payrail/key-encryption.key',
    'PAYRAIL_KEY_ENCRYPTION_KEY=… payrail restore --from payrail.sqlite --data-dir /srv/payrail --mode production',
  );
}
