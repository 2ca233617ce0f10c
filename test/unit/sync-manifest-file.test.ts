import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { ManualClock } from '../../core/clock.js';
import { openDatabase, type Db } from '../../core/store/database.js';
import { silentLogger } from '../../core/log.js';
import { defaultSettings } from '../../core/contract/settings.js';
import { serializeManifest, signManifest, type CatalogItem } from '../../sync/manifest.js';
import { CatalogStore } from '../../sync/catalog-store.js';
import { SyncEngine } from '../../sync/engine.js';
import { defaultPreferences } from '../../sync/preferences.js';
import { tempDir } from '../support/boxes.js';

const publisher = generateKeyPair();
const clock = new ManualClock(Date.UTC(2026, 10, 23, 8));
const item = (i: number): CatalogItem => ({
  id: `item-${i}`, title: `分数的初步认识 ${i}`, subject: '数学', grade: 3, edition: '人教版', unit: '第八单元', kind: 'video', size: 1000 + i,
  infohash: i.toString(16).padStart(40, '0'), sha256: 'b'.repeat(64), fileName: `f${i}.mp4`, webSeeds: [], tags: [],
});
const manifest = (version: number) => Buffer.from(serializeManifest(signManifest(publisher, {
  format: 'tpbox-catalog/1', publisher: '县资源中心', version, pieceLength: 262144, issuedAt: '2026-11-20T00:00:00Z', expires: '2026-12-01T00:00:00Z',
  items: [item(1), item(2)],
})));

/** An engine that is never started: manifest intake only. */
function engine(db: Db, storeDir: string): SyncEngine {
  const prefs = defaultPreferences();
  return new SyncEngine({
    store: new CatalogStore(db, clock, silentLogger()), storeDir, clock, log: silentLogger(), publisherKeys: [publisher.publicKey], toleranceMs: 0,
    defaultSources: [], ownTracker: () => null, bandwidth: () => defaultSettings.sync, prefs: () => prefs, adoptPublished: false,
  });
}

describe('the accepted manifest lives in a file, named by the database row', () => {
  it('keeps exactly the bytes received, replaces them with a newer version, and survives a moved store folder', () => {
    const tmp = tempDir('box-manifest-file-');
    try {
      const db = openDatabase(join(tmp.path, 'box.sqlite'), silentLogger());
      const store = join(tmp.path, 'store');
      const e = engine(db, store);
      const v1 = manifest(1);
      expect(e.acceptManifest(v1, 'http://hub').accepted).toBe(true);
      expect(readFileSync(e.manifestPath()!).equals(v1)).toBe(true);
      const v2 = manifest(2);
      expect(e.acceptManifest(v2, 'http://hub').accepted).toBe(true);
      expect(readFileSync(e.manifestPath()!).equals(v2)).toBe(true);
      expect(readdirSync(join(store, 'accepted'))).toEqual(['manifest-v2.json']);
      // The file is gone (store folder moved or wiped): the same version puts it back instead of being ignored.
      rmSync(e.manifestPath()!);
      expect(e.manifestPath()).toBeUndefined();
      expect(e.acceptManifest(v2, 'http://hub').accepted).toBe(false);
      expect(readFileSync(e.manifestPath()!).equals(v2)).toBe(true);
      expect(e.store.currentVersion()).toBe(2);
      db.close();
    } finally {
      tmp.remove();
    }
  });

  it('moves a manifest an older version kept in the database into its file, once', () => {
    const tmp = tempDir('box-manifest-legacy-');
    try {
      const db = openDatabase(join(tmp.path, 'box.sqlite'), silentLogger());
      const store = join(tmp.path, 'store');
      const v3 = manifest(3);
      engine(db, store).acceptManifest(v3, null);
      // What a box accepted before schema 8 looks like: the bytes in the row, no file.
      db.prepare('UPDATE sync_manifest_state SET manifest = ?, manifest_file = NULL WHERE id = 1').run(v3);
      rmSync(join(store, 'accepted'), { recursive: true });
      const e = engine(db, store);
      expect(readFileSync(e.manifestPath()!).equals(v3)).toBe(true);
      expect(db.prepare('SELECT manifest IS NULL AS moved FROM sync_manifest_state').get()).toEqual({ moved: 1 });
      expect(e.store.currentVersion()).toBe(3);
      expect(existsSync(join(store, 'accepted', 'manifest-v3.json'))).toBe(true);
      db.close();
    } finally {
      tmp.remove();
    }
  });
});
