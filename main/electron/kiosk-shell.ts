// The Electron kiosk shell: one fullscreen window on the box's own web UI, locked down along the
// Electron security checklist. Everything Electron-specific goes through the ElectronApi seam so the
// behaviour below is tested against a fake (the Electron binary cannot exist on test machines).
import {
  LESSON_RUNNING_CHANNEL,
  type BrowserWindowApi,
  type ElectronApi,
  type ElectronEvent,
  type IpcMainEvent,
  type SessionApi,
  type WebContentsApi,
} from './electron-api.js';

type ShellLog = (msg: string, fields?: Record<string, unknown>) => void;

export interface KioskShellOptions {
  /** The box's web UI, e.g. http://127.0.0.1:8420; its origin is the only one the window may use. */
  boxUrl: string;
  /**
   * The URL to load once the daemon is up: boxUrl with the kiosk's media token in the fragment
   * (main/kiosk/kiosk-token.ts), so the box's own whiteboard needs no PIN. Defaults to boxUrl; asked
   * again only until it succeeds. Must be on boxUrl's origin.
   */
  launchUrl?: () => string | Promise<string>;
  /** Absolute path of the (CommonJS) preload script. */
  preloadPath: string;
  /** Starts the box daemon in-process when the shell owns it; stopped by close(). */
  startDaemon?: () => Promise<{ stop(): Promise<void> }>;
  log?: ShellLog;
  /** Backoff for reloading after a renderer crash and retrying a failed load. */
  backoff?: { initialMs: number; maxMs: number };
}

export interface KioskShellHandle {
  /** False when another instance already holds the single-instance lock (this one is quitting). */
  readonly primary: boolean;
  readonly window: BrowserWindowApi | null;
  readonly lessonRunning: boolean;
  /** Holds a display-sleep blocker while a lesson runs, so the whiteboard never blanks mid-lesson. */
  setLessonRunning(running: boolean): void;
  /** Releases everything: timers, power blocker, IPC listener, window, daemon. Idempotent. */
  close(): Promise<void>;
}

/** Permissions the kiosk may ever get: camera and microphone ('media'), nothing else. */
const ALLOWED_PERMISSIONS = new Set(['media']);
const ALLOWED_MEDIA_TYPES = new Set(['audio', 'video']);

function originOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The CSP added to every response of the box origin (on top of any the box sends itself). */
function boxContentSecurityPolicy(boxOrigin: string): string {
  const u = new URL(boxOrigin);
  const ws = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    // blob: for MSE players and pdf.js/thumbnail canvases; data: for small inline icons.
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    // The lesson control channel is a WebSocket to the same box.
    `connect-src 'self' ${ws}`,
  ].join('; ');
}

/** Doubling delay that starts over once things were quiet for `stableMs`. */
function backoff(initialMs: number, maxMs: number, stableMs = 60_000): () => number {
  let delay = initialMs;
  let last = -Infinity;
  return () => {
    const now = Date.now();
    if (now - last > stableMs) delay = initialMs;
    last = now;
    const d = delay;
    delay = Math.min(delay * 2, maxMs);
    return d;
  };
}

export async function startKioskShell(electron: ElectronApi, opts: KioskShellOptions): Promise<KioskShellHandle> {
  const { app } = electron;
  const log: ShellLog = opts.log ?? (() => {});
  const boxOrigin = originOf(opts.boxUrl);
  if (!boxOrigin || boxOrigin === 'null') throw new Error(`boxUrl must be an http(s) URL, got ${opts.boxUrl}`);
  const isBox = (url: string | null | undefined): boolean => originOf(url) === boxOrigin;

  // A second kiosk would fight the first for the camera and the screen: let the first one win.
  if (!app.requestSingleInstanceLock()) {
    log('kiosk shell already running; quitting this instance');
    app.quit();
    return { primary: false, window: null, lessonRunning: false, setLessonRunning: () => {}, close: async () => {} };
  }

  const { initialMs, maxMs } = opts.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
  const nextCrashDelay = backoff(initialMs, maxMs);
  const nextLoadDelay = backoff(initialMs, maxMs);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const lockedDown = new WeakSet<WebContentsApi>();
  let win: BrowserWindowApi | null = null;
  let daemon: { stop(): Promise<void> } | null = null;
  let blockerId: number | null = null;
  let reloadPending = false;
  let closing: Promise<void> | null = null;

  const schedule = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const alive = (): BrowserWindowApi | null => (closing || !win || win.isDestroyed() ? null : win);

  // Every webContents (ours, and any a bug might create) stays on the box origin.
  const lockDown = (contents: WebContentsApi): void => {
    if (lockedDown.has(contents)) return;
    lockedDown.add(contents);
    const guard = (event: ElectronEvent, url: string): void => {
      const target = event.url ?? url;
      if (isBox(target)) return;
      event.preventDefault();
      log('blocked navigation away from the box', { origin: originOf(target) });
    };
    contents.on('will-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      log('blocked window.open', { origin: originOf(url) });
      return { action: 'deny' };
    });
  };

  const releaseBlocker = (): void => {
    if (blockerId === null) return;
    if (electron.powerSaveBlocker.isStarted(blockerId)) electron.powerSaveBlocker.stop(blockerId);
    blockerId = null;
  };

  const setLessonRunning = (running: boolean): void => {
    if (closing) return;
    if (!running) {
      releaseBlocker();
      return;
    }
    if (blockerId !== null && electron.powerSaveBlocker.isStarted(blockerId)) return;
    blockerId = electron.powerSaveBlocker.start('prevent-display-sleep');
  };

  // Only the box page itself may report lesson state, and only as a boolean.
  const onLessonIpc = (event: IpcMainEvent, running: unknown): void => {
    if (typeof running !== 'boolean' || !isBox(event.senderFrame?.url)) {
      log('ignored lesson-state message', { origin: originOf(event.senderFrame?.url) });
      return;
    }
    setLessonRunning(running);
  };

  // The daemon may still be starting (or restarting): keep retrying instead of showing an error page.
  let resolvedUrl: string | null = opts.launchUrl ? null : opts.boxUrl;
  const target = async (): Promise<string> => {
    try {
      const url = await opts.launchUrl!();
      if (!isBox(url)) throw new Error('launch URL is not on the box origin');
      resolvedUrl = url;
    } catch (err) {
      log('kiosk launch URL not available; opening the box without a kiosk token', { error: String(err) });
    }
    return resolvedUrl ?? opts.boxUrl;
  };
  const loadUrl = (url: string): void => {
    const w = alive();
    if (!w) return;
    w.loadURL(url).catch((err: unknown) => {
      // ERR_ABORTED means another navigation (the page's own redirect) replaced this one: not a failure.
      if ((err as { code?: string } | null)?.code === 'ERR_ABORTED') return;
      const delayMs = nextLoadDelay();
      log('box page failed to load; retrying', { error: String(err), delayMs });
      schedule(delayMs, load);
    });
  };
  const load = (): void => {
    if (resolvedUrl) loadUrl(resolvedUrl);
    else void target().then(loadUrl);
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      releaseBlocker();
      electron.ipcMain.removeAllListeners(LESSON_RUNNING_CHANNEL);
      const w = win;
      win = null;
      if (w && !w.isDestroyed()) w.destroy();
      const d = daemon;
      daemon = null;
      if (d) await d.stop();
    })();
    return closing;
  };

  app.on('second-instance', () => {
    const w = alive();
    if (!w) return;
    if (w.isMinimized()) w.restore();
    w.show();
    w.focus();
  });
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  app.on('window-all-closed', () => {
    void close().finally(() => app.quit());
  });

  await app.whenReady();
  if (opts.startDaemon) {
    const started = await opts.startDaemon();
    if (closing) {
      await started.stop();
    } else {
      daemon = started;
    }
  }
  if (closing) return handle();

  installSessionGuards(electron.session.defaultSession, boxOrigin, log);
  electron.ipcMain.on(LESSON_RUNNING_CHANNEL, onLessonIpc);

  win = new electron.BrowserWindow({
    fullscreen: true,
    kiosk: true,
    autoHideMenuBar: true,
    backgroundColor: '#000000',
    show: true,
    webPreferences: {
      preload: opts.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false, // the spellchecker downloads dictionaries from Google
    },
  });
  lockDown(win.webContents);
  win.on('closed', () => {
    win = null;
  });
  // A crashed renderer leaves a blank whiteboard: reload, with backoff so a crash loop cannot spin.
  win.webContents.on('render-process-gone', (_event, details) => {
    if (details.reason === 'clean-exit' || reloadPending) return;
    const delayMs = nextCrashDelay();
    log('kiosk renderer gone; reloading', { reason: details.reason, exitCode: details.exitCode, delayMs });
    reloadPending = true;
    schedule(delayMs, () => {
      reloadPending = false;
      alive()?.webContents.reload();
    });
  });
  load();
  return handle();

  function handle(): KioskShellHandle {
    return {
      primary: true,
      get window() {
        return alive();
      },
      get lessonRunning() {
        return blockerId !== null;
      },
      setLessonRunning,
      close,
    };
  }
}

/** Permissions, CSP and remote-content rules for the session the kiosk window uses. */
function installSessionGuards(session: SessionApi, boxOrigin: string, log: ShellLog): void {
  const fromBox = (...urls: (string | null | undefined)[]): boolean => {
    const given = urls.filter((u): u is string => !!u);
    return given.length > 0 && given.every((u) => originOf(u) === boxOrigin);
  };

  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    const granted =
      ALLOWED_PERMISSIONS.has(permission) &&
      (details.mediaTypes ?? []).every((t) => ALLOWED_MEDIA_TYPES.has(t)) &&
      fromBox(details.requestingUrl ?? contents?.getURL(), details.securityOrigin);
    if (!granted) log('denied permission request', { permission, origin: originOf(details.requestingUrl) });
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
    ALLOWED_PERMISSIONS.has(permission) && fromBox(requestingOrigin, details.securityOrigin),
  );

  const csp = boxContentSecurityPolicy(boxOrigin);
  session.webRequest.onHeadersReceived((details, callback) => {
    // No remote content at all: anything not served by the box is dropped (this session is the
    // kiosk's; the main process makes no network requests through it).
    if (originOf(details.url) !== boxOrigin) {
      log('cancelled response from outside the box', { origin: originOf(details.url) });
      callback({ cancel: true });
      return;
    }
    const headers = { ...(details.responseHeaders ?? {}) };
    const key = Object.keys(headers).find((k) => k.toLowerCase() === 'content-security-policy') ?? 'Content-Security-Policy';
    headers[key] = [...(headers[key] ?? []), csp];
    callback({ responseHeaders: headers });
  });
}
