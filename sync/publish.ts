import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, extname, basename } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { BoxError } from '../core/errors.js';
import type { KeyPair } from '../core/signing.js';
import { parseOrThrow } from '../core/validation.js';
import { writeFileAtomic, fsyncDir } from '../core/atomic-file.js';
import { catalogItemSchema, signManifest, type CatalogItem, type SignedManifest } from './manifest.js';
import { makeTorrent, torrentInfo, PIECE_LENGTH } from './torrent-files.js';
import { sha256File } from './file-hash.js';
import { storeLayout } from './store-layout.js';

/** One entry of the `--meta` file: the item's catalogue fields and which file of the folder it is. */
const metaEntrySchema = catalogItemSchema.omit({ size: true, infohash: true, sha256: true, fileName: true, webSeeds: true }).extend({
  file: z.string().min(1),
});
export const publishMetaSchema = z.strictObject({
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
    if (!existsSync(src) || !statSync(src).isFile()) throw new BoxError('E_VALIDATION', `${entry.file} (item ${entry.id}) is not a file in ${folder}.`);
    if (names.has(entry.id)) throw new BoxError('E_VALIDATION', `Item id ${entry.id} appears twice in the --meta file.`);
    names.add(entry.id);
    const fileName = sanitizeFileName(basename(entry.file));
    // Stage under the sanitized name: the torrent's file name is what web seeds and peers see.
    const stageDir = join(layout.staging, entry.id);
    rmSync(stageDir, { recursive: true, force: true });
    mkdirSync(stageDir, { recursive: true });
    const staged = join(stageDir, fileName);
    try {
      linkSync(src, staged);
    } catch {
      copyFileSync(src, staged);
    }
    const sha256 = await sha256File(staged);
    const size = statSync(staged).size;
    const torrent = await makeTorrent(staged, fileName, { trackers: o.trackers ?? [], webSeeds: [] });
    const { infoHash } = await torrentInfo(torrent);
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
    items.push({ ...fields, size, sha256, infohash: infoHash, fileName, webSeeds });
  }
  const now = o.clock.now();
  const version = o.version ?? Math.max(previousVersion(o.outDir) + 1, 1);
  const manifest = signManifest(o.key, {
    format: 'tpbox-catalog/1', publisher: meta.publisher, version,
    issuedAt: new Date(now).toISOString(), expires: new Date(now + (o.validDays ?? 30) * 86_400_000).toISOString(),
    pieceLength: PIECE_LENGTH, items,
  });
  writeFileAtomic(layout.manifest, JSON.stringify(manifest));
  rmSync(layout.staging, { recursive: true, force: true });
  return { manifest, items };
}

export function listFolder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => relative(folder, join(d.parentPath, d.name)));
}
