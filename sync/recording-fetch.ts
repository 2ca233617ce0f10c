import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import WebTorrent, { type Torrent } from 'webtorrent';
import type { Logger } from '../core/log.js';
import { BoxError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from '../core/atomic-file.js';
import { parseOrThrow } from '../core/validation.js';
import { signDocument, verifyDocument, type KeyPair, type SignedDocument } from '../core/signing.js';
import { makeTorrent, torrentInfo, fullBitfield, PIECE_LENGTH } from './torrent-files.js';
import { sha256File } from './file-hash.js';
import { torrentActivity, type LinkActivity, type LinkShare, type LinkShareMember } from './link-share.js';

// A box's own files (lesson recordings) offered to the boxes it works with: a small list signed by
// the offering box's key, each file a private v1 torrent served by that box as peer, tracker and
// web seed. The receiver checks the signature and every file's sha256 before it shows the file.

const safeName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/, 'a plain file name');

const listedFileSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'an id'),
  infohash: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character hex infohash'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256'),
  bytes: z.number().int().min(1),
  fileName: safeName,
  /** The .torrent, base64: a few bytes per 256 KiB piece. */
  torrent: z.string().min(1).max(4 * 1024 * 1024),
  webSeeds: z.array(z.url()).max(8),
  trackers: z.array(z.url()).max(8),
  /** host:port of BitTorrent peers known to hold it (the offering box). */
  peers: z.array(z.string().max(300)).max(8),
  /** What the file is, for the receiving box (not used by the fetch). */
  meta: z.record(z.string(), z.unknown()),
});
export type ListedFile = z.infer<typeof listedFileSchema>;

const fileListSchema = z.strictObject({
  format: z.literal('tpbox-files/1'),
  boxId: z.string().min(1).max(100),
  issuedAt: z.iso.datetime(),
  files: z.array(listedFileSchema).max(10_000),
});
export type FileList = z.infer<typeof fileListSchema>;

export function signFileList(key: KeyPair, list: FileList): SignedDocument<FileList> {
  return signDocument(key, list);
}

/** Checks the list against the keys this box trusts for it (a teaching point: its hub's key). */
export function verifyFileList(doc: unknown, trusted: readonly string[]): FileList {
  if (!doc || typeof doc !== 'object') throw new BoxError('E_MANIFEST_MALFORMED', 'The file list is not a JSON object.');
  const v = verifyDocument(doc as { payload?: unknown; signature?: unknown }, trusted);
  if (!v.ok) {
    const code = v.reason === 'unsigned' ? 'E_MANIFEST_UNSIGNED' : v.reason === 'unknown-key' ? 'E_MANIFEST_WRONG_KEY' : 'E_MANIFEST_TAMPERED';
    throw new BoxError(code, `The file list was refused: ${v.reason}.`);
  }
  return parseOrThrow(fileListSchema, (doc as { payload: unknown }).payload, 'The file list');
}

/** Makes the torrent of one finished file: same file, same infohash (fixed piece length). */
export async function describeFile(path: string, fileName: string, o: { trackers: string[]; webSeeds: string[] }) {
  const torrent = await makeTorrent(path, fileName, o);
  const info = await torrentInfo(torrent);
  return { torrent: Buffer.from(torrent), infohash: info.infoHash, bytes: info.length, sha256: await sha256File(path) };
}

export interface FetchProgress {
  infohash: string;
  id: string;
  progress: number;
  downloadedBytes: number;
  peers: number;
  error: string | null;
}

/** Where one wanted file stands, for the technician (doctor, /metrics). */
export interface FetchState {
  infohash: string;
  id: string;
  /** 'paused': held by pauseFetches() (the link policy); 'failed': the last try failed, it is tried again with the next want(). */
  state: 'fetching' | 'paused' | 'done' | 'failed';
  bytes: number;
  /** Verified bytes held (whole pieces; the last piece may be shorter). */
  doneBytes: number;
  progress: number;
  /** Bytes received for it from peers and web seeds by this instance (duplicates included). */
  receivedBytes: number;
  /** BoxError code of the last failure (kept while it is fetched again), else null. */
  code: string | null;
}

interface Active {
  torrent: Torrent;
  file: ListedFile | undefined;
  dirty: boolean;
  finishing: boolean;
  error: string | null;
}

/** Destroys a torrent keeping its files; resolves even if it was already gone (then webtorrent never calls back). */
function destroyTorrent(t: Torrent): Promise<void> {
  if ((t as unknown as { destroyed?: boolean }).destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    t.destroy({ destroyStore: false }, () => { clearTimeout(timer); resolve(); });
  });
}

/**
 * Seeds this box's own files and fetches listed files from other boxes. A fetch resumes where it
 * stopped (its verified pieces are kept in `<dir>/partial/<infohash>.bitfield`, written atomically
 * every second), is checked against the listed sha256, and is renamed into `<dir>/files/<infohash>/`
 * only then — a reader never sees half a file.
 */
export class FilePeer {
  private client: WebTorrent | undefined;
  private readonly active = new Map<string, Active>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Bytes received from peers and web seeds per infohash by this instance (duplicates included). */
  readonly received = new Map<string, number>();
  /** Bytes sent to peers per infohash by this instance (what a seeded file cost the link). */
  readonly sent = new Map<string, number>();
  /** The rates asked for (the link plan), bytes/s, -1 no limit. */
  private uploadBps: number;
  private downloadBps: number;
  /** The rates set on the client: the asked ones, or this peer's share of them (linkShare). */
  private applied: { down: number; up: number };
  private readonly linkMember: LinkShareMember | undefined;
  /** Every file asked for with want(), so a paused fetch can start again by itself. */
  private readonly wanted = new Map<string, { file: ListedFile; strategy: 'rarest' | 'sequential' }>();
  /** The last failure per infohash (code for programs, message for the log). */
  private readonly failures = new Map<string, { code: string; message: string }>();
  private fetchesPaused = false;

  constructor(private readonly o: {
    dir: string; log: Logger; onComplete: (file: ListedFile, path: string) => void; torrentPort?: number; downloadLimitBps?: number; uploadLimitBps?: number;
    /** The box's other torrent client on the same link (the resource sync): the asked rates are split with it. */
    linkShare?: LinkShare;
  }) {
    this.uploadBps = o.uploadLimitBps ?? -1;
    this.downloadBps = o.downloadLimitBps ?? -1;
    this.applied = { down: this.downloadBps, up: this.uploadBps };
    this.linkMember = o.linkShare?.join('recordings', { activity: () => this.activity(), onShareChange: () => this.applyRates() });
    this.applyRates();
    for (const d of [this.filesDir, this.partialDir]) mkdirSync(d, { recursive: true });
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  private get filesDir(): string { return join(this.o.dir, 'files'); }
  private get partialDir(): string { return join(this.o.dir, 'partial'); }
  private bitfieldFile(ih: string): string { return join(this.partialDir, `${ih}.bitfield`); }

  /** Where a fetched file lives once complete and verified. */
  heldPath(file: Pick<ListedFile, 'infohash' | 'fileName'>): string | undefined {
    const p = join(this.filesDir, file.infohash, file.fileName);
    return existsSync(p) ? p : undefined;
  }

  private ensureClient(): WebTorrent {
    if (!this.client) {
      // A private swarm between known boxes: no DHT/LSD/NAT, TCP only (see notes/webtorrent.md).
      this.client = new WebTorrent({ secure: 0, dht: false, lsd: false, utp: false, natUpnp: false, natPmp: false, webSeeds: true, torrentPort: this.o.torrentPort ?? 0, maxConns: 20, downloadLimit: this.applied.down, uploadLimit: this.applied.up });
      this.client.on('error', (e: unknown) => this.o.log.warn({ err: String((e as Error)?.message ?? e) }, 'file peer: torrent client error'));
    }
    return this.client;
  }

  /** The port peers reach this box's client on (after the first seed or fetch). */
  get torrentPort(): number | null {
    return this.client?.torrentPort ?? null;
  }

  /** Seeds a verified local file (no re-hash: every piece is marked held). */
  async seed(torrent: Buffer, dir: string, trackers: string[]): Promise<void> {
    const info = await torrentInfo(torrent);
    if (this.closed || this.active.has(info.infoHash)) return;
    const client = this.ensureClient();
    await new Promise<void>((resolve) => {
      const t = client.add(torrent, { path: dir, announce: trackers, private: true, bitfield: fullBitfield(info.pieces.length), skipVerify: true });
      this.active.set(info.infoHash, { torrent: t, file: undefined, dirty: false, finishing: false, error: null });
      t.on('wire', (w) => w.on('upload', (n: number) => this.sent.set(info.infoHash, (this.sent.get(info.infoHash) ?? 0) + n)));
      t.on('error', (e: unknown) => this.o.log.warn({ infohash: info.infoHash, err: String((e as Error)?.message ?? e) }, 'file peer: seed error'));
      t.on('ready', () => resolve());
    });
  }

  /** Whether this box seeds that file now. */
  seeding(infohash: string): boolean {
    const a = this.active.get(infohash);
    return a !== undefined && a.file === undefined;
  }

  /** Stops seeding one file (the file stays); seed() starts it again without re-hashing. */
  async unseed(infohash: string): Promise<void> {
    const a = this.active.get(infohash);
    if (!a || a.file) return;
    this.active.delete(infohash);
    await destroyTorrent(a.torrent);
  }

  /** Dials known peers for a file (the receiving side cannot dial a box behind NAT: this box dials out). */
  addPeers(infohash: string, peers: string[]): void {
    const t = this.active.get(infohash)?.torrent;
    if (!t || (t as unknown as { destroyed?: boolean }).destroyed) return;
    for (const p of peers) t.addPeer(p);
  }

  /**
   * Upload rate for the whole client, bytes/s (-1: no limit); takes effect within about a second.
   * With a linkShare, this peer applies its share of it (uploadLimit).
   */
  throttleUpload(bps: number): void {
    if (!Number.isInteger(bps) || bps < -1) throw new BoxError('E_VALIDATION', `An upload rate is a whole number of bytes/s ≥ 0, or -1 for no limit (got ${bps}).`);
    this.uploadBps = bps;
    this.applyRates();
  }

  /**
   * Download rate for the whole client, bytes/s (-1: no limit; 0 is refused, use pauseFetches()).
   * Counts every byte received, web seeds included; takes effect within about a second.
   */
  throttleDownload(bps: number): void {
    if (!Number.isInteger(bps) || (bps < 1 && bps !== -1)) throw new BoxError('E_VALIDATION', `A download rate is a whole number of bytes/s ≥ 1, or -1 for no limit (got ${bps}).`);
    this.downloadBps = bps;
    this.applyRates();
  }

  /** Sets the asked rates on the client, or this peer's share of them while the resource sync moves data too. */
  private applyRates(): void {
    const down = this.linkMember ? this.linkMember.rate('down', this.downloadBps) : this.downloadBps;
    const up = this.linkMember ? this.linkMember.rate('up', this.uploadBps) : this.uploadBps;
    if (down !== this.applied.down) this.client?.throttleDownload(down);
    if (up !== this.applied.up) this.client?.throttleUpload(up);
    this.applied = { down, up };
  }

  /** Whether this peer has data to move now (link share; cheap, read every second). */
  activity(): LinkActivity {
    return this.client && !this.closed ? torrentActivity(this.client.torrents) : { down: false, up: false };
  }

  /** The download rate in force on the client, bytes/s (-1: no limit): the asked rate or this peer's share of it. */
  get downloadLimit(): number { return this.applied.down; }

  /** The upload rate in force on the client, bytes/s (-1: no limit): the asked rate or this peer's share of it. */
  get uploadLimit(): number { return this.applied.up; }

  /** Whether fetches are held by pauseFetches(). */
  get paused(): boolean { return this.fetchesPaused; }

  /**
   * Stops every fetch, keeping its verified pieces (saved bitfield), so nothing more is received for
   * it; want() only queues meanwhile. Seeding is not touched. resumeFetches() carries on.
   */
  async pauseFetches(): Promise<void> {
    if (this.fetchesPaused) return;
    this.fetchesPaused = true;
    for (const [ih, a] of [...this.active]) {
      if (!a.file || a.finishing) continue;
      this.active.delete(ih);
      await destroyTorrent(a.torrent);
      // After destroy: no piece can be verified any more, so the saved bitfield is complete.
      this.saveBitfield(ih, a.torrent);
    }
  }

  /** Starts again every wanted file that is not held yet (after pauseFetches()). */
  async resumeFetches(): Promise<void> {
    if (!this.fetchesPaused) return;
    this.fetchesPaused = false;
    for (const w of [...this.wanted.values()]) await this.want([w.file], { strategy: w.strategy });
  }

  /** Starts fetching every listed file not held yet (idempotent: call it with each fresh list). */
  async want(files: ListedFile[], opts: { strategy?: 'rarest' | 'sequential' } = {}): Promise<void> {
    for (const f of files) {
      if (this.closed) return;
      this.wanted.set(f.infohash, { file: f, strategy: opts.strategy ?? 'rarest' });
      if (this.fetchesPaused || this.heldPath(f) || this.active.has(f.infohash)) continue;
      try {
        await this.fetch(f, opts.strategy ?? 'rarest');
      } catch (e) {
        this.failures.set(f.infohash, { code: e instanceof BoxError ? e.code : 'E_INTERNAL', message: (e as Error).message });
        this.o.log.warn({ infohash: f.infohash, id: f.id, err: (e as Error).message }, 'file peer: cannot fetch');
      }
    }
  }

  private async fetch(f: ListedFile, strategy: 'rarest' | 'sequential'): Promise<void> {
    const buf = Buffer.from(f.torrent, 'base64');
    const info = await torrentInfo(buf);
    if (info.infoHash !== f.infohash || info.length !== f.bytes || info.files.length !== 1 || info.name !== f.fileName || info.pieceLength !== PIECE_LENGTH) {
      throw new BoxError('E_MANIFEST_TAMPERED', `The torrent of ${f.id} does not match its listing.`);
    }
    const client = this.ensureClient();
    const dir = join(this.partialDir, f.infohash);
    mkdirSync(dir, { recursive: true });
    let bitfield: Uint8Array | undefined;
    try {
      const saved = readFileSync(this.bitfieldFile(f.infohash));
      if (saved.length === Math.ceil(info.pieces.length / 8)) bitfield = new Uint8Array(saved);
    } catch {
      bitfield = undefined;
    }
    const t = client.add(buf, { path: dir, announce: f.trackers, urlList: f.webSeeds, strategy, private: true, ...(bitfield ? { bitfield } : {}) });
    const a: Active = { torrent: t, file: f, dirty: false, finishing: false, error: null };
    this.active.set(f.infohash, a);
    t.on('verified', () => { a.dirty = true; });
    t.on('wire', (w) => w.on('download', (n: number) => this.received.set(f.infohash, (this.received.get(f.infohash) ?? 0) + n)));
    t.on('error', (e: unknown) => {
      a.error = String((e as Error)?.message ?? e);
      // webtorrent destroys a torrent after an error: drop it so the next want() tries again.
      if (this.active.get(f.infohash) === a) this.active.delete(f.infohash);
      this.failures.set(f.infohash, { code: /ENOSPC/.test(a.error) ? 'E_DISK_FULL' : 'E_INTERNAL', message: a.error });
      this.o.log.warn({ infohash: f.infohash, err: a.error }, 'file peer: fetch error');
    });
    t.on('ready', () => { for (const p of f.peers) t.addPeer(p); });
    t.on('done', () => { void this.finish(f.infohash); });
    this.o.log.info({ infohash: f.infohash, id: f.id, resumedPieces: bitfield ? countSet(bitfield) : 0 }, 'file peer: fetching');
  }

  private flush(): void {
    for (const [ih, a] of this.active) {
      if (!a.file || !a.dirty || a.finishing) continue;
      a.dirty = false;
      this.saveBitfield(ih, a.torrent);
    }
  }

  private saveBitfield(ih: string, t: Torrent): void {
    if (!t.bitfield) return;
    try {
      writeFileAtomic(this.bitfieldFile(ih), Buffer.from(t.bitfield.buffer));
    } catch (e) {
      this.o.log.warn({ infohash: ih, err: (e as Error).message }, 'file peer: cannot save progress');
    }
  }

  /** Verified pieces in the saved bitfield (a paused or not yet started fetch). */
  private savedPieces(ih: string): number {
    try {
      return countSet(readFileSync(this.bitfieldFile(ih)));
    } catch {
      return 0;
    }
  }

  private async finish(ih: string): Promise<void> {
    const a = this.active.get(ih);
    if (!a?.file || a.finishing) return;
    a.finishing = true;
    const f = a.file;
    await destroyTorrent(a.torrent);
    this.active.delete(ih);
    const partial = join(this.partialDir, ih, f.fileName);
    const ok = existsSync(partial) && statSync(partial).size === f.bytes && (await sha256File(partial)) === f.sha256;
    rmSync(this.bitfieldFile(ih), { force: true });
    if (!ok) {
      rmSync(join(this.partialDir, ih), { recursive: true, force: true });
      this.failures.set(ih, { code: 'E_ITEM_CORRUPT', message: 'The fetched file did not match its listed sha256.' });
      this.o.log.error({ infohash: ih, id: f.id }, 'file peer: fetched file failed its sha256 check; it will be fetched again');
      return;
    }
    const fd = openSync(partial, 'r');
    fsyncSync(fd);
    closeSync(fd);
    rmSync(join(this.filesDir, ih), { recursive: true, force: true });
    renameSync(join(this.partialDir, ih), join(this.filesDir, ih));
    fsyncDir(this.filesDir);
    fsyncDir(this.partialDir);
    const path = join(this.filesDir, ih, f.fileName);
    this.failures.delete(ih);
    this.o.log.info({ infohash: ih, id: f.id, bytes: f.bytes }, 'file peer: fetched and verified');
    this.o.onComplete(f, path);
  }

  status(): FetchProgress[] {
    return [...this.active.entries()].filter(([, a]) => a.file).map(([ih, a]) => ({
      infohash: ih, id: a.file!.id, progress: a.torrent.progress ?? 0, downloadedBytes: a.torrent.downloaded ?? 0, peers: a.torrent.numPeers ?? 0, error: a.error,
    }));
  }

  /** Every wanted file (this instance's want() calls), held or not. */
  fetches(): FetchState[] {
    return [...this.wanted.values()].map(({ file: f }) => {
      const base = { infohash: f.infohash, id: f.id, bytes: f.bytes, receivedBytes: this.received.get(f.infohash) ?? 0 };
      const failure = this.failures.get(f.infohash);
      if (this.heldPath(f)) return { ...base, state: 'done' as const, doneBytes: f.bytes, progress: 1, code: null };
      const a = this.active.get(f.infohash);
      const t = a?.torrent;
      const pieces = t?.bitfield ? countSet(t.bitfield.buffer) : this.savedPieces(f.infohash);
      const doneBytes = Math.min(f.bytes, pieces * PIECE_LENGTH);
      const progress = Math.round((doneBytes / f.bytes) * 1000) / 1000;
      const state = a ? 'fetching' as const : this.fetchesPaused ? 'paused' as const : failure ? 'failed' as const : 'fetching' as const;
      return { ...base, state, doneBytes, progress, code: failure?.code ?? null };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.linkMember?.leave();
    this.flush();
    const client = this.client;
    this.client = undefined;
    for (const a of this.active.values()) await destroyTorrent(a.torrent);
    this.active.clear();
    if (client) await new Promise<void>((r) => client.destroy(() => r()));
  }
}

function countSet(bf: Uint8Array): number {
  let n = 0;
  for (const b of bf) for (let v = b; v; v &= v - 1) n++;
  return n;
}
