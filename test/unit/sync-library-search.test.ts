import { describe, expect, it, afterEach } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKeyPair } from '../../core/signing.js';
import { ManualClock } from '../../core/clock.js';
import { openDatabase, type Db } from '../../core/store/database.js';
import { migrations } from '../../core/store/migrations.js';
import { silentLogger } from '../../core/log.js';
import { checkManifest, serializeManifest, signManifest, type CatalogItem } from '../../sync/manifest.js';
import { CatalogStore } from '../../sync/catalog-store.js';
import { tempDir } from '../support/boxes.js';

// Library search reads indexes of held items only (migration 7). These compare it, on a real SQLite file, with
// what the search returned before: every held match of the catalogue-wide trigram index (all terms ≥ 3
// characters) or of LIKE over the columns (any shorter term), in rowid order, counted up to 200 past the page.

const publisher = generateKeyPair();
const clock = new ManualClock(Date.UTC(2026, 10, 23, 8));
const titles = ['分数的初步认识', '认识分数', '秋天的雨', '古诗三首', 'ABC 拼音 abc', 'Unit 1 Hello', '100%_正确', '数', '😀 表情 😀x', 'a"b\\c 引号', '零\u0000后 分数'];
const subjects = ['数学', '语文', '英语', '科学'];
const item = (i: number): CatalogItem => ({
  id: `item-${i}`, title: `${titles[i % titles.length]} ${i}`, subject: subjects[i % subjects.length]!, grade: 1 + (i % 6), edition: '人教版',
  unit: i % 7 === 0 ? '分' : `第${1 + (i % 4)}单元`, kind: 'courseware-pdf', size: 1000 + i, infohash: i.toString(16).padStart(40, '0'),
  sha256: 'a'.repeat(64), fileName: `item-${i}.pdf`, webSeeds: [], tags: i % 5 === 0 ? ['分数', 'Tag"Q'] : [subjects[i % subjects.length]!],
});

function accept(store: CatalogStore, items: CatalogItem[], version: number): void {
  const signed = signManifest(publisher, {
    format: 'tpbox-catalog/1', publisher: 'test', version, pieceLength: 262144, issuedAt: '2026-11-20T00:00:00Z', expires: '2026-12-01T00:00:00Z', items,
  });
  const raw = Buffer.from(serializeManifest(signed));
  store.acceptManifest(checkManifest(raw, { publisherKeys: [publisher.publicKey], clock, toleranceMs: 0, highestVersion: 0 }), 'accepted/manifest-v1.json', null);
}

/** The search as it was before the held-items indexes: all matching ids in order (no LIMIT). */
function reference(db: Db, f: { q?: string; grade?: number; subject?: string }): string[] {
  const where: string[] = [`l.state = 'complete'`];
  const args: unknown[] = [];
  let from = 'catalog_items c JOIN sync_local l ON l.infohash = c.infohash';
  let order = 'c.grade, c.subject, c.unit, c.rowid';
  const q = f.q?.trim();
  if (q) {
    const terms = q.split(/\s+/);
    if (terms.every((t) => [...t].length >= 3)) {
      from = 'library_fts s JOIN catalog_items c ON c.rowid = s.rowid JOIN sync_local l ON l.infohash = c.infohash';
      where.push('library_fts MATCH ?');
      args.push(terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' AND '));
    } else {
      for (const t of terms) {
        const p = `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        where.push(`(c.title LIKE ? ESCAPE '\\' OR c.unit LIKE ? ESCAPE '\\' OR c.tags LIKE ? ESCAPE '\\' OR c.subject LIKE ? ESCAPE '\\')`);
        args.push(p, p, p, p);
      }
    }
    order = 'c.rowid';
  }
  if (f.grade !== undefined) { where.push('c.grade = ?'); args.push(f.grade); }
  if (f.subject) { where.push('c.subject = ?'); args.push(f.subject); }
  return db.prepare(`SELECT c.id FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order}`).pluck().all(...args) as string[];
}

const queries = ['分数', '分数的初步', '秋天的雨', '认识', '数', '分', 'abc', 'ABC', 'aBc 拼音', 'hello', 'h', 'H', '100%', '%_', '_', '😀', '😀x', '情 😀',
  'a"b', '"', '\\c', 'a"b\\c', 'tag"q', '数学', '学', '第2', '第2单元', '分数 1', '几何', '几何图形', 'x', '1', '零', '后', '\u0000', '后\u0000'];

function expectSameAsBefore(db: Db, store: CatalogStore): void {
  for (const q of [undefined, ...queries]) {
    for (const filter of [{}, { grade: 3 }, { subject: '数学' }]) {
      const want = reference(db, { q, ...filter });
      for (const [limit, offset] of [[500, 0], [5, 0], [5, 5], [3, want.length], [3, want.length + 10]] as const) {
        const page = store.library({ q, ...filter, limit, offset });
        const label = `q=${q} ${JSON.stringify(filter)} limit=${limit} offset=${offset}`;
        expect(page.items.map((i) => i.id), label).toEqual(want.slice(offset, offset + limit));
        const cap = offset + limit + 200;
        expect({ total: page.total, totalExact: page.totalExact }, label).toEqual({ total: Math.min(want.length, cap), totalExact: want.length < cap });
      }
    }
  }
}

describe('library search over held items', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('returns what the catalogue-wide search returned, as items complete, leave and the catalogue is replaced', () => {
    const dir = tempDir('box-search-');
    dirs.push(dir);
    const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
    const store = new CatalogStore(db, clock, silentLogger());
    const items = Array.from({ length: 400 }, (_, i) => item(i));
    accept(store, items, 1);
    // Completed one by one after intake: the migration's SQL triggers index them.
    for (const it of items) { store.startLocal(it.infohash, it.size); if (it.size % 3 !== 0) store.markComplete(it.infohash); }
    expectSameAsBefore(db, store);
    // Leaving and coming back: reset, forget, complete again.
    for (const it of items.slice(0, 60)) store.resetLocal(it.infohash);
    for (const it of items.slice(60, 90)) store.forget(it.infohash);
    for (const it of items.slice(30, 45)) store.markComplete(it.infohash);
    for (const it of items.slice(0, 400)) if (it.size % 7 === 0) store.markComplete(it.infohash);
    expectSameAsBefore(db, store);
    // A new catalogue (new rowids, changed titles, one item fewer) while items are held: intake rebuilds in JS.
    accept(store, items.slice(1).map((it, i) => (i % 9 === 0 ? { ...it, title: `${it.title} 分数的初步` } : it)), 2);
    expectSameAsBefore(db, store);
    db.close();
  });

  it('answers 分数 and 分数的初步 with the held items in browse order and counts past the page as a lower bound', () => {
    const dir = tempDir('box-search-');
    dirs.push(dir);
    const db = openDatabase(join(dir.path, 'box.sqlite'), silentLogger());
    const store = new CatalogStore(db, clock, silentLogger());
    const items = Array.from({ length: 1200 }, (_, i) => ({ ...item(i), title: i % 2 ? `分数的初步认识 ${i}` : `古诗三首 ${i}`, unit: '第1单元', tags: ['练习'] }));
    accept(store, items, 1);
    for (const it of items) { store.startLocal(it.infohash, it.size); if (it.grade !== 6) store.markComplete(it.infohash); }
    // Held and matching: odd i whose grade (1 + i % 6) is not 6 → 400 items.
    const held = items.filter((it, i) => i % 2 === 1 && it.grade !== 6);
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    expect(held).toHaveLength(400);
    const browse = [...held].sort((a, b) => a.grade - b.grade || cmp(a.subject, b.subject) || cmp(a.title, b.title) || cmp(a.id, b.id)).map((i) => i.id);
    for (const q of ['分数', '分数的初步']) {
      const first = store.library({ q, limit: 50, offset: 0 });
      expect(first.items.map((i) => i.id)).toEqual(browse.slice(0, 50));
      expect(first).toMatchObject({ total: 250, totalExact: false });
      const later = store.library({ q, limit: 50, offset: 370 });
      expect(later.items.map((i) => i.id)).toEqual(browse.slice(370, 400));
      expect(later).toMatchObject({ total: 400, totalExact: true });
      expect(store.library({ q, grade: 6, limit: 50, offset: 0 })).toMatchObject({ items: [], total: 0, totalExact: true });
    }
    expect(store.library({ q: '几何', limit: 50, offset: 0 })).toMatchObject({ items: [], total: 0, totalExact: true });
    db.close();
  });

  it('indexes the items a box already held when it upgrades to the held-items indexes', () => {
    const dir = tempDir('box-search-');
    dirs.push(dir);
    const file = join(dir.path, 'box.sqlite');
    const old = new Database(file);
    for (const m of migrations.filter((x) => x.version < 7)) { old.exec(m.sql); old.pragma(`user_version = ${m.version}`); }
    const items = Array.from({ length: 40 }, (_, i) => item(i));
    const put = old.prepare(`INSERT INTO catalog_items (id, infohash, title, subject, grade, edition, unit, kind, size, sha256, file_name, tags, web_seeds)
      VALUES (@id, @infohash, @title, @subject, @grade, @edition, @unit, @kind, @size, @sha256, @fileName, @tags, '[]')`);
    const fts = old.prepare(`INSERT INTO library_fts (rowid, item_id, title, unit, tags, subject) VALUES (?, ?, ?, ?, ?, ?)`);
    for (const it of items) {
      const { lastInsertRowid } = put.run({ ...it, tags: JSON.stringify(it.tags) });
      fts.run(lastInsertRowid, it.id, it.title, it.unit, it.tags.join(' '), it.subject);
      old.prepare(`INSERT INTO sync_local (infohash, state, size, last_used_at) VALUES (?, ?, ?, 0)`).run(it.infohash, it.size % 2 ? 'complete' : 'downloading', it.size);
    }
    old.close();
    const db = openDatabase(file, silentLogger());
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    const store = new CatalogStore(db, clock, silentLogger());
    expect(store.library({ q: '分数', limit: 500, offset: 0 }).total).toBeGreaterThan(0);
    expectSameAsBefore(db, store);
    db.close();
  });
});
