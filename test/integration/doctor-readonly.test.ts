// `box doctor` on a stopped box only reads: the data folder of a teaching point that ran and stopped
// cleanly is byte-for-byte the same afterwards (no -wal or -shm files next to the database), while the
// doctor still reads what the database recorded (here: an unclean shutdown from before that run).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../core/signing.js';
import { databasePath } from '../../core/store/database.js';
import { MARKER_FILE } from '../../hardware/health-store.js';
import type { DoctorReport } from '../../main/doctor.js';
import { startHubAndTeachingPoint, tempDir, writeConfigFile } from '../support/boxes.js';
import { runCli } from '../support/daemon.js';

/** Every file and folder under `dir`: size, mtime, mode and (files) a hash of the bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    const s = statSync(d);
    // A folder's mtime moves when a file is made or removed in it, even one gone again by the end.
    out[`${d.slice(dir.length)}/`] = `${s.mtimeMs}:${s.mode}`;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const f = statSync(p);
        out[p.slice(dir.length)] = `${f.size}:${f.mtimeMs}:${f.mode}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(dir);
  return out;
}

describe('box doctor reads without writing', () => {
  const dir = tempDir('box-doctor-ro-');
  afterAll(() => dir.remove());

  it('leaves a stopped teaching point\'s data folder unchanged and still reads its database', async () => {
    const county = generateKeyPair();
    // A marker from a run that lost power: the run below records one unclean shutdown in the database.
    const tpDir = join(dir.path, 'tp');
    mkdirSync(tpDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(tpDir, MARKER_FILE), JSON.stringify({ pid: 1, startedAt: Date.now() - 3_600_000 }));

    const pair = await startHubAndTeachingPoint(dir.path, county);
    const tp = pair.tp;
    let hubClosed = false;
    try {
      expect(tp.config.dataDir).toBe(tpDir);
      await tp.close();
      const configFile = writeConfigFile(dir.path, {
        dataDir: tp.config.dataDir, listen: tp.config.listen, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' },
      });

      const before = snapshot(tp.config.dataDir);
      const names = Object.keys(before);
      expect(names.some((n) => n.endsWith('-wal') || n.endsWith('-shm')), 'a clean stop leaves no -wal/-shm').toBe(false);
      expect(names.some((n) => n.endsWith(MARKER_FILE)), 'a clean stop removes the running marker').toBe(false);
      expect(statSync(databasePath(tp.config.dataDir)).size).toBeGreaterThan(0);

      const r = await runCli(['doctor', '--json', '--config', configFile]);
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as DoctorReport;
      expect(report.role).toBe('teaching-point');
      expect(report.checks.find((c) => c.id === 'daemon')?.detail).toMatch(/not running/);
      // Read from the database (the marker is gone): the doctor really opened it.
      const unclean = report.checks.find((c) => c.id === 'unclean-shutdowns')!;
      expect(unclean).toMatchObject({ verdict: 'warn' });
      expect(unclean.detail).toMatch(/1 unclean shutdown/);
      expect(unclean.detail).not.toMatch(/did not stop cleanly/);

      expect(snapshot(tp.config.dataDir)).toEqual(before);

      await pair.hub.close();
      hubClosed = true;
    } finally {
      if (!hubClosed) await pair.close();
    }
  }, 60_000);
});
