import { describe, it, expect, afterEach } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { identityPath } from '../../core/identity.js';
import { readStatus } from '../../main/status.js';
import { startTestBox, tempDir, testConfig } from '../support/boxes.js';

describe('box identity', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('is made on first boot and kept across restarts', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const county = generateKeyPair();
    const first = await startTestBox({ county, dataDir: join(dir.path, 'a'), draft: { role: 'hub', schoolId: 's', name: '中心校' } });
    const id1 = first.box.identity;
    await first.close();
    expect(JSON.parse(readFileSync(identityPath(join(dir.path, 'a')), 'utf8')).privateKey).toBe(id1.privateKey);
    const again = await startTestBox({ county, dataDir: join(dir.path, 'a') });
    expect(again.box.identity.boxId).toBe(id1.boxId);
    expect(again.box.identity.publicKey).toBe(id1.publicKey);
    await again.close();
  });

  it('gives two boxes started from one copied data folder different identities, and says so', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const county = generateKeyPair();
    const original = join(dir.path, 'golden');
    const golden = await startTestBox({ county, dataDir: original, draft: { role: 'teaching-point', schoolId: 'tp', name: '教学点', hub: { url: 'http://127.0.0.1:9', publicKey: generateKeyPair().publicKey } } });
    const goldenId = golden.box.identity.boxId;
    await golden.close();

    // An image cloned to two machines: the same folder copied, timestamps and all.
    const copyA = join(dir.path, 'clone-a');
    const copyB = join(dir.path, 'clone-b');
    cpSync(original, copyA, { recursive: true, preserveTimestamps: true });
    cpSync(original, copyB, { recursive: true, preserveTimestamps: true });

    const a = await startTestBox({ county, dataDir: copyA });
    const b = await startTestBox({ county, dataDir: copyB });
    try {
      const ids = new Set([goldenId, a.box.identity.boxId, b.box.identity.boxId]);
      expect(ids.size).toBe(3);
      expect(a.box.identity.publicKey).not.toBe(b.box.identity.publicKey);
      for (const t of [a, b]) {
        const health = (await (await fetch(`${t.box.url}/api/health`)).json()) as { identity: { notice: string; previousBoxId: string } };
        expect(health.identity).toMatchObject({ notice: 'cloned', previousBoxId: goldenId });
        const status = await readStatus(t.config);
        expect(status.identityNotice).toMatchObject({ reason: 'cloned', previousBoxId: goldenId });
        expect(status.boxId).toBe(t.box.identity.boxId);
      }
    } finally {
      await a.close();
      await b.close();
    }
    // Restarting a clone keeps its new identity: the fresh one is now tied to this folder.
    const a2 = await startTestBox({ county, dataDir: copyA });
    expect(a2.box.identity.boxId).toBe(a.box.identity.boxId);
    await a2.close();
  });

  it('reports, with the daemon stopped, that a copied identity will be replaced at next start', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const county = generateKeyPair();
    const t = await startTestBox({ county, dataDir: join(dir.path, 'x'), draft: { role: 'seed', schoolId: 'seed', name: '资源节点' } });
    await t.close();
    cpSync(join(dir.path, 'x'), join(dir.path, 'y'), { recursive: true, preserveTimestamps: true });
    const s = await readStatus(testConfig(join(dir.path, 'y'), county));
    expect(s.identityWillBeReplaced).toBe(true);
    const own = await readStatus(testConfig(join(dir.path, 'x'), county));
    expect(own.identityWillBeReplaced).toBe(false);
  });
});
