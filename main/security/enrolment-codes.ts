import { createHash, randomInt } from 'node:crypto';
import type { Db } from '../../core/store/database.js';
import type { Clock } from '../../core/clock.js';

// No 0/O, 1/I/L: the technician reads the code off the hub's screen and types it elsewhere.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export type CodeCheck = 'ok' | 'unknown' | 'used' | 'expired';

/** One-time enrolment codes a hub hands out; stored hashed, spent on first use. */
export class EnrolmentCodes {
  private readonly insert;
  private readonly get;
  private readonly spend;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.insert = db.prepare('INSERT INTO enrolment_codes (code_hash, label, created_at, expires_at) VALUES (?, ?, ?, ?)');
    this.get = db.prepare('SELECT expires_at AS expiresAt, used_at AS usedAt FROM enrolment_codes WHERE code_hash = ?');
    this.spend = db.prepare('UPDATE enrolment_codes SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL');
  }

  create(label: string, ttlHours: number, code = randomCode()): { code: string; expiresAt: number } {
    const expiresAt = this.clock.now() + ttlHours * 3_600_000;
    this.insert.run(sha(normalise(code)), label, this.clock.now(), expiresAt);
    return { code: normalise(code), expiresAt };
  }

  check(code: string): CodeCheck {
    const row = this.get.get(sha(normalise(code))) as { expiresAt: number; usedAt: number | null } | undefined;
    if (!row) return 'unknown';
    if (row.usedAt !== null) return 'used';
    if (row.expiresAt < this.clock.now()) return 'expired';
    return 'ok';
  }

  /** Spends a code; false if another request spent it first. */
  use(code: string, boxId: string): boolean {
    return this.spend.run(this.clock.now(), boxId, sha(normalise(code))).changes === 1;
  }
}

function normalise(code: string): string {
  return code.trim().toUpperCase();
}

function randomCode(): string {
  const pick = () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${pick()}-${pick()}`;
}
