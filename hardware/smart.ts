// Disk health from smartmontools' JSON output (`smartctl -j`), where smartctl is installed.
import { runFile } from './ffmpeg.js';

export interface SmartReport {
  device: string;
  model: string | null;
  /** smart_status.passed; null when the disk would not say. */
  passed: boolean | null;
  temperatureC: number | null;
  powerOnHours: number | null;
  /** ATA 5 / 197 / 198 raw counts, NVMe media errors: any of them above 0 means failing sectors. */
  reallocatedSectors: number | null;
  pendingSectors: number | null;
  uncorrectable: number | null;
  mediaErrors: number | null;
  /** Plain words for the technician; null when nothing is wrong. */
  problem: string | null;
}

interface SmartJson {
  device?: { name?: string };
  model_name?: string;
  smartctl?: { exit_status?: number; messages?: Array<{ string?: string; severity?: string }> };
  smart_status?: { passed?: boolean };
  temperature?: { current?: number };
  power_on_time?: { hours?: number };
  ata_smart_attributes?: { table?: Array<{ id?: number; raw?: { value?: number }; when_failed?: string; name?: string }> };
  nvme_smart_health_information_log?: { critical_warning?: number; media_errors?: number; percentage_used?: number; available_spare?: number; available_spare_threshold?: number };
}

/** Reads one `smartctl -j -H -A /dev/X` answer. Never throws on odd input: a missing field is null. */
export function parseSmartctl(json: string, device = ''): SmartReport {
  let j: SmartJson;
  try {
    j = JSON.parse(json) as SmartJson;
  } catch {
    return { device, model: null, passed: null, temperatureC: null, powerOnHours: null, reallocatedSectors: null, pendingSectors: null, uncorrectable: null, mediaErrors: null, problem: 'smartctl gave no readable answer' };
  }
  const attr = (id: number) => j.ata_smart_attributes?.table?.find((a) => a.id === id);
  const raw = (id: number) => attr(id)?.raw?.value ?? null;
  const nvme = j.nvme_smart_health_information_log;
  const r: SmartReport = {
    device: j.device?.name ?? device,
    model: j.model_name ?? null,
    passed: typeof j.smart_status?.passed === 'boolean' ? j.smart_status.passed : null,
    temperatureC: j.temperature?.current ?? null,
    powerOnHours: j.power_on_time?.hours ?? null,
    reallocatedSectors: raw(5),
    pendingSectors: raw(197),
    uncorrectable: raw(198),
    mediaErrors: nvme?.media_errors ?? null,
    problem: null,
  };
  const problems: string[] = [];
  if (r.passed === false) problems.push('the disk reports it is failing: copy the data and replace it');
  const failed = j.ata_smart_attributes?.table?.filter((a) => a.when_failed && a.when_failed !== '').map((a) => a.name ?? String(a.id)) ?? [];
  if (failed.length) problems.push(`attributes past their limit: ${failed.join(', ')}`);
  const bad = (r.reallocatedSectors ?? 0) + (r.pendingSectors ?? 0) + (r.uncorrectable ?? 0) + (r.mediaErrors ?? 0);
  if (bad > 0) problems.push(`${bad} bad or pending sectors: the disk is wearing out`);
  if (nvme?.critical_warning) problems.push(`NVMe critical warning 0x${nvme.critical_warning.toString(16)}`);
  if ((nvme?.percentage_used ?? 0) >= 90) problems.push(`NVMe wear ${nvme?.percentage_used}%`);
  if (r.passed === null && !failed.length && bad === 0) {
    const msg = j.smartctl?.messages?.find((m) => m.severity === 'error')?.string;
    if (msg) problems.push(`no SMART data: ${msg}`);
  }
  r.problem = problems.length ? problems.join('; ') : null;
  return r;
}

/** Device names from `smartctl -j --scan`. */
export function parseSmartScan(json: string): string[] {
  try {
    const j = JSON.parse(json) as { devices?: Array<{ name?: string }> };
    return (j.devices ?? []).map((d) => d.name).filter((n): n is string => typeof n === 'string');
  } catch {
    return [];
  }
}

/** SMART of every disk smartctl finds; null when smartctl is not installed. */
export async function smartHealth(smartctlPath: string | undefined, timeoutMs = 15_000): Promise<SmartReport[] | null> {
  if (!smartctlPath) return null;
  const scan = await runFile(smartctlPath, ['-j', '--scan'], timeoutMs);
  if (scan.spawnError) return null;
  const out: SmartReport[] = [];
  for (const dev of parseSmartScan(scan.stdout)) {
    // smartctl's exit code is a bit mask of findings, not success/failure: read the JSON always.
    const r = await runFile(smartctlPath, ['-j', '-H', '-A', dev], timeoutMs);
    out.push(parseSmartctl(r.stdout, dev));
  }
  return out;
}
