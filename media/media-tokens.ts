import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';
import { DEFAULT_TOKEN_TTL_SECONDS, type MediaScope, type MediaTokenEntry } from '../core/contract/media-scope.js';

export type MediaTokenInfo = MediaTokenEntry;

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const COLUMNS = 'id, label, scope, created_at AS createdAt, expires_at AS expiresAt';

/**
 * Bearer tokens the box issues to its local WHIP/WHEP clients (kiosk page, OBS, GStreamer), each with a
 * scope and an expiry. Only a hash is stored, so a copied database does not hand out working tokens.
 */
export class MediaTokens {
  private readonly insert;
  private readonly find;
  private readonly findId;
  private readonly listStmt;
  private readonly revokeStmt;

  constructor(db: Db, private readonly clock: Clock) {
    this.insert = db.prepare('INSERT INTO media_tokens (id, token_hash, label, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.find = db.prepare(`SELECT ${COLUMNS} FROM media_tokens WHERE token_hash = ? AND revoked_at IS NULL`);
    this.findId = db.prepare(`SELECT ${COLUMNS} FROM media_tokens WHERE id = ? AND revoked_at IS NULL`);
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM media_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at >= ?) ORDER BY created_at DESC LIMIT 500`);
    this.revokeStmt = db.prepare('UPDATE media_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  }

  /** A new token; it expires after `ttlSeconds` (default: one school term), never "never". */
  issue(label: string, ttlSeconds: number = DEFAULT_TOKEN_TTL_SECONDS, scope: MediaScope = 'view'): { token: string; info: MediaTokenInfo } {
    const token = MediaTokens.make();
    return { token, info: this.store(token, label, scope, ttlSeconds) };
  }

  /** Stores a token made elsewhere (the demo gives one token to all its boxes). */
  adopt(token: string, label: string, scope: MediaScope = 'view', ttlSeconds: number = DEFAULT_TOKEN_TTL_SECONDS): MediaTokenInfo {
    if (!/^mt_[A-Za-z0-9_-]{20,80}$/.test(token)) throw new Error('not a media token');
    return this.store(token, label, scope, ttlSeconds);
  }

  private store(token: string, label: string, scope: MediaScope, ttlSeconds: number): MediaTokenInfo {
    const id = randomBytes(6).toString('hex');
    const now = this.clock.now();
    const expiresAt = now + ttlSeconds * 1000;
    this.insert.run(id, hash(token), label, scope, now, expiresAt);
    return { id, label, scope, createdAt: now, expiresAt };
  }

  /** A fresh random token string (not stored). */
  static make(): string {
    return `mt_${randomBytes(24).toString('base64url')}`;
  }

  check(token: string | undefined): MediaTokenInfo | undefined {
    if (!token || !token.startsWith('mt_') || token.length > 100) return undefined;
    return this.live(this.find.get(hash(token)) as MediaTokenInfo | undefined);
  }

  /** The token with this id while it is valid (a ticket minted from it dies with it). */
  byId(id: string): MediaTokenInfo | undefined {
    return this.live(this.findId.get(id) as MediaTokenInfo | undefined);
  }

  private live(row: MediaTokenInfo | undefined): MediaTokenInfo | undefined {
    if (!row) return undefined;
    if (row.expiresAt !== null && row.expiresAt < this.clock.now()) return undefined;
    return row;
  }

  /** Tokens that still work, newest first (the settings list). */
  list(): MediaTokenInfo[] {
    return this.listStmt.all(this.clock.now()) as MediaTokenInfo[];
  }

  revoke(id: string): boolean {
    return this.revokeStmt.run(this.clock.now(), id).changes > 0;
  }
}
