import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import parseTorrent, { toTorrentFile } from 'parse-torrent';
import { generateKeyPair } from '../../core/signing.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { makeContent, publishToSeed, refresh, setPreferences, startSeed, startSyncHub, waitForLibrary } from '../support/sync-fixtures.js';
import { freePort } from '../support/sync-daemon.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ARIA_BASE = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--console-log-level=warn', '--summary-interval=0', '--file-allocation=none'];

describe('interop with a real third-party BitTorrent client (aria2c)', () => {
  const tmp = tempDir('box-sync-interop-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  const children = new Set<ChildProcess>();
  let seed: TestBox;
  let hub: TestBox;
  let fromAria: { infohash: string; fileName: string; sha256: string };

  function aria(args: string[]): { child: ChildProcess; exited: Promise<number | null>; out: () => string } {
    const child = spawn('aria2c', [...ARIA_BASE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return { child, exited: new Promise((r) => child.on('exit', (c) => r(c))), out: () => out };
  }

  beforeAll(async () => {
    const content = join(tmp.path, 'content');
    const meta = makeContent(content, [
      { id: 'from-box', title: '角的初步认识', bytes: 1_500_000 },
      { id: 'from-aria', title: '观察物体', bytes: 1_200_000 },
    ]);
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    const { items } = await publishToSeed(seed.config.dataDir, publisher, content, meta);
    const it = items.find((i) => i.id === 'from-aria')!;
    fromAria = { infohash: it.infohash, fileName: it.fileName, sha256: it.sha256 };
    // The seed box does not hold this one: only aria2c will have it.
    rmSync(join(seed.config.dataDir, 'sync', 'files', it.infohash), { recursive: true });
    await seed.box.context.sync!.engine.tick();
    hub = await startSyncHub(county, publisher, join(tmp.path, 'hub'));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await hub?.close();
    await seed?.close();
    tmp.remove();
  });

  it('a box downloads an item that only an aria2c seeder has', async () => {
    const ariaSeedDir = join(tmp.path, 'aria-seed');
    mkdirSync(ariaSeedDir, { recursive: true });
    copyFileSync(join(tmp.path, 'content', 'from-aria.bin'), join(ariaSeedDir, fromAria.fileName));
    const torrent = await parseTorrent(readFileSync(join(seed.config.dataDir, 'sync', 'torrents', `${fromAria.infohash}.torrent`)));
    torrent.announce = [`${seed.box.url}/announce`];
    torrent.urlList = [];
    const torrentFile = join(tmp.path, 'from-aria.torrent');
    writeFileSync(torrentFile, toTorrentFile(torrent));
    const port = await freePort();
    aria(['--seed-ratio=0.0', '--seed-time=10', '--check-integrity=true', `--listen-port=${port}`, `--dir=${ariaSeedDir}`, torrentFile]);

    // Peers only (no web seed); the seed box does not hold the file, so every byte comes from aria2c.
    await setPreferences(hub.box.url, { sources: [seed.box.url], webSeedFallbackMs: 3_600_000, reserveBytes: 0, pinnedItems: ['from-aria'], subscriptions: { grades: [], subjects: [] } });
    await refresh(hub.box.url);
    const lib = await waitForLibrary(hub.box.url, 1, 60_000);
    expect(lib.items[0]!.id).toBe('from-aria');
    const body = Buffer.from(await (await fetch(`${hub.box.url}/api/library/items/from-aria/file`)).arrayBuffer());
    expect(sha(body)).toBe(fromAria.sha256);
  });

  it('aria2c downloads an item from a box over the peer wire, using the torrent the box serves', async () => {
    await setPreferences(hub.box.url, { pinnedItems: ['from-aria', 'from-box'] });
    await waitForLibrary(hub.box.url, 2, 60_000);
    const status = async () => (await (await fetch(`${hub.box.url}/api/catalog/status`)).json()) as { bytesUploadedThisRun: number };
    const uploadedBefore = (await status()).bytesUploadedThisRun;
    const m = (await (await fetch(`${hub.box.url}/catalog/manifest.json`)).json()) as { payload: { items: Array<{ id: string; infohash: string; sha256: string; fileName: string }> } };
    const item = m.payload.items.find((i) => i.id === 'from-box')!;
    const res = await fetch(`${hub.box.url}/catalog/torrents/${item.infohash}.torrent`);
    expect(res.status).toBe(200);
    const served = await parseTorrent(new Uint8Array(await res.arrayBuffer()));
    expect(served.infoHash).toBe(item.infohash);
    expect(served.announce).toContain(`${hub.box.url}/announce`);
    // Without its web seed, aria2c can only get the file from the box's BitTorrent side.
    served.urlList = [];
    const torrentFile = join(tmp.path, 'from-box.torrent');
    writeFileSync(torrentFile, toTorrentFile(served));
    const out = join(tmp.path, 'aria-out');
    const a = aria(['--seed-time=0', `--listen-port=${await freePort()}`, `--dir=${out}`, torrentFile]);
    const code = await Promise.race([a.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
    expect(code, a.out()).toBe(0);
    const file = join(out, item.fileName);
    expect(existsSync(file)).toBe(true);
    expect(sha(readFileSync(file))).toBe(item.sha256);
    const up = await waitFor(async () => {
      const s = await status();
      return s.bytesUploadedThisRun - uploadedBefore >= 1_500_000 ? s.bytesUploadedThisRun - uploadedBefore : undefined;
    }, 5000);
    expect(up).toBeGreaterThanOrEqual(1_500_000);
  });

  it('aria2c downloads from a box acting as a plain HTTP web seed (BEP 19)', async () => {
    const m = (await (await fetch(`${hub.box.url}/catalog/manifest.json`)).json()) as { payload: { items: Array<{ id: string; infohash: string; sha256: string; fileName: string }> } };
    const item = m.payload.items.find((i) => i.id === 'from-box')!;
    const res = await fetch(`${hub.box.url}/catalog/torrents/${item.infohash}.torrent`);
    const served = await parseTorrent(new Uint8Array(await res.arrayBuffer()));
    expect(served.urlList).toContain(`${hub.box.url}/catalog/files/${item.infohash}`);
    served.announce = [];
    const torrentFile = join(tmp.path, 'from-box-webseed.torrent');
    writeFileSync(torrentFile, toTorrentFile(served));
    const out = join(tmp.path, 'aria-out-ws');
    const a = aria(['--seed-time=0', `--listen-port=${await freePort()}`, `--dir=${out}`, torrentFile]);
    const code = await Promise.race([a.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
    expect(code, a.out()).toBe(0);
    expect(sha(readFileSync(join(out, item.fileName)))).toBe(item.sha256);
  });
});
