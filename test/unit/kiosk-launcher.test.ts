import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chromiumKioskArgs,
  chromiumPolicy,
  findChromium,
  launchChromiumKiosk,
  type ChromiumKioskHandle,
} from '../../main/kiosk/chromium-kiosk.js';

const URL_ = 'http://127.0.0.1:8420/kiosk';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function track(handle: ChromiumKioskHandle): ChromiumKioskHandle {
  cleanups.push(() => handle.stop());
  return handle;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** pids of live processes whose command line mentions `needle` (zombies have an empty cmdline). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chromium kiosk arguments', () => {
  it('opens the box URL as a full-screen app with a private profile and no background traffic', () => {
    const args = chromiumKioskArgs({ url: URL_, userDataDir: '/var/lib/box/kiosk', uid: 1000 });
    for (const a of [
      '--kiosk', `--app=${URL_}`, '--user-data-dir=/var/lib/box/kiosk', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--noerrdialogs',
      '--autoplay-policy=no-user-gesture-required',
    ]) {
      expect(args).toContain(a);
    }
    // Camera consent comes from the managed policy, never from a blanket auto-accept flag.
    expect(args.join(' ')).not.toMatch(/fake-ui-for-media-stream|use-fake-device|remote-debugging/);
    expect(args).not.toContain('--headless');
  });

  it('turns the sandbox off only when running as root', () => {
    expect(chromiumKioskArgs({ url: URL_, userDataDir: '/d', uid: 0 })).toContain('--no-sandbox');
    expect(chromiumKioskArgs({ url: URL_, userDataDir: '/d', uid: 1000 })).not.toContain('--no-sandbox');
  });

  it('treats a plain-http LAN box as a secure origin so the camera works, but not loopback', () => {
    const lan = chromiumKioskArgs({ url: 'http://192.168.1.20:8420/', userDataDir: '/d', uid: 1000 });
    expect(lan).toContain('--unsafely-treat-insecure-origin-as-secure=http://192.168.1.20:8420');
    expect(chromiumKioskArgs({ url: URL_, userDataDir: '/d', uid: 1000 }).join(' ')).not.toContain('unsafely');
  });

  it('adds headless and extra arguments when asked', () => {
    const args = chromiumKioskArgs({ url: URL_, userDataDir: '/d', uid: 1000, headless: true, extraArgs: ['--lang=zh-CN'] });
    expect(args).toContain('--headless');
    expect(args.at(-1)).toBe('--lang=zh-CN');
  });
});

describe('chromium managed policy', () => {
  it('allows only the box origin and grants it camera and microphone', () => {
    const policy = chromiumPolicy('http://127.0.0.1:8420/some/path');
    expect(policy.URLBlocklist).toEqual(['*']);
    expect(policy.URLAllowlist).toEqual(['http://127.0.0.1:8420']);
    expect(policy.VideoCaptureAllowedUrls).toEqual(['http://127.0.0.1:8420']);
    expect(policy.AudioCaptureAllowedUrls).toEqual(['http://127.0.0.1:8420']);
    expect(policy.DefaultGeolocationSetting).toBe(2);
    expect(policy.DefaultNotificationsSetting).toBe(2);
    expect(policy.DeveloperToolsAvailability).toBe(2);
    expect(JSON.parse(JSON.stringify(policy))).toEqual(policy);
  });
});

describe('finding chromium', () => {
  it('returns the first installed candidate', () => {
    expect(findChromium(['/a', '/b', '/c'], (p) => p !== '/a')).toEqual({ ok: true, path: '/b' });
  });

  it('returns a clear error when none is installed', () => {
    const r = findChromium(['/nope/chromium', '/nope/chrome'], () => false);
    expect(r).toMatchObject({ ok: false, code: 'E_CHROMIUM_NOT_FOUND', tried: ['/nope/chromium', '/nope/chrome'] });
    expect(!r.ok && r.message).toMatch(/chromium/);
  });
});

describe('chromium kiosk supervision', () => {
  it('restarts a browser that keeps dying, with backoff, and stops restarting after stop()', async () => {
    const dir = tempDir();
    const fake = join(dir, 'chromium');
    writeFileSync(fake, '#!/bin/sh\nexit 3\n');
    chmodSync(fake, 0o755);
    const handle = track(launchChromiumKiosk({
      url: URL_, userDataDir: dir, chromiumPath: fake, backoff: { initialMs: 50, maxMs: 200 },
    }));
    await expect.poll(() => handle.starts, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await handle.stop();
    const starts = handle.starts;
    await sleep(500);
    expect(handle.starts).toBe(starts);
  });
});

describe('chromium kiosk with real Debian Chromium', () => {
  it('loads the box page in Chromium and leaves no process behind after stop()', async () => {
    expect(
      existsSync('/usr/bin/chromium'),
      'Debian Chromium must be installed at /usr/bin/chromium for this test (apt-get install chromium)',
    ).toBe(true);

    const requests: string[] = [];
    const server: Server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><title>box</title><p>教学点</p>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as { port: number };

    const userDataDir = tempDir();
    const handle = track(launchChromiumKiosk({
      url: `http://127.0.0.1:${port}/`,
      userDataDir,
      headless: true,
      chromiumPath: '/usr/bin/chromium',
      backoff: { initialMs: 200, maxMs: 200 }, // short, so a wrongful restart would show below
    }));

    await expect.poll(() => requests, { timeout: 30_000 }).toContain('GET /');
    const pid = handle.pid!;
    expect(alive(pid)).toBe(true);
    expect(processesMentioning(userDataDir).length).toBeGreaterThan(0);

    await handle.stop();
    expect(alive(pid)).toBe(false);
    await sleep(1000);
    expect(handle.starts).toBe(1);
    expect(handle.pid).toBeUndefined();
    // Renderer, GPU and zygote processes went with the browser.
    await expect.poll(() => processesMentioning(userDataDir), { timeout: 5000 }).toEqual([]);
  });
});
