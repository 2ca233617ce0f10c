import type { Db } from '../core/store/database.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { timed } from '../core/store/timed.js';
import type { CatalogItem, CheckedManifest } from './manifest.js';
import type { LibraryItem, LibraryPage, LibraryTreeEntry } from '../core/contract/library.js';

export type { LibraryPage };

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

export type LibraryEntry = LibraryItem;

interface ItemRow {
  id: string; infohash: string; title: string; subject: string; grade: number; edition: string; unit: string;
  kind: string; size: number; sha256: string; file_name: string; tags: string; web_seeds: string; file_count: number | null;
}

/** Matches counted beyond the requested page before the count stops at "more than". */
const COUNT_AHEAD = 200;

function toItem(r: ItemRow): CatalogItem {
  return {
    id: r.id, infohash: r.infohash, title: r.title, subject: r.subject, grade: r.grade, edition: r.edition, unit: r.unit,
    kind: r.kind as CatalogItem['kind'], size: r.size, sha256: r.sha256, fileName: r.file_name,
    tags: JSON.parse(r.tags) as string[], webSeeds: JSON.parse(r.web_seeds) as string[],
    ...(r.file_count ? { fileCount: r.file_count } : {}),
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

// Tokens of the held-items pair index (migration 7 builds the same ones in SQL for its triggers; change both
// together): for each character but the last, the pair it starts (hex of its UTF-8 bytes) and the character
// itself ('x' + hex), ASCII-lowercased as LIKE compares.
const hexOf = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const charHex = new Map<string, string>();
function hexOfChar(c: string): string {
  let h = charHex.get(c);
  if (h === undefined) {
    h = hexOf(c);
    if (charHex.size < 65_536) charHex.set(c, h);
  }
  return h;
}

/**
 * An item's tokens: its columns joined and ended by U+001F (so the last character of each is in a pair too).
 * Repeats are left in (the index keeps one): intake runs this for every held item, so it stays cheap.
 */
function itemPairs(title: string, unit: string, tags: string, subject: string): string {
  let out = '';
  let prev: string | null = null;
  for (const c of `${title}\u001f${unit}\u001f${tags}\u001f${subject}\u001f`) {
    const h = hexOfChar(c >= 'A' && c <= 'Z' ? c.toLowerCase() : c);
    if (prev !== null) out += `${prev}${h} x${prev} `;
    prev = h;
  }
  return out;
}

// Every item LIKE matches has all of these tokens (each term's pairs, or its one character), so the index
// finds a superset of the matches and LIKE then decides.
function pairsQuery(terms: string[]): string {
  const tokens = new Set<string>();
  for (const term of terms) {
    const chars = [...asciiLower(term)];
    if (chars.length === 1) tokens.add(`x${hexOf(chars[0]!)}`);
    for (let i = 0; i + 1 < chars.length; i++) tokens.add(hexOf(chars[i]! + chars[i + 1]!));
  }
  return [...tokens].join(' AND ');
}

function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** This room's tables: the accepted manifest, the catalogue, local download state and the search index. */
export class CatalogStore {
  private readonly s;

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly log: Logger) {
    // Intake rebuilds the held-items pair index through this (the triggers of migration 7 do one item in SQL).
    db.function('library_item_pairs', { deterministic: true }, (title, unit, tags, subject) => itemPairs(String(title), String(unit), String(tags), String(subject)));
    // Items arrive in manifest order and are re-inserted in browse order, so that rowid order is browse order
    // (grade, subject, unit, title): search pages then come straight off the FTS index without a sort.
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS catalog_stage (id TEXT, infohash TEXT, title TEXT, subject TEXT, grade INTEGER, edition TEXT,
      unit TEXT, kind TEXT, size INTEGER, sha256 TEXT, file_name TEXT, tags TEXT, web_seeds TEXT, file_count INTEGER)`);
    this.s = {
      // Never selects the legacy `manifest` blob (tens of MB) except in legacyManifest().
      manifestState: db.prepare('SELECT highest_version, manifest_file, source, accepted_at FROM sync_manifest_state WHERE id = 1'),
      legacyManifest: db.prepare('SELECT manifest FROM sync_manifest_state WHERE id = 1 AND manifest IS NOT NULL'),
      setManifestFile: db.prepare('UPDATE sync_manifest_state SET manifest = NULL, manifest_file = ? WHERE id = 1'),
      putManifest: db.prepare(`INSERT INTO sync_manifest_state (id, highest_version, manifest, manifest_file, source, accepted_at) VALUES (1, ?, NULL, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET highest_version = MAX(highest_version, excluded.highest_version), manifest = NULL,
        manifest_file = excluded.manifest_file, source = excluded.source, accepted_at = excluded.accepted_at`),
      stageItem: db.prepare(`INSERT INTO temp.catalog_stage (id, infohash, title, subject, grade, edition, unit, kind, size, sha256, file_name, tags, web_seeds, file_count)
        VALUES (@id, @infohash, @title, @subject, @grade, @edition, @unit, @kind, @size, @sha256, @fileName, @tags, @webSeeds, @fileCount)`),
      currentVersion: db.prepare('SELECT highest_version FROM sync_manifest_state WHERE id = 1 AND (manifest_file IS NOT NULL OR manifest IS NOT NULL)'),
      item: db.prepare('SELECT * FROM catalog_items WHERE id = ?'),
      itemsByHash: db.prepare('SELECT * FROM catalog_items WHERE infohash = ?'),
      allItems: db.prepare('SELECT * FROM catalog_items ORDER BY id'),
      missingWanted: db.prepare(`WITH extra(id) AS (SELECT value FROM json_each(@extra))
        SELECT c.* FROM catalog_items c LEFT JOIN sync_local l ON l.infohash = c.infohash
        WHERE (l.state IS NULL OR l.state != 'complete') AND (c.id IN (SELECT id FROM extra) OR (
          (@grades IS NULL OR c.grade IN (SELECT value FROM json_each(@grades))) AND (@subjects IS NULL OR c.subject IN (SELECT value FROM json_each(@subjects)))))
        ORDER BY c.id NOT IN (SELECT id FROM extra), c.id LIMIT @limit`),
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
      libraryPage: db.prepare(`SELECT c.rowid, c.*, l.completed_at, l.pinned FROM catalog_items c JOIN sync_local l ON l.infohash = c.infohash
        WHERE c.rowid IN (SELECT value FROM json_each(?))`),
    };
  }

  highestVersion(): number {
    const r = this.s.manifestState.get() as { highest_version: number } | undefined;
    return r?.highest_version ?? 0;
  }

  /**
   * Which file (a name under the store folder, see SyncEngine) holds the accepted manifest's bytes as received:
   * what this box serves to the boxes below it. The bytes live in a file, not in SQLite, so that serving or
   * checking them never loads tens of MB.
   */
  currentManifest(): { file: string; source: string | null; acceptedAt: number } | undefined {
    const r = this.s.manifestState.get() as { manifest_file: string | null; source: string | null; accepted_at: number } | undefined;
    return r?.manifest_file ? { file: r.manifest_file, source: r.source, acceptedAt: r.accepted_at } : undefined;
  }

  /** A manifest accepted before manifests moved to files (schema 8): the caller writes it out, then calls setManifestFile. */
  legacyManifest(): Buffer | undefined {
    const r = this.s.legacyManifest.get() as { manifest: Buffer | string } | undefined;
    return r ? (typeof r.manifest === 'string' ? Buffer.from(r.manifest) : r.manifest) : undefined;
  }

  setManifestFile(file: string): void {
    this.s.setManifestFile.run(file);
  }

  /** The version of the catalogue this box holds (null before the first), without reading the manifest. */
  currentVersion(): number | null {
    return (this.s.currentVersion.get() as { highest_version: number } | undefined)?.highest_version ?? null;
  }

  /**
   * Replaces the catalogue with a checked manifest in one transaction; the version never goes down. Items
   * stream from the manifest into SQLite one at a time; a bad item rolls everything back.
   */
  acceptManifest(manifest: CheckedManifest, file: string, source: string | null): void {
    timed(this.log, 'sync.acceptManifest', () => this.db.transaction(() => {
      this.s.putManifest.run(manifest.payload.version, file, source, this.clock.now());
      this.db.exec('DELETE FROM catalog_items; DELETE FROM library_fts; DELETE FROM temp.catalog_stage;');
      for (const it of manifest.items()) {
        this.s.stageItem.run({ ...it, tags: JSON.stringify(it.tags), webSeeds: JSON.stringify(it.webSeeds), fileCount: it.fileCount ?? null });
      }
      this.db.exec(`
        INSERT INTO catalog_items (id, infohash, title, subject, grade, edition, unit, kind, size, sha256, file_name, tags, web_seeds, file_count)
          SELECT id, infohash, title, subject, grade, edition, unit, kind, size, sha256, file_name, tags, web_seeds, file_count
          FROM temp.catalog_stage ORDER BY grade, subject, unit, title, id;
        DELETE FROM temp.catalog_stage;
        INSERT INTO library_fts (rowid, item_id, title, unit, tags, subject)
          SELECT rowid, id, title, unit, (SELECT COALESCE(group_concat(value, ' '), '') FROM json_each(tags)), subject FROM catalog_items;
        -- New rowids: the held-items search indexes (migration 7) are rebuilt too; their triggers follow sync_local only.
        INSERT INTO library_held_fts (library_held_fts) VALUES ('delete-all');
        INSERT INTO library_held_pairs (library_held_pairs) VALUES ('delete-all');
        INSERT INTO library_held_fts (rowid, title, unit, tags, subject)
          SELECT c.rowid, c.title, c.unit, (SELECT COALESCE(group_concat(value, ' '), '') FROM json_each(c.tags)), c.subject FROM catalog_items c
          WHERE EXISTS (SELECT 1 FROM sync_local l WHERE l.infohash = c.infohash AND l.state = 'complete');
        INSERT INTO library_held_pairs (rowid, pairs)
          SELECT c.rowid, library_item_pairs(c.title, c.unit, c.tags, c.subject) FROM catalog_items c
          WHERE EXISTS (SELECT 1 FROM sync_local l WHERE l.infohash = c.infohash AND l.state = 'complete');`);
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

  /**
   * Up to `limit` items this box wants and does not hold complete: `extraIds` first (pins, upcoming lessons),
   * then those matching the subscriptions (null: all), each in id order. Chosen in SQL so that a round over a
   * 100,000-item catalogue does not build 100,000 objects.
   */
  missingWanted(f: { extraIds: readonly string[]; grades: readonly number[] | null; subjects: readonly string[] | null; limit: number }): CatalogItem[] {
    const rows = this.s.missingWanted.all({
      extra: JSON.stringify(f.extraIds), grades: f.grades ? JSON.stringify(f.grades) : null,
      subjects: f.subjects ? JSON.stringify(f.subjects) : null, limit: f.limit,
    }) as ItemRow[];
    return rows.map(toItem);
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

  /**
   * Items whose files are complete and verified on this box, with filters for browsing. Pages come in rowid
   * order, which is browse order (see the constructor). A search reads only the indexes of held items
   * (migration 7): terms all ≥ 3 characters through the trigram index; otherwise the character-pair index
   * finds the candidates and LIKE decides, as before. One pass collects the matching rowids up to
   * COUNT_AHEAD past the page, which gives both the page and the total (exact, or "more than").
   */
  library(f: { q?: string; grade?: number; subject?: string; unit?: string; kind?: string; limit: number; offset: number }): LibraryPage {
    const where: string[] = [];
    const args: unknown[] = [];
    let from = 'catalog_items c';
    let order = 'c.grade, c.subject, c.unit, c.rowid';
    const q = f.q?.trim();
    if (q) {
      const fts = ftsQuery(q);
      // LIKE stops at a NUL in the pattern: such a query keeps the plain scan rather than the pair index.
      const index = fts ? 'library_held_fts' : q.includes('\0') ? null : 'library_held_pairs';
      from = index ? `${index} s JOIN catalog_items c ON c.rowid = s.rowid` : 'catalog_items c';
      order = index ? 's.rowid' : 'c.rowid';
      if (index) where.push(`${index} MATCH ?`);
      if (fts) {
        args.push(fts);
      } else {
        const terms = q.split(/\s+/);
        if (index) args.push(pairsQuery(terms));
        for (const term of terms) {
          where.push(`(c.title LIKE ? ESCAPE '\\' OR c.unit LIKE ? ESCAPE '\\' OR c.tags LIKE ? ESCAPE '\\' OR c.subject LIKE ? ESCAPE '\\')`);
          const p = likePattern(term);
          args.push(p, p, p, p);
        }
      }
    }
    // The held indexes already hold only complete items; the join still checks, and the page needs its columns.
    from += ' JOIN sync_local l ON l.infohash = c.infohash';
    where.push(`l.state = 'complete'`);
    if (f.grade !== undefined) { where.push('c.grade = ?'); args.push(f.grade); }
    if (f.subject) { where.push('c.subject = ?'); args.push(f.subject); }
    if (f.unit) { where.push('c.unit = ?'); args.push(f.unit); }
    if (f.kind) { where.push('c.kind = ?'); args.push(f.kind); }
    const cap = f.offset + f.limit + COUNT_AHEAD;
    return timed(this.log, 'sync.library', () => {
      const rowids = this.db.prepare(`SELECT c.rowid FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`)
        .pluck().all(...args, cap) as number[];
      const pageIds = rowids.slice(f.offset, f.offset + f.limit);
      const byRowid = new Map<number, ItemRow & { rowid: number; completed_at: number; pinned: number }>();
      if (pageIds.length > 0) {
        for (const r of this.s.libraryPage.all(JSON.stringify(pageIds)) as Array<ItemRow & { rowid: number; completed_at: number; pinned: number }>) byRowid.set(r.rowid, r);
      }
      const items = pageIds.map((id) => byRowid.get(id)!).map((r) => ({ ...toItem(r), completedAt: r.completed_at, pinned: r.pinned === 1 }));
      return { items, total: rowids.length, totalExact: rowids.length < cap };
    });
  }

  /** Grades → subjects → units of what the library holds, for the browse tree. */
  browseTree(): LibraryTreeEntry[] {
    return this.db.prepare(`SELECT c.grade, c.subject, c.unit, COUNT(*) AS count FROM catalog_items c JOIN sync_local l ON l.infohash = c.infohash
      WHERE l.state = 'complete' GROUP BY c.grade, c.subject, c.unit ORDER BY c.grade, c.subject, c.unit`).all() as Array<{ grade: number; subject: string; unit: string; count: number }>;
  }
}
