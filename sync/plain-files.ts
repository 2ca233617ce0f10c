// Files from outside (a USB stick, a download, the store folder itself) are trusted only as plain files and
// folders: a link, device, FIFO or socket inside an item could make the box read or serve something else
// (a hidden `.x -> /var/lib/box/identity.json` passed every hash check, since the listing skipped it).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { BoxError } from '../core/errors.js';

/** Opens for reading without following a final link, and without blocking on a FIFO. */
const READ_PLAIN = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function kindOf(st: Pick<Stats, 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isBlockDevice' | 'isCharacterDevice'>): string {
  if (st.isSymbolicLink()) return 'a link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  return 'not a plain file';
}

export function notPlain(what: string, kind: string): BoxError {
  return new BoxError('E_ITEM_NOT_PLAIN', `${what} is ${kind}: only plain files and folders are accepted.`, { path: what, kind });
}

/**
 * Every file under `root` as '/'-separated relative paths, sorted by code unit. Throws E_ITEM_NOT_PLAIN
 * when `root` or anything under it is neither a plain file nor a folder (nothing is skipped silently).
 */
export function plainFiles(root: string): string[] {
  const st = lstatSync(root);
  if (!st.isDirectory()) throw notPlain(root, kindOf(st));
  const out: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      if (d.isDirectory()) walk(join(dir, d.name), rel);
      else if (d.isFile()) out.push(rel);
      else throw notPlain(rel, kindOf(d));
    }
  };
  walk(root, '');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Throws E_ITEM_NOT_PLAIN unless `path` itself (not what a link names) is a plain file; returns its size. */
export function plainFileSize(path: string, what = path): number {
  const st = lstatSync(path);
  if (!st.isFile()) throw notPlain(what, kindOf(st));
  return st.size;
}

/** A relative path a file route may open: '/'-separated parts, none empty, '.', '..', or with a NUL or backslash. */
export function safeParts(rel: string): string[] | undefined {
  const parts = rel.split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && !/[\0\\]/.test(p)) ? parts : undefined;
}

/**
 * Opens `base/parts…` for reading when every folder on the way and the file itself are plain (no link
 * anywhere), or returns undefined. The caller owns the descriptor.
 */
export function openPlainFile(base: string, parts: readonly string[]): { fd: number; size: number } | undefined {
  let path = base;
  try {
    if (!lstatSync(base).isDirectory()) return undefined;
    for (const p of parts.slice(0, -1)) {
      path = join(path, p);
      if (!lstatSync(path).isDirectory()) return undefined;
    }
    const fd = openSync(join(path, parts[parts.length - 1]!), READ_PLAIN);
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, size: st.size };
    closeSync(fd);
    return undefined;
  } catch {
    return undefined;
  }
}

/** Copies one plain file (refusing a link, FIFO or device where it stood when listed) to a new file. */
export async function copyPlainFile(src: string, dst: string, what = src): Promise<void> {
  let fh;
  try {
    fh = await open(src, READ_PLAIN);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw notPlain(what, 'a link');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notPlain(what, kindOf(st));
    await pipeline(fh.createReadStream({ autoClose: false }), createWriteStream(dst, { flags: 'wx' }));
  } finally {
    await fh.close();
  }
}
