// A master recording's fetch stopped half-way (the box went down) resumes from its saved pieces,
// not from zero, and the file it ends with matches the listed sha256.
import { describe, it, expect, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/log.js';
import { FilePeer, describeFile, type ListedFile } from '../../sync/recording-fetch.js';
import { sha256File } from '../../sync/file-hash.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';

describe('fetching a listed file', () => {
  const dir = tempDir('box-rec-fetch-');
  const peers: FilePeer[] = [];
  afterAll(async () => {
    for (const p of peers) await p.close();
    dir.remove();
  });

  it('resumes where it stopped and verifies the file', async () => {
    const src = join(dir.path, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'l1.mkv'), randomBytes(12 * 1024 * 1024));
    const d = await describeFile(join(src, 'l1.mkv'), 'l1.mkv', { trackers: [], webSeeds: [] });
    const seeder = new FilePeer({ dir: join(dir.path, 'hub'), log: silentLogger(), onComplete: () => undefined });
    peers.push(seeder);
    await seeder.seed(d.torrent, src, []);
    const listed: ListedFile = {
      id: 'master.l1', infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: 'l1.mkv', torrent: d.torrent.toString('base64'),
      webSeeds: [], trackers: [], peers: [`127.0.0.1:${seeder.torrentPort}`], meta: {},
    };
    const tpDir = join(dir.path, 'tp');
    // 2 MB/s: the first run is stopped at about a third.
    const first = new FilePeer({ dir: tpDir, log: silentLogger(), onComplete: () => undefined, downloadLimitBps: 2 * 1024 * 1024 });
    peers.push(first);
    await first.want([listed]);
    await waitFor(() => ((first.status()[0]?.progress ?? 0) > 0.3 ? true : undefined), 60_000, 100);
    const stoppedAt = first.status()[0]?.progress ?? 0;
    await first.close();

    let done: string | undefined;
    const second = new FilePeer({ dir: tpDir, log: silentLogger(), onComplete: (_f, p) => { done = p; } });
    peers.push(second);
    await second.want([listed]);
    await waitFor(() => done, 60_000, 100);
    expect(await sha256File(done!)).toBe(d.sha256);
    expect(second.heldPath(listed)).toBe(done);
    // The second run fetched only what the first had not verified and saved.
    const second2 = second.received.get(d.infohash) ?? 0;
    console.log(`resume: first run stopped at ${(stoppedAt * 100).toFixed(0)} % of ${d.bytes} bytes; second run received ${second2} bytes (${((second2 / d.bytes) * 100).toFixed(0)} %)`);
    expect(second2).toBeGreaterThan(0);
    expect(second2).toBeLessThan(d.bytes * (1 - stoppedAt) + 2 * 1024 * 1024);
  }, 180_000);
});
