import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { join, relative, resolve, extname, basename } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { BoxError } from '../core/errors.js';
import type { KeyPair } from '../core/signing.js';
import { parseOrThrow } from '../core/validation.js';
import { writeFileAtomic, fsyncDir } from '../core/atomic-file.js';
import { catalogItemSchema, serializeManifest, signManifest, type CatalogItem, type SignedManifest } from './manifest.js';
import { makeTorrent, torrentInfo, PIECE_LENGTH } from './torrent-files.js';
import { sha256File } from './file-hash.js';
import { storeLayout } from './store-layout.js';
import { folderFiles, folderListing } from './item-files.js';

/** One entry of the `--meta` file: the item's catalogue fields and which file (or sub-folder, for a folder item) it is. */
const metaEntrySchema = catalogItemSchema.omit({ size: true, infohash: true, sha256: true, fileName: true, webSeeds: true, fileCount: true }).extend({
  file: z.string().min(1),
});
const publishMetaSchema = z.strictObject({
  publisher: z.string().trim().min(1).max(100),
  items: z.array(metaEntrySchema).min(1),
});
export type PublishMeta = z.infer<typeof publishMetaSchema>;

export interface PublishOptions {
  folder: string;
  meta: unknown;
  key: KeyPair;
  outDir: string;
  clock: Clock;
  /** Base URLs of web seeds (e.g. the seed box's public URL); each item gets `<base>/catalog/files/<infohash>`. */
  webSeedBases?: string[];
  trackers?: string[];
  version?: number;
  validDays?: number;
  signal?: AbortSignal;
}

/** Web-seed names are not URL-encoded and dotfiles are dropped from torrents (notes/webtorrent.md). */
export function sanitizeFileName(name: string): string {
  const ext = extname(name).replace(/[^A-Za-z0-9.]/g, '');
  let stem = basename(name, extname(name)).replace(/[#%/\\?*:|"<>\x00-\x1f]/g, '_').replace(/^\.+/, '').trim();
  if (!stem) stem = 'file';
  return `${stem}${ext}`.slice(0, 200);
}

function linkOrCopy(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

/** Names torrents and web seeds would drop or mangle are left out of a folder item: dotfiles and OS junk. */
const JUNK = /^(thumbs\.db|desktop\.ini|ehthumbs\.db|__macosx)$/i;

/**
 * Stages a folder item under safe names (each path part sanitized like a file name). Returns how many
 * files it holds. Empty files are refused: BitTorrent clients do not all create them.
 */
function stageFolder(src: string, staged: string, itemId: string): number {
  const seen = new Set<string>();
  let n = 0;
  for (const rel of folderFiles(src)) {
    const parts = rel.split('/');
    if (parts.some((p) => p.startsWith('.') || JUNK.test(p))) continue;
    const safe = parts.map(sanitizeFileName).join('/');
    if (seen.has(safe.toLowerCase())) throw new BoxError('E_VALIDATION', `Item ${itemId}: two files become ${safe} once their names are made safe for web seeds; rename one.`);
    seen.add(safe.toLowerCase());
    const from = join(src, ...parts);
    if (statSync(from).size === 0) throw new BoxError('E_VALIDATION', `Item ${itemId}: ${rel} is empty; remove it or give it content.`);
    const to = join(staged, ...safe.split('/'));
    mkdirSync(dirname(to), { recursive: true });
    linkOrCopy(from, to);
    n++;
  }
  if (n === 0) throw new BoxError('E_VALIDATION', `Item ${itemId}: the folder ${src} holds no files to publish.`);
  return n;
}

function previousVersion(outDir: string): number {
  const file = join(outDir, 'manifest.json');
  if (!existsSync(file)) return 0;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as SignedManifest).payload.version;
  } catch {
    return 0;
  }
}

/**
 * Builds the torrents and the signed manifest for a folder of resources. Files land in
 * `<out>/files/<infohash>/<name>` (the store layout every box uses), torrents in
 * `<out>/torrents/<infohash>.torrent`, the manifest in `<out>/manifest.json`, each written atomically.
 */
export async function publishFolder(o: PublishOptions): Promise<{ manifest: SignedManifest; items: CatalogItem[] }> {
  const meta = parseOrThrow(publishMetaSchema, o.meta, 'The --meta file');
  const folder = resolve(o.folder);
  const layout = storeLayout(o.outDir);
  for (const d of [layout.files, layout.torrents, layout.staging]) mkdirSync(d, { recursive: true });
  const items: CatalogItem[] = [];
  const names = new Set<string>();
  for (const entry of meta.items) {
    o.signal?.throwIfAborted();
    const src = resolve(folder, entry.file);
    if (relative(folder, src).startsWith('..')) throw new BoxError('E_VALIDATION', `${entry.file} is outside the folder ${folder}.`);
    const isFolder = existsSync(src) && statSync(src).isDirectory();
    if (!existsSync(src) || (!isFolder && !statSync(src).isFile())) throw new BoxError('E_VALIDATION', `${entry.file} (item ${entry.id}) is not a file or folder in ${folder}.`);
    if (names.has(entry.id)) throw new BoxError('E_VALIDATION', `Item id ${entry.id} appears twice in the --meta file.`);
    names.add(entry.id);
    const fileName = sanitizeFileName(basename(entry.file));
    // Stage under the sanitized name: the torrent's file name is what web seeds and peers see.
    const stageDir = join(layout.staging, entry.id);
    rmSync(stageDir, { recursive: true, force: true });
    mkdirSync(stageDir, { recursive: true });
    const staged = join(stageDir, fileName);
    let sha256: string;
    let size: number;
    let fileCount: number | undefined;
    if (isFolder) {
      fileCount = stageFolder(src, staged, entry.id);
      const listing = await folderListing(staged, o.signal);
      sha256 = listing.sha256;
      size = listing.size;
    } else {
      linkOrCopy(src, staged);
      sha256 = await sha256File(staged);
      size = statSync(staged).size;
    }
    const torrent = await makeTorrent(staged, fileName, { trackers: o.trackers ?? [], webSeeds: [] });
    const info = await torrentInfo(torrent);
    const infoHash = info.infoHash;
    if (fileCount !== undefined && info.files?.length !== fileCount) {
      throw new BoxError('E_VALIDATION', `Item ${entry.id}: the torrent holds ${info.files?.length ?? 0} of the folder's ${fileCount} files.`);
    }
    const webSeeds = (o.webSeedBases ?? []).map((b) => `${b.replace(/\/$/, '')}/catalog/files/${infoHash}`);
    writeFileAtomic(join(layout.torrents, `${infoHash}.torrent`), Buffer.from(torrent));
    const finalDir = layout.fileDir(infoHash);
    if (!existsSync(join(finalDir, fileName))) {
      rmSync(finalDir, { recursive: true, force: true });
      renameSync(stageDir, finalDir);
      fsyncDir(layout.files);
    } else {
      rmSync(stageDir, { recursive: true, force: true });
    }
    const { file: _file, ...fields } = entry;
    items.push({ ...fields, size, sha256, infohash: infoHash, fileName, webSeeds, ...(fileCount !== undefined ? { fileCount } : {}) });
  }
  const now = o.clock.now();
  const version = o.version ?? Math.max(previousVersion(o.outDir) + 1, 1);
  const manifest = signManifest(o.key, {
    format: 'tpbox-catalog/1', publisher: meta.publisher, version,
    issuedAt: new Date(now).toISOString(), expires: new Date(now + (o.validDays ?? 30) * 86_400_000).toISOString(),
    pieceLength: PIECE_LENGTH, items,
  });
  writeFileAtomic(layout.manifest, serializeManifest(manifest));
  rmSync(layout.staging, { recursive: true, force: true });
  return { manifest, items };
}

