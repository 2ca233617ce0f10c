import type { Db } from '../../core/store/database.js';
import type { Clock } from '../../core/clock.js';
import type { KnownBox } from '../../core/box-token.js';

export interface Peer {
  boxId: string;
  publicKey: string;
  name: string;
  schoolId: string;
  role: string;
  status: 'active' | 'revoked';
  enrolledAt: number;
  revokedAt: number | null;
  lastSeenAt: number | null;
}

/**
 * The boxes this box talks to: on a hub, the enrolled teaching points; on a teaching point, its hub
 * (from the provisioning bundle). Also remembers token ids so a token is accepted only once.
 */
export class PeerRegistry {
  private readonly upsert;
  private readonly get;
  private readonly all;
  private readonly revoke;
  private readonly seen;
  private readonly insertJti;
  private readonly pruneJti;
  private readonly fixed = new Map<string, KnownBox>();
  private inserts = 0;

  constructor(private readonly db: Db, private readonly clock: Clock) {
    this.upsert = db.prepare(
      `INSERT INTO peers (box_id, public_key, name, school_id, role, status, enrolled_at)
       VALUES (@boxId, @publicKey, @name, @schoolId, @role, 'active', @at)
       ON CONFLICT(box_id) DO UPDATE SET name = excluded.name, school_id = excluded.school_id, role = excluded.role,
         status = 'active', revoked_at = NULL, enrolled_at = excluded.enrolled_at`,
    );
    this.get = db.prepare(
      `SELECT box_id AS boxId, public_key AS publicKey, name, school_id AS schoolId, role, status,
              enrolled_at AS enrolledAt, revoked_at AS revokedAt, last_seen_at AS lastSeenAt FROM peers WHERE box_id = ?`,
    );
    this.all = db.prepare(
      `SELECT box_id AS boxId, public_key AS publicKey, name, school_id AS schoolId, role, status,
              enrolled_at AS enrolledAt, revoked_at AS revokedAt, last_seen_at AS lastSeenAt FROM peers ORDER BY name`,
    );
    this.revoke = db.prepare(`UPDATE peers SET status = 'revoked', revoked_at = ? WHERE box_id = ? AND status = 'active'`);
    this.seen = db.prepare('UPDATE peers SET last_seen_at = ? WHERE box_id = ?');
    this.insertJti = db.prepare('INSERT OR IGNORE INTO seen_tokens (jti, issuer, expires_at) VALUES (?, ?, ?)');
    this.pruneJti = db.prepare('DELETE FROM seen_tokens WHERE expires_at < ?');
  }

  /** A peer known from signed configuration rather than enrolment (a teaching point's hub). */
  addFixed(boxId: string, publicKey: string): void {
    this.fixed.set(boxId, { publicKey, status: 'active' });
  }

  enrol(p: { boxId: string; publicKey: string; name: string; schoolId: string; role: string }): void {
    this.upsert.run({ ...p, at: this.clock.now() });
  }

  find(boxId: string): Peer | undefined {
    return this.get.get(boxId) as Peer | undefined;
  }

  list(): Peer[] {
    return this.all.all() as Peer[];
  }

  revokeBox(boxId: string): boolean {
    return this.revoke.run(this.clock.now(), boxId).changes > 0;
  }

  lookup(boxId: string): KnownBox | undefined {
    const fixed = this.fixed.get(boxId);
    if (fixed) return fixed;
    const p = this.find(boxId);
    return p ? { publicKey: p.publicKey, status: p.status } : undefined;
  }

  markSeen(boxId: string): void {
    this.seen.run(this.clock.now(), boxId);
  }

  /** False when the token id was already used: the call is a replay. */
  rememberToken(jti: string, issuer: string, expiresAtMs: number): boolean {
    if (++this.inserts % 200 === 0) this.pruneJti.run(this.clock.now());
    return this.insertJti.run(jti, issuer, expiresAtMs).changes === 1;
  }
}
