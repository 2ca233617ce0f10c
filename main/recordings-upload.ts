import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Identity } from '../core/identity.js';
import type { ProvisionPayload } from '../core/config.js';
import { broadcastRoom, classroomRoom, type Lesson } from '../core/contract/lesson.js';
import type { RecordingEntry, RecordingTransfer } from '../core/contract/recording.js';
import { BoxError } from '../core/errors.js';
import { issueBoxToken } from '../core/box-token.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { bandwidthPlan, type BandwidthInputs, type BandwidthPlan } from '../sync/bandwidth.js';
import { describeFile, signFileList, verifyFileList, type FilePeer, type ListedFile } from '../sync/recording-fetch.js';
import type { RecordingServices } from './recording-wiring.js';
import type { MediaServices } from './media-wiring.js';
import { boxIdOf } from '../core/identity.js';
import { recordingId, uploadedRecordingId, type MasterMeta } from './recordings-service.js';

// A teaching point's own recordings travel up to its hub the way the hub's master travels down: a
// list signed with the teaching point's box key, each file a private v1 torrent. The teaching point
// is usually behind NAT, so every connection is its own: it POSTs the list over its token-
// authenticated hub link, the hub answers with its torrent port, and the teaching point's seeding
// client dials the hub's fetching client (webtorrent talks the wire protocol the same way whichever
// side dialled). The hub never dials, uses no web seed (it could not reach one) and ignores any
// address in the list; its fetch resumes from its saved bitfield, as the master's fetch does.

export const uploadMetaSchema = z.strictObject({
  lessonId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), room: z.string().min(1).max(200), title: z.string().max(500),
  subject: z.string().max(200).nullable(), grade: z.string().max(200).nullable(),
  startedAtMs: z.number().int(), endedAtMs: z.number().int(), durationMs: z.number().int().min(0),
});

/** What the link policy reads on a teaching point: the sync settings and what the sync knows of the link. */
export type LinkPolicyInputs = Omit<BandwidthInputs, 'minuteOfDay' | 'lessonActive'> & { lessonActive: boolean };

export interface UploadedRecording {
  infohash: string;
  bytes: number;
  fromBoxId: string;
  fromName: string;
  meta: MasterMeta;
  /** Set once received and verified (sha256). */
  path: string | undefined;
  progress: number;
}

export interface OfferReply {
  /** The hub's BitTorrent port: the teaching point dials it. Null until the hub's client listens. */
  torrentPort: number | null;
  /** receivedBytes: what reached the hub from peers since the hub started (duplicates included). */
  files: Array<{ infohash: string; state: 'fetching' | 'complete'; progress: number; receivedBytes: number }>;
  refused: Array<{ infohash: string; code: string; message: string }>;
}

interface Incoming { fromBoxId: string; fromName: string; file: ListedFile }
interface Outgoing { lessonId: string; room: string; path: string; file: Omit<ListedFile, 'webSeeds' | 'trackers' | 'peers'>; done: boolean }

export interface RecordingsUpload {
  /** Hub: a teaching point offers its recordings (already authenticated as `from`). */
  offer(from: { boxId: string; publicKey: string; name: string; status: string } | undefined, doc: unknown): Promise<OfferReply>;
  /** Hub: recordings received (or on their way) from teaching points. */
  received(): UploadedRecording[];
  /** Hub: an infohash the hub's tracker may serve. */
  knows(infohash: string): boolean;
  /** Teaching point: how the upload of one own recording stands. */
  uploadState(lessonId: string, room: string): RecordingEntry['upload'];
  /** Teaching point: bytes of one file sent to the hub since this box started (duplicates included). */
  sentBytes(infohash: string): number;
  /** Teaching point: what the hub last said of one file (its progress and the bytes it received since it started). */
  hubSays(infohash: string): OfferReply['files'][number] | undefined;
  /** Teaching point: the plan in force for the link to the hub. */
  plan(): BandwidthPlan;
  /**
   * Teaching point: applies the link plan to everything the file peer moves (uploads of own recordings
   * and downloads of the hub's masters); call it before wanting a file, so a fetch never starts unplanned.
   */
  applyPolicy(): Promise<void>;
  /** Recordings moving through this module: a teaching point's own going up, or (hub) those being received. */
  transfers(): RecordingTransfer[];
  start(): Promise<void>;
  tick(): Promise<void>;
  close(): void;
}

function runningLesson(l: Lesson, now: number): boolean {
  if (l.status === 'ended') return false;
  return l.status === 'live' || (Date.parse(l.startsAt) <= now && now < Date.parse(l.endsAt));
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

export function createRecordingsUpload(o: {
  clock: Clock; log: Logger; dir: string; identity: Identity; provisioning: ProvisionPayload;
  recording: RecordingServices; media: MediaServices; peer: FilePeer;
  /** The hub's own tracker URLs (announce), empty until it listens. */
  trackers: () => string[];
  linkPolicy?: () => LinkPolicyInputs;
  policyIntervalMs?: number;
  /** Hub: free space kept after taking a teaching point's recording (bytes). */
  reserveBytes?: number;
}): RecordingsUpload {
  const log = o.log.child({ room: 'media', part: 'recordings-upload' });
  const role = o.provisioning.role;
  const read = <T>(name: string, fallback: T): T => {
    try { return JSON.parse(readFileSync(join(o.dir, name), 'utf8')) as T; } catch { return fallback; }
  };
  let incoming: Incoming[] = role === 'hub' ? read('uploads-in.json', []) : [];
  let outgoing: Outgoing[] = role === 'teaching-point' ? read('uploads-out.json', []) : [];
  let current: BandwidthPlan = { paused: false, downloadBps: -1, uploadBps: -1, reason: 'open' };
  let lastError: string | null = null;
  let lastErrorCode = 'E_HUB_UNREACHABLE';
  const hubSaid = new Map<string, OfferReply['files'][number]>();
  const refusedBy = new Map<string, string>();
  let busy = false;
  let closed = false;
  let policyTimer: NodeJS.Timeout | undefined;

  const asFetched = (f: ListedFile): ListedFile => ({ ...f, trackers: o.trackers(), webSeeds: [], peers: [] });

  // ---------- hub ----------

  async function offer(from: Parameters<RecordingsUpload['offer']>[0], doc: unknown): Promise<OfferReply> {
    if (role !== 'hub') throw new BoxError('E_NOT_FOUND', 'Only a hub receives recordings.');
    if (!from || from.status !== 'active') throw new BoxError('E_FORBIDDEN', 'This box is not an enrolled teaching point of this hub.');
    const list = verifyFileList(doc, [from.publicKey]);
    if (list.boxId !== from.boxId) throw new BoxError('E_MANIFEST_WRONG_KEY', 'The recording list names another box.');
    const refused: OfferReply['refused'] = [];
    const byIh = new Map(incoming.map((i) => [i.file.infohash, i]));
    let changed = false;
    // A new file is taken only while the hub keeps its reserve free afterwards (recording comes first).
    let room = Infinity;
    try {
      const fs = await statfs(o.dir);
      room = fs.bavail * fs.bsize - (o.reserveBytes ?? 500 * 1024 * 1024);
    } catch { /* unknown: try */ }
    for (const f of list.files) {
      const meta = uploadMetaSchema.safeParse(f.meta);
      const lesson = meta.success ? o.media.lessons.get(meta.data.lessonId) : undefined;
      if (!meta.success || !lesson) {
        refused.push({ infohash: f.infohash, code: 'E_VALIDATION', message: 'Not a recording of a lesson this hub knows.' });
        continue;
      }
      // A teaching point sends what it recorded of its own lessons: the broadcast it received, or its classroom.
      if (!lesson.teachingPoints.includes(from.boxId) || (meta.data.room !== broadcastRoom(lesson.id) && meta.data.room !== classroomRoom(lesson.id, from.boxId))) {
        refused.push({ infohash: f.infohash, code: 'E_FORBIDDEN', message: 'This teaching point did not take part in that lesson room.' });
        continue;
      }
      const known = byIh.get(f.infohash);
      if (known && known.fromBoxId !== from.boxId) {
        refused.push({ infohash: f.infohash, code: 'E_FORBIDDEN', message: 'Already offered by another box.' });
        continue;
      }
      if (!known && f.bytes > room) {
        refused.push({ infohash: f.infohash, code: 'E_DISK_FULL', message: 'The hub has no room for this recording now.' });
        continue;
      }
      if (!known) {
        room -= f.bytes;
        byIh.set(f.infohash, { fromBoxId: from.boxId, fromName: from.name, file: { ...f, webSeeds: [], trackers: [], peers: [] } });
        changed = true;
        log.info({ from: from.boxId, infohash: f.infohash, bytes: f.bytes, lesson: meta.data.lessonId }, 'teaching point offers a recording');
      }
    }
    if (changed) {
      incoming = [...byIh.values()];
      writeFileAtomic(join(o.dir, 'uploads-in.json'), JSON.stringify(incoming));
    }
    const mine = incoming.filter((i) => i.fromBoxId === from.boxId && list.files.some((f) => f.infohash === i.file.infohash));
    // One source: pieces in order, so a hub that loses power holds whole pieces, not many half ones.
    await o.peer.want(mine.map((i) => asFetched(i.file)), { strategy: 'sequential' });
    const progress = new Map(o.peer.status().map((s) => [s.infohash, s.progress]));
    return {
      torrentPort: o.peer.torrentPort || null,
      files: mine.map((i) => {
        const held = o.peer.heldPath(i.file) !== undefined;
        return {
          infohash: i.file.infohash, state: held ? 'complete' as const : 'fetching' as const, progress: held ? 1 : progress.get(i.file.infohash) ?? 0,
          receivedBytes: o.peer.received.get(i.file.infohash) ?? 0,
        };
      }),
      refused,
    };
  }

  function received(): UploadedRecording[] {
    const progress = new Map(o.peer.status().map((s) => [s.infohash, s.progress]));
    return incoming.flatMap((i) => {
      const meta = uploadMetaSchema.safeParse(i.file.meta);
      if (!meta.success) return [];
      const path = o.peer.heldPath(i.file);
      return [{ infohash: i.file.infohash, bytes: i.file.bytes, fromBoxId: i.fromBoxId, fromName: i.fromName, meta: meta.data, path, progress: path ? 1 : progress.get(i.file.infohash) ?? 0 }];
    });
  }

  // ---------- teaching point ----------

  function plan(): BandwidthPlan {
    if (role !== 'teaching-point') return current;
    const now = o.clock.now();
    const self = o.identity.boxId;
    const live = o.media.lessons.list().some((l) => l.teachingPoints.includes(self) && runningLesson(l, now));
    const inputs = o.linkPolicy?.() ?? { lessonSharePercent: 0, uploadLimitKbps: null, downloadLimitKbps: null, window: null, linkKbps: null, lessonActive: false };
    const d = new Date(now);
    return bandwidthPlan({ ...inputs, lessonActive: inputs.lessonActive || live, minuteOfDay: d.getHours() * 60 + d.getMinutes() });
  }

  /**
   * The one link policy for recordings on a teaching point, both ways through the same file peer:
   * paused → uploads stop seeding (nothing leaves the box) and master downloads stop keeping their
   * verified pieces (nothing arrives); otherwise both run under the plan's rates.
   */
  async function applyPolicyOnce(): Promise<void> {
    const next = plan();
    const was = current;
    current = next;
    if (next.paused) {
      await o.peer.pauseFetches();
      for (const u of outgoing) if (o.peer.seeding(u.file.infohash)) await o.peer.unseed(u.file.infohash);
      if (!was.paused) log.info({ reason: next.reason }, 'recording transfers paused: the link is kept for the lesson');
      return;
    }
    o.peer.throttleUpload(next.uploadBps);
    o.peer.throttleDownload(next.downloadBps);
    await o.peer.resumeFetches();
    if (was.paused) {
      log.info({ reason: next.reason, uploadBps: next.uploadBps, downloadBps: next.downloadBps }, 'recording transfers may go on');
      void tick();
    }
  }

  // One application at a time (timer, tick and the catch-up's rounds): a resume never overtakes a pause.
  let policyChain: Promise<void> = Promise.resolve();
  function applyPolicy(): Promise<void> {
    if (role !== 'teaching-point') return Promise.resolve();
    policyChain = policyChain.then(applyPolicyOnce, applyPolicyOnce);
    return policyChain;
  }

  function transfers(): RecordingTransfer[] {
    if (role === 'hub') {
      const fetches = new Map(o.peer.fetches().map((f) => [f.infohash, f]));
      return incoming.flatMap((i) => {
        const meta = uploadMetaSchema.safeParse(i.file.meta);
        if (!meta.success) return [];
        const f = fetches.get(i.file.infohash);
        const held = o.peer.heldPath(i.file) !== undefined;
        const state: RecordingTransfer['state'] = held ? 'done' : !f ? 'waiting' : f.state === 'fetching' ? 'moving' : f.state;
        return [{
          recordingId: uploadedRecordingId(i.fromBoxId, meta.data.lessonId, meta.data.room), lessonId: meta.data.lessonId, room: meta.data.room, title: meta.data.title,
          direction: 'download' as const, state, reason: state === 'failed' ? f?.code ?? null : null,
          bytes: i.file.bytes, doneBytes: held ? i.file.bytes : f?.doneBytes ?? 0, progress: held ? 1 : f?.progress ?? 0,
          linkBytes: o.peer.received.get(i.file.infohash) ?? 0, limitBps: o.peer.downloadLimit,
        }];
      });
    }
    if (role !== 'teaching-point') return [];
    return outgoing.map((u) => {
      const meta = u.file.meta as unknown as MasterMeta;
      const said = hubSaid.get(u.file.infohash);
      const refused = refusedBy.get(u.file.infohash);
      let state: RecordingTransfer['state'];
      let reason: string | null = null;
      if (u.done) state = 'done';
      else if (current.paused) { state = 'paused'; reason = current.reason; }
      else if (refused) { state = 'failed'; reason = refused; }
      else if (lastError) { state = 'failed'; reason = lastErrorCode; }
      else state = o.peer.seeding(u.file.infohash) ? 'moving' : 'waiting';
      const progress = u.done ? 1 : said?.progress ?? 0;
      return {
        recordingId: recordingId('own', u.lessonId, u.room), lessonId: u.lessonId, room: u.room, title: String(meta.title ?? u.lessonId),
        direction: 'upload' as const, state, reason, bytes: u.file.bytes, doneBytes: Math.round(progress * u.file.bytes), progress,
        // The rate set on the client: the plan's, or the recordings' share of it while the resource sync moves data too.
        linkBytes: o.peer.sent.get(u.file.infohash) ?? 0, limitBps: current.paused ? 0 : o.peer.uploadLimit,
      };
    });
  }

  async function addJoined(): Promise<void> {
    const self = o.identity.boxId;
    for (const row of o.recording.store.byState('joined')) {
      if (!row.joinedFile || outgoing.some((u) => u.lessonId === row.lessonId && u.room === row.room)) continue;
      // Only the classroom goes up: the hub holds the master of the broadcast this box received.
      if (row.room === row.lessonId) continue;
      const l = o.media.lessons.get(row.lessonId);
      if (!l || !l.teachingPoints.includes(self)) continue;
      const segs = o.recording.store.segments(row.lessonId, row.room);
      const timed = segs.filter((s) => s.startedAt > 0);
      const meta: MasterMeta = {
        lessonId: row.lessonId, room: row.room, title: l.title, subject: l.subject ?? null, grade: l.grade ?? null,
        startedAtMs: timed[0]?.startedAt ?? row.startedAt,
        endedAtMs: timed.length ? Math.max(...timed.map((s) => s.startedAt + s.durationMs)) : row.startedAt,
        durationMs: segs.reduce((a, s) => a + s.durationMs, 0),
      };
      const d = await describeFile(row.joinedFile, basename(row.joinedFile), { trackers: [], webSeeds: [] });
      outgoing = [...outgoing, {
        lessonId: row.lessonId, room: row.room, path: row.joinedFile, done: false,
        file: { id: `tp.${safe(row.lessonId)}.${safe(row.room)}`, infohash: d.infohash, sha256: d.sha256, bytes: d.bytes, fileName: basename(row.joinedFile), torrent: d.torrent.toString('base64'), meta: { ...meta } },
      }];
      writeFileAtomic(join(o.dir, 'uploads-out.json'), JSON.stringify(outgoing));
      log.info({ lesson: row.lessonId, recRoom: row.room, infohash: d.infohash, bytes: d.bytes }, 'own recording queued for the hub');
    }
  }

  async function send(): Promise<void> {
    if (o.provisioning.role !== 'teaching-point') return;
    const hub = o.provisioning.hub;
    const base = hub.url.replace(/\/$/, '');
    const pending = outgoing.filter((u) => !u.done);
    if (pending.length === 0) return;
    const announce = [`${base}/recordings/announce`];
    for (const u of pending) if (!current.paused) await o.peer.seed(Buffer.from(u.file.torrent, 'base64'), dirname(u.path), announce);
    const list = signFileList(o.identity, {
      format: 'tpbox-files/1', boxId: o.identity.boxId, issuedAt: new Date(o.clock.now()).toISOString(),
      files: pending.map((u) => ({ ...u.file, webSeeds: [], trackers: [], peers: [] })),
    });
    const token = await issueBoxToken(o.identity, { audience: boxIdOf(hub.publicKey), ttlSeconds: 60, clock: o.clock });
    const res = await fetch(`${base}/api/peer/recordings/offer`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(list), signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`hub answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const reply = (await res.json()) as OfferReply;
    const host = new URL(base).hostname;
    let changed = false;
    for (const f of reply.files) {
      const u = pending.find((p) => p.file.infohash === f.infohash);
      if (!u) continue;
      hubSaid.set(f.infohash, f);
      refusedBy.delete(f.infohash);
      if (f.state === 'complete') {
        u.done = true;
        changed = true;
        await o.peer.unseed(f.infohash);
        log.info({ lesson: u.lessonId, recRoom: u.room, infohash: f.infohash }, 'own recording received and verified by the hub');
      } else if (reply.torrentPort) {
        o.peer.addPeers(f.infohash, [`${host}:${reply.torrentPort}`]);
      }
    }
    for (const r of reply.refused) refusedBy.set(r.infohash, r.code);
    for (const r of reply.refused) log.warn({ infohash: r.infohash, code: r.code, message: r.message }, 'the hub refused a recording');
    if (changed) writeFileAtomic(join(o.dir, 'uploads-out.json'), JSON.stringify(outgoing));
  }

  async function tick(): Promise<void> {
    if (busy || closed || role !== 'teaching-point') return;
    busy = true;
    try {
      await addJoined();
      await applyPolicy();
      if (!current.paused) await send();
      lastError = null;
    } catch (e) {
      lastError = (e as Error).message;
      lastErrorCode = e instanceof BoxError ? e.code : 'E_HUB_UNREACHABLE';
      log.warn({ err: lastError }, 'recording upload: round failed');
    } finally {
      busy = false;
    }
  }

  return {
    offer, received,
    knows: (ih) => incoming.some((i) => i.file.infohash === ih),
    plan: () => current,
    applyPolicy, transfers,
    sentBytes: (ih) => o.peer.sent.get(ih) ?? 0,
    hubSays: (ih) => hubSaid.get(ih),
    uploadState(lessonId, room) {
      if (role !== 'teaching-point') return undefined;
      const u = outgoing.find((x) => x.lessonId === lessonId && x.room === room);
      if (!u) return { state: 'waiting', reason: null };
      if (u.done) return { state: 'done', reason: null };
      if (current.paused) return { state: 'paused', reason: current.reason };
      const refused = refusedBy.get(u.file.infohash);
      if (refused) return { state: 'waiting', reason: refused };
      return { state: o.peer.seeding(u.file.infohash) ? 'sending' : 'waiting', reason: lastError };
    },
    async start() {
      if (role === 'hub') {
        // After a restart (power cut, kill -9) every unfinished fetch resumes from its saved bitfield.
        await o.peer.want(incoming.map((i) => asFetched(i.file)), { strategy: 'sequential' });
        return;
      }
      o.recording.onJoined(() => void tick());
      policyTimer = setInterval(() => void applyPolicy().catch((e: Error) => log.warn({ err: e.message }, 'recording upload: policy check failed')), o.policyIntervalMs ?? 2000);
      policyTimer.unref();
      await tick();
    },
    tick,
    close() {
      closed = true;
      if (policyTimer) clearInterval(policyTimer);
    },
  };
}
