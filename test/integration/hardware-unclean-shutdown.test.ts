// kill -9 of a real daemon, then start: the unclean shutdown is counted and reported in
// /api/health, /metrics and `box doctor`; a clean stop is not counted.
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../core/contract/health.js';
import type { DoctorReport } from '../../core/contract/doctor.js';
import { daemonFolder, tempDir } from '../support/boxes.js';
import { runCli, spawnCli, waitFor, type Daemon } from '../support/daemon.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


async function startDaemon(configFile: string, port: number): Promise<{ d: Daemon; health: HealthReport }> {
  const d = spawnCli(['start', '--config', configFile]);
  cleanups.push(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  });
  const health = await waitFor(async () => {
    if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}: ${d.stderr()}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/health`);
    return res.ok ? ((await res.json()) as HealthReport) : undefined;
  }, 30_000);
  return { d, health };
}

async function doctor(configFile: string): Promise<DoctorReport> {
  const r = await runCli(['doctor', '--json', '--config', configFile]);
  return JSON.parse(r.stdout) as DoctorReport;
}

describe('unclean shutdown', () => {
  it('kill -9 then start: counted once and reported; a clean stop is not counted', async () => {
    const dir = tempDir('hw-unclean-');
    cleanups.push(() => dir.remove());
    const { port, configFile } = await daemonFolder(dir.path, { role: 'hub', schoolId: 'hub-school', name: '中心校' });

    const first = await startDaemon(configFile, port);
    expect(first.health.hardware?.uncleanShutdowns).toEqual({ count: 0, lastAt: null });

    first.d.child.kill('SIGKILL');
    await first.d.exited;
    // With the daemon down, the doctor sees the marker the killed run left behind.
    const down = await doctor(configFile);
    const pending = down.checks.find((c) => c.id === 'unclean-shutdowns')!;
    expect(pending.verdict).toBe('warn');
    expect(pending.detail).toMatch(/上次运行没有正常结束|did not stop cleanly/);

    const second = await startDaemon(configFile, port);
    expect(second.health.hardware?.uncleanShutdowns.count).toBe(1);
    expect(second.health.hardware?.uncleanShutdowns.lastAt).not.toBeNull();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^box_hardware_unclean_shutdowns\{[^}]*\} 1$/m);
    const running = await doctor(configFile);
    const check = running.checks.find((c) => c.id === 'unclean-shutdowns')!;
    expect(check).toMatchObject({ verdict: 'warn', title: expect.stringContaining('Unclean shutdowns') });
    expect(check.detail).toMatch(/1 次没有正常关机.*1 unclean shutdown/);
    expect(running.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['disk-health', 'cpu-temperature']));

    // A clean stop (SIGTERM) removes the marker: the next start adds nothing.
    second.d.child.kill('SIGTERM');
    expect(await second.d.exited).toBe(0);
    const third = await startDaemon(configFile, port);
    expect(third.health.hardware?.uncleanShutdowns.count).toBe(1);
    third.d.child.kill('SIGTERM');
    await third.d.exited;
    const after = await doctor(configFile);
    expect(after.checks.find((c) => c.id === 'unclean-shutdowns')!.detail).not.toMatch(/did not stop cleanly/);
  });
});
