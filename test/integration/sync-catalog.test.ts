import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { generateKeyPair, type KeyPair } from '../../core/signing.js';
import { signManifest, type SignedManifest } from '../../sync/manifest.js';
import { tempDir, type TestBox } from '../support/boxes.js';
import { makeContent, publishToSeed, refresh, setPreferences, startSeed, startSyncHub, waitForLibrary, library } from '../support/sync-fixtures.js';

describe('a hub syncs the seed catalogue into its offline library', () => {
  const tmp = tempDir('box-sync-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  let seed: TestBox;
  let hub: TestBox;
  const specs = [
    { id: 'math-3-fractions', title: '分数的初步认识', unit: '第八单元 分数的初步认识', bytes: 700_000, tags: ['分数'] },
    { id: 'math-3-fractions-ex', title: '分数练习题', unit: '第八单元 分数的初步认识', bytes: 90_000 },
    { id: 'chinese-3-poem', title: '古诗三首 #1 100%', subject: '语文', unit: '第一单元', bytes: 300_000, file: '古诗 #1 100%.bin' },
  ];

  beforeAll(async () => {
    const meta = makeContent(join(tmp.path, 'content'), specs);
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    await publishToSeed(seed.config.dataDir, publisher, join(tmp.path, 'content'), meta);
    await seed.box.context.sync!.engine.tick();
    hub = await startSyncHub(county, publisher, join(tmp.path, 'hub'));
    await setPreferences(hub.box.url, { sources: [seed.box.url], webSeedFallbackMs: 3000, reserveBytes: 0 });
  });

  afterAll(async () => {
    await hub?.close();
    await seed?.close();
    tmp.remove();
  });

  it('fetches, verifies and lists every item with the published sha256', async () => {
    expect((await refresh(hub.box.url)).status).toBe(200);
    const lib = await waitForLibrary(hub.box.url, specs.length, 60_000);
    const seedLib = await library(seed.box.url, 'limit=500');
    expect(lib.items.map((i) => i.sha256).sort()).toEqual(seedLib.items.map((i) => i.sha256).sort());
    for (const it of lib.items) {
      const body = Buffer.from(await (await fetch(`${hub.box.url}/api/library/items/${it.id}/file`)).arrayBuffer());
      expect(createHash('sha256').update(body).digest('hex')).toBe(it.sha256);
    }
  });

  it('passes the signed manifest on as received, and only when the asker holds another version (ETag)', async () => {
    const fromSeed = await fetch(`${seed.box.url}/catalog/manifest.json`);
    const fromHub = await fetch(`${hub.box.url}/catalog/manifest.json`);
    const etag = fromHub.headers.get('etag');
    expect(etag).toMatch(/^"catalog-v\d+"$/);
    expect(Buffer.from(await fromHub.arrayBuffer()).equals(Buffer.from(await fromSeed.arrayBuffer()))).toBe(true);
    const same = await fetch(`${hub.box.url}/catalog/manifest.json`, { headers: { 'if-none-match': etag! } });
    expect(same.status).toBe(304);
    expect((await same.arrayBuffer()).byteLength).toBe(0);
    const older = await fetch(`${hub.box.url}/catalog/manifest.json`, { headers: { 'if-none-match': '"catalog-v0"' } });
    expect(older.status).toBe(200);
    await older.arrayBuffer();
  });

  it('serves byte ranges so video seeks and web seeds work', async () => {
    const res = await fetch(`${hub.box.url}/api/library/items/math-3-fractions/file`, { headers: { range: 'bytes=100-199' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 100-199/700000');
    expect((await res.arrayBuffer()).byteLength).toBe(100);
    const bad = await fetch(`${hub.box.url}/api/library/items/math-3-fractions/file`, { headers: { range: 'bytes=900000-' } });
    expect(bad.status).toBe(416);
  });

  it('finds Chinese titles: 分数 (two characters) and 分数的初步 (trigram index)', async () => {
    const two = await library(hub.box.url, `q=${encodeURIComponent('分数')}`);
    expect(two.items.map((i) => i.id).sort()).toEqual(['math-3-fractions', 'math-3-fractions-ex']);
    const tri = await library(hub.box.url, `q=${encodeURIComponent('分数的初步')}`);
    expect(tri.items.map((i) => i.id)).toContain('math-3-fractions');
    const none = await library(hub.box.url, `q=${encodeURIComponent('几何图形')}`);
    expect(none.total).toBe(0);
    const bySubject = await library(hub.box.url, `subject=${encodeURIComponent('语文')}`);
    expect(bySubject.items.map((i) => i.id)).toEqual(['chinese-3-poem']);
  });

  it('refuses a tampered, wrongly keyed, replayed older and expired manifest, each leaving the library unchanged', async () => {
    const original = (await (await fetch(`${seed.box.url}/catalog/manifest.json`)).json()) as SignedManifest;
    let served = '';
    const fake: Server = createServer((req, res) => {
      if (req.url === '/catalog/manifest.json') res.writeHead(200, { 'content-type': 'application/json' }).end(served);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const fakeUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
    try {
      await setPreferences(hub.box.url, { sources: [fakeUrl] });
      const resign = (key: KeyPair, change: Partial<SignedManifest['payload']>) => signManifest(key, { ...original.payload, ...change });
      // A newer version from the fake source is accepted first, so a replay of version 1 is a rollback.
      served = JSON.stringify(resign(publisher, { version: 5 }));
      expect((await refresh(hub.box.url)).status).toBe(200);
      const snapshot = async () => ({
        manifest: await (await fetch(`${hub.box.url}/catalog/manifest.json`)).text(),
        library: JSON.stringify(await library(hub.box.url, 'limit=500')),
        status: ((await (await fetch(`${hub.box.url}/api/catalog/status`)).json()) as { highestVersion: number }).highestVersion,
      });
      const before = await snapshot();
      expect(before.status).toBe(5);
      const tampered = resign(publisher, { version: 6 });
      tampered.payload.items[0]!.title = '被篡改的标题';
      const now = Date.now();
      const cases: Array<[string, string]> = [
        ['E_MANIFEST_TAMPERED', JSON.stringify(tampered)],
        ['E_MANIFEST_WRONG_KEY', JSON.stringify(resign(generateKeyPair(), { version: 7 }))],
        ['E_MANIFEST_ROLLBACK', JSON.stringify(original)],
        ['E_MANIFEST_EXPIRED', JSON.stringify(resign(publisher, { version: 8, issuedAt: new Date(now - 40 * 86_400_000).toISOString(), expires: new Date(now - 86_400_000).toISOString() }))],
        ['E_MANIFEST_MALFORMED', '{"payload": {"version": "nine"}'],
      ];
      for (const [code, text] of cases) {
        served = text;
        const r = await refresh(hub.box.url);
        expect(r.status, code).toBeGreaterThanOrEqual(400);
        expect(r.body.code).toBe(code);
        expect(await snapshot()).toEqual(before);
      }
    } finally {
      await new Promise((r) => fake.close(r));
      await setPreferences(hub.box.url, { sources: [seed.box.url] });
    }
  });
});
