import { statfsSync } from 'node:fs';

export interface SpaceInputs {
  usedBytes: number;
  quotaBytes: number | null;
  reserveBytes: number;
  freeBytes: number;
}

export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

/** How many bytes must be freed before `need` more bytes fit under the quota and above the reserve. */
export function shortfall(i: SpaceInputs, need: number): number {
  const byQuota = i.quotaBytes === null ? 0 : i.usedBytes + need - i.quotaBytes;
  const byDisk = need + i.reserveBytes - i.freeBytes;
  return Math.max(0, byQuota, byDisk);
}

export interface EvictionCandidate {
  infohash: string;
  size: number;
  lastUsedAt: number;
}

/** Least recently used first, until the shortfall is covered; undefined when it cannot be covered. */
export function chooseEvictions(candidates: EvictionCandidate[], needBytes: number): EvictionCandidate[] | undefined {
  if (needBytes <= 0) return [];
  const out: EvictionCandidate[] = [];
  let got = 0;
  for (const c of [...candidates].sort((a, b) => a.lastUsedAt - b.lastUsedAt)) {
    out.push(c);
    got += c.size;
    if (got >= needBytes) return out;
  }
  return undefined;
}
