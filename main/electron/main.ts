// Electron entry point (electron-builder's `main`). Never executed in tests: everything it does is a
// call into kiosk-shell.ts, which is tested through the ElectronApi seam.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic-file.js';
import type { ElectronApi } from './electron-api.js';
import { startKioskShell } from './kiosk-shell.js';
import { preloadScript } from './preload.js';
import { startDaemonChild } from './daemon-child.js';
import { DEFAULT_CONFIG_PATH } from '../config-file.js';

const DEFAULT_BOX_URL = 'http://127.0.0.1:8420';

async function main(): Promise<void> {
  // A variable specifier keeps tsc from resolving 'electron' (not installed; only exists at runtime).
  const specifier = 'electron';
  const mod = (await import(specifier)) as { default?: unknown };
  const electron = (mod.default ?? mod) as ElectronApi;

  const log = (msg: string, fields?: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), room: 'kiosk-shell', msg, ...fields })}\n`);
  };

  // The preload must be a CommonJS file (see preload.ts); userData is writable (and
  // known before app ready), the asar is not.
  const dir = electron.app.getPath('userData');
  mkdirSync(dir, { recursive: true });
  const preloadPath = join(dir, 'box-preload.cjs');
  writeFileAtomic(preloadPath, preloadScript());

  // On Linux images the daemon is a systemd service (BOX_DAEMON=external). On the Windows PCs inside
  // whiteboards the shell starts the same daemon itself, as a child process on Electron's own Node
  // (ELECTRON_RUN_AS_NODE), so a renderer crash never takes the daemon down with it.
  const external = process.env.BOX_DAEMON === 'external';
  const boxUrl = process.env.BOX_URL || DEFAULT_BOX_URL;
  const shell = await startKioskShell(electron, {
    boxUrl,
    // The box's own whiteboard needs no PIN: a kiosk media token issued in the box's database.
    launchUrl: async () => (await import('../kiosk/kiosk-token.js')).kioskLaunchUrl(boxUrl, process.env.BOX_CONFIG || DEFAULT_CONFIG_PATH, log),
    preloadPath,
    log,
    ...(external ? {} : { startDaemon: () => startDaemonChild(log) }),
  });
  if (!shell.primary) return;
  const stop = (): void => {
    void shell.close().finally(() => electron.app.quit());
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`kiosk shell failed to start: ${String(err)}\n`);
  process.exit(1);
});
