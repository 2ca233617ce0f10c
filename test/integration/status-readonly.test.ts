// `box status` only reads: with the box stopped it leaves the data folder exactly as it was (no -wal or
// -shm files next to the database), and with the box running it adds nothing either.
import { databasePath } from '../../core/store/database.js';
import { describe, it, expect, afterAll } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readStatus } from '../../main/status.js';

import { startHubAndTeachingPoint, tempDir } from '../support/boxes.js';

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out[p.slice(dir.length)] = `${s.size}:${s.mtimeMs}:${s.mode}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe('box status reads without writing', () => {
  const dir = tempDir('box-status-ro-');
  afterAll(() => dir.remove());

  it('leaves the data folder unchanged, running or stopped, and still reads the enrolment', async () => {
    const pair = await startHubAndTeachingPoint(dir.path);
    const tp = pair.tp;
    let closed = false;
    try {
      const db = databasePath(tp.config.dataDir);
      const namesRunning = Object.keys(snapshot(tp.config.dataDir)).sort();
      expect(namesRunning.some((n) => n.endsWith('-wal'))).toBe(true);
      await readStatus(tp.config);
      expect(Object.keys(snapshot(tp.config.dataDir)).sort()).toEqual(namesRunning);

      await pair.close();
      closed = true;
      const before = snapshot(tp.config.dataDir);
      expect(Object.keys(before).some((n) => n.endsWith('-wal') || n.endsWith('-shm')), 'a clean stop leaves no -wal/-shm').toBe(false);
      const s = await readStatus(tp.config);
      expect(s).toMatchObject({ provisioned: true, role: 'teaching-point', enrolled: true, running: false, boxId: tp.box.identity.boxId });
      expect(snapshot(tp.config.dataDir)).toEqual(before);
      expect(statSync(db).size).toBeGreaterThan(0);
    } finally {
      if (!closed) await pair.close();
    }
  }, 60_000);
});
