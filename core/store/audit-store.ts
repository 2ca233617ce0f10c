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

type RawRow = Omit<AuditEntry, 'details'> & { details: string | null };
const toEntry = (r: RawRow): AuditEntry => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null });

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

/**
 * How much of the log is kept: the oldest rows go once there are more than `maxRows` or they are older than
 * `maxAgeMs` (China's Cybersecurity Law asks for network logs to be kept at least six months: the default
 * is a year). The newest 1000 rows are always kept (migration 10's trigger refuses dropping them).
 */
export interface RetentionOptions {
  maxRows: number;
  maxAgeMs: number;
}

export const AUDIT_KEEP_NEWEST = 1000;
const defaultRetention: RetentionOptions = { maxRows: 200_000, maxAgeMs: 365 * 86_400_000 };
/** Retention runs on the first append and then every this many appends (a DELETE of a prefix is cheap, but not free). */
const PRUNE_EVERY = 500;

/** Append-only record of admin actions and refused attempts (triggers forbid UPDATE/DELETE). */
export class AuditStore {
  private readonly insert;
  private readonly recent;
  private readonly byAction;
  private readonly bursts = new Map<string, Burst>();
  private readonly page;
  private readonly bounds;
  private readonly firstRecent;
  private readonly dropBefore;
  private readonly coalesce: CoalesceOptions;
  private readonly retention: RetentionOptions;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private appendsSincePrune = PRUNE_EVERY;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly log: Logger, coalesce: Partial<CoalesceOptions> = {}, retention: Partial<RetentionOptions> = {}) {
    this.coalesce = { ...defaultCoalesce, ...coalesce };
    this.retention = { ...defaultRetention, ...retention };
    this.insert = db.prepare(
      'INSERT INTO audit_log (at, actor, action, target, outcome, details) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.recent = db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?');
    this.byAction = db.prepare('SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT ?');
    this.page = db.prepare('SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?');
    this.bounds = db.prepare('SELECT MIN(id) AS lo, MAX(id) AS hi FROM audit_log');
    this.firstRecent = db.prepare('SELECT MIN(id) AS id FROM audit_log WHERE at >= ?');
    this.dropBefore = db.prepare('DELETE FROM audit_log WHERE id < ?');
  }

  append(e: AuditInput): number {
    const info = timed(this.log, 'audit.append', () =>
      this.insert.run(this.clock.now(), e.actor, e.action, e.target ?? null, e.outcome, e.details ? JSON.stringify(e.details) : null),
    );
    if (++this.appendsSincePrune >= PRUNE_EVERY) this.prune();
    return Number(info.lastInsertRowid);
  }

  /**
   * Drops the oldest rows beyond the retention (count and age), keeping the newest AUDIT_KEEP_NEWEST, and
   * says so in the log itself. Always a prefix by id: the rows a reviewer has are never a log with holes.
   * Returns how many rows went.
   */
  prune(): number {
    this.appendsSincePrune = 0;
    const { lo, hi } = this.bounds.get() as { lo: number | null; hi: number | null };
    if (lo === null || hi === null) return 0;
    const byCount = hi - this.retention.maxRows + 1;
    const byAge = (this.firstRecent.get(this.clock.now() - this.retention.maxAgeMs) as { id: number | null }).id ?? hi + 1;
    const cut = Math.min(Math.max(byCount, byAge), hi - AUDIT_KEEP_NEWEST + 1);
    if (cut <= lo) return 0;
    const dropped = timed(this.log, 'audit.prune', () => this.dropBefore.run(cut).changes);
    this.insert.run(this.clock.now(), 'box', 'audit.retention', null, 'ok', JSON.stringify({ dropped, keptFromId: cut, maxRows: this.retention.maxRows, maxAgeDays: this.retention.maxAgeMs / 86_400_000 }));
    return dropped;
  }

  /** Up to `limit` rows after `afterId`, oldest first: an export reads the whole log page by page. */
  pageAfter(afterId: number, limit: number): AuditEntry[] {
    return (this.page.all(afterId, limit) as RawRow[]).map(toEntry);
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
    return ((action ? this.byAction.all(action, limit) : this.recent.all(limit)) as RawRow[]).map(toEntry);
  }
}
