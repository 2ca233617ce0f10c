import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync } from 'node:fs';
import type { Logger } from '../log.js';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens the box's one SQLite file. WAL with synchronous=FULL: a commit that returned is on disk,
 * so a write the API acknowledged survives kill -9 and a power cut.
 */
export function openDatabase(file: string, log: Logger): Db {
  // Created private: the -wal and -shm files SQLite makes take the same mode.
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, log);
  return db;
}

/** Applies numbered migrations in order, each in its own transaction with the version bump. */
export function migrate(db: Db, log: Logger): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    log.info({ version: m.version, name: m.name }, 'database migrated');
  }
}

export function integrityCheck(db: Db): string {
  return String(db.pragma('integrity_check', { simple: true }));
}
