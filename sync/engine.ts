import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import WebTorrent, { type Torrent } from 'webtorrent';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { BoxError, isBoxError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from '../core/atomic-file.js';
import { CatalogStore } from './catalog-store.js';
import { checkManifest, manifestEtag, MAX_MANIFEST_BYTES, type CatalogItem, type ManifestHeader } from './manifest.js';
import { publishedItems, publishedPresent, syncItemFiles, verifyItemFiles } from './item-files.js';
import { openPlainFile } from './plain-files.js';
import { storeLayout, type StoreLayout } from './store-layout.js';
import { torrentInfo, retargetTorrent, fullBitfield, countBits } from './torrent-files.js';
import { bandwidthPlan, type BandwidthInputs, type BandwidthPlan } from './bandwidth.js';
import { chooseEvictions, freeBytes, shortfall } from './storage.js';
import type { SyncPreferences } from './preferences.js';
import { makeThumbnail } from './thumbnails.js';
import { superSeed } from './origin-choker.js';
import { peerOffers, webSeedDecision } from './web-seed-policy.js';
import { readBody } from './http-body.js';
import { torrentActivity, type LinkShare, type LinkShareMember } from './link-share.js';

const MAX_TORRENT_BYTES = 16 * 1024 * 1024;

export type BandwidthSettings = Omit<BandwidthInputs, 'linkKbps' | 'lessonActive' | 'minuteOfDay'> & { lanDiscovery: boolean };

/** Item ids some other part of the box needs soon (the courseware of upcoming lessons). */
export type WantedProvider = () => Iterable<string>;

export interface SyncEngineOptions {
  store: CatalogStore;
  storeDir: string;
  clock: Clock;
  log: Logger;
  publisherKeys: readonly string[];
  toleranceMs: number;
  /** Catalogue sources every box of this role asks (a teaching point: its hub). */
  defaultSources: string[];
  /** This box's own tracker (hub and seed run one); its boxes announce there too. */
  ownTracker: () => string | null;
  bandwidth: () => BandwidthSettings;
  prefs: () => SyncPreferences;
  /** The seed adopts what `box publish` wrote into its store folder. */
  adoptPublished: boolean;
  /** On the origin (the seed): super-seeding, so each piece leaves the origin about once per swarm. */
  superSeed?: boolean;
  torrentPort?: number;
  /** The box's other torrent clients on the same link (recordings): the plan's rates are split with them. */
  linkShare?: LinkShare;
  tickMs?: number;
  manifestIntervalMs?: number;
}

interface Active {
  torrent: Torrent;
  mode: 'download' | 'seed';
  item: CatalogItem;
  /** When web seeds joined (null: peers only) and which. */
  webSeedsSince: number | null;
  webSeeds: string[];
  /** Last data from a peer for this torrent (its start counts), and last time a peer held a piece it lacks. */
  lastPeerDataAt: number;
  lastOfferAt: number;
  dirty: boolean;
  finishing: boolean;
}

export interface SyncStatus {
  manifestVersion: number | null;
  highestVersion: number;
  lastRefresh: { at: number; source: string | null; ok: boolean; code?: string; message?: string } | null;
  plan: BandwidthPlan;
  /** The rates set on the client (bytes/s, -1 no limit): the plan's, or this engine's share of it while the box's recordings move data too. */
  applied: { downloadBps: number; uploadBps: number };
  lessonActive: boolean;
  torrentPort: number | null;
  bytesDownloadedThisRun: number;
  bytesUploadedThisRun: number;
  /** Of the bytes downloaded: from other BitTorrent peers, and from web seeds (HTTP). */
  bytesFromPeersThisRun: number;
  bytesFromWebSeedsThisRun: number;
  downloads: Array<{ itemId: string; infohash: string; progress: number; peers: number; webSeeded: boolean }>;
  seeding: number;
  waiting: Array<{ infohash: string; code: string | null; message: string | null }>;
  usedBytes: number;
}

/** Destroys a torrent (keeping its files); resolves even if it was already destroyed, which never calls back. */
function destroyTorrent(t: Torrent): Promise<void> {
  if ((t as unknown as { destroyed?: boolean }).destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    t.destroy({ destroyStore: false }, () => { clearTimeout(timer); resolve(); });
  });
}

/** 256 MiB at 256 KiB pieces. */
const SEQUENTIAL_ABOVE_PIECES = 1024;

const hasCode = (e: unknown, code: string) => (e as NodeJS.ErrnoException)?.code === code || String((e as Error)?.message ?? '').includes(code);

/**
 * The box's BitTorrent side: fetches and checks catalogue manifests, downloads the items this box
 * wants (peers first, web seeds as fallback), verifies each file and moves it into the store
 * atomically, seeds what it holds to other boxes, and keeps within the bandwidth and storage policy.
 */
export class SyncEngine {
  readonly layout: StoreLayout;
  private client: WebTorrent | undefined;
  private readonly active = new Map<string, Active>();
  private readonly wanted = new Set<WantedProvider>();
  private lessonActive = false;
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Aborts in-flight HTTP calls when the box closes, so a stop never waits for a slow source. */
  private readonly abort = new AbortController();
  private ticking: Promise<void> | undefined;
  private lastManifestCheck = 0;
  private lastRefresh: SyncStatus['lastRefresh'] = null;
  private plan: BandwidthPlan = { paused: false, downloadBps: -1, uploadBps: -1, reason: 'open' };
  private applied = { downloadBps: -1, uploadBps: -1 };
  private linkMember: LinkShareMember | undefined;
  private downloadedThisRun = 0;
  private uploadedThisRun = 0;
  private fromPeersThisRun = 0;
  private fromWebSeedsThisRun = 0;
  /** Last time any peer (not a web seed) sent this box data: web seeds wait while peers deliver. */
  private lastPeerProgressAt = 0;
  private readonly log: Logger;
  private readonly listings = new Map<string, { raw: Buffer; files: readonly string[]; set: ReadonlySet<string> }>();

  constructor(private readonly o: SyncEngineOptions) {
    this.layout = storeLayout(o.storeDir);
    this.log = o.log;
    for (const d of [this.layout.files, this.layout.partial, this.layout.torrents, this.layout.thumbs, this.layout.accepted]) mkdirSync(d, { recursive: true });
    this.moveLegacyManifest();
  }

  /** A manifest kept in SQLite by an older version moves to its file once; the row then forgets the bytes. */
  private moveLegacyManifest(): void {
    const raw = this.store.legacyManifest();
    const version = this.store.currentVersion();
    if (!raw || version === null) return;
    const name = this.layout.acceptedManifest(version);
    writeFileAtomic(join(this.layout.root, name), raw);
    this.store.setManifestFile(name);
    this.log.info({ version }, 'catalogue manifest moved out of the database into its file');
  }

  /** The file holding the accepted manifest's bytes, when there is one (a moved store folder loses it). */
  manifestPath(): string | undefined {
    const m = this.store.currentManifest();
    const path = m && join(this.layout.root, m.file);
    return path && existsSync(path) ? path : undefined;
  }

  private signal(ms: number): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(ms), this.abort.signal]);
  }

  get store(): CatalogStore {
    return this.o.store;
  }

  start(): void {
    const bw = this.o.bandwidth();
    // A private, offline swarm: no DHT, no NAT punching, TCP only (uTP delays the first byte by tens of seconds).
    // No protocol encryption (secure: 0): pieces are hash-checked and the catalogue signed, and MSE's
    // Diffie-Hellman per outgoing connection took ~80 % of a core in the demo (createDiffieHellman
    // checks the prime every time), starving the live lesson in the same process.
    this.client = new WebTorrent({
      secure: 0, dht: false, lsd: bw.lanDiscovery, utp: false, natUpnp: false, natPmp: false, webSeeds: true,
      torrentPort: this.o.torrentPort ?? 0, maxConns: 60,
    });
    this.client.on('error', (e: unknown) => this.log.warn({ err: String((e as Error)?.message ?? e) }, 'torrent client error'));
    this.linkMember = this.o.linkShare?.join('sync', {
      activity: () => (this.client ? torrentActivity(this.client.torrents) : { down: false, up: false }),
      onShareChange: () => { if (!this.closed) this.applyRates(); },
    });
    this.flushTimer = setInterval(() => { this.flushProgress(); this.gateWebSeeds(); }, 1000);
    this.flushTimer.unref();
    this.schedule(0);
  }

  addWantedProvider(p: WantedProvider): () => void {
    this.wanted.add(p);
    return () => this.wanted.delete(p);
  }

  /** A live lesson has priority on the link: sync drops to its share or pauses, within about a second. */
  setLessonActive(active: boolean): void {
    if (this.lessonActive === active) return;
    this.lessonActive = active;
    this.applyBandwidth();
  }

  /** Runs one round now (manifest, seeding, downloads); the loop calls it and tests may too. */
  tick(opts: { refresh?: boolean } = {}): Promise<void> {
    if (!this.ticking) {
      this.ticking = this.round(opts.refresh ?? false).catch((e: unknown) => {
        this.log.error({ err: (e as Error).message }, 'sync round failed');
      }).finally(() => { this.ticking = undefined; });
    }
    return this.ticking;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule(this.o.tickMs ?? 3000));
    }, ms);
    this.timer.unref();
  }

  private async round(forceRefresh: boolean): Promise<void> {
    if (this.o.adoptPublished) await this.adoptPublished();
    const now = Date.now();
    if (forceRefresh || now - this.lastManifestCheck >= (this.o.manifestIntervalMs ?? this.o.prefs().manifestIntervalMs)) {
      this.lastManifestCheck = now;
      await this.refreshManifest().catch(() => undefined);
    }
    this.applyBandwidth();
    this.seedHeld();
    if (!this.plan.paused) await this.startDownloads();
    this.webSeedFallback();
  }

  sources(): string[] {
    return [...new Set([...this.o.defaultSources, ...this.o.prefs().sources].map((s) => s.replace(/\/$/, '')))];
  }

  private trackers(): string[] {
    const own = this.o.ownTracker();
    return [...new Set([...(own ? [own] : []), ...this.sources().map((s) => `${s}/announce`)])];
  }

  // ---------- manifest ----------

  /** Checks a manifest and, when it is newer, makes it this box's catalogue. A refusal changes nothing. */
  acceptManifest(raw: string | Buffer, source: string | null): { accepted: boolean; manifest: { payload: ManifestHeader } } {
    // Bytes, not a string: a 100,000-item manifest is read item by item (sync/manifest.ts checkManifest).
    const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const manifest = checkManifest(bytes, {
      publisherKeys: this.o.publisherKeys, clock: this.o.clock, toleranceMs: this.o.toleranceMs, highestVersion: this.store.highestVersion(),
    });
    const version = manifest.payload.version;
    const name = this.layout.acceptedManifest(version);
    if (this.store.currentVersion() !== null && version === this.store.highestVersion()) {
      // The same catalogue: only its file is put back if it went missing (the store folder moved).
      if (!this.manifestPath()) { writeFileAtomic(join(this.layout.root, name), bytes); this.store.setManifestFile(name); }
      return { accepted: false, manifest };
    }
    // The file first, then the row that names it: a power cut between leaves an unused file, never a row without bytes.
    writeFileAtomic(join(this.layout.root, name), bytes);
    this.store.acceptManifest(manifest, name, source);
    this.pruneManifests(name);
    this.log.info({ version: manifest.payload.version, items: manifest.payload.itemCount, source }, 'catalogue manifest accepted');
    return { accepted: true, manifest };
  }

  private pruneManifests(keep: string): void {
    for (const f of readdirSync(this.layout.accepted)) {
      if (`accepted/${f}` !== keep) rmSync(join(this.layout.accepted, f), { force: true });
    }
  }

  /** Asks each source for its manifest; the first that answers decides. */
  async refreshManifest(): Promise<{ source: string; version: number; accepted: boolean } | undefined> {
    let lastErr: unknown;
    for (const src of this.sources()) {
      let raw: Buffer;
      try {
        // A province manifest is tens of MB: asked for only when the source holds another version than this box.
        const have = this.manifestPath() ? this.store.currentVersion() : null;
        const headers: Record<string, string> = have === null ? {} : { 'if-none-match': manifestEtag(have) };
        const res = await fetch(`${src}/catalog/manifest.json`, { signal: this.signal(60_000), headers });
        if (res.status === 304) {
          this.lastRefresh = { at: this.o.clock.now(), source: src, ok: true };
          return { source: src, version: have!, accepted: false };
        }
        if (res.status === 404) continue;
        if (!res.ok) throw new BoxError('E_CATALOG_SOURCE', `${src} answered ${res.status} for its manifest.`);
        raw = await readBody(res, MAX_MANIFEST_BYTES, `The manifest of ${src}`);
      } catch (e) {
        lastErr = isBoxError(e) ? e : new BoxError('E_CATALOG_SOURCE', `${src} could not be reached (${(e as Error).message}).`);
        continue;
      }
      try {
        const { accepted, manifest } = this.acceptManifest(raw, src);
        this.lastRefresh = { at: this.o.clock.now(), source: src, ok: true };
        return { source: src, version: manifest.payload.version, accepted };
      } catch (e) {
        const be = isBoxError(e) ? e : new BoxError('E_INTERNAL', (e as Error).message);
        this.lastRefresh = { at: this.o.clock.now(), source: src, ok: false, code: be.code, message: be.message };
        this.log.warn({ source: src, code: be.code }, 'catalogue manifest refused');
        throw be;
      }
    }
    if (lastErr) {
      const be = lastErr as BoxError;
      this.lastRefresh = { at: this.o.clock.now(), source: null, ok: false, code: be.code, message: be.message };
      throw be;
    }
    return undefined;
  }

  private async adoptPublished(): Promise<void> {
    if (!existsSync(this.layout.manifest)) return;
    const raw = readFileSync(this.layout.manifest);
    let res;
    try {
      res = this.acceptManifest(raw, null);
    } catch (e) {
      if (isBoxError(e) && e.code === 'E_MANIFEST_ROLLBACK') return;
      this.log.error({ code: (e as BoxError).code, err: (e as Error).message }, 'published manifest refused');
      return;
    }
    if (!res.accepted) return;
    for (const it of publishedItems(this.store, this.layout)) {
      // The torrent is served even when the file is held elsewhere (another seeder, a third-party client).
      // Kept only when it hashes to the signed infohash: the listing a file route serves from comes from it.
      if (existsSync(this.layout.torrentFile(it.infohash))) {
        const raw = readFileSync(this.layout.torrentFile(it.infohash));
        if ((await torrentInfo(raw).catch(() => undefined))?.infoHash === it.infohash) this.store.saveTorrent(it.infohash, raw);
      }
      if (this.store.local(it.infohash)?.state === 'complete') continue;
      if (!publishedPresent(this.layout, it) || !this.store.torrent(it.infohash)) continue;
      this.store.startLocal(it.infohash, it.size);
      this.store.markComplete(it.infohash);
      this.store.setPinned(it.infohash, true);
      void this.thumbnail(it);
    }
  }

  // ---------- selection ----------

  /** The next items this box should fetch: pins and what other rooms ask for first, then its subscriptions. */
  wantedItems(limit = 200): CatalogItem[] {
    const p = this.o.prefs();
    return this.store.missingWanted({ extraIds: [...this.protectedIds()], grades: p.subscriptions.grades, subjects: p.subscriptions.subjects, limit });
  }

  private protectedIds(): Set<string> {
    const ids = new Set<string>(this.o.prefs().pinnedItems);
    for (const provider of this.wanted) for (const id of provider()) ids.add(id);
    return ids;
  }

  // ---------- bandwidth ----------

  /** Re-reads the bandwidth settings now (called when the technician changes them). */
  refreshBandwidth(): void {
    if (!this.closed) this.applyBandwidth();
  }

  /** The plan in force now (cheap: the web seed's HTTP uploads read it for every slice they send). */
  currentPlan(): BandwidthPlan {
    return this.plan;
  }

  private applyBandwidth(): void {
    const bw = this.o.bandwidth();
    const d = new Date(this.o.clock.now());
    this.plan = bandwidthPlan({ ...bw, linkKbps: this.o.prefs().linkKbps, lessonActive: this.lessonActive, minuteOfDay: d.getHours() * 60 + d.getMinutes() });
    if (!this.client) return;
    this.applyRates();
    if (this.plan.paused) {
      // Paused downloads leave the client; their verified pieces are in the bitfield, so nothing is lost.
      for (const [ih, a] of this.active) if (a.mode === 'download' && !a.finishing) void this.stopActive(ih);
    }
  }

  /** Sets the plan's rates on the client, or this engine's share of them (sync/link-share.ts). */
  private applyRates(): void {
    if (!this.client) return;
    const share = (dir: 'down' | 'up', bps: number) => (this.linkMember ? this.linkMember.rate(dir, bps) : bps);
    // Paused: the downloads have left the client, so its download side needs no limit.
    const down = this.plan.paused ? -1 : share('down', this.plan.downloadBps);
    const up = share('up', this.plan.uploadBps);
    if (down !== this.applied.downloadBps || up !== this.applied.uploadBps) this.log.debug({ down, up, plan: this.plan }, 'sync rates applied');
    this.applied = { downloadBps: down, uploadBps: up };
    this.client.throttleDownload(down);
    this.client.throttleUpload(up);
  }

  // ---------- seeding ----------

  private seedHeld(): void {
    if (!this.client) return;
    for (const row of this.store.allLocal()) {
      if (row.state !== 'complete' || this.active.has(row.infohash)) continue;
      const item = this.store.itemsByInfohash(row.infohash)[0];
      const buf = this.torrentBytes(row.infohash);
      if (!item || !buf) continue;
      if (!existsSync(join(this.layout.fileDir(row.infohash), item.fileName))) {
        this.log.warn({ infohash: row.infohash }, 'a held file is gone; fetching it again');
        this.store.forget(row.infohash);
        continue;
      }
      void this.addTorrent(item, buf, 'seed');
    }
  }

  private torrentBytes(ih: string): Buffer | undefined {
    const b = this.store.torrent(ih);
    if (b) return b;
    if (existsSync(this.layout.torrentFile(ih))) return readFileSync(this.layout.torrentFile(ih));
    return undefined;
  }

  private async fetchTorrent(item: CatalogItem): Promise<Buffer> {
    const have = this.torrentBytes(item.infohash);
    if (have) return have;
    for (const src of this.sources()) {
      try {
        const res = await fetch(`${src}/catalog/torrents/${item.infohash}.torrent`, { signal: this.signal(10_000) });
        if (!res.ok) continue;
        // Capped like every answer from another box: 64 GiB in 256 KiB pieces is a 5 MiB torrent, plus a folder's listing.
        const raw = new Uint8Array(await readBody(res, MAX_TORRENT_BYTES, `The torrent ${item.infohash} from ${src}`));
        // The infohash is in the signed manifest: a torrent that does not hash to it is refused.
        if ((await torrentInfo(raw)).infoHash !== item.infohash) continue;
        const clean = Buffer.from(await retargetTorrent(raw, [], []));
        this.store.saveTorrent(item.infohash, clean);
        return clean;
      } catch {
        continue;
      }
    }
    throw new BoxError('E_CATALOG_SOURCE', `No source has the torrent of ${item.id}.`);
  }

  private addTorrent(item: CatalogItem, buf: Buffer, mode: 'download' | 'seed'): Promise<Torrent> {
    const client = this.client!;
    const ih = item.infohash;
    const dir = mode === 'seed' ? this.layout.fileDir(ih) : this.layout.partialDir(ih);
    mkdirSync(dir, { recursive: true });
    const row = this.store.local(ih);
    return new Promise((resolve) => {
      const pieces = Math.ceil(item.size / (256 * 1024));
      const bitfield = mode === 'seed' ? fullBitfield(pieces) : row?.bitfield ? new Uint8Array(row.bitfield) : undefined;
      // webtorrent's rarest-first picker scans every piece each time it tops up a peer (work grows with the square
      // of the piece count): a 4 GiB item kept the hub at a full core and synced at 2.7 MiB/s, 10.2 MiB/s sequential
      // (bench/sync-rss-4g.mjs). Big items go in order; the origin's super-seeding still spreads pieces between boxes.
      const strategy = pieces > SEQUENTIAL_ABOVE_PIECES ? 'sequential' : 'rarest';
      const t = client.add(buf, { path: dir, announce: this.trackers(), strategy, private: true, ...(bitfield ? { bitfield } : {}) });
      const now = Date.now();
      const a: Active = { torrent: t, mode, item, webSeedsSince: null, webSeeds: [], lastPeerDataAt: now, lastOfferAt: now, dirty: false, finishing: false };
      this.active.set(ih, a);
      t.on('wire', (wire) => {
        // webtorrent 3.0.21 never refuses a connection to itself (peer.js compares the handshake with swarm.peerId,
        // which a torrent lacks) and a hub or seed announces to its own tracker: drop that wire once webtorrent has
        // set it up. On the origin such a wire took pieces the super-seeder then held back from real boxes for 15 s.
        if (wire.peerId === client.peerId) { setImmediate(() => wire.destroy()); return; }
        wire.on('download', (n: number) => {
          this.downloadedThisRun += n;
          if (wire.type === 'webSeed') this.fromWebSeedsThisRun += n;
          else { this.fromPeersThisRun += n; a.lastPeerDataAt = this.lastPeerProgressAt = Date.now(); }
        });
        wire.on('upload', (n: number) => { this.uploadedThisRun += n; });
      });
      t.on('verified', () => { a.dirty = true; });
      if (mode === 'seed' && this.o.superSeed) {
        const stop = superSeed(t, { selfPeerId: client.peerId });
        t.once('close', stop);
      }
      t.on('error', (e: unknown) => this.onTorrentError(ih, t, e));
      t.on('ready', () => resolve(t));
      if (mode === 'download') t.on('done', () => { void this.finish(ih); });
    });
  }

  // ---------- downloads ----------

  private async startDownloads(): Promise<void> {
    const p = this.o.prefs();
    let running = [...this.active.values()].filter((a) => a.mode === 'download').length;
    if (running >= p.maxActiveDownloads) return;
    // Active downloads are in the page too (not complete yet), so the page leaves room beyond them.
    for (const item of this.wantedItems(this.active.size + 200)) {
      if (running >= p.maxActiveDownloads || this.closed || this.plan.paused) break;
      if (this.active.has(item.infohash)) continue;
      const row = this.store.local(item.infohash);
      if (row?.state === 'complete') continue;
      if (!this.makeRoom(item, row ? (row.verifiedPieces * 256 * 1024) : 0)) continue;
      try {
        const buf = await this.fetchTorrent(item);
        if (this.closed) return;
        this.store.startLocal(item.infohash, item.size);
        this.store.markError(item.infohash, null, null);
        running++;
        void this.addTorrent(item, buf, 'download');
      } catch (e) {
        this.store.startLocal(item.infohash, item.size);
        this.store.markError(item.infohash, (e as BoxError).code ?? 'E_INTERNAL', (e as Error).message);
        // The sources are down or slow: try again next round instead of waiting on every item now.
        break;
      }
    }
  }

  /** Frees space by evicting least-recently-used unpinned items; false (and a clear error) when it cannot. */
  private makeRoom(item: CatalogItem, haveBytes: number): boolean {
    const p = this.o.prefs();
    const need = Math.max(0, item.size - haveBytes);
    const inputs = { usedBytes: this.store.usedBytes() - (this.store.local(item.infohash)?.size ?? 0), quotaBytes: p.quotaBytes, reserveBytes: p.reserveBytes, freeBytes: freeBytes(this.layout.root) };
    // The quota counts whole items; the disk check only what is still to come.
    const missing = Math.max(inputs.quotaBytes === null ? 0 : inputs.usedBytes + item.size - inputs.quotaBytes, need + inputs.reserveBytes - inputs.freeBytes, shortfall(inputs, 0));
    if (missing <= 0) return true;
    const keep = this.protectedIds();
    const candidates = this.store.allLocal()
      .filter((r) => r.state === 'complete' && !r.pinned && r.infohash !== item.infohash)
      .filter((r) => !this.store.itemsByInfohash(r.infohash).some((it) => keep.has(it.id)))
      .map((r) => ({ infohash: r.infohash, size: r.size, lastUsedAt: r.lastUsedAt }));
    const evict = chooseEvictions(candidates, missing);
    if (!evict) {
      const msg = `Not enough space for ${item.id} (${item.size} bytes): ${missing} more bytes are needed under the quota and free-space reserve. It will be fetched when space returns.`;
      this.store.startLocal(item.infohash, item.size);
      this.store.markError(item.infohash, 'E_DISK_FULL', msg);
      return false;
    }
    for (const e of evict) this.evict(e.infohash);
    return true;
  }

  evict(ih: string): void {
    const a = this.active.get(ih);
    if (a) { this.active.delete(ih); void destroyTorrent(a.torrent); }
    this.store.forget(ih);
    rmSync(this.layout.fileDir(ih), { recursive: true, force: true });
    rmSync(this.layout.thumb(ih), { force: true });
    this.log.info({ infohash: ih }, 'evicted least-recently-used item');
  }

  private webSeedFallback(): void {
    for (const [ih, a] of this.active) {
      // A 'done' that slipped by (e.g. the last piece verified during a pause) must still be finished.
      if (a.mode === 'download' && !a.finishing && a.torrent.done) void this.finish(ih);
    }
    this.gateWebSeeds();
  }

  /** Web seeds join a download only while no box can help it, and leave once boxes deliver again (web-seed-policy.ts). */
  private gateWebSeeds(): void {
    if (this.closed) return;
    const waitMs = this.o.prefs().webSeedFallbackMs;
    const now = Date.now();
    for (const a of this.active.values()) {
      const t = a.torrent;
      if (a.mode !== 'download' || a.finishing || !t.ready || (t as unknown as { destroyed?: boolean }).destroyed) continue;
      const offersNow = peerOffers(t);
      if (offersNow) a.lastOfferAt = now;
      const d = webSeedDecision({ now, waitMs, lastPeerDataAt: a.lastPeerDataAt, lastSwarmDataAt: this.lastPeerProgressAt, lastOfferAt: a.lastOfferAt, offersNow, webSeedsSince: a.webSeedsSince });
      if (d === 'add') {
        a.webSeedsSince = now;
        a.webSeeds = [...new Set([...a.item.webSeeds, ...this.sources().map((s) => `${s}/catalog/files/${a.item.infohash}`)])];
        this.log.info({ infohash: a.item.infohash, seeds: a.webSeeds.length }, 'no peer can help: adding web seeds');
        for (const s of a.webSeeds) t.addWebSeed(s);
      } else if (d === 'remove') {
        this.log.info({ infohash: a.item.infohash }, 'peers deliver again: web seeds leave');
        for (const s of a.webSeeds) t.removePeer(s);
        a.webSeedsSince = null;
        a.webSeeds = [];
      }
    }
  }

  private onTorrentError(ih: string, t: Torrent, e: unknown): void {
    const a = this.active.get(ih);
    if (a?.torrent !== t) return;
    this.active.delete(ih);
    if (hasCode(e, 'ENOSPC')) {
      this.store.markError(ih, 'E_DISK_FULL', 'The disk is full: the download stopped with its verified pieces kept. It resumes when space returns.');
      this.log.warn({ infohash: ih }, 'disk full during download');
    } else {
      this.store.markError(ih, 'E_INTERNAL', String((e as Error)?.message ?? e));
      this.log.warn({ infohash: ih, err: String((e as Error)?.message ?? e), mode: a?.mode }, 'torrent stopped with an error');
    }
  }

  private flushProgress(): void {
    for (const [ih, a] of this.active) {
      if (!a.dirty || a.mode !== 'download' || !a.torrent.bitfield) continue;
      a.dirty = false;
      const pieces = a.torrent.pieces.length;
      this.store.saveProgress(ih, a.torrent.bitfield.buffer, countBits(a.torrent.bitfield.buffer, pieces));
    }
  }

  private async stopActive(ih: string): Promise<void> {
    const a = this.active.get(ih);
    if (!a) return;
    this.flushProgress();
    this.active.delete(ih);
    await destroyTorrent(a.torrent);
  }

  /** Verifies the finished file and moves it into the store; a mismatch is discarded, never shown. */
  private async finish(ih: string): Promise<void> {
    const a = this.active.get(ih);
    if (!a || a.finishing) return;
    a.finishing = true;
    a.dirty = true;
    this.flushProgress();
    // The entry stays in `active` (finishing) until the seeding torrent replaces it, so no round re-adds it meanwhile.
    await destroyTorrent(a.torrent);
    const item = a.item;
    const release = () => { if (this.active.get(ih) === a) this.active.delete(ih); };
    try {
      let refusal: BoxError | undefined;
      const ok = await verifyItemFiles(this.layout.partialDir(ih), item).catch((e: unknown) => {
        // A link, FIFO or device in the download: refused like a bad hash, and nothing of it is kept.
        if (isBoxError(e) && e.code === 'E_ITEM_NOT_PLAIN') { refusal = e; return false; }
        throw e;
      });
      if (!ok) {
        release();
        rmSync(this.layout.partialDir(ih), { recursive: true, force: true });
        this.store.resetLocal(ih);
        this.store.markError(ih, refusal?.code ?? 'E_ITEM_CORRUPT', refusal ? `${item.id}: ${refusal.message}` : `${item.id}: the downloaded file does not match the catalogue's sha256; fetching it again.`);
        this.log.error({ infohash: ih, itemId: item.id, code: refusal?.code ?? 'E_ITEM_CORRUPT' }, 'downloaded item refused');
        return;
      }
      syncItemFiles(this.layout.partialDir(ih), item);
      rmSync(this.layout.fileDir(ih), { recursive: true, force: true });
      renameSync(this.layout.partialDir(ih), this.layout.fileDir(ih));
      fsyncDir(this.layout.files);
      this.store.markComplete(ih);
      this.log.info({ infohash: ih, itemId: item.id, size: item.size }, 'item verified and stored');
      void this.thumbnail(item);
      const buf = this.torrentBytes(ih);
      release();
      if (buf && !this.closed) void this.addTorrent(item, buf, 'seed');
    } catch (e) {
      release();
      const code = hasCode(e, 'ENOSPC') ? 'E_DISK_FULL' : 'E_INTERNAL';
      this.store.markError(ih, code, (e as Error).message);
    }
  }

  private async thumbnail(item: CatalogItem): Promise<void> {
    try {
      await makeThumbnail(item.kind, join(this.layout.fileDir(item.infohash), item.fileName), this.layout.thumb(item.infohash));
    } catch (e) {
      this.log.warn({ itemId: item.id, err: (e as Error).message }, 'thumbnail failed');
    }
  }

  /** Path of a held, verified file, for serving; marks the item as used (LRU). */
  heldFile(ih: string): { path: string; item: CatalogItem } | undefined {
    const row = this.store.local(ih);
    const item = this.store.itemsByInfohash(ih)[0];
    if (row?.state !== 'complete' || !item) return undefined;
    const path = join(this.layout.fileDir(ih), item.fileName);
    return existsSync(path) ? { path, item } : undefined;
  }

  /**
   * The files of a held folder item as its torrent lists them ('/'-separated, inside the folder; code-unit
   * order). The torrent's infohash is in the signed catalogue, so this is the verified listing: a file route
   * serves nothing that is not in it. Undefined for a one-file item or one not held.
   */
  async heldListing(ih: string): Promise<readonly string[] | undefined> {
    const held = this.heldFile(ih);
    const raw = held?.item.fileCount ? this.torrentBytes(ih) : undefined;
    if (!held || !raw) return undefined;
    const cached = this.listings.get(ih);
    if (cached?.raw.equals(raw)) return cached.files;
    const t = await torrentInfo(raw);
    if (t.infoHash !== ih) return undefined;
    const prefix = `${t.name}/`;
    const files = t.files.map((f) => f.path.split(sep).join('/')).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    // A few recent folders: a textbook's pages are asked for one after another.
    if (this.listings.size >= 16) this.listings.delete(this.listings.keys().next().value!);
    this.listings.set(ih, { raw, files, set: new Set(files) });
    return files;
  }

  /**
   * Opens a held file for serving: the item's one file, or `rel` inside a folder item when its verified
   * listing names it. No link is followed anywhere on the way (a store folder changed by hand, or filled
   * before links were refused, serves nothing but its plain, listed files).
   */
  async openHeld(ih: string, rel?: string): Promise<{ fd: number; size: number; name: string; item: CatalogItem } | undefined> {
    const held = this.heldFile(ih);
    if (!held) return undefined;
    const { item } = held;
    let parts: string[] = [item.fileName];
    if (item.fileCount) {
      if (rel === undefined || !(await this.heldListing(ih)) || !this.listings.get(ih)?.set.has(rel)) return undefined;
      parts = [item.fileName, ...rel.split('/')];
    } else if (rel !== undefined) {
      return undefined;
    }
    const opened = openPlainFile(this.layout.fileDir(ih), parts);
    return opened && { ...opened, name: parts[parts.length - 1]!, item };
  }

  status(): SyncStatus {
    const version = this.store.currentVersion();
    const downloads = [...this.active.values()].filter((a) => a.mode === 'download').map((a) => ({
      itemId: a.item.id, infohash: a.item.infohash, progress: a.torrent.progress ?? 0, peers: a.torrent.numPeers ?? 0, webSeeded: a.webSeedsSince !== null,
    }));
    const waiting = this.store.allLocal().filter((r) => r.state !== 'complete' && r.errorCode).map((r) => ({ infohash: r.infohash, code: r.errorCode, message: r.errorMessage }));
    return {
      manifestVersion: version, highestVersion: this.store.highestVersion(), lastRefresh: this.lastRefresh, plan: this.plan, applied: { ...this.applied },
      lessonActive: this.lessonActive, torrentPort: this.client?.torrentPort ?? null,
      bytesDownloadedThisRun: this.downloadedThisRun, bytesUploadedThisRun: this.uploadedThisRun,
      bytesFromPeersThisRun: this.fromPeersThisRun, bytesFromWebSeedsThisRun: this.fromWebSeedsThisRun,
      downloads, seeding: [...this.active.values()].filter((a) => a.mode === 'seed').length, waiting, usedBytes: this.store.usedBytes(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.linkMember?.leave();
    this.linkMember = undefined;
    this.abort.abort();
    await this.ticking;
    this.flushProgress();
    const c = this.client;
    this.client = undefined;
    this.active.clear();
    if (c) await new Promise<void>((r) => c.destroy(() => r()));
  }
}
