import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import type { OffsetClock } from '../../core/clock.js';
import type { Db } from '../../core/store/database.js';
import type { KvStore } from '../../core/store/kv-store.js';
import type { ProvisionPayload } from '../../core/config.js';
import { parseOrThrow } from '../../core/validation.js';
import { CatalogStore } from '../../sync/catalog-store.js';
import { SyncEngine, type WantedProvider } from '../../sync/engine.js';
import { createTracker, type PrivateTracker } from '../../sync/tracker.js';
import type { LinkShare } from '../../sync/link-share.js';
import { defaultPreferences, syncPreferencesPatchSchema, syncPreferencesSchema, type SyncPreferences } from '../../sync/preferences.js';
import type { SettingsService } from '../settings-service.js';

const PREFS_KEY = 'sync.preferences';

export interface SyncServices {
  engine: SyncEngine;
  store: CatalogStore;
  tracker: PrivateTracker | undefined;
  preferences(): SyncPreferences;
  updatePreferences(patch: unknown): SyncPreferences;
  /** Bytes this box served as a web seed (HTTP Range) since it started. */
  webSeedBytes: { value: number };
  /** The live-lesson work feeds the courseware of upcoming lessons here. */
  addWantedProvider(p: WantedProvider): () => void;
  /** The live-lesson work calls this when a lesson starts and ends. */
  setLessonActive(active: boolean): void;
  /** Called once the box listens: its own URL names its tracker and web seed. */
  start(selfUrl: string): void;
  selfUrl(): string;
  close(): Promise<void>;
}

export interface SyncWiringOptions {
  db: Db;
  clock: OffsetClock;
  log: Logger;
  dataDir: string;
  provisioning: ProvisionPayload;
  settings: SettingsService;
  state: KvStore;
  toleranceMs: number;
  /** The box's one link share: the engine splits the plan's rates with the recordings' client. */
  linkShare?: LinkShare;
}

/** A provisioned box's resource sync: catalogue, engine, tracker (hub and seed), closed as one. */
export function createSyncServices(o: SyncWiringOptions): SyncServices {
  const log = o.log.child({ room: 'sync' });
  let prefs: SyncPreferences = { ...defaultPreferences(), ...(o.state.get<Partial<SyncPreferences>>(PREFS_KEY) ?? {}) };
  const store = new CatalogStore(o.db, o.clock, log);
  const role = o.provisioning.role;
  let selfUrl: string | null = null;
  const runsTracker = role === 'hub' || role === 'seed';
  const engine = new SyncEngine({
    store, storeDir: prefs.storeDir ?? join(o.dataDir, 'sync'), clock: o.clock, log,
    publisherKeys: o.provisioning.publisherKeys, toleranceMs: o.toleranceMs,
    defaultSources: o.provisioning.role === 'teaching-point' ? [o.provisioning.hub.url] : [],
    ownTracker: () => (runsTracker && selfUrl ? `${selfUrl}/announce` : null),
    bandwidth: () => o.settings.get().sync,
    prefs: () => prefs,
    adoptPublished: role === 'seed',
    superSeed: role === 'seed',
    ...(o.linkShare ? { linkShare: o.linkShare } : {}),
  });
  const unlistenSettings = o.settings.onChange(() => engine.refreshBandwidth());
  const tracker = runsTracker ? createTracker({ knows: (ih) => store.itemsByInfohash(ih).length > 0, log }) : undefined;
  return {
    engine, store, tracker, webSeedBytes: { value: 0 },
    preferences: () => prefs,
    updatePreferences(patch) {
      const parsed = parseOrThrow(syncPreferencesPatchSchema, patch, 'The sync preferences') as Record<string, unknown>;
      // zod fills defaults for absent keys even in a partial schema: keep only what the patch names.
      const named = new Set(Object.keys(patch as object));
      const change = Object.fromEntries(Object.entries(parsed).filter(([k]) => named.has(k)));
      const next = parseOrThrow(syncPreferencesSchema, { ...prefs, ...change }, 'The sync preferences');
      o.state.set(PREFS_KEY, next);
      prefs = next;
      return next;
    },
    addWantedProvider: (p) => engine.addWantedProvider(p),
    setLessonActive: (a) => engine.setLessonActive(a),
    selfUrl: () => selfUrl ?? '',
    start(url) {
      selfUrl = url;
      engine.start();
    },
    async close() {
      unlistenSettings();
      await engine.close();
      await tracker?.close();
    },
  };
}
