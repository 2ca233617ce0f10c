import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BoxError, isBoxError } from '../core/errors.js';
import { writeFileAtomic, fsyncDir } from '../core/atomic-file.js';
import type { SyncEngine } from './engine.js';
import { storeLayout } from './store-layout.js';
import { torrentInfo, torrentOfFiles } from './torrent-files.js';
import { folderFiles, folderListing, lexists, syncItemFiles, verifyItemFiles } from './item-files.js';
import { copyPlainFile, plainFileSize } from './plain-files.js';
import type { CatalogItem } from './manifest.js';

export interface ExportResult {
  items: number;
  bytes: number;
  /** Held items left out because they are not plain files (a store folder changed by hand). */
  skipped: string[];
}

/**
 * Copies the signed manifest and every verified item this box holds onto a USB folder: exactly the item's
 * plain files (an item holding anything else is left out and named, rather than carried to other boxes).
 */
export async function exportBundle(engine: SyncEngine, toDir: string): Promise<ExportResult> {
  const current = engine.manifestPath();
  if (!current) throw new BoxError('E_NOT_FOUND', 'This box holds no catalogue yet: nothing to export.');
  const out = storeLayout(toDir);
  mkdirSync(out.files, { recursive: true });
  mkdirSync(out.torrents, { recursive: true });
  let items = 0;
  let bytes = 0;
  const skipped: string[] = [];
  for (const row of engine.store.allLocal()) {
    if (row.state !== 'complete') continue;
    const held = engine.heldFile(row.infohash);
    const torrent = engine.store.torrent(row.infohash);
    if (!held || !torrent) continue;
    const dir = out.fileDir(row.infohash);
    mkdirSync(dir, { recursive: true });
    const target = join(dir, held.item.fileName);
    const tmp = `${target}.part`;
    rmSync(tmp, { recursive: true, force: true });
    try {
      await copyListed(held.path, tmp, held.item.fileCount ? folderFiles(held.path) : null);
    } catch (e) {
      if (!isBoxError(e) || e.code !== 'E_ITEM_NOT_PLAIN') throw e;
      rmSync(dir, { recursive: true, force: true });
      skipped.push(held.item.id);
      continue;
    }
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    writeFileAtomic(out.torrentFile(row.infohash), torrent);
    items++;
    bytes += held.item.size;
  }
  // The manifest goes last: a bundle cut short while copying has no manifest and is plainly incomplete.
  writeFileAtomic(out.manifest, readFileSync(current));
  return { items, bytes, skipped };
}

export interface ImportItemResult {
  itemId: string;
  outcome: 'imported' | 'already-held' | 'refused';
  code?: string;
  message?: string;
}

/**
 * Fills the box from a USB folder. The manifest must pass every check a network manifest passes;
 * then each item is checked on its own (size, sha256, infohash) and a bad one is refused with a
 * message while the good ones are imported.
 */
export async function importBundle(engine: SyncEngine, fromDir: string): Promise<{ manifestVersion: number; results: ImportItemResult[] }> {
  const src = storeLayout(fromDir);
  if (!existsSync(src.manifest)) throw new BoxError('E_MANIFEST_MALFORMED', `${fromDir} holds no manifest.json: not a resource bundle, or its copy was cut short.`);
  const raw = readFileSync(src.manifest, 'utf8');
  let version: number;
  try {
    version = engine.acceptManifest(raw, 'usb').manifest.payload.version;
  } catch (e) {
    // An older bundle is still useful for the items the current catalogue lists with the same hashes.
    if (!isBoxError(e) || e.code !== 'E_MANIFEST_ROLLBACK') throw e;
    version = (e.details as { version: number }).version;
  }
  const results: ImportItemResult[] = [];
  const dst = engine.layout;
  // Collected first: better-sqlite3 cannot write while a statement is still iterating.
  for (const item of [...engine.store.iterateItems()]) {
    const file = join(src.fileDir(item.infohash), item.fileName);
    if (!lexists(file)) continue;
    if (engine.store.local(item.infohash)?.state === 'complete') {
      results.push({ itemId: item.id, outcome: 'already-held' });
      continue;
    }
    const stage = join(dst.partial, `${item.infohash}.import`);
    try {
      const code = await importItem(engine, item, file, stage);
      results.push(code ? { itemId: item.id, outcome: 'refused', ...code } : { itemId: item.id, outcome: 'imported' });
    } catch (e) {
      if (!isBoxError(e) || e.code !== 'E_ITEM_NOT_PLAIN') throw e;
      // Nothing of the item is kept: its staged copy goes, the store never saw it.
      results.push({ itemId: item.id, outcome: 'refused', code: e.code, message: `${item.id} 「${item.title}」: ${e.message} Not imported.` });
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
  return { manifestVersion: version, results };
}

/** Copies exactly the listed plain files of an item (never a link: each is opened without following one). */
async function copyListed(from: string, to: string, files: readonly string[] | null): Promise<void> {
  if (!files) return copyPlainFile(from, to);
  mkdirSync(to);
  for (const rel of files) {
    const parts = rel.split('/');
    mkdirSync(join(to, ...parts.slice(0, -1)), { recursive: true });
    await copyPlainFile(join(from, ...parts), join(to, ...parts), rel);
  }
}

/**
 * Checks one item on the USB drive and moves it into the store; a refusal's code and message, or undefined
 * when imported. Throws E_ITEM_NOT_PLAIN for a link, device, FIFO or socket anywhere in it.
 */
async function importItem(engine: SyncEngine, item: CatalogItem, file: string, stage: string): Promise<{ code: string; message: string } | undefined> {
  const dst = engine.layout;
  // The listing refuses anything but plain files and folders, so the size, the hash and the torrent below all see the same files.
  const files = item.fileCount ? folderFiles(file) : null;
  const size = files ? (await folderListing(file)).size : plainFileSize(file, item.fileName);
  if (size !== item.size) return { code: 'E_BUNDLE_ITEM', message: `${item.id} 「${item.title}」: ${size} of ${item.size} bytes on the USB drive (truncated copy); not imported.` };
  if (!(await verifyItemFiles(dirname(file), item))) {
    return { code: 'E_BUNDLE_ITEM', message: `${item.id} 「${item.title}」: its contents do not match the signed catalogue (changed or damaged); not imported.` };
  }
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const staged = join(stage, item.fileName);
  await copyListed(file, staged, files);
  // The torrent is rebuilt from exactly the staged, listed files: it checks the infohash and spares a trust in the bundle's .torrent.
  const torrent = await torrentOfFiles(staged, item.fileName, files);
  if ((await torrentInfo(torrent)).infoHash !== item.infohash) return { code: 'E_BUNDLE_ITEM', message: `${item.id}: the file does not give the catalogue's infohash; not imported.` };
  if (!(await verifyItemFiles(stage, item))) return { code: 'E_BUNDLE_ITEM', message: `${item.id}: the copy onto this box was damaged; not imported.` };
  syncItemFiles(stage, item);
  rmSync(dst.fileDir(item.infohash), { recursive: true, force: true });
  rmSync(dst.partialDir(item.infohash), { recursive: true, force: true });
  renameSync(stage, dst.fileDir(item.infohash));
  fsyncDir(dst.files);
  engine.store.saveTorrent(item.infohash, Buffer.from(torrent));
  engine.store.startLocal(item.infohash, item.size);
  engine.store.markComplete(item.infohash);
  return undefined;
}
