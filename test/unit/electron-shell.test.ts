import { afterEach, describe, expect, it, vi } from 'vitest';
import { LESSON_RUNNING_CHANNEL } from '../../main/electron/electron-api.js';
import { startKioskShell, type KioskShellHandle, type KioskShellOptions } from '../../main/electron/kiosk-shell.js';
import { installBoxShell, preloadScript } from '../../main/electron/preload.js';
import { FakeElectron } from '../support/fake-electron.js';

const BOX = 'http://127.0.0.1:8420';
const EVIL = 'http://evil.example';

let shells: KioskShellHandle[] = [];

async function start(opts: Partial<KioskShellOptions> = {}, electron = new FakeElectron()) {
  const shell = await startKioskShell(electron, { boxUrl: `${BOX}/kiosk`, preloadPath: '/opt/box/preload.cjs', ...opts });
  shells.push(shell);
  return { electron, shell };
}

afterEach(async () => {
  await Promise.all(shells.map((s) => s.close()));
  shells = [];
  vi.useRealTimers();
});

describe('kiosk shell window', () => {
  it('opens one fullscreen kiosk window on the box UI with the Electron security checklist applied', async () => {
    const { electron } = await start();
    expect(electron.windows).toHaveLength(1);
    const { options } = electron.window;
    expect(options).toMatchObject({ fullscreen: true, kiosk: true });
    expect(options.webPreferences).toMatchObject({
      preload: '/opt/box/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(electron.window.loadedUrls).toEqual([`${BOX}/kiosk`]);
  });

  it('keeps retrying the box page while the daemon is not answering yet', async () => {
    vi.useFakeTimers();
    const electron = new FakeElectron();
    electron.loadFailures = 2; // like ERR_CONNECTION_REFUSED while the daemon starts
    await start({ backoff: { initialMs: 100, maxMs: 1000 } }, electron);
    await vi.advanceTimersByTimeAsync(0);
    expect(electron.window.loadedUrls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(electron.window.loadedUrls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(electron.window.loadedUrls).toHaveLength(2); // backoff doubled
    await vi.advanceTimersByTimeAsync(1);
    expect(electron.window.loadedUrls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5000);
    expect(electron.window.loadedUrls).toHaveLength(3); // loaded: no more retries
  });
});

describe('kiosk shell permissions', () => {
  it('grants camera and microphone to the box page only', async () => {
    const { electron } = await start();
    const s = electron.defaultSession;
    expect(await s.request('media', { requestingUrl: `${BOX}/lesson`, securityOrigin: `${BOX}/`, mediaTypes: ['video', 'audio'] })).toBe(true);
    expect(await s.request('media', { requestingUrl: `${EVIL}/`, mediaTypes: ['video'] })).toBe(false);
    // Exact origin: another port or scheme on the same host is someone else.
    expect(await s.request('media', { requestingUrl: 'http://127.0.0.1:8421/', mediaTypes: ['audio'] })).toBe(false);
    expect(await s.request('media', { requestingUrl: 'https://127.0.0.1:8420/', mediaTypes: ['audio'] })).toBe(false);
    // A box frame embedded elsewhere, or no URL at all, gets nothing.
    expect(await s.request('media', { requestingUrl: `${BOX}/`, securityOrigin: EVIL, mediaTypes: ['video'] })).toBe(false);
    expect(await s.request('media', { mediaTypes: ['video'] })).toBe(false);
  });

  it('denies every other permission even to the box page', async () => {
    const { electron } = await start();
    const s = electron.defaultSession;
    for (const p of ['geolocation', 'notifications', 'midi', 'openExternal', 'clipboard-read', 'display-capture']) {
      expect(await s.request(p, { requestingUrl: `${BOX}/` }), p).toBe(false);
    }
  });

  it('answers permission checks the same way', async () => {
    const { electron } = await start();
    const s = electron.defaultSession;
    expect(s.check('media', BOX, { securityOrigin: `${BOX}/`, mediaType: 'video' })).toBe(true);
    expect(s.check('media', EVIL, { mediaType: 'video' })).toBe(false);
    expect(s.check('geolocation', BOX)).toBe(false);
    expect(s.check('notifications', BOX)).toBe(false);
  });
});

describe('kiosk shell navigation lock', () => {
  it('stays on the box origin: other origins are prevented, box pages allowed', async () => {
    const { electron } = await start();
    const wc = electron.window.webContents;
    expect(wc.navigate('will-navigate', `${BOX}/library?q=数学`)).toBe(true);
    expect(wc.navigate('will-navigate', `${EVIL}/phish`)).toBe(false);
    expect(wc.navigate('will-navigate', 'file:///etc/passwd')).toBe(false);
    expect(wc.navigate('will-redirect', 'http://127.0.0.1:9999/')).toBe(false);
    expect(wc.navigate('will-redirect', `${BOX}/`)).toBe(true);
  });

  it('denies window.open, also for box URLs', async () => {
    const { electron } = await start();
    const handler = electron.window.webContents.windowOpenHandler!;
    expect(handler({ url: `${EVIL}/` })).toEqual({ action: 'deny' });
    expect(handler({ url: `${BOX}/popup` })).toEqual({ action: 'deny' });
  });

  it('adds the CSP to box responses and drops responses from anywhere else', async () => {
    const { electron } = await start();
    const s = electron.defaultSession;
    const res = s.receive({ url: `${BOX}/index.html`, responseHeaders: { 'Content-Type': ['text/html'] } });
    expect(res.cancel).toBeFalsy();
    expect(res.responseHeaders!['Content-Type']).toEqual(['text/html']);
    const csp = res.responseHeaders!['Content-Security-Policy']!.join(' ');
    for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
      expect(csp).toContain(d);
    }
    expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:8420/);
    // The box's own policy is kept (both are enforced).
    const merged = s.receive({ url: `${BOX}/`, responseHeaders: { 'content-security-policy': ["img-src 'self'"] } });
    expect(merged.responseHeaders!['content-security-policy']).toHaveLength(2);
    expect(s.receive({ url: `${EVIL}/tracker.js`, responseHeaders: {} })).toEqual({ cancel: true });
  });
});

describe('kiosk shell lifetime', () => {
  it('quits a second instance instead of opening another window', async () => {
    const electron = new FakeElectron();
    electron.lockGranted = false;
    const { shell } = await start({}, electron);
    expect(shell.primary).toBe(false);
    expect(electron.quitCalls).toBe(1);
    expect(electron.windows).toHaveLength(0);
  });

  it('brings the existing window forward when a second instance starts', async () => {
    const { electron } = await start();
    electron.window.minimized = true;
    electron.emitApp('second-instance');
    expect(electron.window.restoreCalls).toBe(1);
    expect(electron.window.focusCalls).toBe(1);
    expect(electron.quitCalls).toBe(0);
  });

  it('reloads the whiteboard after the renderer crashes, backing off on repeated crashes', async () => {
    vi.useFakeTimers();
    const { electron } = await start({ backoff: { initialMs: 1000, maxMs: 8000 } });
    const wc = electron.window.webContents;
    wc.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 11 });
    wc.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 11 }); // duplicate: one reload
    await vi.advanceTimersByTimeAsync(999);
    expect(wc.reloads).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(wc.reloads).toBe(1);
    wc.emit('render-process-gone', {}, { reason: 'oom', exitCode: 0 });
    await vi.advanceTimersByTimeAsync(1999);
    expect(wc.reloads).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(wc.reloads).toBe(2);
    wc.emit('render-process-gone', {}, { reason: 'clean-exit', exitCode: 0 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(wc.reloads).toBe(2);
  });

  it('keeps the display awake exactly while a lesson runs', async () => {
    const { electron, shell } = await start();
    shell.setLessonRunning(true);
    shell.setLessonRunning(true);
    expect(electron.blockerStarts).toEqual(['prevent-display-sleep']);
    expect(shell.lessonRunning).toBe(true);
    shell.setLessonRunning(false);
    expect(electron.blockerStops).toHaveLength(1);
    expect(electron.activeBlockerCount).toBe(0);
    shell.setLessonRunning(false);
    expect(electron.blockerStops).toHaveLength(1);
  });

  it('takes lesson state over IPC only from the box page, only as a boolean', async () => {
    const { electron, shell } = await start();
    electron.sendIpc(LESSON_RUNNING_CHANNEL, `${EVIL}/`, true);
    electron.sendIpc(LESSON_RUNNING_CHANNEL, `${BOX}/`, 'yes');
    expect(electron.blockerStarts).toHaveLength(0);
    electron.sendIpc(LESSON_RUNNING_CHANNEL, `${BOX}/lesson`, true);
    expect(shell.lessonRunning).toBe(true);
    electron.sendIpc(LESSON_RUNNING_CHANNEL, `${BOX}/lesson`, false);
    expect(electron.activeBlockerCount).toBe(0);
  });

  it('close() releases the blocker, the IPC channel, the window and the daemon, once', async () => {
    const stop = vi.fn(async () => {});
    const { electron, shell } = await start({ startDaemon: async () => ({ stop }) });
    shell.setLessonRunning(true);
    await shell.close();
    await shell.close();
    expect(electron.activeBlockerCount).toBe(0);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(electron.window.destroyed).toBe(true);
    expect(electron.ipcListenerCount(LESSON_RUNNING_CHANNEL)).toBe(0);
    shell.setLessonRunning(true);
    expect(electron.activeBlockerCount).toBe(0);
  });

  it('quits the app and stops the daemon when the kiosk window is closed', async () => {
    const stop = vi.fn(async () => {});
    const { electron } = await start({ startDaemon: async () => ({ stop }) });
    electron.emitApp('window-all-closed');
    await vi.waitFor(() => expect(electron.quitCalls).toBe(1));
    expect(stop).toHaveBeenCalledTimes(1);
  });
});

describe('preload', () => {
  it('exposes only window.boxShell, which reports lesson state on the one channel', () => {
    const exposed: Record<string, unknown> = {};
    const sent: unknown[][] = [];
    const fakeRequire = (id: string): unknown => {
      expect(id).toBe('electron');
      return {
        contextBridge: { exposeInMainWorld: (k: string, api: unknown) => (exposed[k] = api) },
        ipcRenderer: { send: (...args: unknown[]) => sent.push(args) },
      };
    };
    // The generated script is what Electron runs: evaluate it the way a sandboxed preload is run.
    new Function('require', preloadScript())(fakeRequire);
    expect(Object.keys(exposed)).toEqual(['boxShell']);
    const api = exposed.boxShell as { platform: string; setLessonRunning(r: unknown): void };
    expect(api.platform).toBe('electron');
    api.setLessonRunning(true);
    expect(sent).toEqual([[LESSON_RUNNING_CHANNEL, true]]);
    expect(() => api.setLessonRunning('true')).toThrow(TypeError);
    expect(Object.isFrozen(api)).toBe(true);
    expect(typeof installBoxShell).toBe('function');
  });
});
