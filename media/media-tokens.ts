import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';

export interface MediaTokenInfo {
  id: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Bearer tokens the box issues to its local WHIP/WHEP clients (kiosk page, OBS, GStreamer). Only a
 * hash is stored, so a copied database does not hand out working tokens.
 */
export class MediaTokens {
  private readonly insert;
  private readonly find;
  private readonly revokeStmt;

  constructor(db: Db, private readonly clock: Clock) {
    this.insert = db.prepare('INSERT INTO media_tokens (id, token_hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.find = db.prepare('SELECT id, label, created_at AS createdAt, expires_at AS expiresAt FROM media_tokens WHERE token_hash = ? AND revoked_at IS NULL');
    this.revokeStmt = db.prepare('UPDATE media_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  }

  issue(label: string, ttlSeconds?: number): { token: string; info: MediaTokenInfo } {
    const id = randomBytes(6).toString('hex');
    const token = `mt_${randomBytes(24).toString('base64url')}`;
    const now = this.clock.now();
    const expiresAt = ttlSeconds ? now + ttlSeconds * 1000 : null;
    this.insert.run(id, hash(token), label, now, expiresAt);
    return { token, info: { id, label, createdAt: now, expiresAt } };
  }

  /** Stores a token made elsewhere (the demo gives one token to all its boxes). */
  adopt(token: string, label: string): MediaTokenInfo {
    if (!/^mt_[A-Za-z0-9_-]{20,80}$/.test(token)) throw new Error('not a media token');
    const id = randomBytes(6).toString('hex');
    const now = this.clock.now();
    this.insert.run(id, hash(token), label, now, null);
    return { id, label, createdAt: now, expiresAt: null };
  }

  /** A fresh random token string (not stored). */
  static make(): string {
    return `mt_${randomBytes(24).toString('base64url')}`;
  }

  check(token: string | undefined): MediaTokenInfo | undefined {
    if (!token || !token.startsWith('mt_') || token.length > 100) return undefined;
    const row = this.find.get(hash(token)) as MediaTokenInfo | undefined;
    if (!row) return undefined;
    if (row.expiresAt !== null && row.expiresAt < this.clock.now()) return undefined;
    return row;
  }

  revoke(id: string): boolean {
    return this.revokeStmt.run(this.clock.now(), id).changes > 0;
  }
}
