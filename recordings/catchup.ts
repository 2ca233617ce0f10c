import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import Server from 'bittorrent-tracker/server';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Identity } from '../core/identity.js';
import type { ProvisionPayload } from '../core/config.js';
import type { SignedDocument } from '../core/signing.js';
import type { RecordingTransfer } from '../core/contract/recording.js';
import { issueBoxToken } from '../core/box-token.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { parseOrThrow } from '../core/validation.js';
import type { LinkShare } from '../sync/link-share.js';
import { FilePeer, describeFile, signFileList, verifyFileList, type FileList, type ListedFile } from '../sync/recording-fetch.js';
import type { RecorderSchedule } from '../media/recorder-schedule.js';
import type { MediaServices } from '../main/media-wiring.js';
import { boxIdOf } from '../core/identity.js';
import { createRecordingsUpload, type LinkPolicyInputs, type RecordingsUpload } from './upload.js';
import { createRecordingsCatalogue, recordingId, type MasterMeta, type MasterRecording, type RecordingsCatalogue } from './catalogue.js';

const masterMetaSchema = z.strictObject({
  lessonId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), room: z.string().min(1).max(200), title: z.string().max(500),
  subject: z.string().max(200).nullable(), grade: z.string().max(200).nullable(),
  startedAtMs: z.number().int(), endedAtMs: z.number().int(), durationMs: z.number().int().min(0),
});

interface Published { file: Omit<ListedFile, 'webSeeds' | 'trackers' | 'peers'>; path: string }

export interface RecordingsApi {
  catalogue: RecordingsCatalogue;
  /** Hub: the signed list of master recordings a teaching point may fetch. */
  signedList(forBoxId: string): SignedDocument<FileList>;
  /** Hub: the file behind a published infohash (web seed). */
  publishedFile(infohash: string): string | undefined;
  tracker: { handle(req: IncomingMessage, res: ServerResponse): void } | undefined;
  /** Teaching points' own recordings sent up to the hub (hub: receives; teaching point: sends). */
  upload: RecordingsUpload;
  /** Every recording moving between this box and the others, both ways (doctor, /metrics). */
  transfers(): RecordingTransfer[];
  start(selfUrl: string): void;
  /** One round now: publish what is joined (hub) / fetch the hub's list (teaching point). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Catch-up: when a lesson ends the hub publishes its joined master recording (a private torrent,
 * listed in a small list signed with the hub's box key; the hub is peer, tracker and web seed), and
 * each teaching point of the lesson fetches it (resuming), checks signature and sha256, and lists it
 * as source 'master'. A second webtorrent client beside the resource sync's, for now;
 * on a teaching point both split the link plan through one LinkShare (sync/link-share.ts).
 */
export function createRecordingsApi(o: {
  clock: Clock; log: Logger; dataDir: string; identity: Identity; provisioning: ProvisionPayload;
  recording: RecorderSchedule; media: MediaServices; catchupIntervalMs?: number;
  /** Teaching point: the sync bandwidth settings and link state the upload to the hub obeys. */
  linkPolicy?: () => LinkPolicyInputs;
  /** Teaching point: the box's one link share, so recordings and resource sync together keep to the plan. */
  linkShare?: LinkShare;
}): RecordingsApi {
  const log = o.log.child({ room: 'media', part: 'recordings-catchup' });
  const dir = join(o.dataDir, 'recordings-shared');
  const role = o.provisioning.role;
  const read = <T>(name: string, fallback: T): T => {
    try { return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T; } catch { return fallback; }
  };
  let published: Published[] = read('published.json', []);
  let listed: ListedFile[] = read('masters.json', []);
  let selfUrl = '';
  let closed = false;
  let busy = false;
  // Only a teaching point's recordings run under the link plan (a hub's are not limited): only they share it.
  const peer = new FilePeer({ dir, log, onComplete: () => undefined, ...(role === 'teaching-point' && o.linkShare ? { linkShare: o.linkShare } : {}) });

  const masters = (): MasterRecording[] => {
    // fetches(): progress stays visible while the link plan holds a fetch (paused, pieces kept).
    const progress = new Map(peer.fetches().map((s) => [s.infohash, s.progress]));
    return listed.flatMap((f) => {
      const meta = masterMetaSchema.safeParse(f.meta);
      if (!meta.success) return [];
      const path = peer.heldPath(f);
      return [{ infohash: f.infohash, bytes: f.bytes, meta: meta.data as MasterMeta, path, progress: path ? 1 : progress.get(f.infohash) ?? 0 }];
    });
  };
  const trackers = () => (selfUrl ? [`${selfUrl}/recordings/announce`] : []);
  const upload = createRecordingsUpload({
    clock: o.clock, log: o.log, dir, identity: o.identity, provisioning: o.provisioning, recording: o.recording, media: o.media, peer, trackers,
    ...(o.linkPolicy ? { linkPolicy: o.linkPolicy } : {}),
  });
  const catalogue = createRecordingsCatalogue({ recording: o.recording, media: o.media, clock: o.clock, masters, uploads: upload.received, uploadState: upload.uploadState });

  const trackerServer = role === 'hub' ? new Server({
    http: false, udp: false, ws: false, stats: false, interval: 5000,
    filter: (ih, _p, cb) => cb(published.some((p) => p.file.infohash === ih) || upload.knows(ih) ? null : new Error('not a published recording')),
  }) : undefined;
  trackerServer?.on('warning', (e: Error) => log.debug({ err: e.message }, 'recordings tracker warning'));
  trackerServer?.on('error', (e: Error) => log.warn({ err: e.message }, 'recordings tracker error'));

  async function publish(lessonId: string, room: string): Promise<void> {
    if (published.some((p) => p.file.meta.lessonId === lessonId && p.file.meta.room === room)) return;
    const row = o.recording.store.get(lessonId, room);
    if (!row?.joinedFile) return;
    const segs = o.recording.store.segments(lessonId, room);
    const timed = segs.filter((s) => s.startedAt > 0);
    const l = o.media.lessons.get(lessonId);
    const d = await describeFile(row.joinedFile, basename(row.joinedFile), { trackers: [], webSeeds: [] });
    const meta: MasterMeta = {
      lessonId, room, title: l?.title ?? lessonId, subject: l?.subject ?? null, grade: l?.grade ?? null,
      startedAtMs: timed[0]?.startedAt ?? row.startedAt,
      endedAtMs: timed.length ? Math.max(...timed.map((s) => s.startedAt + s.durationMs)) : row.startedAt,
      durationMs: segs.reduce((a, s) => a + s.durationMs, 0),
    };
    const entry: Published = {
      path: row.joinedFile,
      file: { id: `master.${lessonId}`, infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: basename(row.joinedFile), torrent: d.torrent.toString('base64'), meta: { ...meta } },
    };
    published = [...published, entry];
    writeFileAtomic(join(dir, 'published.json'), JSON.stringify(published));
    log.info({ lesson: lessonId, infohash: d.infohash, bytes: d.bytes }, 'master recording published to the teaching points');
    if (selfUrl) await peer.seed(d.torrent, dirname(entry.path), trackers());
  }

  async function fetchList(): Promise<void> {
    if (o.provisioning.role !== 'teaching-point') return;
    const hub = o.provisioning.hub;
    const token = await issueBoxToken(o.identity, { audience: boxIdOf(hub.publicKey), ttlSeconds: 60, clock: o.clock });
    const res = await fetch(`${hub.url.replace(/\/$/, '')}/api/peer/recordings`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`hub answered ${res.status}`);
    const list = verifyFileList(await res.json(), [hub.publicKey]);
    const fresh = list.files.filter((f) => masterMetaSchema.safeParse(f.meta).success);
    const byIh = new Map(listed.map((f) => [f.infohash, f]));
    let changed = false;
    for (const f of fresh) {
      // Addresses may change between lists (the hub moved); the content is pinned by the infohash.
      if (JSON.stringify(byIh.get(f.infohash)) !== JSON.stringify(f)) { byIh.set(f.infohash, f); changed = true; }
    }
    if (changed) {
      listed = [...byIh.values()];
      writeFileAtomic(join(dir, 'masters.json'), JSON.stringify(listed));
    }
    // Sequential (the hub is the one source): the link plan pauses a fetch often, and a pause keeps
    // only whole verified pieces — rarest-first under a cap spread the bytes over many half pieces.
    await peer.want(listed, { strategy: 'sequential' });
  }

  async function tick(): Promise<void> {
    if (busy || closed) return;
    busy = true;
    try {
      if (role === 'hub') {
        for (const row of o.recording.store.byState('joined')) if (row.room === row.lessonId) await publish(row.lessonId, row.room);
      } else {
        // The link plan first, so a master's fetch never starts while the plan holds the link.
        await upload.applyPolicy().catch((e: Error) => log.warn({ err: e.message }, 'recordings catch-up: link policy failed'));
        await fetchList().catch((e: Error) => log.warn({ err: e.message }, 'recordings catch-up: cannot fetch the hub list'));
        await upload.tick();
      }
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'recordings catch-up: round failed');
    } finally {
      busy = false;
    }
  }

  let timer: NodeJS.Timeout | undefined;
  o.recording.onJoined(() => void tick());
  return {
    catalogue, upload, tracker: trackerServer ? { handle: (req, res) => trackerServer.onHttpRequest(req, res, { action: 'announce' }) } : undefined,
    signedList(forBoxId) {
      const host = selfUrl ? new URL(selfUrl).host : '';
      const port = peer.torrentPort;
      const files: ListedFile[] = published
        .filter((p) => o.media.lessons.get(String(p.file.meta.lessonId))?.teachingPoints.includes(forBoxId))
        .map((p) => ({
          ...p.file, webSeeds: selfUrl ? [`${selfUrl}/recordings/files/${p.file.infohash}`] : [], trackers: trackers(),
          peers: host && port ? [`${host.replace(/:\d+$/, '')}:${port}`] : [],
        }));
      return signFileList(o.identity, { format: 'tpbox-files/1', boxId: o.identity.boxId, issuedAt: new Date(o.clock.now()).toISOString(), files });
    },
    transfers() {
      const fetches = new Map(peer.fetches().map((f) => [f.infohash, f]));
      const plan = upload.plan();
      const down: RecordingTransfer[] = role !== 'teaching-point' ? [] : listed.flatMap((l) => {
        const meta = masterMetaSchema.safeParse(l.meta);
        if (!meta.success) return [];
        const f = fetches.get(l.infohash);
        const held = peer.heldPath(l) !== undefined;
        const state: RecordingTransfer['state'] = held ? 'done' : !f ? 'waiting' : f.state === 'fetching' ? 'moving' : f.state;
        return [{
          recordingId: recordingId('master', meta.data.lessonId, meta.data.room), lessonId: meta.data.lessonId, room: meta.data.room, title: meta.data.title,
          direction: 'download' as const, state, reason: state === 'paused' ? plan.reason : state === 'failed' ? f?.code ?? null : null,
          bytes: l.bytes, doneBytes: held ? l.bytes : f?.doneBytes ?? 0, progress: held ? 1 : f?.progress ?? 0,
          linkBytes: f?.receivedBytes ?? 0, limitBps: peer.paused ? 0 : peer.downloadLimit,
        }];
      });
      return [...down, ...upload.transfers()];
    },
    publishedFile: (ih) => published.find((p) => p.file.infohash === ih)?.path,
    start(url) {
      selfUrl = url.replace(/\/$/, '');
      void (async () => {
        for (const p of published) await peer.seed(Buffer.from(p.file.torrent, 'base64'), dirname(p.path), trackers()).catch((e: Error) => log.warn({ err: e.message }, 'cannot seed a published recording'));
        await upload.start().catch((e: Error) => log.warn({ err: e.message }, 'recording upload could not start'));
      })();
      timer = setInterval(() => void tick(), o.catchupIntervalMs ?? 30_000);
      timer.unref();
      void tick();
    },
    tick,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      upload.close();
      await peer.close();
      await new Promise<void>((r) => (trackerServer ? trackerServer.close(() => r()) : r()));
    },
  };
}

export function parseInfohash(v: unknown): string {
  return parseOrThrow(z.strictObject({ infohash: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-character hex infohash') }), v, 'The recording file').infohash;
}
