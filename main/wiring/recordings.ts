import type { Registry } from 'prom-client';
import type { Logger } from '../../core/log.js';
import type { Identity } from '../../core/identity.js';
import type { ProvisionPayload } from '../../core/config.js';
import type { Db } from '../../core/store/database.js';
import type { LessonClock } from '../../core/lesson-clock.js';
import type { PeerClient } from '../../core/peer-client.js';
import type { LinkShare } from '../../sync/link-share.js';
import { createRecorderSchedule, type RecorderScheduleOptions } from '../../media/recorder-schedule.js';
import { createRecordingsApi, type RecordingsApi } from '../../recordings/api.js';
import type { LinkPolicyInputs } from '../../recordings/upload.js';
import { registerRecordingMetrics } from '../metrics.js';
import type { MediaServices } from './media.js';

/** Tests shorten the recorder's rounds and segments and the catch-up interval. */
export type RecordingsTuning = Partial<Pick<RecorderScheduleOptions, 'tickMs' | 'segmentSeconds' | 'minFreeBytes'>> & {
  catchupIntervalMs?: number | undefined;
  /** Hub: bytes one teaching point may have on their way up at once (default 4 GiB). */
  uploadQuotaBytes?: number | undefined;
};

export interface RecordingsWiring {
  api: RecordingsApi;
  close(): Promise<void>;
}

/**
 * Recording on a hub or teaching point: the recorder schedule taps the SFU's rooms of running lessons,
 * and the recordings room lists, publishes, fetches and sends what it made. Closed as one (the room
 * first, then the recorders, whose rows stay 'recording' to resume at the next start).
 */
export function wireRecordings(o: {
  db: Db; log: Logger; dataDir: string; identity: Identity; provisioning: Exclude<ProvisionPayload, { role: 'seed' }>;
  lessonClock: LessonClock; media: MediaServices; hubPeer: PeerClient | undefined; linkShare: LinkShare; registry: Registry;
  /** The recording switch in settings. */
  enabled: () => boolean;
  /** Teaching point: the sync bandwidth settings and link state its recording transfers obey. */
  linkPolicy: () => LinkPolicyInputs;
  tuning?: RecordingsTuning | undefined;
}): RecordingsWiring {
  const { media } = o;
  const { catchupIntervalMs, uploadQuotaBytes, ...scheduleTuning } = o.tuning ?? {};
  const schedule = createRecorderSchedule({
    db: o.db, lessonClock: o.lessonClock, log: o.log, dataDir: o.dataDir, room: (name) => media.sfu.room(name), lessons: media.lessons,
    control: media.control, role: o.provisioning.role, selfBoxId: o.identity.boxId, enabled: o.enabled, ...scheduleTuning,
  });
  const api = createRecordingsApi({
    log: o.log, dataDir: o.dataDir, identity: o.identity, provisioning: o.provisioning, lessonClock: o.lessonClock,
    lessons: media.lessons, control: media.control, recorder: schedule, hub: o.hubPeer, catchupIntervalMs, uploadQuotaBytes, linkShare: o.linkShare, linkPolicy: o.linkPolicy,
  });
  registerRecordingMetrics(o.registry, { status: () => api.catalogue.status(), transfers: () => api.transfers() });
  return {
    api,
    async close() {
      await api.close();
      await schedule.close();
    },
  };
}
