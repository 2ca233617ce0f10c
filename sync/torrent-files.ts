import createTorrent from 'create-torrent';
import parseTorrent, { toTorrentFile } from 'parse-torrent';
import { BoxError } from '../core/errors.js';

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
