import type { Db } from './database.js';
import type { Logger } from '../log.js';
import type { Clock } from '../clock.js';
import { timed } from './timed.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: 'ok' | 'refused' | 'error';
  details: Record<string, unknown> | null;
}

export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  outcome: AuditEntry['outcome'];
  details?: Record<string, unknown>;
}

/** Append-only record of admin actions and refused attempts (triggers forbid UPDATE/DELETE). */
export class AuditStore {
  private readonly insert;
  private readonly recent;
  private readonly byAction;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly log: Logger) {
    this.insert = db.prepare(
      'INSERT INTO audit_log (at, actor, action, target, outcome, details) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.recent = db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?');
    this.byAction = db.prepare('SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT ?');
  }

  append(e: AuditInput): number {
    const info = timed(this.log, 'audit.append', () =>
      this.insert.run(this.clock.now(), e.actor, e.action, e.target ?? null, e.outcome, e.details ? JSON.stringify(e.details) : null),
    );
    return Number(info.lastInsertRowid);
  }

  list(limit = 100, action?: string): AuditEntry[] {
    const rows = (action ? this.byAction.all(action, limit) : this.recent.all(limit)) as Array<Omit<AuditEntry, 'details'> & { details: string | null }>;
    return rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null }));
  }
}
