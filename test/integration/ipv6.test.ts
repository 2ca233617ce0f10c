import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { startTestBox, tempDir } from '../support/boxes.js';

describe('IPv6', () => {
  it('answers on [::1] and on 127.0.0.1 when listening on the dual-stack address', async () => {
    const dir = tempDir();
    const t = await startTestBox({ county: generateKeyPair(), dataDir: join(dir.path, 'd'), configExtra: { listen: { host: '::', port: 0 } }, draft: { role: 'seed', schoolId: 'seed', name: '资源节点' } });
    try {
      for (const host of ['[::1]', '127.0.0.1']) {
        const res = await fetch(`http://${host}:${t.box.port}/api/health`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { role: string }).role).toBe('seed');
      }
    } finally {
      await t.close();
      dir.remove();
    }
  });

  it('lets a teaching point reach its hub over IPv6 only', async () => {
    const dir = tempDir();
    const county = generateKeyPair();
    const hub = await startTestBox({ county, dataDir: join(dir.path, 'hub'), configExtra: { listen: { host: '::1', port: 0 } }, draft: { role: 'hub', schoolId: 'h', name: '中心校' } });
    const { code } = hub.box.context.codes.create('tp', 1);
    expect(hub.box.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const tp = await startTestBox({
      county, dataDir: join(dir.path, 'tp'), configExtra: { listen: { host: '::1', port: 0 } },
      draft: { role: 'teaching-point', schoolId: 't', name: '教学点', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey }, enrolmentCode: code },
      start: { hubCheckIntervalMs: 60_000 },
    });
    try {
      await tp.box.context.hubLink!.tick();
      expect(tp.box.context.hubLink!.snapshot()).toMatchObject({ enrolled: true, reachable: true });
    } finally {
      await tp.close();
      await hub.close();
      dir.remove();
    }
  });
});
