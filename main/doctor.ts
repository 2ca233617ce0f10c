import { createServer } from 'node:net';
import type { BoxConfig, ProvisionPayload } from '../core/config.js';
import type { HealthReport } from '../core/contract/health.js';
import { diskSpace } from '../hardware/disk.js';
import { probeFfmpeg } from '../hardware/ffmpeg.js';
import { discoverDevices } from '../hardware/devices.js';
import { hardwareChecks } from '../hardware/doctor-checks.js';
import { recordingCheck, recordingTransferCheck } from '../recordings/checks.js';

import type { DoctorCheck, DoctorReport, DoctorVerdict } from '../core/contract/doctor.js';

export type { DoctorReport };

const GiB = 1024 ** 3;

export interface DoctorInput {
  config: BoxConfig;
  provisioning: ProvisionPayload | undefined;
  /** The running daemon's own health, if it answered. */
  ownHealth: HealthReport | undefined;
  ffmpegPath?: string;
}

async function fetchJson<T>(url: string, timeoutMs = 4000): Promise<{ body: T; sentAt: number; receivedAt: number }> {
  const sentAt = Date.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as T;
  return { body, sentAt, receivedAt: Date.now() };
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, ipv6Only: false }, () => srv.close(() => resolve(true)));
  });
}

/**
 * The technician's check before leaving a school. `fail` means a lesson would not work;
 * `warn` means it would, with something missing that the technician should know about.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const { config, provisioning, ownHealth } = input;
  const role = provisioning?.role ?? null;
  const checks: DoctorCheck[] = [];
  const add = (id: string, title: string, verdict: DoctorVerdict, detail: string) => checks.push({ id, title, verdict, detail });

  add('provisioned', '配置 Provisioning', provisioning ? 'ok' : 'fail',
    provisioning ? `${provisioning.name}（${role}，学校 ${provisioning.schoolId}）` : '还没有配置：运行 box provision <bundle.json> / not provisioned: run box provision');

  try {
    const d = await diskSpace(config.dataDir);
    const gb = (d.availableBytes / GiB).toFixed(1);
    add('disk', '磁盘空间 Free disk', d.availableBytes < GiB ? 'fail' : d.availableBytes < 5 * GiB ? 'warn' : 'ok', `剩余 ${gb} GB / ${gb} GB free on ${config.dataDir}`);
  } catch (e) {
    add('disk', '磁盘空间 Free disk', 'fail', `无法读取数据盘 / cannot read the data disk: ${(e as Error).message}`);
  }

  const ff = await probeFfmpeg(input.ffmpegPath ? { ffmpegPath: input.ffmpegPath } : {});
  const ffNeeded = role !== 'seed';
  add('ffmpeg', 'ffmpeg 录制 Recording', ff.works ? 'ok' : ffNeeded ? 'fail' : 'warn',
    ff.works ? `${ff.path} (${ff.version ?? '?'}) 可用 / works` : `不可用，课堂无法录制 / not usable, lessons cannot be recorded: ${ff.error ?? 'unknown'}`);

  const devices = await discoverDevices();
  const camNeeded = role === 'hub' ? 'fail' : 'warn';
  add('cameras', '摄像头 Cameras', devices.cameras.length ? 'ok' : role === 'seed' ? 'ok' : camNeeded,
    devices.cameras.length ? devices.cameras.map((c) => `${c.name} (${c.devicePath})`).join('; ') : '没有发现摄像头 / no camera found');
  add('microphones', '麦克风 Microphones', devices.microphones.length ? 'ok' : role === 'seed' ? 'ok' : camNeeded,
    devices.microphones.length ? devices.microphones.map((m) => m.alsaName).join('; ') : '没有发现麦克风 / no microphone found');

  if (provisioning?.role === 'teaching-point') {
    const hubUrl = provisioning.hub.url;
    try {
      const { body, sentAt, receivedAt } = await fetchJson<HealthReport>(new URL('/api/health', hubUrl).toString());
      add('hub-reachable', '中心校连接 Hub reachable', 'ok', `${hubUrl} 在 ${receivedAt - sentAt} ms 内应答 / answered in ${receivedAt - sentAt} ms`);
      add('hub-key', '中心校密钥 Hub key', body.publicKey === provisioning.hub.publicKey ? 'ok' : 'fail',
        body.publicKey === provisioning.hub.publicKey ? '与配置包一致 / matches the bundle' : `与配置包不一致：应答的是另一台盒子 ${body.boxId} / does not match the bundle: ${hubUrl} is box ${body.boxId}`);
      const skewMs = Date.parse(body.clock.now) - (sentAt + receivedAt) / 2;
      const abs = Math.abs(skewMs);
      add('clock', '时钟 Clock vs hub', abs > 300_000 ? 'warn' : 'ok',
        `本机时钟与中心校相差 ${(skewMs / 1000).toFixed(1)} 秒 / ${(skewMs / 1000).toFixed(1)} s from the hub${abs > 300_000 ? '（盒子会跟随中心校时间，但请校准 / the box follows the hub, but set the clock）' : ''}`);
    } catch (e) {
      add('hub-reachable', '中心校连接 Hub reachable', 'fail', `${hubUrl} 无法连接 / not reachable: ${(e as Error).message}`);
    }
    if (ownHealth?.hub) {
      add('enrolment', '注册 Enrolment', ownHealth.hub.enrolled ? 'ok' : 'fail',
        ownHealth.hub.enrolled ? '已在中心校注册 / enrolled with the hub' : `未注册 / not enrolled: ${ownHealth.hub.problem ?? 'waiting'}`);
    }
  }

  checks.push(...(await hardwareChecks({ dataDir: config.dataDir, ownHealth })));
  const rec = recordingCheck(ownHealth ? ownHealth.recording ?? null : undefined);
  if (rec) checks.push(rec);
  const moving = recordingTransferCheck(ownHealth ? ownHealth.recordingTransfers ?? null : undefined);
  if (moving) checks.push(moving);

  const host = provisioning?.network.listenHost ?? config.listen.host;
  const port = provisioning?.network.port ?? config.listen.port;
  if (ownHealth) {
    add('daemon', '盒子服务 Box service', 'ok', `正在运行，端口 ${port} / running on port ${port} (${ownHealth.boxId})`);
    if (ownHealth.identity.notice === 'cloned') {
      add('identity', '身份 Identity', 'warn', `数据目录是从 ${ownHealth.identity.previousBoxId} 复制来的，已生成新身份，需要重新注册 / data folder was copied from another box: fresh identity made, enrol again`);
    }
  } else {
    const free = port === 0 || (await portFree(host, port));
    add('daemon', '盒子服务 Box service', free ? 'warn' : 'fail',
      free ? `没有运行；端口 ${port} 空闲 / not running; port ${port} is free` : `没有运行，而端口 ${port} 被其他程序占用 / not running and port ${port} is taken by another program`);
  }
  return { ok: checks.every((c) => c.verdict !== 'fail'), role, checks };
}

export function doctorText(r: DoctorReport): string {
  const mark: Record<DoctorVerdict, string> = { ok: '✔ 正常', warn: '! 注意', fail: '✖ 故障' };
  const lines = r.checks.map((c) => `${mark[c.verdict]}  ${c.title}: ${c.detail}`);
  lines.push('', r.ok ? '可以上课 / Ready for lessons.' : '有故障会影响上课，请先处理 / Something here would stop a lesson: fix the ✖ lines first.');
  return lines.join('\n');
}
