// Real box daemons for the sync benches: provisioned data folders (county-signed bundle, settings written before
// start, as a technician's would be) and `node dist/main/cli.js start` children, killed when the bench exits.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'main', 'cli.js');
export const PIN = '135790';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dist = (p) => import(join(ROOT, 'dist', p));
const { generateKeyPair } = await dist('core/signing.js');
const { systemClock } = await dist('core/clock.js');
const { silentLogger } = await dist('core/log.js');
const { makeBundle } = await dist('main/bundle-maker.js');
const { applyBundle } = await dist('main/provisioning-store.js');
const { openDatabase } = await dist('core/store/database.js');
const { KvStore } = await dist('core/store/kv-store.js');
export const { publishFolder } = await dist('sync/publish.js');
export { systemClock };

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/**
 * A scratch folder with a county key, a publisher key and the daemons started in it; `cleanup()` (also run on
 * exit) kills them and removes the folder. `onCleanup` runs first (e.g. deleting network namespaces).
 */
export function benchSite(prefix, onCleanup) {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const county = generateKeyPair();
  const publisher = generateKeyPair();
  const children = new Set();
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) { try { ch.kill('SIGKILL'); } catch { /* gone */ } }
    try { onCleanup?.(); } finally { rmSync(scratch, { recursive: true, force: true }); }
  };
  process.on('exit', cleanup);

  /**
   * Provisions `<scratch>/<name>` for `role`, writes `settings` (the PIN-protected ones) and sync `prefs` into its
   * database, and its config listening on host:port. `wrap` prefixes the command (e.g. ['ip', 'netns', 'exec', ns]);
   * BENCH_DAEMON_LOGS=<dir> sends each daemon's stderr to <dir>/<name>.log.
   */
  async function daemon(name, role, o = {}) {
    const dir = join(scratch, name);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    applyBundle(dataDir, JSON.stringify(makeBundle(county, { role, schoolId: `bench-${name}`, name, pin: PIN, publisherKeys: [publisher.publicKey] })), [county.publicKey], systemClock, 0);
    if (o.settings || o.prefs) {
      const db = openDatabase(join(dataDir, 'box.sqlite'), silentLogger());
      if (o.settings) new KvStore(db, systemClock, 'settings').set('sync', o.settings);
      if (o.prefs) new KvStore(db, systemClock, 'box_state').set('sync.preferences', o.prefs);
      db.close();
    }
    const host = o.host ?? '127.0.0.1';
    const port = o.port ?? await freePort();
    const config = join(dir, 'box.json');
    writeFileSync(config, JSON.stringify({ dataDir, listen: { host, port }, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' } }));
    const url = `http://${host}:${port}`;
    const self = {
      name, dataDir, url, port, child: undefined,
      /** Starts the daemon and resolves once /api/health answers (90 s at most). */
      async start() {
        const logDir = process.env.BENCH_DAEMON_LOGS;
        const err = logDir ? openSync(join(logDir, `${name}.log`), 'w') : 'inherit';
        const [cmd, ...args] = [...(o.wrap ?? []), process.execPath, CLI, 'start', '--config', config];
        const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', err] });
        if (typeof err === 'number') closeSync(err);
        children.add(child);
        self.child = child;
        for (const end = Date.now() + 90_000; Date.now() < end;) {
          if (child.exitCode !== null) throw new Error(`${name} daemon exited with ${child.exitCode}`);
          try { if ((await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) })).ok) return; } catch { /* not yet */ }
          await sleep(200);
        }
        throw new Error(`${name} daemon did not answer /api/health within 90 s`);
      },
      async stop() {
        const ch = self.child;
        if (!ch || ch.exitCode !== null || ch.signalCode !== null) return;
        const exited = new Promise((r) => ch.once('exit', r));
        ch.kill('SIGTERM');
        const t = setTimeout(() => ch.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
        children.delete(ch);
      },
    };
    return self;
  }

  return { scratch, county, publisher, daemon, cleanup };
}

export async function pinSession(url) {
  const res = await fetch(`${url}/api/settings/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: PIN }) });
  if (res.status !== 201) throw new Error(`PIN session at ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}
