// Shared with the kiosk: camera/microphone roles, capture constraints, PTZ presets, howling-guard words.
import type { Language } from './settings.js';

export type CameraRole = 'teacher' | 'class' | 'document';
export const cameraRoles: readonly CameraRole[] = ['teacher', 'class', 'document'];

/**
 * The technician's choice of device per role, by the label the browser shows in enumerateDevices
 * (the box sees the same names in sysfs/ALSA/DirectShow). A label, not a deviceId: deviceIds differ
 * per origin and change when the browser profile is reset; labels survive both.
 */
export interface DeviceAssignment {
  cameras: Partial<Record<CameraRole, string>>;
  microphone: string | null;
}

export const emptyAssignment: DeviceAssignment = { cameras: {}, microphone: null };

/** Echo cancellation, noise suppression and auto gain stay on for every capture (feedback and 啸叫). */
export const audioProcessing = { echoCancellation: true, noiseSuppression: true, autoGainControl: true } as const;

/** getUserMedia audio constraints for the room microphone; every capture in the kiosk goes through this. */
export function roomMicConstraints(deviceId?: string): MediaTrackConstraintsLike {
  return deviceId ? { ...audioProcessing, deviceId: { exact: deviceId } } : { ...audioProcessing };
}

/** The subset of MediaTrackConstraints used here, so core/contract needs no DOM lib. */
export interface MediaTrackConstraintsLike {
  echoCancellation: true;
  noiseSuppression: true;
  autoGainControl: true;
  deviceId?: { exact: string };
}

/** The fields of MediaDeviceInfo this module reads. */
export interface MediaDeviceLike {
  deviceId: string;
  kind: string;
  label: string;
}

export interface ResolvedDevice {
  deviceId: string | null;
  label: string | null;
  /** 'assigned': the chosen device; 'fallback': it is missing, another one is used; 'none': nothing to use. */
  status: 'assigned' | 'fallback' | 'none' | 'unassigned';
  /** Plain words for the teacher when status is 'fallback' or 'none'. */
  message: MessageKey | null;
}

// Browsers append " (046d:082d)" USB ids to some labels; ALSA/sysfs names do not carry them.
function normalise(label: string): string {
  return label.replace(/\s*\([0-9a-f]{4}:[0-9a-f]{4}\)\s*$/i, '').trim().toLowerCase();
}

/** Matches an assigned label to a device, tolerating the browser's USB-id suffix and case. */
function findByLabel<T extends MediaDeviceLike>(devices: T[], kind: string, label: string): T | undefined {
  const want = normalise(label);
  const same = devices.filter((d) => d.kind === kind);
  return same.find((d) => d.label === label) ?? same.find((d) => normalise(d.label) === want)
    ?? same.find((d) => want !== '' && normalise(d.label).includes(want));
}

/**
 * Which camera to open for a role. When the assigned camera is unplugged the lesson goes on with
 * another camera — first one not assigned to a different role, else any — and the teacher is told.
 */
export function resolveCamera<T extends MediaDeviceLike>(assignment: DeviceAssignment, role: CameraRole, devices: T[]): ResolvedDevice {
  const cams = devices.filter((d) => d.kind === 'videoinput');
  const label = assignment.cameras[role];
  if (label) {
    const hit = findByLabel(cams, 'videoinput', label);
    if (hit) return { deviceId: hit.deviceId, label: hit.label, status: 'assigned', message: null };
  }
  const taken = new Set(
    cameraRoles.filter((r) => r !== role).map((r) => assignment.cameras[r]).filter((l): l is string => !!l)
      .map((l) => findByLabel(cams, 'videoinput', l)?.deviceId).filter((id): id is string => !!id),
  );
  const spare = cams.find((c) => !taken.has(c.deviceId)) ?? cams[0];
  if (!label) {
    return spare ? { deviceId: spare.deviceId, label: spare.label, status: 'unassigned', message: null }
      : { deviceId: null, label: null, status: 'none', message: 'camera.none' };
  }
  return spare ? { deviceId: spare.deviceId, label: spare.label, status: 'fallback', message: 'camera.fallback' }
    : { deviceId: null, label: null, status: 'none', message: 'camera.none' };
}

/** Which microphone to open for the room; falls back to the system default microphone. */
export function resolveMicrophone<T extends MediaDeviceLike>(assignment: DeviceAssignment, devices: T[]): ResolvedDevice {
  const mics = devices.filter((d) => d.kind === 'audioinput');
  const label = assignment.microphone;
  if (label) {
    const hit = findByLabel(mics, 'audioinput', label);
    if (hit) return { deviceId: hit.deviceId, label: hit.label, status: 'assigned', message: null };
  }
  const spare = mics.find((m) => m.deviceId === 'default') ?? mics[0];
  if (!spare) return { deviceId: null, label: null, status: 'none', message: 'mic.none' };
  return { deviceId: spare.deviceId, label: spare.label, status: label ? 'fallback' : 'unassigned', message: label ? 'mic.fallback' : null };
}

// ---- PTZ presets ------------------------------------------------------------------------------

/** Classroom preset names: 讲台 teacher at the board, 学生 whole class, 板书 board close-up. */
export type PresetName = 'lectern' | 'students' | 'board';
export const presetNames: readonly PresetName[] = ['lectern', 'students', 'board'];
export type PtzProtocol = 'visca-ip' | 'onvif';

export interface PtzCameraSettings {
  protocol: PtzProtocol;
  host: string;
  /** 52381 for VISCA over IP, 80 for ONVIF unless the camera says otherwise. */
  port: number;
  username?: string;
  password?: string;
  /** VISCA: memory numbers (0–127); ONVIF: preset tokens. */
  presets: Partial<Record<PresetName, number | string>>;
}

export type PtzSettings = Partial<Record<CameraRole, PtzCameraSettings>>;

export interface PtzResult {
  role: CameraRole;
  preset: PresetName;
  ok: true;
  tookMs: number;
}

// ---- plain words ------------------------------------------------------------------------------

export type MessageKey =
  | 'camera.fallback' | 'camera.none' | 'mic.fallback' | 'mic.none'
  | 'howl.reduced' | 'howl.muted' | 'howl.restored';

const hardwareMessages: Record<MessageKey, Record<Language, string>> = {
  'camera.fallback': {
    'zh-CN': '设定的摄像头没有连接，已改用另一个摄像头。请检查摄像头的线。',
    en: 'The chosen camera is not connected; another camera is being used. Check the camera cable.',
  },
  'camera.none': {
    'zh-CN': '没有找到摄像头。请检查摄像头的线，或联系技术老师。',
    en: 'No camera found. Check the camera cable or call the IT technician.',
  },
  'mic.fallback': {
    'zh-CN': '设定的麦克风没有连接，已改用电脑自带的麦克风。',
    en: 'The chosen microphone is not connected; the built-in microphone is being used.',
  },
  'mic.none': {
    'zh-CN': '没有找到麦克风，对方听不到教室的声音。请检查麦克风的线。',
    en: 'No microphone found: the other class cannot hear this room. Check the microphone cable.',
  },
  'howl.reduced': {
    'zh-CN': '检测到啸叫，已自动调低音箱音量。',
    en: 'Feedback howling detected: the loudspeaker volume was turned down.',
  },
  'howl.muted': {
    'zh-CN': '啸叫仍在继续，已暂时关闭教室麦克风。请让麦克风离音箱远一些。',
    en: 'The howling goes on: the room microphone is muted for now. Move the microphone away from the loudspeakers.',
  },
  'howl.restored': {
    'zh-CN': '啸叫已停止，音量和麦克风已恢复。',
    en: 'The howling has stopped: volume and microphone are back to normal.',
  },
};

export function hardwareMessage(key: MessageKey, lang: Language = 'zh-CN'): string {
  return hardwareMessages[key][lang];
}

// ---- health -----------------------------------------------------------------------------------

/** The `hardware` section of GET /api/health. */
export interface HardwareHealth {
  cameras: { count: number; names: string[] };
  microphones: { count: number; names: string[] };
  disk: {
    freeBytes: number | null;
    /** Bytes per day, negative when the disk fills; null until there are enough samples. */
    trendBytesPerDay: number | null;
    /** Days until full at this trend; null when not filling. */
    daysUntilFull: number | null;
  };
  smart: Array<{ device: string; passed: boolean | null; problem: string | null }> | null;
  cpuTemperatureC: number | null;
  uncleanShutdowns: { count: number; lastAt: string | null };
  clockSkewMs: number | null;
}
