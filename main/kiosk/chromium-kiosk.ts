// Chromium kiosk launcher for the Linux image (`box kiosk`): Debian Chromium full screen on the box's
// own web UI, restarted if it dies. Camera/microphone consent is NOT faked with a command-line flag;
// the image installs chromiumPolicy() as a managed policy, which grants capture to the box origin only.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
/** Where the image installs JSON.stringify(chromiumPolicy(origin)); Debian Chromium reads this folder. */

export type KioskLog = (msg: string, fields?: Record<string, unknown>) => void;

/** A URL fit for logs: the fragment (where the kiosk's media token rides) left out. */
export function withoutFragment(url: string): string {
  const i = url.indexOf('#');
  return i === -1 ? url : url.slice(0, i);
}

export interface ChromiumKioskArgsOptions {
  url: string;
  userDataDir: string;
  headless?: boolean;
  extraArgs?: string[];
  /** Effective uid; defaults to process.getuid(). Injected by tests. */
  uid?: number;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || /^127\./.test(hostname);
}

export function chromiumKioskArgs(opts: ChromiumKioskArgsOptions): string[] {
  const url = new URL(opts.url);
  const uid = opts.uid ?? process.getuid?.();
  const args = [
    '--kiosk',
    `--app=${url.href}`,
    `--user-data-dir=${opts.userDataDir}`,
    '--no-first-run',
    '--no-default-browser-check',
    // Offline-first box on a thin link: no phoning home, no updates, no sync, no translate prompts.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-breakpad',
    '--disable-features=Translate,MediaRouter,OptimizationHints',
    // No dialogs or "restore pages?" bubbles on a screen nobody has a keyboard for.
    '--noerrdialogs',
    '--disable-infobars',
    '--hide-crash-restore-bubble',
    // A lesson's audio must play without a tap; swipes and pinches on the whiteboard are pen input.
    '--autoplay-policy=no-user-gesture-required',
    '--overscroll-history-navigation=0',
    '--disable-pinch',
    // No desktop keyring prompt on an unattended kiosk login.
    '--password-store=basic',
  ];
  // getUserMedia needs a secure context; a box UI reached over plain http on the LAN is not one.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    args.push(`--unsafely-treat-insecure-origin-as-secure=${url.origin}`);
  }
  if (opts.headless) args.push('--headless');
  // Chromium refuses to start as root unless its sandbox is off (CI containers run as root).
  if (uid === 0) args.push('--no-sandbox');
  args.push(...(opts.extraArgs ?? []));
  return args;
}

/** Managed policy for the kiosk profile: the box origin and nothing else, capture granted to it only. */
export function chromiumPolicy(boxOrigin: string): Record<string, unknown> {
  const origin = new URL(boxOrigin).origin;
  return {
    URLBlocklist: ['*'],
    URLAllowlist: [origin],
    VideoCaptureAllowedUrls: [origin],
    AudioCaptureAllowedUrls: [origin],
    AutoplayAllowed: true,
    DefaultGeolocationSetting: 2,
    DefaultNotificationsSetting: 2,
    DefaultSensorsSetting: 2,
    DefaultSerialGuardSetting: 2,
    DefaultWebUsbGuardSetting: 2,
    DefaultWebBluetoothGuardSetting: 2,
    DeveloperToolsAvailability: 2,
    DownloadRestrictions: 3,
    IncognitoModeAvailability: 1,
    BrowserGuestModeEnabled: false,
    BrowserAddPersonEnabled: false,
    BrowserSignin: 0,
    SyncDisabled: true,
    PasswordManagerEnabled: false,
    AutofillAddressEnabled: false,
    AutofillCreditCardEnabled: false,
    TranslateEnabled: false,
    SearchSuggestEnabled: false,
    MetricsReportingEnabled: false,
    DefaultBrowserSettingEnabled: false,
    PromotionalTabsEnabled: false,
    // Safe Browsing only phones Google; with every other origin blocked it protects nothing here.
    SafeBrowsingProtectionLevel: 0,
    RestoreOnStartup: 4,
    RestoreOnStartupURLs: [`${origin}/`],
  };
}

export type FindChromiumResult =
  | { ok: true; path: string }
  | { ok: false; code: 'E_CHROMIUM_NOT_FOUND'; message: string; tried: string[] };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findChromium(candidates: string[] = CHROMIUM_CANDIDATES, exists = isExecutable): FindChromiumResult {
  const found = candidates.find((p) => exists(p));
  if (found) return { ok: true, path: found };
  return {
    ok: false,
    code: 'E_CHROMIUM_NOT_FOUND',
    message: `No Chromium found (tried ${candidates.join(', ')}); install the Debian package "chromium".`,
    tried: [...candidates],
  };
}

class ChromiumNotFoundError extends Error {
  readonly code = 'E_CHROMIUM_NOT_FOUND';
  readonly tried: string[];
  constructor(message: string, tried: string[]) {
    super(message);
    this.name = 'ChromiumNotFoundError';
    this.tried = tried;
  }
}

export interface LaunchChromiumKioskOptions extends ChromiumKioskArgsOptions {
  /** Defaults to findChromium(). */
  chromiumPath?: string;
  log?: KioskLog;
  backoff?: { initialMs: number; maxMs: number };
  /** How long stop() waits after SIGTERM before SIGKILL. */
  killTimeoutMs?: number;
}

export interface ChromiumKioskHandle {
  /** pid of the running Chromium, undefined between restarts and after stop(). */
  readonly pid: number | undefined;
  /** How many times Chromium was started (1 + restarts). */
  readonly starts: number;
  /** Kills Chromium and stops restarting it; resolves once it has exited. */
  stop(): Promise<void>;
}

export function launchChromiumKiosk(opts: LaunchChromiumKioskOptions): ChromiumKioskHandle {
  let chromium = opts.chromiumPath;
  if (!chromium) {
    const found = findChromium();
    if (!found.ok) throw new ChromiumNotFoundError(found.message, found.tried);
    chromium = found.path;
  }
  const bin = chromium;
  const log: KioskLog = opts.log ?? (() => {});
  const args = chromiumKioskArgs(opts);
  const { initialMs, maxMs } = opts.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
  const stableMs = 60_000; // a run this long counts as healthy: the next restart is quick again

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;
  let delay = initialMs;
  let stopped = false;
  let restartTimer: ReturnType<typeof setTimeout> | null = null;

  const start = (): void => {
    restartTimer = null;
    if (stopped) return;
    starts += 1;
    const startedAt = Date.now();
    const proc = spawn(bin, args, { detached: false, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderrTail = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2048);
    });
    log('chromium kiosk started', { pid: proc.pid, url: withoutFragment(opts.url) });
    exited = new Promise<void>((resolve) => {
      let done = false;
      const onGone = (code: number | null, signal: string | null, error?: Error): void => {
        if (done) return;
        done = true;
        if (child === proc) child = null;
        resolve();
        if (stopped) return;
        if (Date.now() - startedAt > stableMs) delay = initialMs;
        log('chromium kiosk exited unexpectedly; restarting', {
          code, signal, error: error?.message, restartInMs: delay, stderr: stderrTail.slice(-512),
        });
        restartTimer = setTimeout(start, delay);
        delay = Math.min(delay * 2, maxMs);
      };
      proc.once('exit', (code, signal) => onGone(code, signal));
      proc.once('error', (err) => onGone(null, null, err)); // e.g. the binary vanished
    });
  };

  start();

  return {
    get pid() {
      return child?.pid;
    },
    get starts() {
      return starts;
    },
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      const proc = child;
      if (!proc) return;
      proc.kill('SIGTERM'); // Chromium shuts its zygote, GPU and renderer processes down with it
      const timeout = new Promise<'timeout'>((r) => {
        const t = setTimeout(() => r('timeout'), opts.killTimeoutMs ?? 5_000);
        void exited.then(() => clearTimeout(t));
      });
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        log('chromium kiosk ignored SIGTERM; killing', { pid: proc.pid });
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}
