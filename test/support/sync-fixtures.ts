// Resource catalogues for sync tests: real files, a real publish, real boxes syncing over loopback.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KeyPair } from '../../core/signing.js';
import { systemClock } from '../../core/clock.js';
import { publishFolder, type PublishMeta } from '../../sync/publish.js';
import type { ItemKind } from '../../sync/manifest.js';
import { startTestBox, pinSession, type TestBox } from './boxes.js';
import { waitFor } from './daemon.js';

export interface ContentSpec {
  id: string;
  title: string;
  subject?: string;
  grade?: number;
  unit?: string;
  kind?: ItemKind;
  tags?: string[];
  bytes: number;
  file?: string;
}

/** Writes random files for the specs and returns the `--meta` document that describes them. */
export function makeContent(folder: string, specs: ContentSpec[]): PublishMeta {
  mkdirSync(folder, { recursive: true });
  const items = specs.map((s) => {
    const file = s.file ?? `${s.id}.bin`;
    writeFileSync(join(folder, file), randomBytes(s.bytes));
    return {
      id: s.id, title: s.title, subject: s.subject ?? '数学', grade: s.grade ?? 3, edition: '人教版', unit: s.unit ?? '第一单元',
      kind: s.kind ?? 'exercise-set', tags: s.tags ?? [], file,
    };
  });
  return { publisher: '县教育局资源中心', items };
}

/** Publishes a folder into a seed box's store folder (what `box publish` does on the seed). */
export async function publishToSeed(seedDataDir: string, publisher: KeyPair, folder: string, meta: PublishMeta, opts: { version?: number; validDays?: number; webSeedBases?: string[] } = {}) {
  return publishFolder({ folder, meta, key: publisher, outDir: join(seedDataDir, 'sync'), clock: systemClock, ...opts });
}

export async function startSeed(county: KeyPair, publisher: KeyPair, dataDir: string): Promise<TestBox> {
  return startTestBox({ county, dataDir, draft: { role: 'seed', schoolId: 'county-seed', name: '县资源节点', publisherKeys: [publisher.publicKey] } });
}

export async function startSyncHub(county: KeyPair, publisher: KeyPair, dataDir: string): Promise<TestBox> {
  return startTestBox({ county, dataDir, draft: { role: 'hub', schoolId: 'hub-school', name: '中心校', publisherKeys: [publisher.publicKey] } });
}

export async function setPreferences(baseUrl: string, prefs: Record<string, unknown>): Promise<void> {
  const token = await pinSession(baseUrl);
  const res = await fetch(`${baseUrl}/api/catalog/preferences`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(prefs) });
  if (!res.ok) throw new Error(`preferences: ${res.status} ${await res.text()}`);
}

export async function refresh(baseUrl: string): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const token = await pinSession(baseUrl);
  const res = await fetch(`${baseUrl}/api/catalog/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { code?: string } };
}

export async function library(baseUrl: string, query = ''): Promise<{ total: number; items: Array<{ id: string; sha256: string; title: string; size: number }> }> {
  const res = await fetch(`${baseUrl}/api/library${query ? `?${query}` : ''}`);
  if (!res.ok) throw new Error(`library: ${res.status} ${await res.text()}`);
  return (await res.json()) as { total: number; items: Array<{ id: string; sha256: string; title: string; size: number }> };
}

export async function waitForLibrary(baseUrl: string, count: number, timeoutMs = 60_000) {
  return waitFor(async () => {
    const l = await library(baseUrl, 'limit=500');
    return l.total >= count ? l : undefined;
  }, timeoutMs, 250);
}
