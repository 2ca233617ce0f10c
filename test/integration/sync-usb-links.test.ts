// A genuine signed USB bundle with links planted in its items (hidden, junk and ordinary names; pointing at the
// box's identity key and provisioning file inside its data folder, and at files outside it): each such item is
// refused on its own while the clean ones import, and no file route ever serves what a link points at.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '../../core/signing.js';
import { systemClock } from '../../core/clock.js';
import { publishFolder } from '../../sync/publish.js';
import type { CatalogItem } from '../../sync/manifest.js';
import { provision, startTestBox, tempDir, testConfig, writeConfigFile } from '../support/boxes.js';
import { runCli } from '../support/daemon.js';
import { library } from '../support/sync-fixtures.js';

/** A GET with the path sent exactly as written (fetch would fold `..` and re-encode it). */
function rawGet(base: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('USB bundle with planted links', () => {
  const tmp = tempDir('box-usb-links-');
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  const tpData = join(tmp.path, 'tp');
  const usb = join(tmp.path, 'usb');
  const outsideSecret = join(tmp.path, 'outside-secret.txt');
  const secretText = `outside-secret-${randomBytes(8).toString('hex')}`;
  let tpConfig: string;
  let items: CatalogItem[];
  const secrets: string[] = [secretText];
  const byId = (id: string) => items.find((i) => i.id === id)!;
  const onUsb = (id: string) => join(usb, 'files', byId(id).infohash, byId(id).fileName);
  const inStore = (id: string) => join(tpData, 'sync', 'files', byId(id).infohash, byId(id).fileName);

  beforeAll(async () => {
    writeFileSync(outsideSecret, secretText);
    const content = join(tmp.path, 'content');
    const book = (name: string) => {
      mkdirSync(join(content, name, '第1章'), { recursive: true });
      writeFileSync(join(content, name, 'index.html'), `<h1>${name}</h1>`);
      writeFileSync(join(content, name, '第1章', 'page1.html'), randomBytes(3000).toString('hex'));
    };
    const books = ['book-clean', 'book-hidden', 'book-junk', 'book-tilde', 'book-ordinary', 'book-dirlink', 'book-fifo'];
    for (const b of books) book(b);
    writeFileSync(join(content, 'clean.webm'), randomBytes(50_000));
    writeFileSync(join(content, 'linked.webm'), randomBytes(50_000));
    const base = { subject: '语文', grade: 3, edition: '人教版', unit: '第一单元', tags: [] as string[] };
    const meta = {
      publisher: '县教育局资源中心',
      items: [
        ...books.map((b) => ({ ...base, id: b, title: `电子课本 ${b}`, kind: 'textbook' as const, file: b })),
        { ...base, id: 'video-clean', title: '微课 clean', kind: 'video' as const, file: 'clean.webm' },
        { ...base, id: 'video-linked', title: '微课 linked', kind: 'video' as const, file: 'linked.webm' },
      ],
    };
    // A genuine bundle: published and signed by the county's publisher key, straight onto the stick.
    items = (await publishFolder({ folder: content, meta, key: publisher, outDir: usb, clock: systemClock })).items;

    provision(testConfig(tpData, county), county, {
      role: 'teaching-point', schoolId: 'tp-links', name: '石桥村教学点', hub: { url: 'http://127.0.0.1:9', publicKey: generateKeyPair().publicKey },
      publisherKeys: [publisher.publicKey],
    });
    tpConfig = writeConfigFile(tmp.path, { dataDir: tpData, trust: { countyKeys: [county.publicKey] } });
    // First start makes the identity key the links point at.
    await (await startTestBox({ county, dataDir: tpData })).close();
    const identity = join(tpData, 'identity.json');
    const provisioning = join(tpData, 'provisioning.json');
    secrets.push((JSON.parse(readFileSync(identity, 'utf8')) as { privateKey: string }).privateKey);
    secrets.push((JSON.parse(readFileSync(provisioning, 'utf8')) as { payload: { settingsPinHash: string } }).payload.settingsPinHash);
    const shadow = existsSync('/etc/shadow') ? '/etc/shadow' : outsideSecret;
    if (shadow === '/etc/shadow') secrets.push(readFileSync(shadow, 'utf8').split('\n')[0]!);

    // The attack: names the old listing and create-torrent skipped (hidden, Thumbs.db, *~) and an ordinary one.
    symlinkSync(identity, join(onUsb('book-hidden'), '.cache'));
    symlinkSync(provisioning, join(onUsb('book-junk'), 'Thumbs.db'));
    symlinkSync(shadow, join(onUsb('book-tilde'), '第1章', 'notes~'));
    symlinkSync(outsideSecret, join(onUsb('book-ordinary'), 'chapter9.html'));
    symlinkSync(tpData, join(onUsb('book-dirlink'), '.d'));
    execFileSync('mkfifo', [join(onUsb('book-fifo'), '.pipe')]);
    // A one-file item that is a link to a file with the right bytes: still not a plain file.
    const real = join(tmp.path, 'linked-real.webm');
    renameSync(onUsb('video-linked'), real);
    symlinkSync(real, onUsb('video-linked'));
  }, 120_000);

  afterAll(() => tmp.remove());

  it('refuses each item holding a link, FIFO or linked folder, and imports the clean ones', async () => {
    const r = await runCli(['import', usb, '--config', tpConfig, '--json']);
    expect(r.code, r.stderr).toBe(4);
    const { results } = JSON.parse(r.stdout) as { results: Array<{ itemId: string; outcome: string; code?: string; message?: string }> };
    const by = Object.fromEntries(results.map((x) => [x.itemId, x]));
    expect(by['book-clean']?.outcome).toBe('imported');
    expect(by['video-clean']?.outcome).toBe('imported');
    for (const id of ['book-hidden', 'book-junk', 'book-tilde', 'book-ordinary', 'book-dirlink', 'book-fifo', 'video-linked']) {
      expect(by[id], id).toMatchObject({ outcome: 'refused', code: 'E_ITEM_NOT_PLAIN' });
      expect(by[id]!.message, id).toMatch(/only plain files and folders/);
      // Nothing of a refused item is kept: not in the store, no staged copy left behind.
      expect(existsSync(join(tpData, 'sync', 'files', byId(id).infohash)), id).toBe(false);
    }
    expect(readdirSync(join(tpData, 'sync', 'partial'))).toEqual([]);
  }, 120_000);

  it('never serves the identity key, the provisioning file or a file outside, on any file route', async () => {
    // A store filled before links were refused (or changed by hand): links where listed files and folders were.
    const clean = inStore('book-clean');
    symlinkSync(join(tpData, 'identity.json'), join(clean, '.cache'));
    symlinkSync(join(tpData, 'provisioning.json'), join(clean, 'Thumbs.db'));
    symlinkSync(outsideSecret, join(clean, 'chapter9.html'));
    rmSync(join(clean, 'index.html'));
    symlinkSync(join(tpData, 'identity.json'), join(clean, 'index.html'));
    renameSync(join(clean, '第1章'), join(tmp.path, 'moved-chapter'));
    symlinkSync(tpData, join(clean, '第1章'));
    writeFileSync(join(tpData, 'page1.html'), readFileSync(join(tpData, 'identity.json')));
    const tp = await startTestBox({ county, dataDir: tpData });
    try {
      const url = tp.box.url;

      const ihClean = byId('book-clean').infohash;
      const ihVideo = byId('video-clean').infohash;
      const names = ['.cache', 'Thumbs.db', 'chapter9.html', 'index.html', '%E7%AC%AC1%E7%AB%A0/page1.html', '%E7%AC%AC1%E7%AB%A0%2Fpage1.html'];
      const up = ['../../../../identity.json', '..%2F..%2F..%2F..%2Fidentity.json', '%2E%2E/%2E%2E/%2E%2E/%2E%2E/provisioning.json', '..%5C..%5C..%5Cidentity.json',
        '%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fidentity.json', '/etc/shadow', '%2Fetc%2Fshadow', '....//....//identity.json'];
      const paths = [
        ...[...names, ...up].map((n) => `/api/library/items/book-clean/files/${n}`),
        ...[...names, ...up].map((n) => `/catalog/files/${ihClean}/book-clean/${n}`),
        ...up.map((n) => `/catalog/files/${ihClean}/${n}`),
        ...up.map((n) => `/api/library/items/${n}/file`),
        ...up.map((n) => `/catalog/files/${n}`),
        `/catalog/files/${ihVideo}/../../../identity.json`, `/catalog/files/${ihVideo}%2F..%2F..%2F..%2Fidentity.json`,
        '/api/library/items/book-hidden/files/.cache', '/api/library/items/book-junk/files/Thumbs.db',
        `/catalog/files/${byId('book-hidden').infohash}/book-hidden/.cache`, `/catalog/files/${byId('video-linked').infohash}`,
      ];
      for (const p of paths) {
        const res = await rawGet(url, p);
        expect(res.status, p).toBeGreaterThanOrEqual(400);
        const text = res.body.toString('utf8');
        for (const s of secrets) expect(text.includes(s), `${p} leaked a secret`).toBe(false);
      }
      expect((await library(url, 'limit=50')).items.map((i) => i.id).sort()).toEqual(['book-clean', 'video-clean']);
      const listing = (await (await fetch(`${url}/api/library/items/book-clean/files`)).json()) as { files: string[] };
      expect(listing.files.map((f) => decodeURIComponent(f.split('/files/')[1]!))).toEqual(['index.html', '第1章/page1.html']);
      // The clean one-file item still plays, with the content headers.
      const ok = await fetch(`${url}/api/library/items/video-clean/file`, { headers: { range: 'bytes=0-99' } });
      expect(ok.status).toBe(206);
      expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
      expect(ok.headers.get('content-security-policy')).toContain('sandbox');
    } finally {
      await tp.close();
    }
  }, 120_000);
});
