// `box provision`, `box doctor` and `box status` through the compiled CLI, as a technician at a school runs them.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair } from '../../core/signing.js';
import type { HealthReport } from '../../core/contract/health.js';
import type { DoctorReport, DoctorVerdict as Verdict } from '../../core/contract/doctor.js';
import type { StatusReport } from '../../main/status.js';
import { makeBundle, type BundleDraft } from '../../main/bundle-maker.js';
import { freePort, runCli, spawnCli, waitFor, type Daemon } from '../support/daemon.js';
import { startTestBox, tempDir, TEST_PIN, writeConfigFile, type TestBox } from '../support/boxes.js';

const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


interface School {
  root: string;
  county: KeyPair;
  hub: TestBox;
  tpDataDir: string;
  tpPort: number;
  configFile: string;
  /** Signs a teaching-point bundle for this school's hub and writes it to a file. */
  bundleFile(name: string, draft?: Partial<BundleDraft>, now?: Date): string;
}

/** A county key, a running hub (in-process) and a config file for a teaching point that is not running. */
async function school(): Promise<School> {
  const dir = tempDir('box-doctor-');
  cleanups.push(() => dir.remove());
  const county = generateKeyPair();
  const hub = await startTestBox({ county, dataDir: join(dir.path, 'hub'), draft: { role: 'hub', schoolId: 'hub-school', name: '中心校' } });
  cleanups.push(() => hub.close());
  const tpDataDir = join(dir.path, 'tp');
  const tpPort = await freePort();
  const configFile = writeConfigFile(dir.path, {
    dataDir: tpDataDir,
    listen: { host: '127.0.0.1', port: tpPort },
    trust: { countyKeys: [county.publicKey] },
    log: { level: 'warn' },
  });
  return {
    root: dir.path, county, hub, tpDataDir, tpPort, configFile,
    bundleFile(name, draft = {}, now = new Date()) {
      const bundle = makeBundle(county, {
        role: 'teaching-point', schoolId: 'tp-1', name: '教学点一', pin: TEST_PIN,
        hub: { url: hub.box.url, publicKey: hub.box.identity.publicKey },
        ...draft,
      } as BundleDraft, now);
      const file = join(dir.path, name);
      writeFileSync(file, JSON.stringify(bundle, null, 2));
      return file;
    },
  };
}

async function provisionOk(s: School, file: string): Promise<string> {
  const r = await runCli(['provision', file, '--config', s.configFile]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function doctor(s: School): Promise<{ code: number | null; report: DoctorReport; verdict: (id: string) => Verdict | undefined }> {
  const r = await runCli(['doctor', '--json', '--config', s.configFile]);
  expect(r.stderr).toBe('');
  const report = JSON.parse(r.stdout) as DoctorReport;
  // The exit code follows the report: 0 when nothing would stop a lesson, 1 otherwise.
  expect(report.ok).toBe(report.checks.every((c) => c.verdict !== 'fail'));
  expect(r.code).toBe(report.ok ? 0 : 1);
  return { code: r.code, report, verdict: (id) => report.checks.find((c) => c.id === id)?.verdict };
}

async function doctorText(s: School): Promise<{ code: number | null; text: string }> {
  const r = await runCli(['doctor', '--config', s.configFile]);
  return { code: r.code, text: r.stdout };
}

async function status(s: School): Promise<StatusReport> {
  const r = await runCli(['status', '--json', '--config', s.configFile]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusReport;
}

/** Every file under a folder with a hash of its bytes: "unchanged" means equal snapshots. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = join(dir, name);
    if (statSync(p).isFile()) out[name] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

describe('box provision / doctor / status (CLI)', () => {
  it('provisions a teaching point and the doctor checks it with the daemon stopped', async () => {
    const s = await school();
    const out = await provisionOk(s, s.bundleFile('bundle.json'));
    const bundleId = (JSON.parse(readFileSync(join(s.root, 'bundle.json'), 'utf8')) as { payload: { bundleId: string } }).payload.bundleId;
    expect(out).toContain(bundleId);
    expect(out).toContain('教学点一');

    const { report, verdict } = await doctor(s);
    expect(report.role).toBe('teaching-point');
    const ids = report.checks.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['provisioned', 'disk', 'ffmpeg', 'cameras', 'microphones', 'hub-reachable', 'hub-key', 'clock', 'daemon']));
    expect(verdict('provisioned')).toBe('ok');
    expect(verdict('hub-reachable')).toBe('ok');
    expect(verdict('hub-key')).toBe('ok');
    expect(verdict('clock')).toBe('ok');
    expect(verdict('daemon')).toBe('warn'); // not running, its port is free
    // A missing camera does not stop a teaching point's lesson (it can still watch): a warning, not a failure.
    const cameras = report.checks.find((c) => c.id === 'cameras')!;
    expect(cameras.verdict).toBe(cameras.detail.includes('no camera found') ? 'warn' : 'ok');

    const plain = await doctorText(s);
    expect(plain.text).toContain('中心校');
    expect(plain.text).toContain('✔');
    expect(plain.code).toBe(report.ok ? 0 : 1);
  });

  it('the doctor fails hub-reachable when the hub is down', async () => {
    const s = await school();
    await provisionOk(s, s.bundleFile('bundle.json'));
    await s.hub.close();

    const { code, verdict } = await doctor(s);
    expect(verdict('hub-reachable')).toBe('fail');
    expect(verdict('hub-key')).toBeUndefined(); // nothing answered to compare keys with
    expect(code).toBe(1);

    const plain = await doctorText(s);
    expect(plain.code).toBe(1);
    expect(plain.text).toMatch(/✖.*中心校连接/);
    expect(plain.text).toContain(s.hub.box.url);
  });

  it('the doctor fails hub-key when a newer bundle names another hub key', async () => {
    const s = await school();
    await provisionOk(s, s.bundleFile('bundle.json'));
    const stranger = generateKeyPair();
    const later = new Date(Date.now() + 60_000);
    await provisionOk(s, s.bundleFile('bundle-2.json', { hub: { url: s.hub.box.url, publicKey: stranger.publicKey } }, later));

    const { code, verdict } = await doctor(s);
    expect(verdict('hub-reachable')).toBe('ok');
    expect(verdict('hub-key')).toBe('fail');
    expect(code).toBe(1);

    const plain = await doctorText(s);
    expect(plain.code).toBe(1);
    expect(plain.text).toMatch(/✖.*中心校密钥/);
    expect(plain.text).toContain(s.hub.box.identity.boxId);
  });

  it('status shows no box id before the first start, then the running daemon\'s id', async () => {
    const s = await school();
    await provisionOk(s, s.bundleFile('bundle.json'));

    const before = await status(s);
    expect(before).toMatchObject({ provisioned: true, role: 'teaching-point', name: '教学点一', boxId: null, running: false, hubUrl: s.hub.box.url });

    const daemon: Daemon = spawnCli(['start', '--config', s.configFile]);
    cleanups.push(async () => {
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGTERM');
        await daemon.exited;
      }
    });
    const health = await waitFor(async () => {
      if (daemon.child.exitCode !== null) throw new Error(`daemon exited ${daemon.child.exitCode}: ${daemon.stderr()}`);
      const res = await fetch(`http://127.0.0.1:${s.tpPort}/api/health`);
      return res.ok ? ((await res.json()) as HealthReport) : undefined;
    });

    const after = await status(s);
    expect(after.running).toBe(true);
    expect(after.boxId).toBe(health.boxId);
    expect(after.boxId).toMatch(/^box-[0-9a-f]{16}$/);
    expect(after.publicKey).toBe(health.publicKey);

    const { verdict, report } = await doctor(s);
    expect(verdict('daemon')).toBe('ok');
    // A running teaching point records lessons by default: on, nothing recording between lessons.
    expect(report.checks.find((c) => c.id === 'recording')).toMatchObject({ verdict: 'ok', detail: expect.stringContaining('lessons are recorded') });
    expect(verdict('recording')).toBe('ok');
    // Recordings moving between boxes: none yet on a fresh teaching point.
    expect(report.checks.find((c) => c.id === 'recording-transfers')).toMatchObject({ verdict: 'ok', detail: expect.stringContaining('no recording to move') });
  });

  it('refuses a bundle changed after signing and leaves the data folder as it was', async () => {
    const s = await school();
    await provisionOk(s, s.bundleFile('bundle.json'));
    const before = snapshot(s.tpDataDir);
    expect(Object.keys(before)).toContain('provisioning.json');

    const file = s.bundleFile('tampered.json', {}, new Date(Date.now() + 60_000));
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { payload: { name: string } };
    doc.payload.name = '别的学校';
    writeFileSync(file, JSON.stringify(doc, null, 2));

    const r = await runCli(['provision', file, '--config', s.configFile]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('changed after it was signed');
    expect(snapshot(s.tpDataDir)).toEqual(before);
    expect((await status(s)).name).toBe('教学点一');
  });

  it('refuses to start with a wrong config value and says which field, what it held and what was expected', async () => {
    const dir = tempDir('box-config-');
    cleanups.push(() => dir.remove());
    const file = writeConfigFile(dir.path, {
      dataDir: join(dir.path, 'data'),
      listen: { host: '127.0.0.1', port: 'eighty' },
      trust: { countyKeys: [generateKeyPair().publicKey] },
    });
    const r = await runCli(['start', '--config', file]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toContain('listen.port');
    expect(r.stderr).toContain('"eighty"');
    expect(r.stderr).toContain('expected a port number 0–65535');
    expect(r.stderr).toContain(file);
    expect(existsSync(join(dir.path, 'data'))).toBe(false); // refused before touching anything
  });
});
