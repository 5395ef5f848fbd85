/** Opening the SQLite database file: owner-only files, WAL, full fsync on commit (or the WAL synced off the event loop: walSync), foreign keys. */
import { chmodSync, closeSync, existsSync, fdatasync, fsyncSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * The data folder is the owner's alone (0700) and so are the database files (0600): SQLite gives its
 * -wal and -shm files the mode of the database file, which is created here before SQLite opens it.
 * Files left by older versions with wider modes are narrowed.
 */
function restrictFiles(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) if (existsSync(path)) chmodSync(path, 0o600);
}

export function openSqlite(file: string): DatabaseSync {
  if (file !== ':memory:') restrictFiles(file);
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  return db;
}

/**
 * The sync of a WAL database whose COMMITs do not sync (`synchronous = NORMAL`): fdatasync of its
 * `-wal` file on libuv's thread pool, which makes durable every commit SQLite wrote to it before the
 * call (what `synchronous = FULL` does inside each COMMIT, blocking the thread). Checkpoints sync the
 * WAL and the database file themselves in that mode. The file is opened once (read-only: SQLite holds
 * no lock on it) and again if it was replaced; its folder is synced when it is first seen, so that the
 * file's own entry is durable too.
 */
export function walSync(file: string): () => Promise<void> {
  const wal = `${file}-wal`;
  let open: { fd: number; ino: number } | null = null;
  return () =>
    new Promise<void>((resolve, reject) => {
      try {
        const { ino } = statSync(wal);
        if (!open || open.ino !== ino) {
          if (open) closeSync(open.fd);
          open = { fd: openSync(wal, 'r'), ino };
          const dir = openSync(dirname(file), 'r');
          try {
            fsyncSync(dir);
          } finally {
            closeSync(dir);
          }
        }
      } catch (error) {
        reject(error);
        return;
      }
      fdatasync(open.fd, (error) => (error ? reject(error) : resolve()));
    });
}
