// The seed's web seed (GET /catalog/files/<infohash>, BEP 19) is an upload like its BitTorrent side: it keeps
// to the sync plan's upload rate (one bucket for all web-seed responses) and stops while a lesson has the link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { pinSession, tempDir, type TestBox } from '../support/boxes.js';
import { makeContent, publishToSeed, startSeed } from '../support/sync-fixtures.js';
import { catalogStatus } from '../support/sync-swarm.js';

const MiB = 1024 * 1024;
const SIZE = 2 * MiB + 1234;
// 1 MB/s: a loopback GET of 2 MiB takes milliseconds unthrottled, about 2.1 s at the limit.
const LIMIT_KBPS = 8000;
const LIMIT_BPS = (LIMIT_KBPS * 1000) / 8;

describe('the web seed keeps to the sync upload plan', () => {
  const tmp = tempDir('box-sync-webseed-limit-');
  let seed: TestBox;
  let token: string;
  let fileUrl: string;
  let sha: string;

  const put = async (path: string, body: unknown) => {
    const res = await fetch(`${seed.box.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const timedGet = async (headers: Record<string, string> = {}) => {
    const t = performance.now();
    const res = await fetch(fileUrl, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    return { res, body, ms: performance.now() - t };
  };

  beforeAll(async () => {
    const county = generateKeyPair();
    const publisher = generateKeyPair();
    const content = join(tmp.path, 'content');
    const meta = makeContent(content, [{ id: 'web-seed-video', title: '网络种子限速', kind: 'video', bytes: SIZE }]);
    sha = createHash('sha256').update(readFileSync(join(content, 'web-seed-video.bin'))).digest('hex');
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    const { items } = await publishToSeed(seed.config.dataDir, publisher, content, meta);
    await seed.box.context.sync!.engine.tick();
    fileUrl = `${seed.box.url}/catalog/files/${items[0]!.infohash}`;
    token = await pinSession(seed.box.url);
  });

  afterAll(async () => {
    await seed?.close();
    tmp.remove();
  });

  it('serves at about the upload limit, one limit shared by concurrent responses', { timeout: 60_000 }, async () => {
    await put('/api/settings', { sync: { uploadLimitKbps: LIMIT_KBPS } });
    expect((await catalogStatus(seed.box.url) as unknown as { plan: { uploadBps: number } }).plan.uploadBps).toBe(LIMIT_BPS);
    const before = (await catalogStatus(seed.box.url)).webSeedBytes;

    const one = await timedGet();
    expect(one.res.status).toBe(200);
    expect(createHash('sha256').update(one.body).digest('hex')).toBe(sha);
    console.info(`[web-seed-limit] ${SIZE} B at ${LIMIT_BPS} B/s: ${one.ms.toFixed(0)} ms (size/limit ${(SIZE / LIMIT_BPS * 1000).toFixed(0)} ms)`);
    // A lower bound only a throttled response can meet (unthrottled, loopback takes a few ms).
    expect(one.ms).toBeGreaterThanOrEqual(0.6 * (SIZE / LIMIT_BPS) * 1000);

    // Two at once (a web seed asks piece ranges in parallel) share the one rate: together ~2× as long.
    const [a, b] = await Promise.all([timedGet(), timedGet({ range: `bytes=0-${SIZE - 1}` })]);
    expect(a.res.status).toBe(200);
    expect(b.res.status).toBe(206);
    expect(a.body.length + b.body.length).toBe(2 * SIZE);
    const both = Math.max(a.ms, b.ms);
    console.info(`[web-seed-limit] two concurrent: ${a.ms.toFixed(0)} / ${b.ms.toFixed(0)} ms (2×size/limit ${(2 * SIZE / LIMIT_BPS * 1000).toFixed(0)} ms)`);
    expect(both).toBeGreaterThanOrEqual(0.6 * (2 * SIZE / LIMIT_BPS) * 1000);

    expect((await catalogStatus(seed.box.url)).webSeedBytes - before).toBe(3 * SIZE);
  });

  it('answers 503 E_SYNC_PAUSED with Retry-After while a lesson pauses sync, and ends a response cut by a lesson', { timeout: 60_000 }, async () => {
    // A response under way when the lesson starts: held, then ended, so the socket is not kept for the lesson.
    const inFlight = fetch(fileUrl).then(async (r) => { await r.arrayBuffer(); return 'complete'; }, () => 'cut').catch(() => 'cut');
    await new Promise((r) => setTimeout(r, 300));
    // No link rate is configured, so a live lesson leaves sync nothing (sync/bandwidth.ts: lesson-paused).
    const plan = await put('/api/catalog/lesson-active', { active: true }) as { paused: boolean; uploadBps: number; reason: string };
    expect(plan).toMatchObject({ paused: true, uploadBps: 0, reason: 'lesson-paused' });

    const res = await fetch(fileUrl, { headers: { range: 'bytes=0-16383' } });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ code: 'E_SYNC_PAUSED', reason: 'lesson-paused' });

    const t = performance.now();
    // It cannot complete at 0 bytes/s: the throttle ends it (about 5 s after the pause).
    expect(await inFlight).toBe('cut');
    expect(performance.now() - t).toBeLessThan(15_000);

    await put('/api/catalog/lesson-active', { active: false });
    const after = await fetch(fileUrl, { headers: { range: 'bytes=0-16383' } });
    expect(after.status).toBe(206);
    expect((await after.arrayBuffer()).byteLength).toBe(16384);
  });
});
