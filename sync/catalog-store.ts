import type { Db } from '../core/store/database.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { timed } from '../core/store/timed.js';
import type { CatalogItem, SignedManifest } from './manifest.js';

export type LocalState = 'downloading' | 'complete' | 'failed';

export interface LocalRow {
  infohash: string;
  state: LocalState;
  bitfield: Buffer | null;
  verifiedPieces: number;
  size: number;
  pinned: boolean;
  lastUsedAt: number;
  completedAt: number | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface LibraryEntry extends CatalogItem {
  completedAt: number;
  pinned: boolean;
}

interface ItemRow {
  id: string; infohash: string; title: string; subject: string; grade: number; edition: string; unit: string;
  kind: string; size: number; sha256: string; file_name: string; tags: string; web_seeds: string;
}

function toItem(r: ItemRow): CatalogItem {
  return {
    id: r.id, infohash: r.infohash, title: r.title, subject: r.subject, grade: r.grade, edition: r.edition, unit: r.unit,
    kind: r.kind as CatalogItem['kind'], size: r.size, sha256: r.sha256, fileName: r.file_name,
    tags: JSON.parse(r.tags) as string[], webSeeds: JSON.parse(r.web_seeds) as string[],
  };
}

function toLocal(r: Record<string, unknown>): LocalRow {
  return {
    infohash: r.infohash as string, state: r.state as LocalState, bitfield: (r.bitfield as Buffer | null) ?? null,
    verifiedPieces: r.verified_pieces as number, size: r.size as number, pinned: r.pinned === 1,
    lastUsedAt: r.last_used_at as number, completedAt: (r.completed_at as number | null) ?? null,
    errorCode: (r.error_code as string | null) ?? null, errorMessage: (r.error_message as string | null) ?? null,
  };
}

// Trigram needs ≥ 3 characters; shorter Chinese queries (分数, 数) fall back to LIKE.
function ftsQuery(q: string): string | null {
  const terms = q.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0 || terms.some((t) => [...t].length < 3)) return null;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' AND ');
}

function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** This room's tables: the accepted manifest, the catalogue, local download state and the search index. */
export class CatalogStore {
  private readonly s;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly log: Logger) {
    this.s = {
      manifestState: db.prepare('SELECT highest_version, manifest, source, accepted_at FROM sync_manifest_state WHERE id = 1'),
      putManifest: db.prepare(`INSERT INTO sync_manifest_state (id, highest_version, manifest, source, accepted_at) VALUES (1, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET highest_version = MAX(highest_version, excluded.highest_version), manifest = excluded.manifest,
        source = excluded.source, accepted_at = excluded.accepted_at`),
      insertItem: db.prepare(`INSERT INTO catalog_items (id, infohash, title, subject, grade, edition, unit, kind, size, sha256, file_name, tags, web_seeds)
        VALUES (@id, @infohash, @title, @subject, @grade, @edition, @unit, @kind, @size, @sha256, @fileName, @tags, @webSeeds)`),
      insertFts: db.prepare('INSERT INTO library_fts (item_id, title, unit, tags, subject) VALUES (?, ?, ?, ?, ?)'),
      item: db.prepare('SELECT * FROM catalog_items WHERE id = ?'),
      itemsByHash: db.prepare('SELECT * FROM catalog_items WHERE infohash = ?'),
      allItems: db.prepare('SELECT * FROM catalog_items ORDER BY id'),
      local: db.prepare('SELECT * FROM sync_local WHERE infohash = ?'),
      allLocal: db.prepare('SELECT * FROM sync_local'),
      upsertLocal: db.prepare(`INSERT INTO sync_local (infohash, state, size, last_used_at) VALUES (?, 'downloading', ?, ?)
        ON CONFLICT(infohash) DO NOTHING`),
      progress: db.prepare('UPDATE sync_local SET bitfield = ?, verified_pieces = ? WHERE infohash = ?'),
      complete: db.prepare(`UPDATE sync_local SET state = 'complete', bitfield = NULL, completed_at = ?, last_used_at = ?, error_code = NULL, error_message = NULL WHERE infohash = ?`),
      fail: db.prepare(`UPDATE sync_local SET error_code = ?, error_message = ? WHERE infohash = ?`),
      resetLocal: db.prepare(`UPDATE sync_local SET state = 'downloading', bitfield = NULL, verified_pieces = 0, completed_at = NULL WHERE infohash = ?`),
      deleteLocal: db.prepare('DELETE FROM sync_local WHERE infohash = ?'),
      touch: db.prepare('UPDATE sync_local SET last_used_at = ? WHERE infohash = ?'),
      pin: db.prepare('UPDATE sync_local SET pinned = ? WHERE infohash = ?'),
      usedBytes: db.prepare(`SELECT COALESCE(SUM(size), 0) AS n FROM sync_local`),
      putTorrent: db.prepare('INSERT INTO sync_torrents (infohash, torrent) VALUES (?, ?) ON CONFLICT(infohash) DO UPDATE SET torrent = excluded.torrent'),
      torrent: db.prepare('SELECT torrent FROM sync_torrents WHERE infohash = ?'),
    };
  }

  highestVersion(): number {
    const r = this.s.manifestState.get() as { highest_version: number } | undefined;
    return r?.highest_version ?? 0;
  }

  currentManifest(): { raw: string; source: string | null; acceptedAt: number } | undefined {
    const r = this.s.manifestState.get() as { manifest: string | null; source: string | null; accepted_at: number } | undefined;
    return r?.manifest ? { raw: r.manifest, source: r.source, acceptedAt: r.accepted_at } : undefined;
  }

  /** Replaces the catalogue with an accepted manifest in one transaction; the version never goes down. */
  acceptManifest(manifest: SignedManifest, raw: string, source: string | null): void {
    timed(this.log, 'sync.acceptManifest', () => this.db.transaction(() => {
      this.s.putManifest.run(manifest.payload.version, raw, source, this.clock.now());
      this.db.exec('DELETE FROM catalog_items; DELETE FROM library_fts;');
      for (const it of manifest.payload.items) {
        this.s.insertItem.run({ ...it, tags: JSON.stringify(it.tags), webSeeds: JSON.stringify(it.webSeeds) });
        this.s.insertFts.run(it.id, it.title, it.unit, it.tags.join(' '), it.subject);
      }
    })());
  }

  item(id: string): CatalogItem | undefined {
    const r = this.s.item.get(id) as ItemRow | undefined;
    return r ? toItem(r) : undefined;
  }

  itemsByInfohash(infohash: string): CatalogItem[] {
    return (this.s.itemsByHash.all(infohash) as ItemRow[]).map(toItem);
  }

  *iterateItems(): Generator<CatalogItem> {
    for (const r of this.s.allItems.iterate() as IterableIterator<ItemRow>) yield toItem(r);
  }

  local(infohash: string): LocalRow | undefined {
    const r = this.s.local.get(infohash) as Record<string, unknown> | undefined;
    return r ? toLocal(r) : undefined;
  }

  allLocal(): LocalRow[] {
    return (this.s.allLocal.all() as Array<Record<string, unknown>>).map(toLocal);
  }

  startLocal(infohash: string, size: number): void {
    this.s.upsertLocal.run(infohash, size, this.clock.now());
  }

  saveProgress(infohash: string, bitfield: Uint8Array, verifiedPieces: number): void {
    this.s.progress.run(Buffer.from(bitfield), verifiedPieces, infohash);
  }

  markComplete(infohash: string): void {
    const now = this.clock.now();
    this.s.complete.run(now, now, infohash);
  }

  markError(infohash: string, code: string | null, message: string | null): void {
    this.s.fail.run(code, message, infohash);
  }

  resetLocal(infohash: string): void {
    this.s.resetLocal.run(infohash);
  }

  forget(infohash: string): void {
    this.s.deleteLocal.run(infohash);
  }

  touch(infohash: string): void {
    this.s.touch.run(this.clock.now(), infohash);
  }

  setPinned(infohash: string, pinned: boolean): void {
    this.s.pin.run(pinned ? 1 : 0, infohash);
  }

  usedBytes(): number {
    return (this.s.usedBytes.get() as { n: number }).n;
  }

  saveTorrent(infohash: string, torrent: Uint8Array): void {
    this.s.putTorrent.run(infohash, Buffer.from(torrent));
  }

  torrent(infohash: string): Buffer | undefined {
    return (this.s.torrent.get(infohash) as { torrent: Buffer } | undefined)?.torrent;
  }

  /** Items whose file is complete and verified on this box, with filters for browsing. */
  library(f: { q?: string; grade?: number; subject?: string; unit?: string; kind?: string; limit: number; offset: number }): { items: LibraryEntry[]; total: number } {
    const where: string[] = [`l.state = 'complete'`];
    const args: unknown[] = [];
    let from = 'catalog_items c JOIN sync_local l ON l.infohash = c.infohash';
    if (f.q && f.q.trim()) {
      const fts = ftsQuery(f.q);
      if (fts) {
        from += ' JOIN library_fts ON library_fts.item_id = c.id';
        where.push('library_fts MATCH ?');
        args.push(fts);
      } else {
        for (const term of f.q.trim().split(/\s+/)) {
          where.push(`(c.title LIKE ? ESCAPE '\\' OR c.unit LIKE ? ESCAPE '\\' OR c.tags LIKE ? ESCAPE '\\' OR c.subject LIKE ? ESCAPE '\\')`);
          const p = likePattern(term);
          args.push(p, p, p, p);
        }
      }
    }
    if (f.grade !== undefined) { where.push('c.grade = ?'); args.push(f.grade); }
    if (f.subject) { where.push('c.subject = ?'); args.push(f.subject); }
    if (f.unit) { where.push('c.unit = ?'); args.push(f.unit); }
    if (f.kind) { where.push('c.kind = ?'); args.push(f.kind); }
    const sql = `FROM ${from} WHERE ${where.join(' AND ')}`;
    return timed(this.log, 'sync.library', () => {
      const total = (this.db.prepare(`SELECT COUNT(*) AS n ${sql}`).get(...args) as { n: number }).n;
      const rows = this.db.prepare(`SELECT c.*, l.completed_at, l.pinned ${sql} ORDER BY c.grade, c.subject, c.unit, c.title LIMIT ? OFFSET ?`)
        .all(...args, f.limit, f.offset) as Array<ItemRow & { completed_at: number; pinned: number }>;
      return { total, items: rows.map((r) => ({ ...toItem(r), completedAt: r.completed_at, pinned: r.pinned === 1 })) };
    });
  }

  /** Grades → subjects → units of what the library holds, for the browse tree. */
  browseTree(): Array<{ grade: number; subject: string; unit: string; count: number }> {
    return this.db.prepare(`SELECT c.grade, c.subject, c.unit, COUNT(*) AS count FROM catalog_items c JOIN sync_local l ON l.infohash = c.infohash
      WHERE l.state = 'complete' GROUP BY c.grade, c.subject, c.unit ORDER BY c.grade, c.subject, c.unit`).all() as Array<{ grade: number; subject: string; unit: string; count: number }>;
  }
}
