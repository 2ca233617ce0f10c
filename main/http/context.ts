import type { Logger } from '../../core/log.js';
import type { OffsetClock } from '../../core/clock.js';
import type { LessonClock } from '../../core/lesson-clock.js';
import type { BoxConfig, ProvisionPayload, Role } from '../../core/config.js';
import type { Identity } from '../../core/identity.js';
import type { Db } from '../../core/store/database.js';
import type { AuditStore } from '../../core/store/audit-store.js';
import type { KvStore } from '../../core/store/kv-store.js';
import type { PinGuard } from '../security/pin-guard.js';
import type { PeerRegistry } from '../security/peer-registry.js';
import type { EnrolmentCodes } from '../security/enrolment-codes.js';
import type { SettingsService } from '../settings-service.js';
import type { HubLink } from '../wiring/hub-link.js';
import type { BoxMetrics } from '../metrics.js';
import type { SyncServices } from '../wiring/sync.js';
import type { MediaServices } from '../wiring/media.js';
import type { BoxHardware } from '../wiring/hardware-peer.js';
import type { RecordingsApi } from '../../recordings/api.js';

export interface IdentityNotice {
  reason: 'first-boot' | 'cloned' | 'unreadable';
  previousBoxId?: string;
  at: number;
}

/** What the routes of one box share; built by box.ts, never a module-level singleton. */
export interface BoxContext {
  config: BoxConfig;
  provisioning: ProvisionPayload | undefined;
  role: Role | null;
  identity: Identity;
  identityNotice: IdentityNotice | undefined;
  clock: OffsetClock;
  /** "Is this lesson running" for everything the routes decide (one per box, built by box.ts). */
  lessonClock: LessonClock;
  log: Logger;
  db: Db;
  audit: AuditStore;
  state: KvStore;
  settings: SettingsService;
  pin: PinGuard;
  peers: PeerRegistry;
  codes: EnrolmentCodes;
  hubLink: HubLink | undefined;
  metrics: BoxMetrics;
  startedAt: number;
  version: string;
  /** Resource sync and the offline library: every provisioned box. */
  sync?: SyncServices;
  /** Live lessons (SFU, lessons, control channel): hub and teaching point only. */
  media?: MediaServices;
  /** Cameras, microphones, PTZ presets, boot record and hardware health: every box. */
  hardware?: BoxHardware;
  /** Lesson recordings (own and the hub's masters), catch-up: hub and teaching point only. */
  recordings?: RecordingsApi;
}
