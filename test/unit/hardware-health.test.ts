import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuTemperature, thermalZones } from '../../hardware/thermal.js';
import { parseSmartctl, parseSmartScan, smartHealth } from '../../hardware/smart.js';
import { listDshowDevices, parseDshowDevices } from '../../hardware/dshow.js';
import { BootRecorder, DiskSamples, MARKER_FILE, diskTrend } from '../../hardware/health-store.js';
import { openDatabase } from '../../core/store/database.js';
import { silentLogger } from '../../core/log.js';
import { ManualClock } from '../../core/clock.js';

const fx = fileURLToPath(new URL('../fixtures/hardware/', import.meta.url));
const read = (p: string) => readFileSync(join(fx, p), 'utf8');
const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
});
function temp(): string {
  const t = mkdtempSync(join(tmpdir(), 'hw-health-'));
  temps.push(t);
  return t;
}

describe('CPU temperature', () => {
  it('reads the x86 package sensor, skipping unreadable zones', async () => {
    expect(await cpuTemperature(join(fx, 'thermal-x86'))).toBe(71);
    expect((await thermalZones(join(fx, 'thermal-x86'))).map((z) => z.type)).toEqual(['acpitz', 'x86_pkg_temp']);
  });
  it('reads an ARM board (RK3588) by its SoC zone', async () => {
    expect(await cpuTemperature(join(fx, 'thermal-rk3588'))).toBe(52.6);
  });
  it('is null where the machine has no thermal zones (this container, VMs)', async () => {
    expect(await cpuTemperature(temp())).toBeNull();
    const here = await cpuTemperature();
    expect(here === null || (here > -40 && here < 150)).toBe(true);
  });
});

describe('SMART from smartctl JSON', () => {
  it('reads a healthy SATA SSD', () => {
    expect(parseSmartctl(read('smartctl/sata-ok.json'))).toEqual({
      device: '/dev/sda', model: 'KINGSTON SA400S37240G', passed: true, temperatureC: 34, powerOnHours: 8731,
      reallocatedSectors: 0, pendingSectors: 0, uncorrectable: 0, mediaErrors: null, problem: null,
    });
  });
  it('says in plain words that a failing disk must be replaced', () => {
    const r = parseSmartctl(read('smartctl/sata-failing.json'));
    expect(r.passed).toBe(false);
    expect(r.problem).toMatch(/failing: copy the data and replace it/);
    expect(r.problem).toMatch(/Reallocated_Sector_Ct/);
    expect(r.problem).toMatch(/1954 bad or pending sectors/);
  });
  it('reads NVMe health', () => {
    expect(parseSmartctl(read('smartctl/nvme-ok.json'))).toMatchObject({ device: '/dev/nvme0', passed: true, mediaErrors: 0, problem: null, powerOnHours: 6120 });
  });
  it('explains a disk behind a USB bridge smartctl cannot read, and survives garbage', () => {
    expect(parseSmartctl(read('smartctl/usb-bridge-unsupported.json')).problem).toMatch(/no SMART data: .*Unknown USB bridge/);
    expect(parseSmartctl('not json', '/dev/sdz')).toMatchObject({ device: '/dev/sdz', passed: null, problem: 'smartctl gave no readable answer' });
    expect(parseSmartScan(read('smartctl/scan.json'))).toEqual(['/dev/sda', '/dev/nvme0']);
    expect(parseSmartScan('{')).toEqual([]);
  });
  it('is null without smartctl, and runs a real binary through the same path', async () => {
    expect(await smartHealth(undefined)).toBeNull();
    // A stand-in smartctl script answering from the fixtures (no disks to read in this container).
    const dir = temp();
    const bin = join(dir, 'smartctl');
    writeFileSync(bin, `#!/bin/sh\ncase "$*" in\n  *--scan*) cat ${join(fx, 'smartctl/scan.json')} ;;\n  */dev/sda*) cat ${join(fx, 'smartctl/sata-failing.json')}; exit 24 ;;\n  *) cat ${join(fx, 'smartctl/nvme-ok.json')} ;;\nesac\n`, { mode: 0o755 });
    const r = await smartHealth(bin);
    expect(r!.map((d) => [d.device, d.passed])).toEqual([['/dev/sda', false], ['/dev/nvme0', true]]);
  });
});

describe('Windows device names from ffmpeg dshow', () => {
  it('reads ffmpeg ≥ 5 listings with kinds, Chinese names and monikers, skipping pin-less devices', () => {
    const d = parseDshowDevices(read('dshow-ffmpeg6-whiteboard.stderr.txt'));
    expect(d.map((x) => `${x.kind}:${x.name}`)).toEqual([
      'video:USB2.0 HD UVC WebCam', 'video:HD Pro Webcam C920', 'audio:麦克风阵列 (Realtek(R) Audio)',
      'audio:麦克风 (HD Pro Webcam C920)', 'audio:Elgato Cam Link 4K', 'video:Elgato Cam Link 4K',
    ]);
    expect(d[1]!.alternativeName).toMatch(/^@device_pnp_.*vid_046d&pid_082d/);
  });
  it('reads the older heading layout (ffmpeg 4)', () => {
    const d = parseDshowDevices(read('dshow-ffmpeg4-whiteboard.stderr.txt'));
    expect(d.map((x) => `${x.kind}:${x.name}`)).toEqual([
      'video:Logitech Webcam C930e', 'video:USB Video Device', 'audio:麦克风 (Logitech Webcam C930e)', 'audio:线路输入 (USB Audio Device)',
    ]);
  });
  it('asks this machine\'s real ffmpeg and gets an empty list (no DirectShow on Linux), not an error', async () => {
    expect(await listDshowDevices('/usr/bin/ffmpeg')).toEqual([]);
  });
  it('finds no devices in this machine\'s ffmpeg output (no DirectShow on Linux)', () => {
    expect(read('this-machine-dshow.stderr.txt')).toContain("Unknown input format: 'dshow'");
    expect(parseDshowDevices(read('this-machine-dshow.stderr.txt'))).toEqual([]);
  });
});

describe('disk trend', () => {
  const day = 86_400_000;
  it('fits bytes per day and days until full', () => {
    const samples = [0, 1, 2, 3].map((i) => ({ at: i * day, freeBytes: 100e9 - i * 5e9, totalBytes: 500e9 }));
    expect(diskTrend(samples)).toEqual({ bytesPerDay: -5e9, daysUntilFull: 17, samples: 4, spanHours: 72 });
    expect(diskTrend(samples.slice(0, 2))).toBeNull();
    expect(diskTrend(samples.map((s) => ({ ...s, freeBytes: 80e9 })))!.daysUntilFull).toBeNull();
  });
  it('keeps samples in SQLite and prunes old ones', () => {
    const dir = temp();
    const clock = new ManualClock();
    const db = openDatabase(join(dir, 'box.sqlite'), silentLogger());
    try {
      const s = new DiskSamples(db, clock, 2);
      for (let i = 0; i < 6; i++) {
        s.add(50e9 - i * 1e9, 100e9);
        clock.advance(12 * 3_600_000);
      }
      expect(s.trend()).toMatchObject({ bytesPerDay: -2e9, samples: 5 });
    } finally {
      db.close();
    }
  });
});

describe('boot record', () => {
  it('counts a start that finds the marker of a run that never stopped', () => {
    const dir = temp();
    const clock = new ManualClock();
    const open = () => openDatabase(join(dir, 'box.sqlite'), silentLogger());
    let db = open();
    let b = new BootRecorder(db, dir, clock);
    expect(b.recordStart(111)).toMatchObject({ previousClean: true, uncleanCount: 0 });
    expect(existsSync(join(dir, MARKER_FILE))).toBe(true);
    db.close(); // killed: no recordCleanStop

    clock.advance(60_000);
    db = open();
    b = new BootRecorder(db, dir, clock);
    const info = b.recordStart(222);
    expect(info).toMatchObject({ previousClean: false, uncleanCount: 1, previousStartedAt: clock.now() - 60_000, lastUncleanAt: clock.now() });
    b.recordCleanStop();
    expect(existsSync(join(dir, MARKER_FILE))).toBe(false);
    db.close();

    db = open();
    b = new BootRecorder(db, dir, clock);
    expect(b.recordStart()).toMatchObject({ previousClean: true, uncleanCount: 1 });
    // A marker torn by the power cut still counts.
    writeFileSync(join(dir, MARKER_FILE), '{"pid":');
    expect(new BootRecorder(db, dir, clock).recordStart()).toMatchObject({ previousClean: false, uncleanCount: 2 });
    db.close();
  });
});
