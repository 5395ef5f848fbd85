/** A fresh database for tests that run `payrail` processes: a SQLite folder, or a new PostgreSQL database. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore } from '../../src/store/db.ts';

export interface ProcessDatabase {
  /** The CLI arguments that select it (`--data-dir DIR` or `--database-url URL`). */
  args: string[];
  cleanup(): Promise<void>;
}

export function processDatabases(): { name: string; create: () => Promise<ProcessDatabase> }[] {
  const targets = [
    {
      name: 'sqlite',
      create: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'payrail-proc-'));
        return { args: ['--data-dir', dir], cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
  ];
  const pgUrl = inject('pgUrl');
  if (pgUrl) {
    targets.push({
      name: 'postgres',
      create: async () => {
        const name = `payrail_proc_${randomBytes(4).toString('hex')}`;
        await adminQuery(pgUrl, `create database ${name}`);
        const url = new URL(pgUrl);
        url.pathname = `/${name}`;
        return { args: ['--database-url', url.toString()], cleanup: () => adminQuery(pgUrl, `drop database if exists ${name} with (force)`) };
      },
    });
  }
  return targets;
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Every row of every table of a process database, as text (tests look for what must never be stored). */
export async function databaseText(db: ProcessDatabase): Promise<string> {
  const [flag, value] = db.args;
  const store = await openStore(flag === '--database-url' ? { databaseUrl: value! } : { dataDir: value! });
  try {
    const tables =
      store.dialect === 'sqlite'
        ? sql<{ name: string }>`select name from sqlite_master where type = 'table'`
        : sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`;
    const names = (await tables.execute(store.db)).rows.map((r) => r.name);
    if (!names.includes('payments')) throw new Error(`no payments table among ${names.join(', ')}`);
    const rows = await Promise.all(names.map((name) => sql`select * from ${sql.table(name)}`.execute(store.db)));
    return JSON.stringify(rows.map((r) => r.rows));
  } finally {
    await store.close();
  }
}
