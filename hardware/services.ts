// The hardware room of one box, put together from its parts: device roles and PTZ settings behind the
// PIN, PTZ presets (local, from the hub, on hand-raise), boot/unclean-shutdown record, disk samples,
// the hub's record of its teaching points' PTZ endpoints, and the hardware health. Box-to-box calls
// and metrics are main's (main/hardware-peer.ts, main/metrics.ts).
import type { Logger } from '../core/log.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';
import type { AuditStore } from '../core/store/audit-store.js';
import {
  cameraRoles,
  type CameraRole, type DeviceAssignment, type HardwareHealth, type PresetName, type PtzResult, type PtzSettings,
} from '../core/contract/hardware.js';
import { discoverDevices, type DiscoveredDevices } from './devices.js';
import { DiskSamples, type BootInfo } from './health-store.js';
import type { PtzController } from './ptz.js';
import { recordBoot } from './boot-record.js';
import { startDiskSampling } from './disk-sampling.js';
import { healthReporter } from './health-report.js';
import { HardwareSettingsStore } from './settings-store.js';
import { createPtzCameras, type PtzOutcome } from './ptz-cameras.js';
import { TeachingPointEndpoints, type TeachingPointEndpoint } from './teaching-point-endpoints.js';


/** A plain object of functions (main adds its box-to-box calls beside them). */
export interface HardwareServices {
  ptz: PtzController;
  boot: BootInfo;
  assignment(): DeviceAssignment;
  setAssignment(input: unknown, actor: string): DeviceAssignment;
  /** PTZ settings with passwords replaced by "***" (for showing). */
  ptzSettingsMasked(): PtzSettings;
  setPtzSettings(input: unknown, actor: string): PtzSettings;
  storePreset(role: CameraRole, preset: PresetName, actor: string): Promise<PtzSettings>;
  /** The camera roles with a PTZ camera set up (what a teaching point tells its hub). */
  ptzRoles(): CameraRole[];
  /** Every PTZ preset command's outcome (metrics); returns the unsubscribe. */
  onPtzResult(fn: (r: PtzOutcome) => void): () => void;
  devices(): Promise<DiscoveredDevices>;
  health(): Promise<HardwareHealth>;
  /** The live-lesson room calls this when a pupil raises a hand: the class camera shows the whole class. */
  onHandRaise(): Promise<PtzResult | null>;
  /** Hub: records a teaching point's announcement. */
  recordEndpoint(boxId: string, url: string, ptzRoles: CameraRole[]): void;
  endpoints(): TeachingPointEndpoint[];
  /** Starts sampling free disk space. */
  start(): void;
  /** Stops the sampling, closes the cameras and records the clean stop. */
  close(): void;
}

export interface HardwareOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: Pick<AuditStore, 'append'>;
  dataDir: string;
  /** A teaching point's offset from its hub's clock (null or absent: follows no hub). */
  clockSkewMs?: () => number | null;
  /** How often to sample free disk space (the trend needs hours of samples). */
  diskSampleIntervalMs?: number;
}

export function createHardwareServices(o: HardwareOptions): HardwareServices {
  const log = o.log.child({ room: 'hardware' });
  const { boots, boot } = recordBoot({ db: o.db, dataDir: o.dataDir, clock: o.clock, log });
  const disk = new DiskSamples(o.db, o.clock);
  const settings = new HardwareSettingsStore(o.db, o.clock, o.audit);
  const ptz = createPtzCameras({ settings, clock: o.clock, log });
  const endpoints = new TeachingPointEndpoints(o.db, o.clock);
  const health = healthReporter({ dataDir: o.dataDir, boots, disk, clockSkewMs: o.clockSkewMs ?? (() => null) });
  let stopSampling: (() => void) | undefined;

  return {
    ptz: ptz.controller,
    boot,
    assignment: () => settings.assignment(),
    setAssignment: (input, actor) => settings.setAssignment(input, actor),
    ptzSettingsMasked: () => settings.ptzMasked(),
    setPtzSettings: (input, actor) => settings.setPtz(input, actor),
    storePreset: (role, preset, actor) => ptz.storePreset(role, preset, actor),
    ptzRoles: () => cameraRoles.filter((r) => settings.ptz()[r]),
    onPtzResult: (fn) => ptz.onResult(fn),
    devices: () => discoverDevices(),
    health,
    onHandRaise: () => ptz.controller.onHandRaise(),
    recordEndpoint: (boxId, url, ptzRoles) => endpoints.record(boxId, url, ptzRoles),
    endpoints: () => endpoints.list(),
    start() {
      stopSampling ??= startDiskSampling({ disk, dataDir: o.dataDir, log, intervalMs: o.diskSampleIntervalMs });
    },
    close() {
      stopSampling?.();
      ptz.controller.close();
      boots.recordCleanStop();
    },
  };
}
