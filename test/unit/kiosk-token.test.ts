// The box's own kiosk needs no PIN: its launchers issue a kiosk media token in the box's database (hashed
// at rest) and open the kiosk with it in the URL fragment; each launch retires the previous one.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openDatabase, databasePath } from '../../core/store/database.js';
import { silentLogger } from '../../core/log.js';
import { systemClock } from '../../core/clock.js';
import { generateKeyPair } from '../../core/signing.js';
import { MediaTokens } from '../../media/media-tokens.js';

import { issueKioskToken, KIOSK_TOKEN_LABEL, kioskLaunchUrl, kioskUrl } from '../../main/kiosk/kiosk-token.js';
import { withoutFragment } from '../../main/kiosk/chromium-kiosk.js';
import { startKioskShell, type KioskShellHandle } from '../../main/electron/kiosk-shell.js';
import { FakeElectron } from '../support/fake-electron.js';
import { provision, tempDir, testConfig } from '../support/boxes.js';
import type { BundleDraft } from '../../main/bundle-maker.js';

const dirs: Array<{ remove(): void }> = [];
const shells: KioskShellHandle[] = [];
afterEach(async () => {
  await Promise.all(shells.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) d.remove();
});

function dataDir(): string {
  const d = tempDir('box-kiosk-token-');
  dirs.push(d);
  return d.path;
}

describe('kiosk media token', () => {
  it('is issued hashed at rest, works as a media token, and a new launch retires the old one', () => {
    const db = openDatabase(databasePath(dataDir()), silentLogger());
    try {
      const first = issueKioskToken(db, systemClock);
      const tokens = new MediaTokens(db, systemClock);
      expect(tokens.check(first.token)).toMatchObject({ id: first.id, label: KIOSK_TOKEN_LABEL });
      const stored = db.prepare('SELECT token_hash FROM media_tokens WHERE id = ?').get(first.id) as { token_hash: string };
      expect(stored.token_hash).toBe(createHash('sha256').update(first.token).digest('hex'));
      expect(JSON.stringify(db.prepare('SELECT * FROM media_tokens').all())).not.toContain(first.token);

      const other = tokens.issue('教室平板');
      const second = issueKioskToken(db, systemClock);
      expect(tokens.check(first.token)).toBeUndefined();
      expect(tokens.check(second.token)).toMatchObject({ id: second.id });
      // A LAN screen's PIN-issued token is not the kiosk's to retire.
      expect(tokens.check(other.token)).toMatchObject({ label: '教室平板' });
    } finally {
      db.close();
    }
  });

  it('rides in the URL fragment, which logs leave out', () => {
    const url = kioskUrl('http://127.0.0.1:8420', { token: 'mt_abcdefghijklmnopqrstuvwxyz', id: '0123456789ab' }, '/console');
    expect(url).toBe('http://127.0.0.1:8420/console#mt=mt_abcdefghijklmnopqrstuvwxyz&mtid=0123456789ab');
    expect(withoutFragment(url)).toBe('http://127.0.0.1:8420/console');
  });

  it('`box kiosk` issues it from the box config, and opens the plain URL when it cannot', () => {
    const dir = dataDir();
    const config = join(dir, 'box.json');
    mkdirSync(join(dir, 'data'));
    writeFileSync(config, JSON.stringify({ dataDir: join(dir, 'data'), listen: { host: '127.0.0.1', port: 8420 }, trust: { countyKeys: [generateKeyPair().publicKey] } }));
    const logs: string[] = [];
    const url = kioskLaunchUrl('http://127.0.0.1:8420/', config, (m) => logs.push(m));
    expect(logs).toEqual([]);
    const token = new URLSearchParams(new URL(url).hash.slice(1)).get('mt');
    const db = openDatabase(databasePath(join(dir, 'data')), silentLogger());
    try {
      expect(new MediaTokens(db, systemClock).check(token ?? undefined)).toMatchObject({ label: KIOSK_TOKEN_LABEL });
    } finally {
      db.close();
    }
    expect(logs).toEqual([]);
    expect(kioskLaunchUrl('http://127.0.0.1:8420/', join(dir, 'missing.json'), (m) => logs.push(m))).toBe('http://127.0.0.1:8420/');
    expect(logs[0]).toMatch(/kiosk token not issued/);
  });

  it('gives the hub\'s screen a console token, a teaching point\'s whiteboard a classroom token, any other box\'s screen view', () => {
    const hubKey = generateKeyPair();
    const drafts: Array<[BundleDraft | null, string]> = [
      [{ role: 'hub', schoolId: 'hub-school', name: '中心校' }, 'console'],
      [{ role: 'teaching-point', schoolId: 'tp-1', name: '教学点', hub: { url: 'http://127.0.0.1:8420', publicKey: hubKey.publicKey } }, 'classroom'],
      [{ role: 'seed', schoolId: 'seed-1', name: '资源节点' }, 'view'],
      [null, 'view'],
    ];
    for (const [draft, scope] of drafts) {
      const dir = dataDir();
      const county = generateKeyPair();
      const data = join(dir, 'data');
      const config = join(dir, 'box.json');
      writeFileSync(config, JSON.stringify({ dataDir: data, listen: { host: '127.0.0.1', port: 8420 }, trust: { countyKeys: [county.publicKey] } }));
      if (draft) provision(testConfig(data, county), county, draft);
      else mkdirSync(data);
      const token = new URLSearchParams(new URL(kioskLaunchUrl('http://127.0.0.1:8420/', config)).hash.slice(1)).get('mt') ?? undefined;
      const db = openDatabase(databasePath(data), silentLogger());
      try {
        expect(new MediaTokens(db, systemClock).check(token)?.scope, `the screen of a ${draft?.role ?? 'unprovisioned'} box`).toBe(scope);
      } finally {
        db.close();
      }
    }
  });

  it('the Electron shell loads the launch URL with the token, and falls back to the box URL if it fails', async () => {
    const electron = new FakeElectron();
    const shell = await startKioskShell(electron, { boxUrl: 'http://127.0.0.1:8420/', preloadPath: '/p.cjs', launchUrl: () => 'http://127.0.0.1:8420/#mt=mt_x&mtid=1' });
    shells.push(shell);
    await expect.poll(() => electron.window.loadedUrls).toEqual(['http://127.0.0.1:8420/#mt=mt_x&mtid=1']);
    const other = new FakeElectron();
    const logs: string[] = [];
    shells.push(await startKioskShell(other, { boxUrl: 'http://127.0.0.1:8420/', preloadPath: '/p.cjs', log: (m) => logs.push(m), launchUrl: () => 'http://evil.example/#mt=mt_x' }));
    await expect.poll(() => other.window.loadedUrls).toEqual(['http://127.0.0.1:8420/']);
    expect(logs).toContain('kiosk launch URL not available; opening the box without a kiosk token');
  });
});
