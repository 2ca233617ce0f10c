// The offline library (GET /api/library, /api/library/tree, items with Range files) and sync progress.
import { load, type Loaded } from './http.js';
import type { LibraryItem, LibraryPage, LibraryQuery, LibraryTreeEntry } from '../../../core/contract/library.js';

export type { LibraryItem, LibraryPage, LibraryQuery };
export type TreeEntry = LibraryTreeEntry;

export const LIBRARY_PAGE = 200;

export function libraryItems(query: LibraryQuery, offset = 0): Promise<Loaded<LibraryPage>> {
  const params = new URLSearchParams({ limit: String(LIBRARY_PAGE), offset: String(offset) });
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  return load<LibraryPage>(`/api/library?${params.toString()}`);
}

export function libraryTree(): Promise<Loaded<{ entries: TreeEntry[] }>> {
  return load<{ entries: TreeEntry[] }>('/api/library/tree');
}

export function fileUrl(id: string): string {
  return `/api/library/items/${encodeURIComponent(id)}/file`;
}

/** The file URL of a library item if this box holds it, else null. */
export async function libraryFileUrl(id: string): Promise<string | null> {
  const out = await load<{ file: string }>(`/api/library/items/${encodeURIComponent(id)}`);
  return out.state === 'ready' ? out.data.file : null;
}

export type ViewKind = 'video' | 'pdf' | 'image' | 'audio' | 'other';

export function viewKind(kind: string): ViewKind {
  if (kind === 'video') return 'video';
  if (kind === 'courseware-pdf' || kind === 'textbook' || kind === 'exercise-set') return 'pdf';
  if (kind === 'image') return 'image';
  if (kind === 'audio') return 'audio';
  return 'other';
}

export interface SyncStatus {
  downloads: Array<{ itemId: string; progress: number }>;
  waiting: Array<{ infohash: string; code: string | null }>;
  /** Why sync runs slower or not at all now (a lesson has the link, outside the sync hours). */
  plan?: { paused: boolean; reason: 'open' | 'lesson-share' | 'lesson-paused' | 'outside-window' };
}

export function syncStatus(): Promise<Loaded<SyncStatus>> {
  return load<SyncStatus>('/api/catalog/status');
}

/** Overall progress of what is downloading now (0…1), or null when nothing is. */
export function syncProgress(s: SyncStatus): number | null {
  if (s.downloads.length === 0) return null;
  return s.downloads.reduce((a, d) => a + d.progress, 0) / s.downloads.length;
}
