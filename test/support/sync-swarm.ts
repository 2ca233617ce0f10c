// A swarm of real box daemons on loopback: one seed (the origin, upload capped) and N boxes that sync its catalogue.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { pinSession } from './boxes.js';
import { waitFor } from './daemon.js';
import { boxDaemon, type BoxDaemon } from './sync-daemon.js';
import { makeContent, publishToSeed, setPreferences, type ContentSpec } from './sync-fixtures.js';

export interface CatalogStatus {
  seeding: number;
  bytesDownloadedThisRun: number;
  bytesUploadedThisRun: number;
  bytesFromPeersThisRun: number;
  bytesFromWebSeedsThisRun: number;
  webSeedBytes: number;
  downloads: Array<{ itemId: string; progress: number; peers: number; webSeeded: boolean }>;
}

export async function catalogStatus(url: string): Promise<CatalogStatus> {
  const res = await fetch(`${url}/api/catalog/status`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`status of ${url}: ${res.status}`);
  return (await res.json()) as CatalogStatus;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Swarm {
  seed: BoxDaemon;
  boxes: BoxDaemon[];
  /** Item id → sha256 of the source file. */
  expected: Map<string, string>;
  catalogueBytes: number;
  /** What the origin sent: its BitTorrent upload plus what it served as a web seed. */
  originBytes(): Promise<{ torrent: number; webSeed: number; total: number }>;
  stop(): Promise<void>;
}

/**
 * Publishes `specs` on a seed daemon whose upload is capped at `seedUploadKbps`, starts `boxCount` hub daemons and
 * points them at the seed with `prefs`. Resolves once every box has been told to sync; the download runs on.
 */
export async function startSwarm(root: string, o: { specs: ContentSpec[]; boxCount: number; seedUploadKbps: number; prefs?: Record<string, unknown> }): Promise<Swarm> {
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  const content = join(root, 'content');
  const meta = makeContent(content, o.specs);
  const expected = new Map(meta.items.map((it) => [it.id, sha256(readFileSync(join(content, it.file)))]));
  const catalogueBytes = o.specs.reduce((n, s) => n + s.bytes, 0);
  const boxes: BoxDaemon[] = [];
  const seed = await boxDaemon(join(root, 'seed'), county, { role: 'seed', schoolId: 'county-seed', name: '县资源节点', publisherKeys: [publisher.publicKey] });
  const stop = async () => { await Promise.all([...boxes, seed].map((b) => b.daemon && b.kill9())); };
  try {
    await publishToSeed(seed.dataDir, publisher, content, meta);
    await seed.start();
    const token = await pinSession(seed.url);
    const r = await fetch(`${seed.url}/api/settings`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sync: { uploadLimitKbps: o.seedUploadKbps } }) });
    if (!r.ok) throw new Error(`seed settings: ${r.status} ${await r.text()}`);
    await waitFor(async () => ((await catalogStatus(seed.url)).seeding === o.specs.length ? true : undefined), 60_000, 250);
    for (let i = 0; i < o.boxCount; i++) {
      boxes.push(await boxDaemon(join(root, `box-${i}`), county, { role: 'hub', schoolId: `hub-${i}`, name: `中心校${i + 1}`, publisherKeys: [publisher.publicKey] }));
    }
    await Promise.all(boxes.map((b) => b.start()));
    await Promise.all(boxes.map((b) => setPreferences(b.url, { sources: [seed.url], reserveBytes: 0, manifestIntervalMs: 1000, ...o.prefs })));
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    seed, boxes, expected, catalogueBytes, stop,
    async originBytes() {
      const s = await catalogStatus(seed.url);
      return { torrent: s.bytesUploadedThisRun, webSeed: s.webSeedBytes, total: s.bytesUploadedThisRun + s.webSeedBytes };
    },
  };
}
