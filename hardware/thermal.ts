// CPU temperature from /sys/class/thermal: every Linux box image has it, no lm-sensors needed.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ThermalZone {
  zone: string;
  type: string;
  celsius: number;
}

/** Zone types that measure the CPU package or SoC (x86 and ARM boards), best first. */
const CPU_TYPES = [/^x86_pkg_temp$/, /^(cpu|soc)[-_]?thermal$/i, /^coretemp/i, /^k10temp/i, /^cpu/i, /^acpitz$/];

async function text(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function thermalZones(sysRoot = '/'): Promise<ThermalZone[]> {
  const base = join(sysRoot, 'sys', 'class', 'thermal');
  let entries: string[];
  try {
    entries = (await readdir(base)).filter((e) => /^thermal_zone\d+$/.test(e));
  } catch {
    return [];
  }
  const zones: ThermalZone[] = [];
  for (const zone of entries.sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)))) {
    const milli = Number.parseInt((await text(join(base, zone, 'temp'))) ?? '', 10);
    // A zone that cannot be read (sensor asleep, EIO) or reads nonsense is skipped, not reported as 0 °C.
    if (!Number.isFinite(milli) || milli <= -40_000 || milli >= 150_000) continue;
    zones.push({ zone, type: (await text(join(base, zone, 'type'))) ?? 'unknown', celsius: milli / 1000 });
  }
  return zones;
}

/** The CPU's temperature in °C, or null where the machine exposes none (VMs, containers). */
export async function cpuTemperature(sysRoot = '/'): Promise<number | null> {
  const zones = await thermalZones(sysRoot);
  for (const re of CPU_TYPES) {
    const hits = zones.filter((z) => re.test(z.type));
    if (hits.length) return Math.max(...hits.map((z) => z.celsius));
  }
  return null;
}
