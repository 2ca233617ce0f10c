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

interface Burst {
  startedAt: number;
  lastAt: number;
  /** Occurrences after the first (the first has its own row). */
  more: number;
  last: AuditInput;
  actors: Set<string>;
}

/** How repeated entries (refused tokens from one source) are folded so an attacker cannot grow the log. */
export interface CoalesceOptions {
  windowMs: number;
  /** Distinct sources followed at once; beyond this they share one overflow key per action. */
  maxKeys: number;
}

const defaultCoalesce: CoalesceOptions = { windowMs: 60_000, maxKeys: 5000 };

/** Append-only record of admin actions and refused attempts (triggers forbid UPDATE/DELETE). */
export class AuditStore {
  private readonly insert;
  private readonly recent;
  private readonly byAction;
  private readonly bursts = new Map<string, Burst>();
  private readonly coalesce: CoalesceOptions;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly log: Logger, coalesce: Partial<CoalesceOptions> = {}) {
    this.coalesce = { ...defaultCoalesce, ...coalesce };
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

  /**
   * Appends the first entry of a burst at once, then at most one summary row per `key` per window
   * with how many more came (`details.count`), so the first refusal is always on record but a flood
   * of refused tokens costs one row a minute per source. Returns the row id when one was written.
   */
  appendCoalesced(key: string, e: AuditInput): number | null {
    if (this.closed) return this.append(e);
    const now = this.clock.now();
    this.sweep(now);
    let k = key;
    if (!this.bursts.has(k) && this.bursts.size >= this.coalesce.maxKeys) k = `overflow\n${e.action}`;
    const b = this.bursts.get(k);
    if (b) {
      b.more++;
      b.lastAt = now;
      b.last = e;
      if (b.actors.size < 10) b.actors.add(e.actor);
      return null;
    }
    this.bursts.set(k, { startedAt: now, lastAt: now, more: 0, last: e, actors: new Set() });
    this.startSweeper();
    return this.append({ ...e, details: { ...e.details, count: 1 } });
  }

  /** Writes the summary rows of bursts whose window has passed (all of them when `all`). */
  flush(all = false): void {
    this.sweep(this.clock.now(), all);
  }

  /** Writes what is pending; later coalesced entries are written at once. */
  close(): void {
    this.flush(true);
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(now: number, all = false): void {
    for (const [k, b] of this.bursts) {
      // A clock set back (the hub corrected it) also ends the window.
      if (!all && now >= b.startedAt && now - b.startedAt < this.coalesce.windowMs) continue;
      this.bursts.delete(k);
      if (b.more === 0) continue;
      this.append({
        ...b.last,
        details: {
          ...b.last.details, count: b.more, repeated: true,
          firstAt: new Date(b.startedAt).toISOString(), lastAt: new Date(b.lastAt).toISOString(), actors: [...b.actors],
        },
      });
    }
    if (this.bursts.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private startSweeper(): void {
    if (this.sweeper || this.closed) return;
    this.sweeper = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'cannot write the audit summary of repeated entries');
      }
    }, Math.max(1000, Math.min(this.coalesce.windowMs, 15_000)));
    this.sweeper.unref();
  }

  list(limit = 100, action?: string): AuditEntry[] {
    const rows = (action ? this.byAction.all(action, limit) : this.recent.all(limit)) as Array<Omit<AuditEntry, 'details'> & { details: string | null }>;
    return rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null }));
  }
}
