import createTorrent from 'create-torrent';
import parseTorrent, { toTorrentFile } from 'parse-torrent';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BoxError } from '../core/errors.js';
import { notPlain, openPlainFile } from './plain-files.js';

/** Fixed so that the same file always gives the same infohash (transmission-create -s 256 agrees). */
export const PIECE_LENGTH = 256 * 1024;

export function makeTorrent(path: string, name: string, opts: { trackers: string[]; webSeeds: string[] }): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // announceList is always given, or create-torrent adds public trackers.
    createTorrent(path, {
      name, private: true, pieceLength: PIECE_LENGTH, announceList: opts.trackers.map((t) => [t]), urlList: opts.webSeeds,
      createdBy: 'teaching-point-box', creationDate: new Date(0),
    }, (err, torrent) => (err ? reject(err) : resolve(torrent)));
  });
}

export async function torrentInfo(buf: Uint8Array) {
  try {
    return await parseTorrent(buf);
  } catch (e) {
    throw new BoxError('E_VALIDATION', `Not a valid .torrent file (${(e as Error).message}).`);
  }
}

/** The same torrent (same infohash) with this box's tracker and web seeds in the non-signed fields. */
export async function retargetTorrent(buf: Uint8Array, trackers: string[], webSeeds: string[]): Promise<Uint8Array> {
  const parsed = await torrentInfo(buf);
  parsed.announce = trackers;
  parsed.urlList = webSeeds;
  return toTorrentFile(parsed);
}

/** A bitfield with every piece set: a verified file is seeded without re-hashing it. */
export function fullBitfield(pieces: number): Uint8Array {
  const bf = new Uint8Array(Math.ceil(pieces / 8));
  for (let i = 0; i < pieces; i++) bf[i >> 3]! |= 0x80 >> (i % 8);
  return bf;
}

export function countBits(bf: Uint8Array, pieces: number): number {
  let n = 0;
  for (let i = 0; i < pieces; i++) if ((bf[i >> 3]! & (0x80 >> (i % 8))) !== 0) n++;
  return n;
}

/** create-torrent's order: depth first, each folder's entries by the bytes of their names (libuv's scandir sort). */
function torrentOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/**
 * The torrent of exactly the given plain files (no folder walk of its own: create-torrent's skips hidden
 * and junk names and follows links, so what it hashed was not what the listing hashed). `files` are
 * '/'-separated paths inside the folder `root` (a folder item), or null for the one file `root`.
 * Gives the same infohash as makeTorrent for the same plain files.
 */
export async function torrentOfFiles(root: string, name: string, files: readonly string[] | null): Promise<Uint8Array> {
  const list = files ? [...files].sort(torrentOrder) : null;
  // Each file is opened through openPlainFile: no link is followed on the way to it.
  const paths = list ? list.map((rel) => ({ base: root, parts: rel.split('/') })) : [{ base: dirname(root), parts: [basename(root)] }];
  const pieces: Buffer[] = [];
  const lengths: number[] = [];
  let piece = createHash('sha1');
  let inPiece = 0;
  for (const { base, parts } of paths) {
    const opened = openPlainFile(base, parts);
    if (!opened) throw notPlain(list ? parts.join('/') : name, 'not a plain file');
    let length = 0;
    for await (const chunk of createReadStream('', { fd: opened.fd, highWaterMark: PIECE_LENGTH }) as AsyncIterable<Buffer>) {
      length += chunk.length;
      for (let off = 0; off < chunk.length;) {
        const n = Math.min(PIECE_LENGTH - inPiece, chunk.length - off);
        piece.update(chunk.subarray(off, off + n));
        off += n;
        inPiece += n;
        if (inPiece === PIECE_LENGTH) { pieces.push(piece.digest()); piece = createHash('sha1'); inPiece = 0; }
      }
    }
    lengths.push(length);
  }
  if (inPiece > 0) pieces.push(piece.digest());
  const info: Record<string, unknown> = { name, 'piece length': PIECE_LENGTH, pieces: Buffer.concat(pieces), private: 1 };
  if (list) info.files = list.map((rel, i) => ({ length: lengths[i], path: rel.split('/') }));
  else info.length = lengths[0];
  return toTorrentFile({ info, announce: [], urlList: [], created: new Date(0), createdBy: 'teaching-point-box' });
}
