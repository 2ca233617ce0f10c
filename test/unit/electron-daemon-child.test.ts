import { describe, it, expect, afterEach } from 'vitest';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemonChild } from '../../main/electron/daemon-child.js';
import { tempDir } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';

describe('Electron shell: the daemon child', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('restarts a daemon that dies and stops it for good on stop()', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const starts = join(dir.path, 'starts');
    const pidFile = join(dir.path, 'pid');
    // Stands in for dist/main/cli.js: counts starts, dies on the first one, then runs until killed.
    const script = join(dir.path, 'fake-cli.mjs');
    writeFileSync(script, `
      import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
      appendFileSync(${JSON.stringify(starts)}, 'x');
      if (process.argv[2] !== 'start') process.exit(9);
      if (readFileSync(${JSON.stringify(starts)}, 'utf8').length === 1) process.exit(1);
      writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
      setInterval(() => {}, 1000);
    `);
    const logs: string[] = [];
    const handle = await startDaemonChild((msg) => logs.push(msg), script);
    const pid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined), 10_000);
    expect(readFileSync(starts, 'utf8')).toBe('xx');
    expect(logs).toContain('box daemon exited; restarting');
    await handle.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    await new Promise((r) => setTimeout(r, 1500));
    expect(readFileSync(starts, 'utf8')).toBe('xx');
  });
});
