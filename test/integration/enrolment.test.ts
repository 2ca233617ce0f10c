import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { generateKeyPair } from '../../core/signing.js';
import { pinSession, startTestBox, tempDir } from '../support/boxes.js';
import { runCli } from '../support/daemon.js';
import { writeConfigFile } from '../support/boxes.js';

describe('enrolling a teaching point with a code shown on the hub', () => {
  it('enrols with a code made on the hub and typed in behind the PIN; a wrong code is refused in plain words', async () => {
    const dir = tempDir();
    const county = generateKeyPair();
    const hub = await startTestBox({ county, dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'h', name: '中心校' } });
    // The code comes from the hub's CLI, as the technician would read it off the hub.
    const hubConfig = writeConfigFile(dir.path, { dataDir: join(dir.path, 'hub'), listen: { host: '127.0.0.1', port: 0 }, trust: { countyKeys: [county.publicKey] } });
    const made = await runCli(['enrolment-code', '--label', '石桥村教学点', '--json', '--config', hubConfig]);
    expect(made.code).toBe(0);
    const { code } = JSON.parse(made.stdout) as { code: string };
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);

    const tp = await startTestBox({
      county, dataDir: join(dir.path, 'tp'),
      draft: { role: 'teaching-point', schoolId: 't', name: '石桥村教学点', hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey } },
      start: { hubCheckIntervalMs: 60_000 },
    });
    try {
      await tp.box.context.hubLink!.tick();
      expect(tp.box.context.hubLink!.snapshot()).toMatchObject({ enrolled: false, enrolmentProblem: 'no-code' });
      const session = await pinSession(tp.box.url);
      const post = (c: string) => fetch(`${tp.box.url}/api/hub/enrolment`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` }, body: JSON.stringify({ code: c }),
      });
      const wrong = await post('ABCD-2345');
      expect(wrong.status).toBe(403);
      expect(((await wrong.json()) as { code: string }).code).toBe('E_ENROL_CODE');
      const ok = await post(code.toLowerCase());
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { hub: { enrolled: boolean; reachable: boolean } }).hub).toMatchObject({ enrolled: true, reachable: true });
      // One-time: the same code cannot enrol a second box.
      expect(hub.box.context.codes.check(code)).toBe('used');
    } finally {
      await tp.close();
      await hub.close();
      dir.remove();
    }
  });
});
