// A teaching point's two torrent clients — the resource sync and the recordings — download at once
// over one capped link. Each applies only its share of the plan (sync/link-share.ts), so together they
// stay within the technician's cap; without the share each took the whole cap (the link carried ~2×).
// The recordings fetch alone first (it gets the whole cap), then the sync joins (half each).
// Real parts: a seed box serving a signed catalogue over BitTorrent, a real SyncEngine (webtorrent) and
// a real FilePeer fetching a recording from another FilePeer, all on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/log.js';
import { openDatabase, type Db } from '../../core/store/database.js';
import { defaultSettings } from '../../core/contract/settings.js';
import { CatalogStore } from '../../sync/catalog-store.js';
import { SyncEngine } from '../../sync/engine.js';
import { defaultPreferences } from '../../sync/preferences.js';
import { FilePeer, describeFile, type ListedFile } from '../../sync/recording-fetch.js';
import { LinkShare } from '../../sync/link-share.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { makeContent, publishToSeed, startSeed } from '../support/sync-fixtures.js';
import { waitFor } from '../support/daemon.js';

const MiB = 1024 * 1024;
// 320 kbit/s: a thin rural link. Both clients fetch for 10 s; at the cap that is ~400 kB together.
const CAP_KBPS = 320;
const CAP_BPS = (CAP_KBPS * 1000) / 8;
const MEASURE_MS = 10_000;
const ALONE_MS = 4000;
// Bytes are counted a 16 KiB block at a time: a window may hold one block more or less than passed.
const BLOCK = 16 * 1024;

describe('the resource sync and the recordings share the link cap', () => {
  const tmp = tempDir('box-link-share-');
  let seed: TestBox;
  let listed: ListedFile;
  const closers: Array<() => unknown> = [];

  beforeAll(async () => {
    const county = generateKeyPair();
    const publisher = generateKeyPair();
    const content = join(tmp.path, 'content');
    const meta = makeContent(content, [{ id: 'share-video', title: '共享链路', kind: 'video', bytes: 3 * MiB }]);
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    await publishToSeed(seed.config.dataDir, publisher, content, meta);
    await seed.box.context.sync!.engine.tick();

    // The hub's side of a master recording: its own file peer seeding a file.
    const src = join(tmp.path, 'rec-src');
    mkdirSync(src);
    writeFileSync(join(src, 'master.mkv'), randomBytes(3 * MiB));
    const d = await describeFile(join(src, 'master.mkv'), 'master.mkv', { trackers: [], webSeeds: [] });
    const hubPeer = new FilePeer({ dir: join(tmp.path, 'hub-peer'), log: silentLogger(), onComplete: () => undefined });
    closers.push(() => hubPeer.close());
    await hubPeer.seed(d.torrent, src, []);
    listed = {
      id: 'master.share', infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: 'master.mkv', torrent: d.torrent.toString('base64'),
      webSeeds: [], trackers: [], peers: [`127.0.0.1:${hubPeer.torrentPort}`], meta: {},
    };
  }, 60_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await seed?.close();
    tmp.remove();
  });

  /** A teaching point's two clients, fresh, both capped by the same plan; `share` joins them or not. */
  async function measure(name: string, share: LinkShare | undefined, measureMs = MEASURE_MS) {
    const root = join(tmp.path, name);
    mkdirSync(root, { recursive: true });
    const db: Db = openDatabase(join(root, 'box.sqlite'), silentLogger());
    const prefs = { ...defaultPreferences(), webSeedFallbackMs: 3_600_000 };
    const engine = new SyncEngine({
      store: new CatalogStore(db, systemClock, silentLogger()), storeDir: join(root, 'sync'), clock: systemClock, log: silentLogger(),
      publisherKeys: seed.box.context.provisioning!.publisherKeys, toleranceMs: 60_000, defaultSources: [seed.box.url], ownTracker: () => null,
      bandwidth: () => ({ ...defaultSettings.sync, lanDiscovery: false, downloadLimitKbps: CAP_KBPS }), prefs: () => prefs, adoptPublished: false,
      tickMs: 1000, ...(share ? { linkShare: share } : {}),
    });
    // The recordings side, throttled to the same plan as recordings/upload.ts's applyPolicyOnce does.
    const rec = new FilePeer({ dir: join(root, 'recordings'), log: silentLogger(), onComplete: () => undefined, ...(share ? { linkShare: share } : {}) });
    rec.throttleDownload(CAP_BPS);
    const syncGot = () => engine.status().bytesDownloadedThisRun;
    const recGot = () => rec.received.get(listed.infohash) ?? 0;
    const rate = async (got: () => number, ms: number) => {
      const [b0, t0] = [got(), performance.now()];
      await new Promise((r) => setTimeout(r, ms));
      return Math.round((got() - b0) / ((performance.now() - t0) / 1000));
    };
    try {
      // The recordings alone first: the only user of the link, it gets the whole cap.
      await rec.want([listed], { strategy: 'sequential' });
      await waitFor(() => (recGot() > 0 ? true : undefined), 30_000, 100);
      await new Promise((r) => setTimeout(r, 1500));
      const recAlone = await rate(recGot, ALONE_MS);
      // Then the resource sync starts downloading too.
      const started = performance.now();
      engine.start();
      await waitFor(() => (syncGot() > 0 ? true : undefined), 30_000, 100);
      const firstSyncByteMs = Math.round(performance.now() - started);
      // With the share, the recordings drop to their half once the sync moves data (its activity is polled every second).
      if (share) await waitFor(() => (rec.downloadLimit === CAP_BPS / 2 ? true : undefined), 10_000, 20);
      const halvedMs = Math.round(performance.now() - started);
      // Past the start: both are moving and the share has been applied (poll 1 s, throttle ~1 s).
      await new Promise((r) => setTimeout(r, 2500));
      const [s0, r0, t0] = [syncGot(), recGot(), performance.now()];
      await new Promise((r) => setTimeout(r, measureMs));
      const [s1, r1, t1] = [syncGot(), recGot(), performance.now()];
      const secs = (t1 - t0) / 1000;
      const out = {
        recAlone, firstSyncByteMs, halvedMs, sync: Math.round((s1 - s0) / secs), recordings: Math.round((r1 - r0) / secs),
        combined: Math.round((s1 - s0 + r1 - r0) / secs),
        applied: { sync: engine.status().applied.downloadBps, recordings: rec.downloadLimit },
        plan: engine.status().plan.downloadBps,
      };
      console.info(`[link-share] ${name}: recordings alone ${recAlone} B/s; sync started, first byte +${firstSyncByteMs} ms${share ? `, recordings halved +${halvedMs} ms` : ''}; then sync ${out.sync} B/s + recordings ${out.recordings} B/s = ${out.combined} B/s over ${secs.toFixed(1)} s; cap ${CAP_BPS} B/s (${(out.combined / CAP_BPS).toFixed(2)}×); applied sync ${out.applied.sync}, recordings ${out.applied.recordings}`);
      return out;
    } finally {
      await rec.close();
      await engine.close();
      db.close();
    }
  }

  it('keeps the combined download within the cap, each client getting a fair part', { timeout: 60_000 }, async () => {
    const share = new LinkShare();
    closers.push(() => share.close());
    const r = await measure('shared', share);
    expect(r.plan).toBe(CAP_BPS);
    expect(r.recAlone, `recordings alone ${r.recAlone} B/s vs cap ${CAP_BPS}`).toBeGreaterThan(CAP_BPS * 0.8);
    expect(r.recAlone).toBeLessThanOrEqual(CAP_BPS * 1.15 + BLOCK / (ALONE_MS / 1000));
    expect(r.combined, `combined ${r.combined} B/s vs cap ${CAP_BPS}`).toBeLessThanOrEqual(CAP_BPS * 1.15);
    expect(r.sync).toBeGreaterThan(CAP_BPS * 0.25);
    expect(r.recordings).toBeGreaterThan(CAP_BPS * 0.25);
    // The rates actually applied (what status and the doctor show) are the halves.
    expect(r.applied).toEqual({ sync: CAP_BPS / 2, recordings: CAP_BPS / 2 });
  });

  // The control: the same set-up without the share shows what the test guards against (each client
  // takes the whole cap), so a pass above is not an artefact of a slow machine.
  it('without the share, the two clients together take about twice the cap', { timeout: 60_000 }, async () => {
    const r = await measure('unshared', undefined, 5000);
    expect(r.applied).toEqual({ sync: CAP_BPS, recordings: CAP_BPS });
    expect(r.combined).toBeGreaterThan(CAP_BPS * 1.5);
  });
});
