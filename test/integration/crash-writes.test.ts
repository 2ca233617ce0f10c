// kill -9 of the daemon in the middle of a burst of settings writes: no acknowledged write is lost,
// nothing is half-written, and the box comes back on the same data folder. Runs the compiled CLI.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKeyPair } from '../../core/signing.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { defaultSettings, type BoxSettings } from '../../core/contract/settings.js';
import { provision, testConfig, tempDir, writeConfigFile, pinSession } from '../support/boxes.js';
import { spawnCli, type Daemon } from '../support/daemon.js';

const CYCLES = 5;
const WORKERS = 8; // requests in flight at once during a burst

/** Deterministic PRNG (mulberry32); the seed is printed in failure messages so a run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
const rand = prng(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

type Field = 'ui.volume' | 'ui.language' | 'sync.lessonSharePercent' | 'sync.window';
const FIELDS: Field[] = ['ui.volume', 'ui.language', 'sync.lessonSharePercent', 'sync.window'];
type Patch = { ui?: { volume?: number; language?: 'zh-CN' | 'en' }; sync?: { lessonSharePercent?: number; window?: { start: string; end: string } | null } };

interface Attempt {
  n: number;
  cycle: number;
  body: Patch;
  outcome: 'pending' | 'acked' | 'lost' | 'refused';
  auditId?: number;
  error?: string;
}

function fieldOf(s: Patch | BoxSettings, f: Field): unknown {
  const [section, key] = f.split('.') as ['ui' | 'sync', string];
  const sec = (s as Record<string, Record<string, unknown> | undefined>)[section];
  return sec === undefined || !(key in sec) ? undefined : sec[key];
}

let counter = 0;
function randomPatch(): Patch {
  const n = ++counter;
  const pick = FIELDS.filter(() => rand() < 0.5);
  if (pick.length === 0) pick.push(FIELDS[n % FIELDS.length]!);
  const p: Patch = {};
  for (const f of pick) {
    if (f === 'ui.volume') p.ui = { ...p.ui, volume: n % 101 };
    if (f === 'ui.language') p.ui = { ...p.ui, language: n % 2 ? 'en' : 'zh-CN' };
    if (f === 'sync.lessonSharePercent') p.sync = { ...p.sync, lessonSharePercent: (n * 7) % 101 };
    if (f === 'sync.window') {
      p.sync = { ...p.sync, window: n % 5 === 0 ? null : { start: `${String(n % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`, end: '23:59' } };
    }
  }
  return p;
}

/** Applies settings.update audit rows, in commit (id) order, over the defaults. */
function replay(rows: Array<{ changed: Patch }>): BoxSettings {
  const out = structuredClone(defaultSettings);
  for (const r of rows) {
    if (r.changed.ui) Object.assign(out.ui, r.changed.ui);
    if (r.changed.sync) Object.assign(out.sync, r.changed.sync);
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety of settings writes (child daemon, kill -9)', () => {
  const dir = tempDir('box-crash-');
  const dataDir = join(dir.path, 'data');
  const dbFile = join(dataDir, 'box.sqlite');
  const county = generateKeyPair();
  const daemons = new Set<Daemon>();
  let base = '';
  let boxId: string | undefined;

  beforeAll(() => {
    provision(testConfig(dataDir, county), county, { role: 'hub', schoolId: 'x', name: '中心校' });
  });

  afterAll(async () => {
    for (const d of daemons) {
      if (d.child.exitCode === null && d.child.signalCode === null) {
        d.child.kill('SIGKILL');
        await d.exited;
      }
    }
    dir.remove();
  });

  /**
   * Starts the daemon on the data folder and waits for /api/health. Each start gets a fresh port: other
   * test files running in parallel may take a port the killed daemon let go (a start that loses that
   * race with EADDRINUSE is retried). The answer must come from this box (same box id every time).
   */
  async function startDaemon(attempt = 1): Promise<Daemon> {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const configFile = writeConfigFile(dir.path, { dataDir, listen: { host: '127.0.0.1', port }, trust: { countyKeys: [county.publicKey] }, log: { level: 'warn' } });
    const d = spawnCli(['start', '--config', configFile]);
    daemons.add(d);
    let exited = false;
    void d.exited.then(() => (exited = true));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) {
        if (attempt < 3 && /EADDRINUSE/.test(d.stderr() + d.stdout())) return startDaemon(attempt + 1);
        throw new Error(`daemon exited during start (seed ${SEED}): ${d.stderr()}${d.stdout()}`);
      }
      if (Date.now() > deadline) throw new Error(`daemon did not answer /api/health in 30 s (seed ${SEED}): ${d.stderr()}`);
      try {
        const res = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) {
          const h = (await res.json()) as { status: string; role: string; boxId: string };
          if (h.status === 'ok' && h.role === 'hub' && (boxId === undefined || h.boxId === boxId)) {
            boxId ??= h.boxId;
            return d;
          }
        }
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
  }

  /** Reads the committed settings.update rows and the integrity verdict without disturbing the running daemon. */
  function readDb(): { integrity: string; rows: Array<{ id: number; changed: Patch }> } {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const integrity = String(db.pragma('integrity_check', { simple: true }));
      const raw = db.prepare("SELECT id, details FROM audit_log WHERE action = 'settings.update' ORDER BY id").all() as Array<{ id: number; details: string }>;
      return { integrity, rows: raw.map((r) => ({ id: r.id, changed: (JSON.parse(r.details) as { changed: Patch }).changed })) };
    } finally {
      db.close();
    }
  }

  // ~10 s on an idle machine; each daemon start is most of it, and it grows with load: room to spare.
  it(`loses no acknowledged write across ${CYCLES} kill -9 / restart cycles`, { timeout: 120_000 }, async () => {
    const attempts: Attempt[] = [];
    const ctx = () => `seed ${SEED}`;
    let daemon = await startDaemon();
    const token = await pinSession(base);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      let killed = false;
      let inFlight = 0;
      let inFlightAtKill = 0;
      let firstAck!: () => void;
      const acknowledged = new Promise<void>((r) => (firstAck = r));

      const worker = async () => {
        while (!killed) {
          const a: Attempt = { n: attempts.length, cycle, body: randomPatch(), outcome: 'pending' };
          attempts.push(a);
          inFlight++;
          try {
            const res = await fetch(`${base}/api/settings`, { method: 'PUT', headers: auth, body: JSON.stringify(a.body) });
            const text = await res.text();
            if (res.status === 200) {
              const json = JSON.parse(text) as { settings: BoxSettings; auditId: number };
              a.outcome = 'acked';
              a.auditId = json.auditId;
              firstAck();
            } else {
              a.outcome = 'refused';
              a.error = `${res.status} ${text}`;
            }
          } catch (e) {
            // No answer: the write may or may not have committed before the kill.
            a.outcome = 'lost';
            a.error = String((e as Error).cause ?? e);
          } finally {
            inFlight--;
          }
        }
      };

      const killAfter = int(50, 400);
      const burst = Array.from({ length: WORKERS }, () => worker());
      // The kill lands at a random moment of the burst, but never before the first write was acknowledged.
      await Promise.all([sleep(killAfter), Promise.race([acknowledged, sleep(10_000)])]);
      inFlightAtKill = inFlight;
      daemon.child.kill('SIGKILL');
      const exit = await daemon.exited;
      killed = true;
      await Promise.all(burst);

      expect(exit, `${ctx()}: daemon should die by SIGKILL`).toBeNull();
      expect(daemon.child.signalCode).toBe('SIGKILL');
      expect(inFlightAtKill, `${ctx()}: writes were in flight at the kill (cycle ${cycle})`).toBeGreaterThan(0);
      const mine = attempts.filter((a) => a.cycle === cycle);
      expect(mine.filter((a) => a.outcome === 'refused'), `${ctx()}: every answered write was accepted`).toEqual([]);
      expect(mine.filter((a) => a.outcome === 'acked').length, `${ctx()}: some writes were acknowledged before the kill at ${killAfter} ms`).toBeGreaterThan(0);

      daemon = await startDaemon();

      // The database is intact and every acknowledged write (of this and all earlier cycles) is there, as sent.
      const { integrity, rows } = readDb();
      expect(integrity, ctx()).toBe('ok');
      const byId = new Map(rows.map((r) => [r.id, r.changed]));
      for (const a of attempts.filter((x) => x.outcome === 'acked')) {
        expect(byId.has(a.auditId!), `${ctx()}: acknowledged write #${a.n} (auditId ${a.auditId}) survived`).toBe(true);
        expect(byId.get(a.auditId!), `${ctx()}: audit row ${a.auditId} holds what was sent`).toEqual(a.body);
      }
      // No phantom rows: each committed change is one we sent; an unacknowledged one was cut off by the kill.
      // (Compared as canonical JSON: the server stores the parsed patch, whose key order may differ.)
      const acked = new Set(attempts.filter((x) => x.outcome === 'acked').map((x) => x.auditId));
      const lostBodies = new Set(attempts.filter((x) => x.outcome === 'lost').map((x) => canonicalJson(x.body)));
      for (const r of rows) {
        if (!acked.has(r.id)) expect(lostBodies.has(canonicalJson(r.changed)), `${ctx()}: audit row ${r.id} matches a write cut off by a kill`).toBe(true);
      }

      // The session survived the restart, and the settings are exactly the committed changes applied in order.
      const res = await fetch(`${base}/api/settings`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, ctx()).toBe(200);
      const settings = (await res.json()) as BoxSettings;
      expect(settings, `${ctx()}: settings = audit log replayed in commit order`).toEqual(replay(rows));

      // And, field by field: the value is the last acknowledged one or one sent without an answer.
      for (const f of FIELDS) {
        const last = attempts
          .filter((a) => a.outcome === 'acked' && fieldOf(a.body, f) !== undefined)
          .sort((x, y) => x.auditId! - y.auditId!)
          .at(-1);
        const allowed = [
          ...(last ? [fieldOf(last.body, f)] : [fieldOf(defaultSettings, f)]),
          ...attempts.filter((a) => a.outcome === 'lost' && fieldOf(a.body, f) !== undefined).map((a) => fieldOf(a.body, f)),
        ];
        expect(allowed, `${ctx()}: ${f} after cycle ${cycle}`).toContainEqual(fieldOf(settings, f));
      }
    }

    // A clean stop after the last restart; the file then passes integrity_check opened read-write too.
    daemon.child.kill('SIGTERM');
    const stopped = await Promise.race([daemon.exited, sleep(15_000).then(() => 'still running after 15 s' as const)]);
    expect(stopped, 'the daemon stops cleanly on SIGTERM').toBe(0);
    const db = new Database(dbFile, { fileMustExist: true });
    try {
      expect(String(db.pragma('integrity_check', { simple: true }))).toBe('ok');
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    expect(attempts.filter((a) => a.outcome === 'acked').length).toBeGreaterThanOrEqual(CYCLES);
  });
});
