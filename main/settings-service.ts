import { z } from 'zod';
import type { Db } from '../core/store/database.js';
import type { KvStore } from '../core/store/kv-store.js';
import type { AuditStore } from '../core/store/audit-store.js';
import { defaultSettings, type BoxSettings } from '../core/contract/settings.js';
import { parseOrThrow } from '../core/validation.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day "HH:MM"');
const kbps = z.number().int().min(8).max(10_000_000).nullable();

const settingsPatchSchema = z.strictObject({
  ui: z.strictObject({
    language: z.enum(['zh-CN', 'en']),
    volume: z.number().int().min(0).max(100),
  }).partial().optional(),
  sync: z.strictObject({
    lessonSharePercent: z.number().int().min(0).max(100),
    uploadLimitKbps: kbps,
    downloadLimitKbps: kbps,
    window: z.strictObject({ start: hhmm, end: hhmm }).nullable(),
    lanDiscovery: z.boolean(),
  }).partial().optional(),
  recording: z.strictObject({ enabled: z.boolean() }).partial().optional(),
});

type Section = keyof BoxSettings;

/** Settings behind the PIN; every change and its audit row commit together or not at all. */
export class SettingsService {
  private readonly listeners = new Set<(s: BoxSettings) => void>();

  constructor(private readonly db: Db, private readonly kv: KvStore, private readonly audit: AuditStore) {}

  /** Called after every committed change (a new upload limit takes effect at once, not next round). */
  onChange(listener: (s: BoxSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(): BoxSettings {
    const out = structuredClone(defaultSettings) as BoxSettings;
    for (const section of Object.keys(out) as Section[]) {
      const stored = this.kv.get<Record<string, unknown>>(section);
      if (stored) Object.assign(out[section], stored);
    }
    return out;
  }

  update(patch: unknown, actor: string): { settings: BoxSettings; auditId: number } {
    const parsed = parseOrThrow(settingsPatchSchema, patch, 'The settings change');
    const result = this.db.transaction(() => {
      const current = this.get();
      for (const section of Object.keys(parsed) as Section[]) {
        const change = parsed[section];
        if (!change) continue;
        Object.assign(current[section], change);
        this.kv.set(section, current[section]);
      }
      const auditId = this.audit.append({ actor, action: 'settings.update', outcome: 'ok', details: { changed: parsed } });
      return { settings: current, auditId };
    })();
    for (const l of this.listeners) l(result.settings);
    return result;
  }
}
