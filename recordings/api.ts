import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Identity } from '../core/identity.js';
import type { ProvisionPayload } from '../core/config.js';
import type { LessonClock } from '../core/lesson-clock.js';
import type { PeerClient } from '../core/peer-client.js';
import type { SignedDocument } from '../core/signing.js';
import type { RecordingTransfer } from '../core/contract/recording.js';
import type { LessonStore } from '../media/lesson-store.js';
import type { ControlHub } from '../media/control-hub.js';
import type { RecorderSchedule } from '../media/recorder-schedule.js';
import type { LinkShare } from '../sync/link-share.js';
import { FilePeer, type FileList } from '../sync/recording-fetch.js';
import { createTracker, type PrivateTracker } from '../sync/tracker.js';
import { createRecordingsCatalogue, type RecordingsCatalogue } from './catalogue.js';
import { createRecordingsCatchup } from './catchup.js';
import { createRecordingsIntake, type RecordingsIntake } from './intake.js';
import { createRecordingsUpload, noUpload, type LinkPolicyInputs, type RecordingsUpload } from './upload.js';

export interface RecordingsApi {
  catalogue: RecordingsCatalogue;
  /** Hub: the signed list of master recordings a teaching point may fetch. */
  signedList(forBoxId: string): SignedDocument<FileList>;
  /** Hub: the file behind a published infohash (web seed). */
  publishedFile(infohash: string): string | undefined;
  /** Hub: the tracker of its published masters and of the recordings teaching points send up. */
  tracker: PrivateTracker | undefined;
  /** Teaching point: its own recordings going up to the hub (a hub sends nothing: open and empty). */
  upload: RecordingsUpload;
  /** Hub: teaching points' own recordings coming in. */
  intake: RecordingsIntake | undefined;
  /** Every recording moving between this box and the others, both ways (doctor, /metrics). */
  transfers(): RecordingTransfer[];
  start(selfUrl: string): void;
  /** One round now: publish what is joined (hub) / fetch the hub's list and send own recordings (teaching point). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Lesson recordings once made, on a hub or a teaching point: the list teachers see, the hub's masters
 * going down (catch-up) and the teaching points' own going up. One webtorrent client for both ways,
 * beside the resource sync's; on a teaching point both split the link plan through one LinkShare
 * (sync/link-share.ts).
 */
export function createRecordingsApi(o: {
  log: Logger; dataDir: string; identity: Identity; provisioning: ProvisionPayload;
  /** The box's clock and the one answer to "is this lesson running". */
  lessonClock: LessonClock;
  lessons: LessonStore; control: ControlHub; recorder: RecorderSchedule;
  /** Teaching point: the peer client for every call to its hub. */
  hub: PeerClient | undefined;
  catchupIntervalMs?: number | undefined;
  /** Hub: bytes one teaching point may have on their way up at once. */
  uploadQuotaBytes?: number | undefined;
  /** Teaching point: the sync bandwidth settings and link state the upload to the hub obeys. */
  linkPolicy?: () => LinkPolicyInputs;
  /** Teaching point: the box's one link share, so recordings and resource sync together keep to the plan. */
  linkShare?: LinkShare;
}): RecordingsApi {
  const log = o.log.child({ room: 'recordings' });
  const dir = join(o.dataDir, 'recordings-shared');
  const p = o.provisioning;
  const hub = p.role === 'teaching-point' && o.hub ? { client: o.hub, publicKey: p.hub.publicKey } : undefined;
  let selfUrl = '';
  let closed = false;
  let busy = false;
  // Only a teaching point's recordings run under the link plan (a hub's are not limited): only they share it.
  const peer = new FilePeer({ dir, log, onComplete: () => undefined, ...(p.role === 'teaching-point' && o.linkShare ? { linkShare: o.linkShare } : {}) });
  const trackers = () => (selfUrl ? [`${selfUrl}/recordings/announce`] : []);

  const catchup = createRecordingsCatchup({
    clock: o.lessonClock, log, dir, identity: o.identity, lessons: o.lessons, recorder: o.recorder, peer, selfUrl: () => selfUrl, trackers, ...(hub ? { hub } : {}),
  });
  const intake = p.role === 'hub' ? createRecordingsIntake({ log, dir, lessons: o.lessons, peer, trackers, ...(o.uploadQuotaBytes !== undefined ? { quotaBytes: o.uploadQuotaBytes } : {}) }) : undefined;
  const upload = hub ? createRecordingsUpload({
    log, dir, identity: o.identity, hub: hub.client, lessonClock: o.lessonClock, lessons: o.lessons, recorder: o.recorder, peer,
    ...(o.linkPolicy ? { linkPolicy: o.linkPolicy } : {}),
  }) : noUpload;
  const catalogue = createRecordingsCatalogue({
    recorder: o.recorder, lessons: o.lessons, control: o.control, lessonClock: o.lessonClock, masters: catchup.masters,
    uploads: () => intake?.received() ?? [], uploadState: upload.uploadState,
  });
  const tracker = intake ? createTracker({
    knows: (ih) => catchup.publishedFile(ih) !== undefined || intake.knows(ih), intervalMs: 5000, log, announceAnyPath: true, refusal: 'not a published recording',
  }) : undefined;

  async function tick(): Promise<void> {
    if (busy || closed) return;
    busy = true;
    try {
      if (intake) {
        await catchup.publishJoined();
      } else {
        // The link plan first, so a master's fetch never starts while the plan holds the link.
        await upload.applyPolicy().catch((e: Error) => log.warn({ err: e.message }, 'recordings catch-up: link policy failed'));
        await catchup.fetchList().catch((e: Error) => log.warn({ err: e.message }, 'recordings catch-up: cannot fetch the hub list'));
        await upload.tick();
      }
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'recordings catch-up: round failed');
    } finally {
      busy = false;
    }
  }

  let timer: NodeJS.Timeout | undefined;
  o.recorder.onJoined(() => void tick());
  return {
    catalogue, upload, intake, tracker,
    signedList: catchup.signedList,
    publishedFile: catchup.publishedFile,
    transfers: () => [...catchup.transfers(upload.plan().reason), ...(intake?.transfers() ?? []), ...upload.transfers()],
    start(url) {
      selfUrl = url.replace(/\/$/, '');
      void (async () => {
        await catchup.seedPublished();
        await (intake ?? upload).start().catch((e: Error) => log.warn({ err: e.message }, 'recording upload could not start'));
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
      await tracker?.close();
    },
  };
}
