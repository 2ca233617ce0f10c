// A provisioned box as a real child-process daemon (kill -9 must be a real process death).
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import type { KeyPair } from '../../core/signing.js';
import type { BundleDraft } from '../../main/bundle-maker.js';
import { provision, testConfig, writeConfigFile } from './boxes.js';
import { spawnCli, waitFor, type Daemon } from './daemon.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface BoxDaemon {
  url: string;
  dataDir: string;
  daemon: Daemon;
  start(): Promise<void>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Provisions a data folder, then runs `box start` on a fixed port so a restart keeps its URL. */
export async function boxDaemon(dir: string, county: KeyPair, draft: BundleDraft): Promise<BoxDaemon> {
  const dataDir = `${dir}/data`;
  mkdirSync(dataDir, { recursive: true });
  provision(testConfig(dataDir, county), county, draft);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configFile = writeConfigFile(dir, { dataDir, listen: { host: '127.0.0.1', port }, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' } });
  const self: BoxDaemon = {
    url, dataDir, daemon: undefined as unknown as Daemon,
    async start() {
      const d = spawnCli(['start', '--config', configFile]);
      self.daemon = d;
      await waitFor(async () => {
        if (d.child.exitCode !== null) throw new Error(`daemon exited: ${d.stderr()}`);
        const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
        return r.ok ? true : undefined;
      }, 90_000, 200);
    },
    async kill9() {
      if (self.daemon.child.exitCode === null && self.daemon.child.signalCode === null) {
        self.daemon.child.kill('SIGKILL');
        await self.daemon.exited;
      }
    },
    async stop() {
      if (!self.daemon || self.daemon.child.exitCode !== null || self.daemon.child.signalCode !== null) return;
      self.daemon.child.kill('SIGTERM');
      const t = setTimeout(() => self.daemon.child.kill('SIGKILL'), 10_000);
      await self.daemon.exited;
      clearTimeout(t);
    },
  };
  return self;
}
