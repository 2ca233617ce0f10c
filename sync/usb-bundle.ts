import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BoxError, isBoxError } from '../core/errors.js';
import { writeFileAtomic, fsyncDir } from '../core/atomic-file.js';
import type { SyncEngine } from './engine.js';
import { storeLayout } from './store-layout.js';
import { makeTorrent, torrentInfo } from './torrent-files.js';
import { folderListing, verifyItemFiles } from './item-files.js';

export interface ExportResult {
  items: number;
  bytes: number;
}

/** Copies the signed manifest and every verified item this box holds onto a USB folder. */
export function exportBundle(engine: SyncEngine, toDir: string): ExportResult {
  const current = engine.manifestPath();
  if (!current) throw new BoxError('E_NOT_FOUND', 'This box holds no catalogue yet: nothing to export.');
  const out = storeLayout(toDir);
  mkdirSync(out.files, { recursive: true });
  mkdirSync(out.torrents, { recursive: true });
  let items = 0;
  let bytes = 0;
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
    if (held.item.fileCount) cpSync(held.path, tmp, { recursive: true });
    else copyFileSync(held.path, tmp);
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    writeFileAtomic(out.torrentFile(row.infohash), torrent);
    items++;
    bytes += held.item.size;
  }
  // The manifest goes last: a bundle cut short while copying has no manifest and is plainly incomplete.
  writeFileAtomic(out.manifest, readFileSync(current));
  return { items, bytes };
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
    if (!existsSync(file)) continue;
    if (engine.store.local(item.infohash)?.state === 'complete') {
      results.push({ itemId: item.id, outcome: 'already-held' });
      continue;
    }
    const refuse = (code: string, message: string) => results.push({ itemId: item.id, outcome: 'refused', code, message });
    const size = item.fileCount ? (await folderListing(file)).size : statSync(file).size;
    if (size !== item.size) {
      refuse('E_BUNDLE_ITEM', `${item.id} 「${item.title}」: ${size} of ${item.size} bytes on the USB drive (truncated copy); not imported.`);
      continue;
    }
    if (!(await verifyItemFiles(src.fileDir(item.infohash), item))) {
      refuse('E_BUNDLE_ITEM', `${item.id} 「${item.title}」: its contents do not match the signed catalogue (changed or damaged); not imported.`);
      continue;
    }
    const stage = join(dst.partial, `${item.infohash}.import`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    const staged = join(stage, item.fileName);
    if (item.fileCount) cpSync(file, staged, { recursive: true });
    else copyFileSync(file, staged);
    // Rebuilding the torrent from the verified file both checks the infohash and spares a trust in the bundle's .torrent.
    const torrent = await makeTorrent(staged, item.fileName, { trackers: [], webSeeds: [] });
    if ((await torrentInfo(torrent)).infoHash !== item.infohash) {
      rmSync(stage, { recursive: true, force: true });
      refuse('E_BUNDLE_ITEM', `${item.id}: the file does not give the catalogue's infohash; not imported.`);
      continue;
    }
    if (!(await verifyItemFiles(stage, item))) {
      rmSync(stage, { recursive: true, force: true });
      refuse('E_BUNDLE_ITEM', `${item.id}: the copy onto this box was damaged; not imported.`);
      continue;
    }
    rmSync(dst.fileDir(item.infohash), { recursive: true, force: true });
    rmSync(dst.partialDir(item.infohash), { recursive: true, force: true });
    renameSync(stage, dst.fileDir(item.infohash));
    fsyncDir(dst.files);
    engine.store.saveTorrent(item.infohash, torrent);
    engine.store.startLocal(item.infohash, item.size);
    engine.store.markComplete(item.infohash);
    results.push({ itemId: item.id, outcome: 'imported' });
  }
  return { manifestVersion: version, results };
}
