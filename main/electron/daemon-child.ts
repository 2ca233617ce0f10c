import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Log = (msg: string, fields?: Record<string, unknown>) => void;

/**
 * Runs `box start` as a child on the Electron binary's own Node. Native modules (better-sqlite3)
 * must be built for Electron's ABI when packaging (electron-builder's rebuild against the headers
 * kept beside vendor/electron-dist). The daemon is restarted if it dies, with a short backoff.
 */
export async function startDaemonChild(log: Log, cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js')): Promise<{ stop(): Promise<void> }> {
  let stopped = false;
  let child: ReturnType<typeof spawn> | undefined;
  let delay = 1000;
  const run = () => {
    child = spawn(process.execPath, [cli, 'start'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'inherit', 'inherit'] });
    const started = Date.now();
    child.on('exit', (code, signal) => {
      if (stopped) return;
      log('box daemon exited; restarting', { code, signal, delayMs: delay });
      delay = Date.now() - started > 60_000 ? 1000 : Math.min(delay * 2, 30_000);
      setTimeout(run, delay).unref();
    });
  };
  run();
  return {
    stop: () => new Promise<void>((resolve) => {
      stopped = true;
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
