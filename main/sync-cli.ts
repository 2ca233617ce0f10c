import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BoxError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import type { BoxConfig } from '../core/config.js';
import type { KeyPair } from '../core/signing.js';
import { openDatabase, databasePath } from '../core/store/database.js';
import { AuditStore } from '../core/store/audit-store.js';
import { KvStore } from '../core/store/kv-store.js';
import { publishFolder } from '../sync/publish.js';
import { exportBundle, importBundle, type ImportItemResult } from '../sync/usb-bundle.js';
import { CatalogStore } from '../sync/catalog-store.js';
import { SyncEngine } from '../sync/engine.js';
import { defaultPreferences, type SyncPreferences } from '../sync/preferences.js';
import { defaultSettings } from '../core/contract/settings.js';
import { loadProvisioning } from './provisioning-store.js';


export interface PublishArgs {
  folder: string;
  metaFile: string;
  key: KeyPair;
  outDir: string;
  webSeedBases: string[];
  trackers: string[];
  version?: number;
  validDays?: number;
}

export async function runPublish(a: PublishArgs): Promise<string> {
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(resolve(a.metaFile), 'utf8'));
  } catch (e) {
    throw new BoxError('E_VALIDATION', `--meta ${a.metaFile} is not readable JSON (${(e as Error).message}).`);
  }
  const { manifest, items } = await publishFolder({
    folder: a.folder, meta, key: a.key, outDir: resolve(a.outDir), clock: systemClock, webSeedBases: a.webSeedBases, trackers: a.trackers,
    ...(a.version !== undefined ? { version: a.version } : {}), ...(a.validDays !== undefined ? { validDays: a.validDays } : {}),
  });
  const bytes = items.reduce((n, i) => n + i.size, 0);
  return `已发布资源目录 Published catalogue version ${manifest.payload.version}: ${items.length} items, ${bytes} bytes, expires ${manifest.payload.expires} → ${resolve(a.outDir)}`;
}

/** The sync engine of a box's data folder, not started: what the USB commands work on. */
function offlineEngine(config: BoxConfig) {
  const prov = loadProvisioning(config.dataDir, config.trust.countyKeys, systemClock);
  if (!prov) throw new BoxError('E_NOT_PROVISIONED', 'This box is not provisioned yet: run `box provision BUNDLE.json` first.');
  const db = openDatabase(databasePath(config.dataDir), silentLogger());
  const state = new KvStore(db, systemClock, 'box_state');
  const prefs: SyncPreferences = { ...defaultPreferences(), ...(state.get<Partial<SyncPreferences>>('sync.preferences') ?? {}) };
  const store = new CatalogStore(db, systemClock, silentLogger());
  const engine = new SyncEngine({
    store, storeDir: prefs.storeDir ?? join(config.dataDir, 'sync'), clock: systemClock, log: silentLogger(),
    publisherKeys: prov.publisherKeys, toleranceMs: config.security.clockToleranceSeconds * 1000,
    defaultSources: [], ownTracker: () => null, bandwidth: () => defaultSettings.sync, prefs: () => prefs, adoptPublished: false,
  });
  return { engine, db, audit: new AuditStore(db, systemClock, silentLogger()) };
}

export async function runExport(config: BoxConfig, to: string): Promise<string> {
  const { engine, db, audit } = offlineEngine(config);
  try {
    const r = await exportBundle(engine, resolve(to));
    audit.append({ actor: 'cli', action: 'sync.export', target: resolve(to), outcome: 'ok', details: { ...r } });
    const left = r.skipped.length ? ` 未导出 Left out (not plain files): ${r.skipped.join(', ')}.` : '';
    return `已导出 Exported ${r.items} items (${r.bytes} bytes) and the signed catalogue to ${resolve(to)}.${left}`;
  } finally {
    db.close();
  }
}

export async function runImport(config: BoxConfig, from: string): Promise<{ text: string; results: ImportItemResult[]; refused: number }> {
  const { engine, db, audit } = offlineEngine(config);
  try {
    const { manifestVersion, results } = await importBundle(engine, resolve(from));
    const refused = results.filter((r) => r.outcome === 'refused');
    const imported = results.filter((r) => r.outcome === 'imported').length;
    audit.append({ actor: 'cli', action: 'sync.import', target: resolve(from), outcome: refused.length ? 'error' : 'ok', details: { manifestVersion, imported, refused: refused.map((r) => r.itemId) } });
    const lines = [`已导入 Imported ${imported} items from ${resolve(from)} (catalogue version ${manifestVersion}); ${results.length - imported - refused.length} already held; ${refused.length} refused.`];
    for (const r of refused) lines.push(`  ✖ 拒绝 refused ${r.message} [${r.code}]`);
    return { text: lines.join('\n'), results, refused: refused.length };
  } finally {
    db.close();
  }
}
