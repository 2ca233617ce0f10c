import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKeyPair } from '../../core/signing.js';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { serializeManifest, signManifest, type CatalogItem } from '../../sync/manifest.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { library, publishToSeed, setPreferences, startSeed } from '../support/sync-fixtures.js';
import { boxDaemon, type BoxDaemon } from '../support/sync-daemon.js';

const ITEMS = 100_000;
const FILES = 10_000;
const MiB = 1024 * 1024;

const rssKb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** A textbook of 10,000 small files in 100 chapters, as a publisher would hand it over. */
function writeTextbook(dir: string): void {
  for (let c = 0; c < FILES / 100; c++) {
    const chapter = join(dir, `第${String(c + 1).padStart(3, '0')}章`);
    mkdirSync(chapter, { recursive: true });
    for (let p = 0; p < 100; p++) writeFileSync(join(chapter, `页${String(p + 1).padStart(3, '0')}.txt`), randomBytes(512 + ((c * 100 + p) % 1536)));
  }
}

/** The province's catalogue at full size: the real textbook plus 99,999 items this box is not subscribed to. */
function bigCatalogue(real: CatalogItem[]): CatalogItem[] {
  const subjects = ['语文', '英语', '科学', '道德与法治', '音乐'];
  const topics = ['分数的初步认识', '古诗三首', '秋天的雨', '长方形和正方形', '认识人民币'];
  const out = [...real];
  for (let i = out.length; i < ITEMS; i++) {
    const ih = createHash('sha1').update(`item-${i}`).digest('hex');
    out.push({
      id: `prov-${i}`, title: `${topics[i % topics.length]} 第${i}课`, subject: subjects[i % subjects.length]!, grade: 1 + (i % 6), edition: '人教版',
      unit: `第${1 + (i % 8)}单元`, kind: 'courseware-pdf', size: 100_000 + i, infohash: ih, sha256: createHash('sha256').update(ih).digest('hex'),
      fileName: `prov-${i}.pdf`, webSeeds: [], tags: [subjects[i % subjects.length]!],
    });
  }
  return out;
}

// Memory must not follow the size of the catalogue or of a torrent: a box holds a province's catalogue
// (100,000 items, ~40 MB of signed JSON) and syncs a textbook of 10,000 files with the same few hundred MiB.
describe('a province-sized catalogue and a 10,000-file textbook', () => {
  const tmp = tempDir('box-sync-scale-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  let seed: TestBox;
  let hub: BoxDaemon;
  let manifestBytes = 0;

  beforeAll(async () => {
    const content = join(tmp.path, 'content');
    writeTextbook(join(content, 'textbook'));
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    const meta = { publisher: '县教育局资源中心', items: [{ id: 'textbook-10k', title: '数学三年级上册 电子课本', subject: '数学', grade: 3, edition: '人教版', unit: '全册', kind: 'textbook' as const, tags: ['课本'], file: 'textbook' }] };
    const published = await publishToSeed(seed.config.dataDir, publisher, content, meta);
    const p = published.manifest.payload;
    const signed = signManifest(publisher, { format: p.format, publisher: p.publisher, version: p.version + 1, issuedAt: p.issuedAt, expires: p.expires, pieceLength: p.pieceLength, items: bigCatalogue(published.items) });
    const raw = serializeManifest(signed);
    manifestBytes = Buffer.byteLength(raw);
    writeFileAtomic(join(seed.config.dataDir, 'sync', 'manifest.json'), raw);
    await seed.box.context.sync!.engine.tick();
    hub = await boxDaemon(join(tmp.path, 'hub'), county, { role: 'hub', schoolId: 'hub', name: '中心校', publisherKeys: [publisher.publicKey] });
  }, 300_000);

  afterAll(async () => {
    await hub?.kill9();
    await seed?.close();
    tmp.remove();
  });

  it('syncs the textbook with the daemon\'s memory bounded while holding 100,000 items', { timeout: 420_000 }, async () => {
    await hub.start();
    const pid = hub.daemon.child.pid!;
    await new Promise((r) => setTimeout(r, 2000));
    const idleKb = rssKb(pid, 'VmRSS');
    const samples: number[] = [];
    const sampler = setInterval(() => { try { samples.push(rssKb(pid, 'VmRSS')); } catch { /* exited */ } }, 200);
    try {
      const t0 = Date.now();
      await setPreferences(hub.url, { sources: [seed.box.url], subscriptions: { grades: [3], subjects: ['数学'] }, webSeedFallbackMs: 5000, reserveBytes: 0, manifestIntervalMs: 2000 });
      const lib = await waitFor(async () => { const l = await library(hub.url); return l.total >= 1 ? l : undefined; }, 300_000, 500);
      const syncedS = (Date.now() - t0) / 1000;
      await waitFor(async () => ((await (await fetch(`${hub.url}/api/catalog/status`)).json() as { seeding: number }).seeding >= 1 ? true : undefined), 60_000, 250);
      // Then 30 s of rounds (a manifest check every 2 s): the highest RSS of the last 10 s against that of the first 10 s.
      const from = samples.length;
      await new Promise((r) => setTimeout(r, 30_000));
      const window = samples.slice(from);
      const firstKb = Math.max(...window.slice(0, 50));
      const lastKb = Math.max(...window.slice(-50));
      const peakKb = rssKb(pid, 'VmHWM');

      const item = lib.items[0]!;
      expect(item.id).toBe('textbook-10k');
      const db = new Database(join(hub.dataDir, 'box.sqlite'), { readonly: true });
      const held = (db.prepare('SELECT COUNT(*) AS n FROM catalog_items').get() as { n: number }).n;
      db.close();
      expect(held).toBe(ITEMS);
      // A page of the textbook, served from the box, is the publisher's bytes.
      const page = join(tmp.path, 'content', 'textbook', '第042章', '页017.txt');
      const res = await fetch(`${hub.url}/catalog/files/${(item as { infohash?: string }).infohash}/textbook/${encodeURIComponent('第042章')}/${encodeURIComponent('页017.txt')}`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(page))).toBe(true);

      const mb = (kb: number) => Math.round(kb / 1024);
      console.info(`[sync-scale] manifest ${(manifestBytes / MiB).toFixed(1)} MiB, ${ITEMS} items; textbook ${FILES} files synced in ${syncedS.toFixed(1)} s; ` +
        `RSS idle ${mb(idleKb)} MiB, peak ${mb(peakKb)} MiB; seeding, highest in the first 10 s ${mb(firstKb)} MiB, in the last 10 s of 30 ${mb(lastKb)} MiB`);
      // Bounded: a budget for the daemon on a 2 GiB box that also runs the kiosk and the live lesson (measured
      // 447–494 MiB peak here), and once synced, rounds keep nothing: before manifests were asked for by ETag
      // every check fetched all 34.5 MiB again and the idle box grew by ~100 MiB in 20 s. The bound on growth
      // leaves room for a collection that has not run yet on a ~450 MiB heap (38 MiB seen once in CI).
      expect(peakKb).toBeLessThan(640 * 1024);
      expect(lastKb - firstKb).toBeLessThan(64 * 1024);
    } finally {
      clearInterval(sampler);
    }
  });
});
