// Settings behind the PIN: a short session token kept in memory only (gone on reload, by design).
import { ref } from 'vue';
import type { BoxSettings } from '../../../core/contract/settings.js';
import type { DoctorReport } from '../../../core/contract/doctor.js';
import { getJson, request } from './http.js';

export const sessionToken = ref<string | null>(null);

export async function unlock(pin: string): Promise<void> {
  const out = await getJson<{ token: string }>('/api/settings/session', { method: 'POST', body: { pin } });
  sessionToken.value = out.token;
}

export async function lock(): Promise<void> {
  const token = sessionToken.value;
  sessionToken.value = null;
  if (token) await request('/api/settings/session', { method: 'DELETE', token }).catch(() => undefined);
}

export function getSettings(): Promise<BoxSettings> {
  return getJson<BoxSettings>('/api/settings', { token: sessionToken.value });
}

export interface SettingsPatch {
  ui?: Partial<BoxSettings['ui']>;
  sync?: Partial<BoxSettings['sync']>;
}

export async function saveSettings(patch: SettingsPatch): Promise<BoxSettings> {
  const out = await getJson<{ settings: BoxSettings }>('/api/settings', { method: 'PUT', body: patch, token: sessionToken.value });
  return out.settings;
}

export function runDoctor(): Promise<DoctorReport> {
  return getJson<DoctorReport>('/api/doctor', { token: sessionToken.value, timeoutMs: 30_000 });
}

/** The audit log as a file the technician can carry away (JSON lines). */
/** The box's whole audit log as a file: JSON lines, or CSV that Excel/WPS opens (UTF-8 with BOM, Chinese headers). */
export async function exportAudit(format: 'jsonl' | 'csv'): Promise<Blob> {
  const res = await request(`/api/audit/export?format=${format}`, { token: sessionToken.value, timeoutMs: 60_000 });
  return res.blob();
}

export function exportLog(): Promise<Blob> {
  return exportAudit('jsonl');
}

/** Teaching point: pair with the hub using the code shown on the hub's screen. */
export async function enrolWithHub(code: string): Promise<void> {
  await request('/api/hub/enrolment', { method: 'POST', body: { code }, token: sessionToken.value, timeoutMs: 20_000 });
}
