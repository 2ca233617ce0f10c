import type { Db } from './database.js';
import type { Clock } from '../clock.js';

/** A JSON key/value table (`settings` for what the PIN guards, `box_state` for what the box learns). */
export class KvStore {
  private readonly getStmt;
  private readonly setStmt;
  private readonly allStmt;

  constructor(private readonly db: Db, private readonly clock: Clock, table: 'settings' | 'box_state') {
    this.getStmt = db.prepare(`SELECT value FROM ${table} WHERE key = ?`);
    this.setStmt = db.prepare(
      `INSERT INTO ${table} (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.allStmt = db.prepare(`SELECT key, value FROM ${table} ORDER BY key`);
  }

  get<T>(key: string): T | undefined {
    const row = this.getStmt.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.setStmt.run(key, JSON.stringify(value), this.clock.now());
  }

  all(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.allStmt.all() as Array<{ key: string; value: string }>) out[r.key] = JSON.parse(r.value);
    return out;
  }
}
