import { createHash, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Db } from '../../core/store/database.js';
import type { Clock } from '../../core/clock.js';
import { BoxError } from '../../core/errors.js';
import { verifyPin } from '../../core/pin.js';

export interface PinPolicy {
  maxAttempts: number;
  lockoutSeconds: number;
  sessionTtlSeconds: number;
  /** Wrong PINs from all non-loopback sources together, per hour, before every such source is locked. */
  globalMaxAttempts?: number;
}

export type PinOutcome =
  | { ok: true; token: string; expiresAt: number }
  | { ok: false; locked: false; remainingAttempts: number }
  | { ok: false; locked: true; retryAfterSeconds: number; justLocked: boolean; scope: 'source' | 'box' };

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The box-wide row: failures from every non-loopback source in the current hour. */
const ALL = '*';

interface Row { failures: number; lockedUntil: number; lockouts: number; updatedAt: number }
const fresh = (now: number): Row => ({ failures: 0, lockedUntil: 0, lockouts: 0, updatedAt: now });

/** 127/8 and ::1 (also as ::ffff:127.x): the whiteboard's own screen on this box. */
export function isLoopback(ip: string): boolean {
  const v4 = ip.replace(/^::ffff:/i, '');
  return /^127\./.test(v4) || ip === '::1';
}

/** Whom a failure counts against: an IPv4 address, or an IPv6 /64 (one host can hold a whole /64). */
export function pinSource(ip: string): string {
  const v4 = ip.replace(/^::ffff:/i, '');
  if (!isIPv6(v4)) return v4;
  if (v4 === '::1') return v4;
  const [head = '', tail = ''] = v4.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = v4.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Settings sit behind the PIN. Failures are counted per source address, so a LAN device guessing locks out
 * only itself (before, one box-wide counter let any LAN device lock out the technician at the whiteboard,
 * again and again). A box-wide ceiling (much higher) stops guessing from many addresses; it never locks
 * loopback, which keeps its own count. Kept in SQLite so pulling the plug does not reset them; each lockout
 * after the first lasts twice as long (capped at a day), and a source quiet for a day starts afresh.
 */
export class PinGuard {
  private readonly getRow;
  private readonly putRow;
  private readonly dropRow;
  private readonly pruneRows;
  private readonly insertSession;
  private readonly getSession;
  private readonly deleteSession;
  private readonly pruneSessions;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly pinHash: () => string | undefined, private readonly policy: PinPolicy) {
    this.getRow = db.prepare('SELECT failures, locked_until AS lockedUntil, lockouts, updated_at AS updatedAt FROM pin_sources WHERE source = ?');
    this.putRow = db.prepare(
      `INSERT INTO pin_sources (source, failures, locked_until, lockouts, updated_at) VALUES (@source, @failures, @lockedUntil, @lockouts, @updatedAt)
       ON CONFLICT(source) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, lockouts = excluded.lockouts, updated_at = excluded.updated_at`,
    );
    this.dropRow = db.prepare('DELETE FROM pin_sources WHERE source = ?');
    // Rows of sources neither locked nor heard from for a day go: the table stays as small as the attack is recent.
    this.pruneRows = db.prepare(`DELETE FROM pin_sources WHERE source != '*' AND locked_until < ? AND updated_at < ?`);
    this.insertSession = db.prepare('INSERT INTO sessions (token_hash, created_at, expires_at) VALUES (?, ?, ?)');
    this.getSession = db.prepare('SELECT expires_at AS expiresAt FROM sessions WHERE token_hash = ?');
    this.deleteSession = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
    this.pruneSessions = db.prepare('DELETE FROM sessions WHERE expires_at < ?');
  }

  private row(source: string, now: number): Row {
    const r = this.getRow.get(source) as Row | undefined;
    // A source quiet for a day (and not locked) starts again from the first lockout's length.
    return r && (r.lockedUntil > now || now - r.updatedAt < DAY) ? r : fresh(now);
  }

  private lockFor(lockouts: number): number {
    return Math.min(this.policy.lockoutSeconds * 2 ** lockouts, 86_400);
  }

  /** Tries the PIN from `ip` (the request's source address). */
  tryPin(pin: string, ip: string): PinOutcome {
    const hash = this.pinHash();
    if (!hash) throw new BoxError('E_NOT_PROVISIONED', 'This box has no settings PIN yet: it has not been provisioned.');
    const now = this.clock.now();
    const source = pinSource(ip);
    const local = isLoopback(ip);
    const s = this.row(source, now);
    if (s.lockedUntil > now) return { ok: false, locked: true, retryAfterSeconds: Math.ceil((s.lockedUntil - now) / 1000), justLocked: false, scope: 'source' };
    const all = this.row(ALL, now);
    if (!local && all.lockedUntil > now) return { ok: false, locked: true, retryAfterSeconds: Math.ceil((all.lockedUntil - now) / 1000), justLocked: false, scope: 'box' };
    if (verifyPin(pin, hash)) {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = now + this.policy.sessionTtlSeconds * 1000;
      this.db.transaction(() => {
        this.dropRow.run(source);
        this.pruneRows.run(now, now - DAY);
        this.pruneSessions.run(now);
        this.insertSession.run(sha(token), now, expiresAt);
      })();
      return { ok: true, token, expiresAt };
    }
    return this.db.transaction((): PinOutcome => {
      this.pruneRows.run(now, now - DAY);
      let boxLocked = 0;
      if (!local) {
        // One window an hour long for the box-wide count; it opens at the first failure after the last one closed.
        const g = now - all.updatedAt >= HOUR || all.lockedUntil > 0 ? { ...fresh(now), lockouts: all.lockouts } : all;
        const failures = g.failures + 1;
        if (failures >= (this.policy.globalMaxAttempts ?? this.policy.maxAttempts * 10)) {
          boxLocked = this.lockFor(g.lockouts);
          this.putRow.run({ source: ALL, failures: 0, lockedUntil: now + boxLocked * 1000, lockouts: g.lockouts + 1, updatedAt: now });
        } else {
          this.putRow.run({ source: ALL, ...g, failures, lockedUntil: 0 });
        }
      }
      const failures = s.failures + 1;
      if (failures >= this.policy.maxAttempts) {
        const seconds = this.lockFor(s.lockouts);
        this.putRow.run({ source, failures: 0, lockedUntil: now + seconds * 1000, lockouts: s.lockouts + 1, updatedAt: now });
        return { ok: false, locked: true, retryAfterSeconds: seconds, justLocked: true, scope: 'source' };
      }
      this.putRow.run({ source, failures, lockedUntil: 0, lockouts: s.lockouts, updatedAt: now });
      if (boxLocked) return { ok: false, locked: true, retryAfterSeconds: boxLocked, justLocked: true, scope: 'box' };
      return { ok: false, locked: false, remainingAttempts: this.policy.maxAttempts - failures };
    })();
  }

  /** Returns a short id for the audit log when the session token is valid. */
  checkSession(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const h = sha(token);
    const row = this.getSession.get(h) as { expiresAt: number } | undefined;
    if (!row || row.expiresAt <= this.clock.now()) return undefined;
    return `pin-session:${h.slice(0, 8)}`;
  }

  endSession(token: string): void {
    this.deleteSession.run(sha(token));
  }
}
