import { existsSync } from 'node:fs';
import { databasePath, openDatabaseReadOnly } from '../core/store/database.js';
import type { BoxConfig } from '../core/config.js';
import type { HealthReport } from '../core/contract/health.js';
import { readIdentity } from '../core/identity.js';
import { systemClock } from '../core/clock.js';
import { loadProvisioning } from './provisioning-store.js';

import type { IdentityNotice } from './http/context.js';

export interface StatusReport {
  dataDir: string;
  boxId: string | null;
  publicKey: string | null;
  identityCreatedAt: string | null;
  identityNotice: IdentityNotice | null;
  /** True when the identity on disk was made for another machine or folder: the next start replaces it. */
  identityWillBeReplaced: boolean;
  provisioned: boolean;
  role: string | null;
  name: string | null;
  schoolId: string | null;
  hubUrl: string | null;
  enrolled: boolean | null;
  running: boolean;
  health: HealthReport | null;
}

/** What `box status` shows; reads the data folder directly, so it works with the daemon stopped. */
export async function readStatus(config: BoxConfig): Promise<StatusReport> {
  const ident = readIdentity(config.dataDir);
  const prov = loadProvisioning(config.dataDir, config.trust.countyKeys, systemClock);
  let notice: IdentityNotice | null = null;
  let enrolled: boolean | null = null;
  const dbFile = databasePath(config.dataDir);
  if (existsSync(dbFile)) {
    const db = openDatabaseReadOnly(dbFile);
    if (db) try {
      const get = db.prepare('SELECT value FROM box_state WHERE key = ?');
      const n = get.get('identity.notice') as { value: string } | undefined;
      notice = n ? (JSON.parse(n.value) as IdentityNotice) : null;
      if (prov?.role === 'teaching-point') {
        const e = get.get('enrolment') as { value: string } | undefined;
        enrolled = e ? (JSON.parse(e.value) as { myBoxId: string }).myBoxId === ident?.boxId : false;
      }
    } finally {
      db.close();
    }
  }
  const host = prov?.network.listenHost ?? config.listen.host;
  const port = prov?.network.port ?? config.listen.port;
  let health: HealthReport | null = null;
  try {
    const h = host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const res = await fetch(`http://${h}:${port}/api/health`, { signal: AbortSignal.timeout(2000) });
    if (res.ok) health = (await res.json()) as HealthReport;
  } catch {
    health = null;
  }
  return {
    dataDir: config.dataDir,
    boxId: ident?.boxId ?? null,
    publicKey: ident?.publicKey ?? null,
    identityCreatedAt: ident?.createdAt ?? null,
    identityNotice: notice,
    identityWillBeReplaced: ident ? !ident.fingerprintMatches : false,
    provisioned: prov !== undefined,
    role: prov?.role ?? null,
    name: prov?.name ?? null,
    schoolId: prov?.schoolId ?? null,
    hubUrl: prov?.role === 'teaching-point' ? prov.hub.url : null,
    enrolled: health?.hub ? health.hub.enrolled : enrolled,
    running: health !== null && health.boxId === ident?.boxId,
    health,
  };
}

export function statusText(s: StatusReport): string {
  const lines = [
    `盒子编号 Box id:      ${s.boxId ?? '（尚未生成，首次启动时生成 / made at first start）'}`,
    `公钥 Public key:      ${s.publicKey ?? '-'}`,
    `配置 Provisioned:     ${s.provisioned ? `是 yes — ${s.name}（${s.role}，${s.schoolId}）` : '否 no — run `box provision <bundle.json>`'}`,
  ];
  if (s.hubUrl) lines.push(`中心校 Hub:           ${s.hubUrl} — ${s.enrolled ? '已注册 enrolled' : '未注册 not enrolled'}`);
  if (s.identityNotice?.reason === 'cloned') {
    lines.push(`身份 Identity:        数据目录是从盒子 ${s.identityNotice.previousBoxId} 复制来的，${new Date(s.identityNotice.at).toISOString()} 已生成新身份；需要在中心校重新注册。`);
    lines.push('                      This data folder was copied from another box: a fresh identity was made; enrol it with the hub again.');
  }
  if (s.identityWillBeReplaced) lines.push('身份 Identity:        这份身份属于另一台机器或目录，下次启动会生成新身份 / belongs to another machine or folder: the next start makes a fresh one.');
  lines.push(`服务 Service:         ${s.running ? `运行中 running, up ${s.health?.uptimeSeconds ?? 0} s` : '未运行 not running'}`);
  lines.push(`数据 Data folder:     ${s.dataDir}`);
  return lines.join('\n');
}
