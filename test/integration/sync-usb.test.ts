import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { tempDir, provision, testConfig, writeConfigFile, startTestBox, type TestBox } from '../support/boxes.js';
import { runCli } from '../support/daemon.js';
import { library, makeContent, publishToSeed, refresh, setPreferences, startSeed, startSyncHub, waitForLibrary } from '../support/sync-fixtures.js';

describe('USB sneakernet for a teaching point with no line', () => {
  const tmp = tempDir('box-sync-usb-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  let seed: TestBox;
  const usb = join(tmp.path, 'usb');
  const tpData = join(tmp.path, 'tp');
  let tpConfig: string;
  let hubConfig: string;
  const specs = [
    { id: 'a-truncated', title: '认识钟表', bytes: 600_000 },
    { id: 'b-tampered', title: '认识人民币', bytes: 500_000 },
    { id: 'c-good', title: '100以内的加法和减法', bytes: 400_000 },
  ];

  beforeAll(async () => {
    const meta = makeContent(join(tmp.path, 'content'), specs);
    seed = await startSeed(county, publisher, join(tmp.path, 'seed'));
    await publishToSeed(seed.config.dataDir, publisher, join(tmp.path, 'content'), meta);
    await seed.box.context.sync!.engine.tick();
    const hub = await startSyncHub(county, publisher, join(tmp.path, 'hub'));
    await setPreferences(hub.box.url, { sources: [seed.box.url], webSeedFallbackMs: 2000, reserveBytes: 0 });
    await refresh(hub.box.url);
    await waitForLibrary(hub.box.url, specs.length);
    await hub.close();
    hubConfig = writeConfigFile(join(tmp.path, 'hub'), { dataDir: join(tmp.path, 'hub'), trust: { countyKeys: [county.publicKey] } });
    provision(testConfig(tpData, county), county, {
      role: 'teaching-point', schoolId: 'tp-offline', name: '无网络教学点', hub: { url: 'http://127.0.0.1:9', publicKey: generateKeyPair().publicKey },
      publisherKeys: [publisher.publicKey],
    });
    tpConfig = writeConfigFile(tmp.path, { dataDir: tpData, trust: { countyKeys: [county.publicKey] } });
  });

  afterAll(async () => {
    await seed?.close();
    tmp.remove();
  });

  it('exports the signed catalogue and the held items', async () => {
    const r = await runCli(['export', '--to', usb, '--config', hubConfig]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Exported 3 items/);
    expect(readdirSync(join(usb, 'files'))).toHaveLength(3);
  });

  it('refuses a bundle whose manifest was changed, importing nothing', async () => {
    const bad = join(tmp.path, 'usb-bad-manifest');
    cpSync(usb, bad, { recursive: true });
    const m = JSON.parse(readFileSync(join(bad, 'manifest.json'), 'utf8')) as { payload: { items: Array<{ title: string }> } };
    m.payload.items[0]!.title = '改过的标题';
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify(m));
    const r = await runCli(['import', bad, '--config', tpConfig]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_MANIFEST_TAMPERED');
  });

  it('imports good items and refuses a truncated and a tampered one, item by item', async () => {
    const ih = (id: string) => {
      const m = JSON.parse(readFileSync(join(usb, 'manifest.json'), 'utf8')) as { payload: { items: Array<{ id: string; infohash: string; fileName: string }> } };
      const it = m.payload.items.find((i) => i.id === id)!;
      return join(usb, 'files', it.infohash, it.fileName);
    };
    const truncated = ih('a-truncated');
    truncateSync(truncated, statSync(truncated).size - 1000);
    const tampered = ih('b-tampered');
    const buf = readFileSync(tampered);
    buf[1234] = buf[1234]! ^ 0xff;
    writeFileSync(tampered, buf);

    const r = await runCli(['import', usb, '--config', tpConfig, '--json']);
    expect(r.code, r.stderr).toBe(4);
    const { results } = JSON.parse(r.stdout) as { results: Array<{ itemId: string; outcome: string; code?: string; message?: string }> };
    const by = Object.fromEntries(results.map((x) => [x.itemId, x]));
    expect(by['c-good']!.outcome).toBe('imported');
    expect(by['a-truncated']).toMatchObject({ outcome: 'refused', code: 'E_BUNDLE_ITEM' });
    expect(by['a-truncated']!.message).toMatch(/truncated/);
    expect(by['b-tampered']).toMatchObject({ outcome: 'refused', code: 'E_BUNDLE_ITEM' });
    expect(by['b-tampered']!.message).toMatch(/do not match/);

    const tp = await startTestBox({ county, dataDir: tpData });
    try {
      const lib = await library(tp.box.url, 'limit=50');
      expect(lib.items.map((i) => i.id)).toEqual(['c-good']);
      const body = Buffer.from(await (await fetch(`${tp.box.url}/api/library/items/c-good/file`)).arrayBuffer());
      expect(createHash('sha256').update(body).digest('hex')).toBe(lib.items[0]!.sha256);
    } finally {
      await tp.close();
    }
  });
});
