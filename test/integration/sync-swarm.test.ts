import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { library, makeContent, publishToSeed, setPreferences, startSeed, startSyncHub, waitForLibrary } from '../support/sync-fixtures.js';
import { catalogStatus, sha256, startSwarm, type Swarm } from '../support/sync-swarm.js';

const MiB = 1024 * 1024;
// Eight items, 20.5 MiB: sizes not multiples of the piece length, so last pieces are short.
const SIZES = [3.5, 3, 2.75, 2.5, 2.5, 2.25, 2, 2].map((m) => Math.round(m * MiB) - 1234);
const BOXES = 6;
// The origin's upload (2 MB/s) is well below what the boxes can pass between themselves on loopback.
const SEED_UPLOAD_KBPS = 16_000;

describe('a swarm of one seed and six boxes', () => {
  const tmp = tempDir('box-sync-swarm-');
  let swarm: Swarm | undefined;

  afterAll(async () => {
    await swarm?.stop();
    tmp.remove();
  });

  it('gives every box every item with the source sha256, the origin sending at most 1.5× the catalogue', { timeout: 240_000 }, async () => {
    const specs = SIZES.map((bytes, i) => ({ id: `swarm-item-${i}`, title: `微课 第${i + 1}课`, kind: 'video' as const, bytes }));
    swarm = await startSwarm(tmp.path, { specs, boxCount: BOXES, seedUploadKbps: SEED_UPLOAD_KBPS });
    const s = swarm;
    const t0 = Date.now();
    const doneAt = new Map<string, number>();
    await waitFor(async () => {
      for (const b of s.boxes) {
        if (doneAt.has(b.url)) continue;
        if ((await library(b.url, 'limit=500')).total >= specs.length) doneAt.set(b.url, Date.now() - t0);
      }
      return doneAt.size === s.boxes.length ? true : undefined;
    }, 200_000, 500);
    const allDoneMs = Math.max(...doneAt.values());

    // Held bytes, not the library's word: each box serves each item and its bytes hash to the source file.
    for (const b of s.boxes) {
      const lib = await library(b.url, 'limit=500');
      expect(lib.items.map((i) => i.id).sort()).toEqual([...s.expected.keys()].sort());
      for (const it of lib.items) {
        const body = Buffer.from(await (await fetch(`${b.url}/api/library/items/${it.id}/file`)).arrayBuffer());
        expect(sha256(body), `${b.url} ${it.id}`).toBe(s.expected.get(it.id));
      }
    }

    const origin = await s.originBytes();
    const perBox = await Promise.all(s.boxes.map((b) => catalogStatus(b.url)));
    const ratio = origin.total / s.catalogueBytes;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    console.info(`[sync-swarm] catalogue ${mb(s.catalogueBytes)} MB in ${specs.length} items, ${BOXES} boxes, seed upload ${SEED_UPLOAD_KBPS} kbit/s`);
    console.info(`[sync-swarm] all boxes done in ${(allDoneMs / 1000).toFixed(1)} s (first ${(Math.min(...doneAt.values()) / 1000).toFixed(1)} s)`);
    console.info(`[sync-swarm] origin sent ${mb(origin.total)} MB = ${ratio.toFixed(2)}× the catalogue (BitTorrent ${mb(origin.torrent)} MB, web seed ${mb(origin.webSeed)} MB)`);
    perBox.forEach((p, i) => console.info(`[sync-swarm] box ${i}: from peers ${mb(p.bytesFromPeersThisRun)} MB, from web seeds ${mb(p.bytesFromWebSeedsThisRun)} MB, uploaded to peers ${mb(p.bytesUploadedThisRun)} MB`));
    // Every box received the whole catalogue (a few duplicate blocks allowed) and the boxes really shared it.
    for (const p of perBox) expect(p.bytesFromPeersThisRun + p.bytesFromWebSeedsThisRun).toBeGreaterThanOrEqual(s.catalogueBytes);
    expect(perBox.reduce((n, p) => n + p.bytesUploadedThisRun, 0)).toBeGreaterThan(s.catalogueBytes * (BOXES - 1.5));
    expect(origin.total).toBeLessThanOrEqual(1.5 * s.catalogueBytes);
  });
});

describe('web seeds stay the fallback when no peer exists', () => {
  const tmp = tempDir('box-sync-webseed-');
  let seed: TestBox | undefined;
  let hub: TestBox | undefined;

  afterAll(async () => {
    await hub?.close();
    await seed?.close();
    tmp.remove();
  });

  it('downloads from the origin web seed alone when its BitTorrent side is gone', { timeout: 120_000 }, async () => {
    const county = generateKeyPair();
    const publisher = generateKeyPair();
    const size = 3 * MiB + 77;
    const meta = makeContent(join(tmp.path, 'content'), [{ id: 'web-only', title: '只有网络种子', kind: 'video', bytes: size }]);
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    await publishToSeed(seed.config.dataDir, publisher, join(tmp.path, 'content'), meta);
    await seed.box.context.sync!.engine.tick();
    // The seed still answers HTTP (manifest, torrent, web seed) but no longer takes part in the swarm.
    await seed.box.context.sync!.engine.close();
    hub = await startSyncHub(county, publisher, join(tmp.path, 'hub'));
    await setPreferences(hub.box.url, { sources: [seed.box.url], webSeedFallbackMs: 1000, reserveBytes: 0, manifestIntervalMs: 1000 });
    const lib = await waitForLibrary(hub.box.url, 1, 90_000);
    const body = Buffer.from(await (await fetch(`${hub.box.url}/api/library/items/web-only/file`)).arrayBuffer());
    expect(sha256(body)).toBe(sha256(readFileSync(join(tmp.path, 'content', 'web-only.bin'))));
    expect(lib.items[0]!.sha256).toBe(sha256(body));
    const st = await catalogStatus(hub.box.url);
    expect(st.bytesFromPeersThisRun).toBe(0);
    expect(st.bytesFromWebSeedsThisRun).toBeGreaterThanOrEqual(size);
    expect((await catalogStatus(seed.box.url)).webSeedBytes).toBeGreaterThanOrEqual(size);
  });
});
