// The hardware health that /api/health, /metrics and `box doctor` (on a running box) show: devices
// present, free disk and its trend, SMART, CPU temperature, unclean shutdowns, clock skew.
import type { HardwareHealth } from '../core/contract/hardware.js';
import { discoverDevices } from './devices.js';
import { diskSpace } from './disk.js';
import { cpuTemperature } from './thermal.js';
import { smartHealth, type SmartReport } from './smart.js';
import { findOnPath } from './ffmpeg.js';
import { listDshowDevices } from './dshow.js';
import type { BootRecorder, DiskSamples } from './health-store.js';

/** Names of cameras and microphones: sysfs/ALSA on Linux, DirectShow through ffmpeg on Windows. */
async function presence(): Promise<{ cameras: string[]; microphones: string[] }> {
  if (process.platform === 'win32') {
    const ffmpeg = await findOnPath('ffmpeg.exe');
    const list = ffmpeg ? await listDshowDevices(ffmpeg) : [];
    return { cameras: list.filter((d) => d.kind === 'video').map((d) => d.name), microphones: list.filter((d) => d.kind === 'audio').map((d) => d.name) };
  }
  const d = await discoverDevices();
  return { cameras: d.cameras.map((c) => c.name), microphones: d.microphones.map((m) => m.cardName || m.alsaName) };
}

/** SMART runs smartctl per disk: seconds on a slow box, so its answer is kept for a while. */
function cachedSmart(keepMs = 10 * 60_000): () => Promise<SmartReport[] | null> {
  let cache: { at: number; value: SmartReport[] | null } | undefined;
  return async () => {
    const now = Date.now();
    if (cache && now - cache.at < keepMs) return cache.value;
    const path = (await findOnPath('smartctl')) ?? (await findOnPath('smartctl', '/usr/sbin:/sbin'));
    cache = { at: now, value: await smartHealth(path) };
    return cache.value;
  };
}

export interface HealthReportSources {
  dataDir: string;
  boots: Pick<BootRecorder, 'summary'>;
  disk: Pick<DiskSamples, 'trend'>;
  /** A teaching point's offset from its hub's clock; null on a box that follows no hub. */
  clockSkewMs: () => number | null;
}

export function healthReporter(o: HealthReportSources): () => Promise<HardwareHealth> {
  const smart = cachedSmart();
  return async () => {
    const devices = await presence();
    let free: number | null = null;
    try {
      free = (await diskSpace(o.dataDir)).availableBytes;
    } catch {
      free = null;
    }
    const trend = o.disk.trend();
    const summary = o.boots.summary();
    const s = await smart();
    return {
      cameras: { count: devices.cameras.length, names: devices.cameras },
      microphones: { count: devices.microphones.length, names: devices.microphones },
      disk: { freeBytes: free, trendBytesPerDay: trend?.bytesPerDay ?? null, daysUntilFull: trend?.daysUntilFull ?? null },
      smart: s ? s.map((r) => ({ device: r.device, passed: r.passed, problem: r.problem })) : null,
      cpuTemperatureC: await cpuTemperature(),
      uncleanShutdowns: { count: summary.uncleanCount, lastAt: summary.lastUncleanAt ? new Date(summary.lastUncleanAt).toISOString() : null },
      clockSkewMs: o.clockSkewMs(),
    };
  };
}
