// Items that are a folder (a digital textbook or exercise set of thousands of files) next to items that are
// one file: how each is verified, made durable, found and served. A folder item's `sha256` is the digest of
// its listing (sha256, size and path of every file), so one signed value covers every file's contents.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogItem } from './manifest.js';
import type { CatalogStore } from './catalog-store.js';
import type { StoreLayout } from './store-layout.js';
import { sha256File } from './file-hash.js';
import { openPlainFile, plainFiles, plainFileSize, safeParts } from './plain-files.js';

export interface FolderListing {
  sha256: string;
  size: number;
  count: number;
}

/**
 * Every file under `dir` as '/'-separated relative paths, sorted by code unit (the listing's order).
 * A link, device, FIFO or socket anywhere under it is refused (E_ITEM_NOT_PLAIN), never skipped.
 */
export function folderFiles(dir: string): string[] {
  return plainFiles(dir);
}

async function fileSha256(path: string, size: number): Promise<string> {
  // Small files are read whole (thousands of streams cost more than the bytes); big ones stream.
  if (size <= 4 * 1024 * 1024) return createHash('sha256').update(await readFile(path)).digest('hex');
  return sha256File(path);
}

/** The digest a folder item's `sha256` holds: sha256 over "<sha256> <size> <path>\n" for each file in order. */
export async function folderListing(dir: string, signal?: AbortSignal): Promise<FolderListing> {
  const h = createHash('sha256');
  let size = 0;
  let count = 0;
  for (const rel of folderFiles(dir)) {
    signal?.throwIfAborted();
    const path = join(dir, ...rel.split('/'));
    const n = plainFileSize(path, rel);
    h.update(`${await fileSha256(path, n)} ${n} ${rel}\n`);
    size += n;
    count++;
  }
  return { sha256: h.digest('hex'), size, count };
}

/** Where an item lives under a store folder (`files/<ih>` or `partial/<ih>`): a file or a folder named `fileName`. */
export function itemPath(itemDir: string, item: CatalogItem): string {
  return join(itemDir, item.fileName);
}

/**
 * True when what is under `itemDir` is exactly the item the signed catalogue describes. Throws
 * E_ITEM_NOT_PLAIN when the item is, or holds, anything but plain files and folders.
 */
export async function verifyItemFiles(itemDir: string, item: CatalogItem): Promise<boolean> {
  const path = itemPath(itemDir, item);
  if (!lexists(path)) return false;
  if (!item.fileCount) return plainFileSize(path, item.fileName) === item.size && (await sha256File(path)) === item.sha256;
  const l = await folderListing(path);
  return l.count === item.fileCount && l.size === item.size && l.sha256 === item.sha256;
}

/** Whether anything (a link too) stands at the path, without following it. */
export function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** Flushes an item's file, or every file and folder of a folder item, before it is renamed into the library. */
export function syncItemFiles(itemDir: string, item: CatalogItem): void {
  const path = itemPath(itemDir, item);
  if (!item.fileCount) return fsyncPath(path);
  const dirs = new Set<string>([path]);
  for (const d of readdirSync(path, { recursive: true, withFileTypes: true })) {
    const p = join(d.parentPath, d.name);
    if (d.isFile()) fsyncPath(p);
    else if (d.isDirectory()) dirs.add(p);
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) fsyncPath(d);
}

/** What `box publish` left in the store folder is complete (it renames each item into place whole). */
export function publishedPresent(layout: StoreLayout, item: CatalogItem): boolean {
  const path = itemPath(layout.fileDir(item.infohash), item);
  if (!lexists(path)) return false;
  const st = lstatSync(path);
  return item.fileCount ? st.isDirectory() : st.isFile() && st.size === item.size;
}

/** Catalogue items that have a published torrent in the store folder (what the seed adopts), read from the torrents folder. */
export function publishedItems(store: CatalogStore, layout: StoreLayout): CatalogItem[] {
  if (!existsSync(layout.torrents)) return [];
  const out: CatalogItem[] = [];
  for (const name of readdirSync(layout.torrents)) {
    const m = /^([0-9a-f]{40})\.torrent$/.exec(name);
    if (!m) continue;
    out.push(...store.itemsByInfohash(m[1]!));
  }
  return out;
}

/**
 * The absolute path of file `rel` inside a held folder item, or undefined when `rel` leaves the folder,
 * passes through a link or names no plain file. `rel` is '/'-separated, relative to the folder.
 */
export function fileInFolder(folder: string, rel: string): string | undefined {
  const parts = safeParts(rel);
  const opened = parts && openPlainFile(folder, parts);
  if (!opened) return undefined;
  closeSync(opened.fd);
  return join(folder, ...parts!);
}
