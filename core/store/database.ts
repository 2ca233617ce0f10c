import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/** The box's one database file inside its data folder. */
export function databasePath(dataDir: string): string {
  return join(dataDir, 'box.sqlite');
}

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
function migrate(db: Db, log: Logger): void {
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

/**
 * Opens the box database for reading without writing next to it (`box status`, `box doctor` on a
 * stopped box). A WAL database opened read-only still makes -wal/-shm files; with no -wal file the main
 * file holds everything, so it is read into memory (header patched from WAL to rollback mode, which an
 * in-memory copy needs). With a -wal file (the daemon runs, or was killed) the files exist already and
 * a read-only open adds nothing. Null when there is no database yet, or an empty one (a start cut off
 * before its first write).
 */
export function openDatabaseReadOnly(file: string): Db | null {
  if (!existsSync(file)) return null;
  if (existsSync(`${file}-wal`)) return new Database(file, { readonly: true, fileMustExist: true });
  const image = readFileSync(file);
  if (image.length === 0) return null;
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}
