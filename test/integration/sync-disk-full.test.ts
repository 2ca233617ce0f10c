import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { tempDir, pinSession, startTestBox, type TestBox } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { library, makeContent, publishToSeed, setPreferences, startSeed, waitForLibrary } from '../support/sync-fixtures.js';

const SIZE = 4 * 1024 * 1024;

/** Writes into the file until the filesystem refuses with ENOSPC. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 7);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

interface Status { downloads: Array<{ progress: number }>; waiting: Array<{ code: string | null; message: string | null }> }

describe('disk full mid-download (a real 6 MiB tmpfs)', () => {
  const tmp = tempDir('box-sync-diskfull-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  const mount = join(tmp.path, 'store');
  let mounted = false;
  let seed: TestBox;
  let hub: TestBox | undefined;
  const hubDir = join(tmp.path, 'hub');
  const draft = { role: 'hub' as const, schoolId: 'hub', name: '中心校', publisherKeys: [publisher.publicKey] };

  beforeAll(async () => {
    mkdirSync(mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tpb-sync-diskfull', mount]);
    mounted = true;
    const meta = makeContent(join(tmp.path, 'content'), [{ id: 'lecture', title: '微课：长方形的面积', kind: 'video', bytes: SIZE }]);
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    await publishToSeed(seed.config.dataDir, publisher, join(tmp.path, 'content'), meta);
    await seed.box.context.sync!.engine.tick();
    const token = await pinSession(seed.box.url);
    await fetch(`${seed.box.url}/api/settings`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sync: { uploadLimitKbps: 4000 } }) });
    // The store folder is read when the box starts: set it, then restart the box on the small disk.
    const first = await startTestBox({ county, dataDir: hubDir, draft });
    await setPreferences(first.box.url, { storeDir: mount, reserveBytes: 0, webSeedFallbackMs: 3_600_000, manifestIntervalMs: 1000 });
    await first.close();
  });

  afterAll(async () => {
    await hub?.close();
    await seed?.close();
    if (mounted) execFileSync('umount', [mount]);
    tmp.remove();
  });

  it('stops with a clear E_DISK_FULL, shows no corrupt item, and completes once space is freed', { timeout: 150_000 }, async () => {
    hub = await startTestBox({ county, dataDir: hubDir, configExtra: {} });
    await setPreferences(hub.box.url, { sources: [seed.box.url] });
    const status = async () => (await (await fetch(`${hub!.box.url}/api/catalog/status`)).json()) as Status;
    await waitFor(async () => ((await status()).downloads[0]?.progress ?? 0) > 0.15 ? true : undefined, 60_000, 50);
    const filler = join(mount, 'filler.bin');
    fillDisk(filler);

    const full = await waitFor(async () => (await status()).waiting.find((w) => w.code === 'E_DISK_FULL'), 60_000, 100);
    expect(full.message).toMatch(/space|full/i);
    expect((await library(hub.box.url)).total).toBe(0);
    expect(readdirSync(join(mount, 'files'))).toEqual([]);
    const itemRes = await fetch(`${hub.box.url}/api/library/items/lecture/file`);
    expect(itemRes.status).toBe(404);

    rmSync(filler);
    const lib = await waitForLibrary(hub.box.url, 1, 60_000);
    const expected = createHash('sha256').update(readFileSync(join(tmp.path, 'content', 'lecture.bin'))).digest('hex');
    expect(lib.items[0]!.sha256).toBe(expected);
    const body = Buffer.from(await (await fetch(`${hub.box.url}/api/library/items/lecture/file`)).arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(expected);
    expect(existsSync(join(mount, 'partial', lib.items[0]!.id))).toBe(false);
  });
});
