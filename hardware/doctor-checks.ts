// The hardware section of `box doctor`: unclean shutdowns, disk health and trend, CPU temperature.
// On a stopped box the database is opened only with openDatabaseReadOnly: `box doctor` must leave the
// data folder as it found it (no -wal/-shm files next to the database).
import { databasePath, openDatabaseReadOnly, type Db } from '../core/store/database.js';
import type { HealthReport } from '../core/contract/health.js';
import type { DoctorCheck } from '../core/contract/doctor.js';
import { cpuTemperature } from './thermal.js';
import { smartHealth } from './smart.js';
import { findOnPath } from './ffmpeg.js';
import { markerLeftBehind } from './health-store.js';

export interface HardwareDoctorInput {
  dataDir: string;
  ownHealth: HealthReport | undefined;
}

/** Count of unclean shutdowns recorded in the box's database, read without changing it. */
function recordedUnclean(file: string): { count: number; lastAt: number | null } | null {
  let db: Db | null = null;
  try {
    db = openDatabaseReadOnly(file);
    if (!db) return null;
    const row = db.prepare('SELECT COUNT(*) AS n, MAX(started_at) AS last FROM hardware_boots WHERE previous_clean = 0').get() as { n: number; last: number | null };
    return { count: row.n, lastAt: row.last };
  } catch {
    return null; // no hardware table yet: this box has not started with this version
  } finally {
    db?.close();
  }
}

export async function hardwareChecks(input: HardwareDoctorInput): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (id: string, title: string, verdict: DoctorCheck['verdict'], detail: string) => checks.push({ id, title, verdict, detail });
  const hw = input.ownHealth?.hardware ?? null;

  const recorded = hw ? { count: hw.uncleanShutdowns.count, lastAt: hw.uncleanShutdowns.lastAt ? Date.parse(hw.uncleanShutdowns.lastAt) : null } : recordedUnclean(databasePath(input.dataDir));
  const pending = !input.ownHealth && markerLeftBehind(input.dataDir);
  const count = (recorded?.count ?? 0) + (pending ? 1 : 0);
  const when = recorded?.lastAt ? `，最近一次在 ${new Date(recorded.lastAt).toISOString()} 发现 / last found at ${new Date(recorded.lastAt).toISOString()}` : '';
  add('unclean-shutdowns', '非正常关机 Unclean shutdowns', count > 0 ? 'warn' : 'ok',
    count > 0
      ? `盒子有 ${count} 次没有正常关机（停电、强制关机或崩溃）${when}${pending ? '；上次运行没有正常结束 / the last run did not stop cleanly' : ''}。请检查电源，最好接不间断电源 / ${count} unclean shutdown(s) (power cut, forced off or crash): check the power supply, a UPS helps`
      : '没有 / none');

  if (hw && hw.disk.trendBytesPerDay !== null) {
    const days = hw.disk.daysUntilFull;
    const perDay = (hw.disk.trendBytesPerDay / 1024 ** 3).toFixed(2);
    add('disk-trend', '磁盘趋势 Disk trend', days !== null && days < 7 ? (days < 2 ? 'fail' : 'warn') : 'ok',
      days !== null ? `每天 ${perDay} GB，约 ${days} 天后写满 / ${perDay} GB per day, full in about ${days} days` : `没有在变满（每天 ${perDay} GB）/ not filling (${perDay} GB per day)`);
  }

  const smart = hw ? hw.smart : await smartHealth((await findOnPath('smartctl')) ?? (await findOnPath('smartctl', '/usr/sbin:/sbin')));
  if (smart === null) {
    add('disk-health', '硬盘健康 Disk health (SMART)', 'ok', '没有安装 smartctl，无法检查；可安装 smartmontools / smartctl not installed: install smartmontools to check disks');
  } else {
    const bad = smart.filter((d) => d.problem !== null);
    add('disk-health', '硬盘健康 Disk health (SMART)', bad.some((d) => d.passed === false) ? 'fail' : bad.length ? 'warn' : 'ok',
      bad.length ? bad.map((d) => `${d.device}: ${d.problem}`).join('; ') : smart.length ? `${smart.map((d) => d.device).join(', ')} 正常 / healthy` : '没有找到可检查的硬盘 / no disk smartctl can read');
  }

  const temp = hw ? hw.cpuTemperatureC : await cpuTemperature();
  add('cpu-temperature', 'CPU 温度 CPU temperature', temp === null ? 'ok' : temp >= 90 ? 'fail' : temp >= 75 ? 'warn' : 'ok',
    temp === null ? '这台机器不提供温度 / not available on this machine'
      : `${temp.toFixed(0)} °C${temp >= 75 ? '：太热，请清理风扇和通风口 / too hot: clean the fan and vents' : ''}`);
  return checks;
}
