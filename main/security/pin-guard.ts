import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../core/store/database.js';
import type { Clock } from '../../core/clock.js';
import { BoxError } from '../../core/errors.js';
import { verifyPin } from '../../core/pin.js';

export interface PinPolicy {
  maxAttempts: number;
  lockoutSeconds: number;
  sessionTtlSeconds: number;
}

export type PinOutcome =
  | { ok: true; token: string; expiresAt: number }
  | { ok: false; locked: false; remainingAttempts: number }
  | { ok: false; locked: true; retryAfterSeconds: number; justLocked: boolean };

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Settings sit behind the PIN. Failures and lockouts are kept in SQLite so pulling the plug does
 * not reset the count; each lockout after the first lasts twice as long (capped at a day).
 */
export class PinGuard {
  private readonly getState;
  private readonly putState;
  private readonly insertSession;
  private readonly getSession;
  private readonly deleteSession;
  private readonly pruneSessions;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly pinHash: () => string | undefined, private readonly policy: PinPolicy) {
    this.getState = db.prepare('SELECT failures, locked_until AS lockedUntil, lockouts FROM pin_state WHERE id = 1');
    this.putState = db.prepare(
      `INSERT INTO pin_state (id, failures, locked_until, lockouts) VALUES (1, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, lockouts = excluded.lockouts`,
    );
    this.insertSession = db.prepare('INSERT INTO sessions (token_hash, created_at, expires_at) VALUES (?, ?, ?)');
    this.getSession = db.prepare('SELECT expires_at AS expiresAt FROM sessions WHERE token_hash = ?');
    this.deleteSession = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
    this.pruneSessions = db.prepare('DELETE FROM sessions WHERE expires_at < ?');
  }

  private state(): { failures: number; lockedUntil: number; lockouts: number } {
    return (this.getState.get() as { failures: number; lockedUntil: number; lockouts: number } | undefined) ?? { failures: 0, lockedUntil: 0, lockouts: 0 };
  }

  tryPin(pin: string): PinOutcome {
    const hash = this.pinHash();
    if (!hash) throw new BoxError('E_NOT_PROVISIONED', 'This box has no settings PIN yet: it has not been provisioned.');
    const now = this.clock.now();
    const s = this.state();
    if (s.lockedUntil > now) return { ok: false, locked: true, retryAfterSeconds: Math.ceil((s.lockedUntil - now) / 1000), justLocked: false };
    if (verifyPin(pin, hash)) {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = now + this.policy.sessionTtlSeconds * 1000;
      this.db.transaction(() => {
        this.putState.run(0, 0, 0);
        this.pruneSessions.run(now);
        this.insertSession.run(sha(token), now, expiresAt);
      })();
      return { ok: true, token, expiresAt };
    }
    const failures = s.failures + 1;
    if (failures >= this.policy.maxAttempts) {
      const seconds = Math.min(this.policy.lockoutSeconds * 2 ** s.lockouts, 86_400);
      this.putState.run(0, now + seconds * 1000, s.lockouts + 1);
      return { ok: false, locked: true, retryAfterSeconds: seconds, justLocked: true };
    }
    this.putState.run(failures, 0, s.lockouts);
    return { ok: false, locked: false, remainingAttempts: this.policy.maxAttempts - failures };
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
