// A master recording's fetch stopped half-way (the box went down) resumes from its saved pieces,
// not from zero, and the file it ends with matches the listed sha256. Held by the link plan it
// receives nothing, and capped it stays near its cap.
import { describe, it, expect, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../core/log.js';
import { FilePeer, describeFile, type ListedFile } from '../../sync/recording-fetch.js';
import { sha256File } from '../../sync/file-hash.js';
import { PIECE_LENGTH } from '../../sync/torrent-files.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';

describe('fetching a listed file', () => {
  const dir = tempDir('box-rec-fetch-');
  const peers: FilePeer[] = [];

  /** A random file of `mb` MiB seeded by its own file peer (the hub's side), and its listing. */
  const seedRandomFile = async (name: string, mb: number) => {
    const src = join(dir.path, `src-${name}`);
    mkdirSync(src);
    writeFileSync(join(src, `${name}.mkv`), randomBytes(mb * 1024 * 1024));
    const d = await describeFile(join(src, `${name}.mkv`), `${name}.mkv`, { trackers: [], webSeeds: [] });
    const seeder = new FilePeer({ dir: join(dir.path, `hub-${name}`), log: silentLogger(), onComplete: () => undefined });
    peers.push(seeder);
    await seeder.seed(d.torrent, src, []);
    const listed: ListedFile = {
      id: `master.${name}`, infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: `${name}.mkv`, torrent: d.torrent.toString('base64'),
      webSeeds: [], trackers: [], peers: [`127.0.0.1:${seeder.torrentPort}`], meta: {},
    };
    return { d, listed };
  };
  afterAll(async () => {
    for (const p of peers) await p.close();
    dir.remove();
  });

  it('resumes where it stopped and verifies the file', async () => {
    const { d, listed } = await seedRandomFile('l1', 12);
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

  it('moves nothing while paused, keeps near its download cap, and keeps its pieces across a pause', async () => {
    const { d, listed } = await seedRandomFile('l2', 8);
    let done: string | undefined;
    const tp = new FilePeer({ dir: join(dir.path, 'tp2'), log: silentLogger(), onComplete: (_f, p) => { done = p; } });
    peers.push(tp);
    expect(() => tp.throttleDownload(0)).toThrow(/bytes\/s/);
    const got = () => tp.received.get(d.infohash) ?? 0;
    const state = () => tp.fetches().find((f) => f.infohash === d.infohash);

    // Paused before the file is wanted: it is queued, nothing is received.
    await tp.pauseFetches();
    // Sequential, as the catch-up fetches masters: a pause loses at most the pieces in flight.
    await tp.want([listed], { strategy: 'sequential' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(got()).toBe(0);
    expect(state()).toMatchObject({ state: 'paused', doneBytes: 0, receivedBytes: 0, code: null });

    // Capped at 150 kB/s: bytes received over a few seconds stay near the cap (an uncapped loopback fetch takes < 1 s).
    const cap = 150_000;
    tp.throttleDownload(cap);
    await tp.resumeFetches();
    await waitFor(() => (got() > 0 ? true : undefined), 30_000, 50);
    const [b0, t0] = [got(), Date.now()];
    await new Promise((r) => setTimeout(r, 5000));
    const [b1, t1] = [got(), Date.now()];
    const rate = (b1 - b0) / ((t1 - t0) / 1000);
    expect(state()?.state).toBe('fetching');
    expect(rate, `rate ${rate} B/s vs cap ${cap}`).toBeLessThanOrEqual(cap * 1.3 + PIECE_LENGTH / 5);
    expect(rate).toBeGreaterThanOrEqual(cap * 0.4);

    // Paused mid-way: not one byte more arrives, and the verified pieces stay counted.
    await tp.pauseFetches();
    const held = got();
    const kept = state()!;
    await new Promise((r) => setTimeout(r, 3000));
    expect(got()).toBe(held);
    expect(kept.state).toBe('paused');
    expect(kept.doneBytes).toBeGreaterThan(0);
    expect(state()?.doneBytes).toBe(kept.doneBytes);

    tp.throttleDownload(-1);
    await tp.resumeFetches();
    await waitFor(() => done, 60_000, 100);
    expect(await sha256File(done!)).toBe(d.sha256);
    expect(state()).toMatchObject({ state: 'done', progress: 1, doneBytes: d.bytes });
    // Only what was not verified before the pause came again (plus pieces in flight).
    expect(got()).toBeLessThanOrEqual(d.bytes + 2 * PIECE_LENGTH);
    console.log(`fetch plan: paused 3 s → 0 bytes; capped ${cap} B/s → ${Math.round(rate)} B/s over ${t1 - t0} ms; paused mid-way at ${kept.doneBytes} verified bytes, 0 bytes in 3 s; total received ${got()} of ${d.bytes}`);
  }, 180_000);
});
