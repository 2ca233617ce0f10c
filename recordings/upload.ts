import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Identity } from '../core/identity.js';
import type { LessonClock } from '../core/lesson-clock.js';
import type { PeerClient } from '../core/peer-client.js';
import { broadcastRoom } from '../core/contract/lesson.js';
import type { RecordingEntry, RecordingTransfer } from '../core/contract/recording.js';
import { BoxError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { LessonStore } from '../media/lesson-store.js';
import type { RecorderSchedule } from '../media/recorder-schedule.js';
import { bandwidthPlan, type BandwidthInputs, type BandwidthPlan } from '../sync/bandwidth.js';
import { signFileList, type FilePeer } from '../sync/recording-fetch.js';
import type { OfferReply } from './intake.js';
import { describeRecording, recordingId, recordingMeta, uploadFileId, type RecordingMeta, type StoredFile } from './metadata.js';

// A teaching point's own recordings travel up to its hub the way the hub's master travels down: a
// list signed with the teaching point's box key, each file a private v1 torrent. The teaching point
// is usually behind NAT, so every connection is its own: it POSTs the list to the hub (through the
// peer client), the hub answers with its torrent port (recordings/intake.ts), and the teaching
// point's seeding client dials the hub's fetching client (webtorrent talks the wire protocol the same
// way whichever side dialled).

/** What the link policy reads on a teaching point: the sync settings and what the sync knows of the link. */
export type LinkPolicyInputs = Omit<BandwidthInputs, 'minuteOfDay' | 'lessonActive'> & { lessonActive: boolean };

export interface RecordingsUpload {
  /** How the upload of one own recording stands. */
  uploadState(lessonId: string, room: string): RecordingEntry['upload'];
  /** Bytes of one file sent to the hub since this box started (duplicates included). */
  sentBytes(infohash: string): number;
  /** What the hub last said of one file (its progress and the bytes it received since it started). */
  hubSays(infohash: string): OfferReply['files'][number] | undefined;
  /** The plan in force for the link to the hub. */
  plan(): BandwidthPlan;
  /**
   * Applies the link plan to everything the file peer moves (uploads of own recordings and downloads
   * of the hub's masters); call it before wanting a file, so a fetch never starts unplanned.
   */
  applyPolicy(): Promise<void>;
  /** Own recordings going up. */
  transfers(): RecordingTransfer[];
  start(): Promise<void>;
  tick(): Promise<void>;
  close(): void;
}

const OPEN: BandwidthPlan = { paused: false, downloadBps: -1, uploadBps: -1, reason: 'open' };

/** A hub sends nothing up: its upload side is open and empty. */
export const noUpload: RecordingsUpload = {
  uploadState: () => undefined, sentBytes: () => 0, hubSays: () => undefined, plan: () => OPEN,
  applyPolicy: async () => undefined, transfers: () => [], start: async () => undefined, tick: async () => undefined, close: () => undefined,
};

// The offer's answer lists a few numbers per file.
const OFFER_REPLY_MAX_BYTES = 2 * 1024 * 1024;

interface Outgoing { lessonId: string; room: string; path: string; file: StoredFile; done: boolean }

export function createRecordingsUpload(o: {
  log: Logger; dir: string; identity: Identity; hub: PeerClient; lessonClock: LessonClock; lessons: LessonStore;
  recorder: RecorderSchedule; peer: FilePeer;
  linkPolicy?: () => LinkPolicyInputs;
  policyIntervalMs?: number;
}): RecordingsUpload {
  const log = o.log.child({ part: 'upload' });
  let outgoing: Outgoing[] = [];
  try { outgoing = JSON.parse(readFileSync(join(o.dir, 'uploads-out.json'), 'utf8')) as Outgoing[]; } catch { /* none yet */ }
  let current: BandwidthPlan = OPEN;
  let lastError: string | null = null;
  let lastErrorCode = 'E_HUB_UNREACHABLE';
  const hubSaid = new Map<string, OfferReply['files'][number]>();
  const refusedBy = new Map<string, string>();
  let busy = false;
  let closed = false;
  let policyTimer: NodeJS.Timeout | undefined;

  function plan(): BandwidthPlan {
    const self = o.identity.boxId;
    const live = o.lessons.list().some((l) => l.teachingPoints.includes(self) && o.lessonClock.running(l));
    const inputs = o.linkPolicy?.() ?? { lessonSharePercent: 0, uploadLimitKbps: null, downloadLimitKbps: null, window: null, linkKbps: null, lessonActive: false };
    const d = new Date(o.lessonClock.now());
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
    policyChain = policyChain.then(applyPolicyOnce, applyPolicyOnce);
    return policyChain;
  }

  function transfers(): RecordingTransfer[] {
    return outgoing.map((u) => {
      const meta = u.file.meta as unknown as RecordingMeta;
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
    const { store } = o.recorder;
    for (const row of store.byState('joined')) {
      if (!row.joinedFile || outgoing.some((u) => u.lessonId === row.lessonId && u.room === row.room)) continue;
      // Only the classroom goes up: the hub holds the master of the broadcast this box received.
      if (row.room === broadcastRoom(row.lessonId)) continue;
      const l = o.lessons.get(row.lessonId);
      if (!l || !l.teachingPoints.includes(self)) continue;
      const meta = recordingMeta(row, store.segments(row.lessonId, row.room), l);
      const file = await describeRecording(row.joinedFile, uploadFileId(row.lessonId, row.room), meta);
      outgoing = [...outgoing, { lessonId: row.lessonId, room: row.room, path: row.joinedFile, done: false, file }];
      writeFileAtomic(join(o.dir, 'uploads-out.json'), JSON.stringify(outgoing));
      log.info({ lesson: row.lessonId, recRoom: row.room, infohash: file.infohash, bytes: file.bytes }, 'own recording queued for the hub');
    }
  }

  async function send(): Promise<void> {
    const pending = outgoing.filter((u) => !u.done);
    if (pending.length === 0) return;
    const announce = [o.hub.url('/recordings/announce').href];
    for (const u of pending) if (!current.paused) await o.peer.seed(Buffer.from(u.file.torrent, 'base64'), dirname(u.path), announce);
    const list = signFileList(o.identity, {
      format: 'tpbox-files/1', boxId: o.identity.boxId, issuedAt: new Date(o.lessonClock.now()).toISOString(),
      files: pending.map((u) => ({ ...u.file, webSeeds: [], trackers: [], peers: [] })),
    });
    const reply = await o.hub.json<OfferReply>('/api/peer/recordings/offer', { method: 'POST', json: list, timeoutMs: 15_000, maxBytes: OFFER_REPLY_MAX_BYTES });
    const host = new URL(o.hub.baseUrl).hostname;
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
    if (busy || closed) return;
    busy = true;
    try {
      await addJoined();
      await applyPolicy();
      if (!current.paused) await send();
      lastError = null;
    } catch (e) {
      lastError = (e as Error).message;
      // Not reaching the hub (or an HTTP error from it) keeps its own words for the technician.
      lastErrorCode = e instanceof BoxError && e.code !== 'E_PEER_UNREACHABLE' ? e.code : 'E_HUB_UNREACHABLE';
      log.warn({ err: lastError }, 'recording upload: round failed');
    } finally {
      busy = false;
    }
  }

  return {
    plan: () => current,
    applyPolicy, transfers, tick,
    sentBytes: (ih) => o.peer.sent.get(ih) ?? 0,
    hubSays: (ih) => hubSaid.get(ih),
    uploadState(lessonId, room) {
      const u = outgoing.find((x) => x.lessonId === lessonId && x.room === room);
      if (!u) return { state: 'waiting', reason: null };
      if (u.done) return { state: 'done', reason: null };
      if (current.paused) return { state: 'paused', reason: current.reason };
      const refused = refusedBy.get(u.file.infohash);
      if (refused) return { state: 'waiting', reason: refused };
      return { state: o.peer.seeding(u.file.infohash) ? 'sending' : 'waiting', reason: lastError };
    },
    async start() {
      o.recorder.onJoined(() => void tick());
      policyTimer = setInterval(() => void applyPolicy().catch((e: Error) => log.warn({ err: e.message }, 'recording upload: policy check failed')), o.policyIntervalMs ?? 2000);
      policyTimer.unref();
      await tick();
    },
    close() {
      closed = true;
      if (policyTimer) clearInterval(policyTimer);
    },
  };
}
