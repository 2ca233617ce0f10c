import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, signDocument } from '../../core/signing.js';
import { ManualClock } from '../../core/clock.js';
import { isBoxError } from '../../core/errors.js';
import { openDatabase } from '../../core/store/database.js';
import { silentLogger } from '../../core/log.js';
import { checkManifest, serializeManifest, signManifest, type CatalogItem, type ManifestPayload } from '../../sync/manifest.js';
import { CatalogStore } from '../../sync/catalog-store.js';
import { folderListing, verifyItemFiles, fileInFolder } from '../../sync/item-files.js';
import { tempDir } from '../support/boxes.js';

const publisher = generateKeyPair();
const clock = new ManualClock(Date.UTC(2026, 10, 23, 8));
const item = (i: number, over: Partial<CatalogItem> = {}): CatalogItem => ({
  id: `item-${i}`, title: i % 2 ? `分数的初步认识 ${i}` : `古诗三首 ${i}`, subject: '数学', grade: 1 + (i % 6), edition: '人教版', unit: `第${i % 3}单元`,
  kind: 'video', size: 1000 + i, infohash: i.toString(16).padStart(40, '0'), sha256: 'b'.repeat(64), fileName: `f${i}.mp4`, webSeeds: [], tags: ['练习'], ...over,
});
const payload = (items: CatalogItem[]): ManifestPayload => ({
  format: 'tpbox-catalog/1', publisher: '县资源中心', version: 3, pieceLength: 262144, issuedAt: '2026-11-20T00:00:00Z', expires: '2026-12-01T00:00:00Z', items,
});
const check = { publisherKeys: [publisher.publicKey], clock, toleranceMs: 0, highestVersion: 0 };
const codeOf = (fn: () => unknown) => {
  try { fn(); } catch (e) { if (isBoxError(e)) return e.code; throw e; }
  return 'accepted';
};

describe('manifest intake item by item', () => {
  const items = Array.from({ length: 50 }, (_, i) => item(i));
  const signed = signManifest(publisher, payload(items));

  it('accepts the canonical form box publish writes and any re-serialisation of it, with the same items', () => {
    for (const text of [serializeManifest(signed), JSON.stringify(signed), JSON.stringify(signed, null, 2)]) {
      const m = checkManifest(Buffer.from(text), check);
      expect(m.payload.itemCount).toBe(50);
      expect([...m.items()]).toEqual(items);
    }
  });

  it('refuses a change anywhere, a repeated payload key, and names the bad item field', () => {
    const canonical = serializeManifest(signed);
    expect(codeOf(() => checkManifest(Buffer.from(canonical.replace('古诗三首 10', '古诗三首 11')), check))).toBe('E_MANIFEST_TAMPERED');
    const twice = `{"payload":${JSON.stringify(signed.payload)},"payload":${JSON.stringify({ ...signed.payload, version: 9 })},"signature":${JSON.stringify(signed.signature)}}`;
    expect(codeOf(() => checkManifest(Buffer.from(twice), check))).toBe('E_MANIFEST_MALFORMED');
    expect(codeOf(() => checkManifest(Buffer.from(canonical + 'x'), check))).toBe('E_MANIFEST_MALFORMED');
    // Bad content signed by the right key (not through signManifest) is refused when its items are read, naming the field.
    const badItems: unknown[] = items.map((x, i) => (i === 7 ? { ...x, size: -1 } : x));
    const m = checkManifest(Buffer.from(JSON.stringify(signDocument(publisher, { ...payload(items), items: badItems }))), check);
    let message = '';
    try { Array.from(m.items()); } catch (e) { message = (e as Error).message; expect(isBoxError(e) && e.code).toBe('E_MANIFEST_MALFORMED'); }
    expect(message).toContain('items.7.size');
  });

  it('stores items in browse order and searches them without counting every match', () => {
    const tmp = tempDir('box-intake-');
    try {
      const db = openDatabase(join(tmp.path, 'box.sqlite'), silentLogger());
      const store = new CatalogStore(db, clock, silentLogger());
      const raw = Buffer.from(serializeManifest(signed));
      store.acceptManifest(checkManifest(raw, check), 'accepted/manifest-v3.json', null);
      expect(store.currentManifest()?.file).toBe('accepted/manifest-v3.json');
      expect(store.currentVersion()).toBe(3);
      for (const it of items) { store.startLocal(it.infohash, it.size); store.markComplete(it.infohash); }
      const all = store.library({ limit: 500, offset: 0 });
      expect(all).toMatchObject({ total: 50, totalExact: true });
      const order = all.items.map((i) => [i.grade, i.subject, i.unit, i.title]);
      expect(order).toEqual([...order].sort((a, b) => (a.join('\u0001') < b.join('\u0001') ? -1 : 1)));
      expect(store.library({ q: '分数', limit: 500, offset: 0 }).items).toHaveLength(25);
      expect(store.library({ q: '分数的初步', limit: 500, offset: 0 }).items).toHaveLength(25);
      const page = store.library({ q: '分数的初步', limit: 10, offset: 0 });
      expect(page.items).toHaveLength(10);
      expect(page).toMatchObject({ total: 25, totalExact: true });
      db.close();
    } finally {
      tmp.remove();
    }
  });

  it('verifies a folder item by the digest of its listing and keeps served paths inside it', async () => {
    const tmp = tempDir('box-folder-');
    try {
      const folder = join(tmp.path, 'ih', '练习册');
      mkdirSync(join(folder, '第1章'), { recursive: true });
      writeFileSync(join(folder, '第1章', 'a.txt'), 'one');
      writeFileSync(join(folder, 'b.txt'), 'two');
      const l = await folderListing(folder);
      const it = item(1, { fileName: '练习册', fileCount: 2, size: l.size, sha256: l.sha256 });
      expect(await verifyItemFiles(join(tmp.path, 'ih'), it)).toBe(true);
      writeFileSync(join(folder, 'b.txt'), 'twO');
      expect(await verifyItemFiles(join(tmp.path, 'ih'), it)).toBe(false);
      expect(fileInFolder(folder, '第1章/a.txt')).toBe(join(folder, '第1章', 'a.txt'));
      expect(fileInFolder(folder, '../../box.sqlite')).toBeUndefined();
      expect(fileInFolder(folder, '第1章')).toBeUndefined();
    } finally {
      tmp.remove();
    }
  });
});
