// Composes the hardware room for one box: device roles and PTZ settings behind the PIN, PTZ
// presets (local, from the hub, on hand-raise), boot/unclean-shutdown record, disk samples, and the
// hardware health that /api/health, /metrics and `box doctor` show.
import { z } from 'zod';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import type { OffsetClock } from '../core/clock.js';
import type { Db } from '../core/store/database.js';
import type { AuditStore } from '../core/store/audit-store.js';
import { KvStore } from '../core/store/kv-store.js';
import type { Identity } from '../core/identity.js';
import { issueBoxToken } from '../core/box-token.js';
import { BoxError, ErrorCodes, type ErrorCode } from '../core/errors.js';
import { parseOrThrow } from '../core/validation.js';
import {
  cameraRoles, emptyAssignment, presetNames,
  type CameraRole, type DeviceAssignment, type HardwareHealth, type PresetName, type PtzResult, type PtzSettings,
} from '../core/contract/hardware.js';
import { discoverDevices, type DiscoveredDevices } from '../hardware/devices.js';
import { diskSpace } from '../hardware/disk.js';
import { cpuTemperature } from '../hardware/thermal.js';
import { smartHealth, type SmartReport } from '../hardware/smart.js';
import { findOnPath } from '../hardware/ffmpeg.js';
import { listDshowDevices } from '../hardware/dshow.js';
import { BootRecorder, DiskSamples, type BootInfo } from '../hardware/health-store.js';
import { PtzController } from '../hardware/ptz.js';
import type { HubLink } from './hub-link.js';
import type { PeerRegistry } from './security/peer-registry.js';

const SETTINGS_KEY = 'hardware';
const ENDPOINT_PREFIX = 'hardware.endpoint.';

const label = z.string().trim().min(1).max(200);
const roleEnum = z.enum(cameraRoles as [CameraRole, ...CameraRole[]]);
const presetEnum = z.enum(presetNames as [PresetName, ...PresetName[]]);
const host = z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP address');

export const assignmentSchema = z.strictObject({
  cameras: z.strictObject({ teacher: label.optional(), class: label.optional(), document: label.optional() }),
  microphone: label.nullable(),
});

const ptzCameraSchema = z.strictObject({
  protocol: z.enum(['visca-ip', 'onvif']),
  host,
  port: z.number().int().min(1).max(65535),
  username: z.string().max(100).optional(),
  password: z.string().max(200).optional(),
  presets: z.strictObject({
    lectern: z.union([z.number().int().min(0).max(127), z.string().min(1).max(64)]).optional(),
    students: z.union([z.number().int().min(0).max(127), z.string().min(1).max(64)]).optional(),
    board: z.union([z.number().int().min(0).max(127), z.string().min(1).max(64)]).optional(),
  }),
});

export const ptzSettingsSchema = z.strictObject({
  teacher: ptzCameraSchema.nullable().optional(),
  class: ptzCameraSchema.nullable().optional(),
  document: ptzCameraSchema.nullable().optional(),
});

export const presetRequestSchema = z.strictObject({ role: roleEnum, preset: presetEnum });

interface Stored {
  assignment: DeviceAssignment;
  ptz: PtzSettings;
}

export interface TeachingPointEndpoint {
  boxId: string;
  url: string;
  ptzRoles: CameraRole[];
  at: number;
}

export interface HardwareServices {
  ptz: PtzController;
  boot: BootInfo;
  assignment(): DeviceAssignment;
  setAssignment(input: unknown, actor: string): DeviceAssignment;
  /** PTZ settings with passwords replaced by "***" (for showing). */
  ptzSettingsMasked(): PtzSettings;
  setPtzSettings(input: unknown, actor: string): PtzSettings;
  storePreset(role: CameraRole, preset: PresetName, actor: string): Promise<PtzSettings>;
  devices(): Promise<DiscoveredDevices>;
  health(): Promise<HardwareHealth>;
  /** The live-lesson room calls this when a pupil raises a hand: the class camera shows the whole class. */
  onHandRaise(): Promise<PtzResult | null>;
  /** Teaching point: tells the hub where to reach this box for PTZ calls. */
  announceToHub(): Promise<void>;
  /** Hub: records a teaching point's announcement. */
  recordEndpoint(boxId: string, url: string, ptzRoles: CameraRole[]): void;
  endpoints(): TeachingPointEndpoint[];
  /** Hub: asks a teaching point to switch one of its cameras to a preset. */
  presetOnTeachingPoint(boxId: string, role: CameraRole, preset: PresetName): Promise<PtzResult>;
  start(selfUrl: string): void;
  close(): void;
}

export interface HardwareWiringOptions {
  db: Db;
  clock: OffsetClock;
  log: Logger;
  audit: AuditStore;
  dataDir: string;
  identity: Identity;
  registry: Registry;
  hubLink: HubLink | undefined;
  peers: PeerRegistry;
  /** How often to sample free disk space (the trend needs hours of samples). */
  diskSampleIntervalMs?: number;
  announceIntervalMs?: number;
}

function mask(ptz: PtzSettings): PtzSettings {
  const out: PtzSettings = {};
  for (const role of cameraRoles) {
    const c = ptz[role];
    if (c) out[role] = { ...c, ...(c.password ? { password: '***' } : {}) };
  }
  return out;
}

export function createHardwareServices(o: HardwareWiringOptions): HardwareServices {
  const log = o.log.child({ room: 'hardware' });
  const kv = new KvStore(o.db, o.clock, 'settings');
  const state = new KvStore(o.db, o.clock, 'box_state');
  const stored = (): Stored => ({ assignment: emptyAssignment, ptz: {}, ...(kv.get<Stored>(SETTINGS_KEY) ?? {}) });
  const boots = new BootRecorder(o.db, o.dataDir, o.clock);
  const boot = boots.recordStart();
  if (!boot.previousClean) {
    log.warn({ previousStartedAt: boot.previousStartedAt, uncleanCount: boot.uncleanCount },
      'the box did not shut down cleanly last time (power cut, kill or crash)');
  }
  const disk = new DiskSamples(o.db, o.clock);

  const ptzCommands = new Counter({ name: 'box_hardware_ptz_commands_total', help: 'PTZ preset commands by camera role and outcome', labelNames: ['role', 'preset', 'outcome'], registers: [o.registry] });
  const ptzSeconds = new Histogram({ name: 'box_hardware_ptz_seconds', help: 'Time for a PTZ camera to confirm a preset', labelNames: ['role'], buckets: [0.1, 0.5, 1, 3, 10], registers: [o.registry] });
  const ptz = new PtzController({
    settings: () => stored().ptz,
    clock: o.clock,
    onResult: (r) => {
      ptzCommands.inc({ role: r.role, preset: r.preset, outcome: r.ok ? 'ok' : r.code ?? 'error' });
      if (r.ok) ptzSeconds.observe({ role: r.role }, r.tookMs / 1000);
      else log.warn({ role: r.role, preset: r.preset, code: r.code }, 'PTZ preset failed');
    },
  });

  // SMART runs smartctl per disk: seconds on a slow box, so its answer is kept for a while.
  let smartCache: { at: number; value: SmartReport[] | null } | undefined;
  async function smart(): Promise<SmartReport[] | null> {
    const now = Date.now();
    if (smartCache && now - smartCache.at < 10 * 60_000) return smartCache.value;
    const path = (await findOnPath('smartctl')) ?? (await findOnPath('smartctl', '/usr/sbin:/sbin'));
    smartCache = { at: now, value: await smartHealth(path) };
    return smartCache.value;
  }

  /** Names of cameras and microphones: sysfs/ALSA on Linux, DirectShow through ffmpeg on Windows. */
  async function presence(): Promise<{ cameras: string[]; microphones: string[] }> {
    if (process.platform === 'win32') {
      const ffmpeg = await findOnPath('ffmpeg.exe');
      const list = ffmpeg ? await listDshowDevices(ffmpeg) : [];
      return { cameras: list.filter((d) => d.kind === 'video').map((d) => d.name), microphones: list.filter((d) => d.kind === 'audio').map((d) => d.name) };
    }
    const d = await discoverDevices();
    return { cameras: d.cameras.map((c) => c.name), microphones: d.microphones.map((m) => m.cardName || m.alsaName) };
  }

  async function health(): Promise<HardwareHealth> {
    const devices = await presence();
    let free: number | null = null;
    try {
      free = (await diskSpace(o.dataDir)).availableBytes;
    } catch {
      free = null;
    }
    const trend = disk.trend();
    const summary = boots.summary();
    const s = await smart();
    return {
      cameras: { count: devices.cameras.length, names: devices.cameras },
      microphones: { count: devices.microphones.length, names: devices.microphones },
      disk: { freeBytes: free, trendBytesPerDay: trend?.bytesPerDay ?? null, daysUntilFull: trend?.daysUntilFull ?? null },
      smart: s ? s.map((r) => ({ device: r.device, passed: r.passed, problem: r.problem })) : null,
      cpuTemperatureC: await cpuTemperature(),
      uncleanShutdowns: { count: summary.uncleanCount, lastAt: summary.lastUncleanAt ? new Date(summary.lastUncleanAt).toISOString() : null },
      clockSkewMs: o.hubLink ? o.hubLink.snapshot().clockOffsetMs : null,
    };
  }

  // Gauges read a snapshot taken at scrape time (prom-client awaits async collect()).
  let scrape: Promise<HardwareHealth> | undefined;
  const snapshot = () => (scrape ??= health().finally(() => setTimeout(() => { scrape = undefined; }, 1000).unref()));
  const gauge = (name: string, help: string, read: (h: HardwareHealth) => number | null) =>
    new Gauge({
      name, help, registers: [o.registry],
      async collect() {
        const v = read(await snapshot());
        if (v === null) this.reset();
        else this.set(v);
      },
    });
  gauge('box_hardware_cameras', 'Cameras the box can see', (h) => h.cameras.count);
  gauge('box_hardware_microphones', 'Microphones the box can see', (h) => h.microphones.count);
  gauge('box_hardware_cpu_temperature_celsius', 'CPU temperature', (h) => h.cpuTemperatureC);
  gauge('box_hardware_unclean_shutdowns', 'Starts that found the previous run had not stopped cleanly (all time)', (h) => h.uncleanShutdowns.count);
  gauge('box_hardware_disk_free_trend_bytes_per_day', 'Change of free disk space per day over the last week', (h) => h.disk.trendBytesPerDay);
  gauge('box_hardware_disks_failing', 'Disks whose SMART data shows a problem', (h) => (h.smart ? h.smart.filter((d) => d.problem !== null).length : null));

  function save(next: Stored, actor: string, action: string, details: Record<string, unknown>): void {
    o.db.transaction(() => {
      kv.set(SETTINGS_KEY, next);
      o.audit.append({ actor, action, outcome: 'ok', details });
    })();
  }

  function endpoints(): TeachingPointEndpoint[] {
    return Object.entries(state.all())
      .filter(([k]) => k.startsWith(ENDPOINT_PREFIX))
      .map(([, v]) => v as TeachingPointEndpoint);
  }

  let selfUrl: string | null = null;
  let closed = false;
  let diskTimer: NodeJS.Timeout | undefined;
  let announceTimer: NodeJS.Timeout | undefined;

  const services: HardwareServices = {
    ptz,
    boot,
    assignment: () => stored().assignment,
    setAssignment(input, actor) {
      const a = parseOrThrow(assignmentSchema, input, 'The device assignment');
      const assignment: DeviceAssignment = { cameras: a.cameras, microphone: a.microphone };
      save({ ...stored(), assignment }, actor, 'hardware.assignment.update', { assignment });
      return assignment;
    },
    ptzSettingsMasked: () => mask(stored().ptz),
    setPtzSettings(input, actor) {
      const p = parseOrThrow(ptzSettingsSchema, input, 'The PTZ camera settings');
      const cur = stored();
      const ptzNext: PtzSettings = { ...cur.ptz };
      for (const role of cameraRoles) {
        const v = p[role];
        if (v === undefined) continue;
        if (v === null) {
          delete ptzNext[role];
          continue;
        }
        // "***" is what GET shows: sending it back keeps the stored password.
        const password = v.password === '***' ? cur.ptz[role]?.password : v.password;
        ptzNext[role] = { ...v, ...(password ? { password } : {}) };
        if (!password) delete ptzNext[role]!.password;
      }
      save({ ...cur, ptz: ptzNext }, actor, 'hardware.ptz.update', { ptz: mask(ptzNext) });
      return mask(ptzNext);
    },
    async storePreset(role, preset, actor) {
      const cur = stored();
      const cam = cur.ptz[role];
      if (!cam) throw new BoxError('E_PTZ_NOT_CONFIGURED', `No PTZ camera is set up for the ${role} camera.`, { role });
      // VISCA memories are numbered by the box (1 讲台, 2 学生, 3 板书); ONVIF cameras hand out tokens.
      const slot = cam.presets[preset] ?? (cam.protocol === 'visca-ip' ? presetNames.indexOf(preset) + 1 : '');
      const saved = await ptz.storePreset(role, preset, slot);
      const latest = stored();
      const c = latest.ptz[role];
      if (!c) throw new BoxError('E_CONFLICT', 'The PTZ settings changed while the preset was being stored; try again.');
      const next: Stored = { ...latest, ptz: { ...latest.ptz, [role]: { ...c, presets: { ...c.presets, [preset]: saved } } } };
      save(next, actor, 'hardware.ptz.preset.store', { role, preset, slot: saved });
      return mask(next.ptz);
    },
    devices: () => discoverDevices(),
    health,
    onHandRaise: () => ptz.onHandRaise(),
    async announceToHub() {
      const link = o.hubLink;
      if (!link || !selfUrl || !link.enrolment()) return;
      const hub = link.snapshot();
      const token = await issueBoxToken(o.identity, { audience: hub.boxId, ttlSeconds: 60, clock: o.clock });
      const res = await fetch(new URL('/api/peer/hardware/announce', hub.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: selfUrl, ptzRoles: cameraRoles.filter((r) => stored().ptz[r]) }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`hub answered ${res.status} to the hardware announcement`);
    },
    recordEndpoint(boxId, url, ptzRoles) {
      state.set(`${ENDPOINT_PREFIX}${boxId}`, { boxId, url, ptzRoles, at: o.clock.now() } satisfies TeachingPointEndpoint);
    },
    endpoints,
    async presetOnTeachingPoint(boxId, role, preset) {
      const peer = o.peers.find(boxId);
      if (!peer || peer.status !== 'active') throw new BoxError('E_NOT_FOUND', `No enrolled teaching point ${boxId}.`);
      const ep = endpoints().find((e) => e.boxId === boxId);
      if (!ep) throw new BoxError('E_HUB_UNREACHABLE', `${peer.name} has not told the hub its address yet; it does so within a minute of starting.`, { boxId });
      const token = await issueBoxToken(o.identity, { audience: boxId, ttlSeconds: 60, clock: o.clock });
      let res: Response;
      try {
        res = await fetch(new URL('/api/peer/hardware/ptz', ep.url), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ role, preset }),
          // A VISCA preset recall waits for the camera to finish moving.
          signal: AbortSignal.timeout(20_000),
        });
      } catch (e) {
        throw new BoxError('E_HUB_UNREACHABLE', `${peer.name} did not answer (${(e as Error).message}).`, { boxId });
      }
      const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string; details?: unknown } & Partial<PtzResult>;
      if (!res.ok) {
        const code: ErrorCode = body.code && body.code in ErrorCodes ? (body.code as ErrorCode) : 'E_HUB_UNREACHABLE';
        throw new BoxError(code, `${peer.name}: ${body.message ?? `answered ${res.status}`}`, body.details);
      }
      return body as PtzResult;
    },
    start(url) {
      selfUrl = url;
      const sample = () => {
        diskSpace(o.dataDir).then((d) => {
          if (!closed) disk.add(d.availableBytes, d.totalBytes); // the box may have closed its database meanwhile
        }, (e: unknown) => log.warn({ err: (e as Error).message }, 'cannot sample free disk space'));
      };
      sample();
      diskTimer = setInterval(sample, o.diskSampleIntervalMs ?? 15 * 60_000);
      diskTimer.unref();
      if (o.hubLink) {
        const announce = () => {
          services.announceToHub().catch((e: unknown) => log.debug({ err: (e as Error).message }, 'hardware announcement to the hub failed'));
        };
        announce();
        announceTimer = setInterval(announce, o.announceIntervalMs ?? 60_000);
        announceTimer.unref();
      }
    },
    close() {
      closed = true;
      if (diskTimer) clearInterval(diskTimer);
      if (announceTimer) clearInterval(announceTimer);
      ptz.close();
      boots.recordCleanStop();
    },
  };
  return services;
}
