import { z } from 'zod';

/** What a technician sets for this box's sync (beyond the bandwidth settings behind the PIN). */
export const syncPreferencesSchema = z.strictObject({
  /** Extra catalogue sources (box base URLs); a teaching point always asks its hub. */
  sources: z.array(z.url({ protocol: /^https?$/ })).max(8).default([]),
  subscriptions: z.strictObject({
    grades: z.array(z.number().int().min(0).max(12)).max(13).nullable().default(null),
    subjects: z.array(z.string().min(1).max(50)).max(50).nullable().default(null),
  }).default({ grades: null, subjects: null }),
  pinnedItems: z.array(z.string().min(1).max(100)).max(10_000).default([]),
  quotaBytes: z.number().int().min(0).nullable().default(null),
  reserveBytes: z.number().int().min(0).default(512 * 1024 * 1024),
  /** The WAN link's rate; the lesson share is computed from it. */
  linkKbps: z.number().int().min(8).max(10_000_000).nullable().default(null),
  maxActiveDownloads: z.number().int().min(1).max(16).default(3),
  /** Peers first: web seeds join a download only after this long without progress from peers. */
  webSeedFallbackMs: z.number().int().min(0).max(3_600_000).default(15_000),
  /** How often to ask the sources for a newer manifest. */
  manifestIntervalMs: z.number().int().min(1000).max(86_400_000).default(60_000),
  /** Where resources live; a separate disk or partition is common. */
  storeDir: z.string().startsWith('/').nullable().default(null),
});
export type SyncPreferences = z.infer<typeof syncPreferencesSchema>;
export const syncPreferencesPatchSchema = syncPreferencesSchema.partial();

export function defaultPreferences(): SyncPreferences {
  return syncPreferencesSchema.parse({});
}
