// `box demo` as a newcomer runs it (the compiled CLI in a child process), driven only through its ready
// line (DESIGN.md §3) and the URLs it prints. stop() interrupts it and waits; it removes its own data.
import { spawnCli, waitFor, type Daemon } from './daemon.js';

interface DemoReady {
  ready: true;
  seed: string;
  hub: string;
  teachingPoint: string;
  pin: string;
  dataDir: string;
  lesson: string;
  token: string;
  camera: boolean;
  /** Each box's own kiosk page with its kiosk token in the fragment. */
  kiosk: { teachingPoint: string; hub: string };
}

export interface DemoProcess {
  ready: DemoReady;
  daemon: Daemon;
  stop(): Promise<void>;
}

export async function startDemoProcess(args: string[] = [], readyTimeoutMs = 150_000): Promise<DemoProcess> {
  const daemon = spawnCli(['demo', ...args]);
  const stop = async () => {
    if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
    daemon.child.kill('SIGINT');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
    if ((await Promise.race([daemon.exited, timer])) === 'timeout') {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  };
  try {
    const line = await waitFor(() => {
      if (daemon.child.exitCode !== null) throw new Error(`demo exited with ${daemon.child.exitCode}: ${daemon.stderr()}`);
      return daemon.stdout().split('\n').find((l) => l.startsWith('{"ready":true'));
    }, readyTimeoutMs, 100);
    return { ready: JSON.parse(line) as DemoReady, daemon, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
