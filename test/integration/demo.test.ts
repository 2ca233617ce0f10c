// `box demo` as a user runs it: the compiled CLI in a child process, driven only through its output and URLs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../core/contract/health.js';
import { spawnCli, waitFor, type Daemon } from '../support/daemon.js';
import { tempDir } from '../support/boxes.js';

interface ReadyLine {
  ready: true;
  seed: string;
  hub: string;
  teachingPoint: string;
  pin: string;
  dataDir: string;
}

const running: Daemon[] = [];
const dirs: Array<{ remove(): void }> = [];

afterEach(async () => {
  for (const d of running.splice(0)) {
    if (d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  }
  for (const d of dirs.splice(0)) d.remove();
});

function startDemo(args: string[] = []): Daemon {
  const d = spawnCli(['demo', ...args]);
  running.push(d);
  return d;
}

/** Waits for the `{"ready":true` line of DESIGN.md §3 and parses it; fails early if the demo exits. */
async function readyLine(d: Daemon): Promise<ReadyLine> {
  const line = await waitFor(() => {
    if (d.child.exitCode !== null) throw new Error(`demo exited with ${d.child.exitCode}: ${d.stderr()}`);
    return d.stdout().split('\n').find((l) => l.startsWith('{"ready":true'));
  }, 30_000);
  return JSON.parse(line) as ReadyLine;
}

async function health(base: string): Promise<HealthReport> {
  const res = await fetch(`${base}/api/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as HealthReport;
}

/** SIGINT, then the exit code (null if it had to be killed after ~10 s). */
async function interrupt(d: Daemon): Promise<number | null> {
  d.child.kill('SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
  const result = await Promise.race([d.exited, timeout]);
  if (result === 'timeout') throw new Error(`demo did not exit within 30 s of SIGINT; stderr: ${d.stderr()}`);
  return result;
}

describe('box demo', () => {
  it('the demo reaches ready and its URLs answer', async () => {
    const demo = startDemo();
    const ready = await readyLine(demo);
    expect(ready.pin).toMatch(/^\d{4,12}$/);
    expect(existsSync(ready.dataDir)).toBe(true);

    const boxes = [
      [ready.seed, 'seed'],
      [ready.hub, 'hub'],
      [ready.teachingPoint, 'teaching-point'],
    ] as const;
    for (const [base, role] of boxes) {
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const h = await health(base);
      expect(h.role).toBe(role);
      expect(h.provisioned).toBe(true);

      const home = await fetch(`${base}/`);
      expect(home.status).toBe(200);
      expect(home.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await home.text()).toMatch(/^<!doctype html>/i);

      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toMatch(/^# HELP (box_http_requests_total|box_uptime_seconds) /m);
    }

    const tp = await health(ready.teachingPoint);
    const hub = await health(ready.hub);
    expect(tp.hub).toMatchObject({ url: ready.hub, boxId: hub.boxId, enrolled: true, reachable: true });

    const session = await fetch(`${ready.teachingPoint}/api/settings/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: ready.pin }),
    });
    expect(session.status).toBe(201);
    expect(((await session.json()) as { token: string }).token).toEqual(expect.any(String));

    // The human summary follows the ready line and names every box.
    const summary = await waitFor(() => {
      const after = demo.stdout().split('\n').slice(1).join('\n');
      return [ready.seed, ready.hub, ready.teachingPoint].every((u) => after.includes(u)) ? after : undefined;
    }, 5_000);
    expect(summary).toContain(ready.pin);

    expect(await interrupt(demo)).toBe(0);
    expect(existsSync(ready.dataDir)).toBe(false);
  });

  it('keeps a --data folder and comes back with the same teaching-point identity', async () => {
    const dir = tempDir('box-demo-kept-');
    dirs.push(dir);
    const data = join(dir.path, 'demo');

    const first = startDemo(['--data', data]);
    const ready1 = await readyLine(first);
    expect(ready1.dataDir).toBe(data);
    const tp1 = await health(ready1.teachingPoint);
    expect(await interrupt(first)).toBe(0);
    expect(existsSync(data)).toBe(true);
    expect(existsSync(join(data, 'teaching-point', 'identity.json'))).toBe(true);

    const second = startDemo(['--data', data]);
    const ready2 = await readyLine(second);
    const tp2 = await health(ready2.teachingPoint);
    expect(tp2.boxId).toBe(tp1.boxId);
    expect(tp2.identity.createdAt).toBe(tp1.identity.createdAt);
    expect(tp2.hub).toMatchObject({ enrolled: true, reachable: true });
    expect(await interrupt(second)).toBe(0);
    expect(existsSync(data)).toBe(true);
  });
});
