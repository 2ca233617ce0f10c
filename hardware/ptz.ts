// Classroom presets (讲台/学生/板书) on whichever PTZ protocol each camera speaks.
import { BoxError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { CameraRole, PresetName, PtzCameraSettings, PtzResult, PtzSettings } from '../core/contract/hardware.js';
import { ViscaIpClient } from './visca.js';
import { OnvifPtzClient } from './onvif-ptz.js';

/** What the controller needs from a camera, whatever its protocol. */
export interface PtzCamera {
  recall(preset: number | string): Promise<void>;
  store(preset: number | string, name: string): Promise<number | string>;
  move(v: { pan: number; tilt: number; zoom: number }): Promise<void>;
  stop(): Promise<void>;
  close(): void;
}

interface PtzTimeouts {
  /** VISCA: wait for a reply before resending. */
  replyTimeoutMs?: number;
  /** ONVIF: whole-request timeout. */
  requestTimeoutMs?: number;
}

function openPtzCamera(s: PtzCameraSettings, t: PtzTimeouts = {}): PtzCamera {
  if (s.protocol === 'visca-ip') {
    const c = new ViscaIpClient({ host: s.host, port: s.port, ...(t.replyTimeoutMs ? { replyTimeoutMs: t.replyTimeoutMs } : {}) });
    const dir = (v: number): -1 | 0 | 1 => (v > 0.05 ? 1 : v < -0.05 ? -1 : 0);
    return {
      recall: (p) => c.recallPreset(Number(p)),
      store: async (p) => {
        await c.setPreset(Number(p));
        return Number(p);
      },
      move: async (v) => {
        await c.panTilt(dir(v.pan), dir(v.tilt), Math.max(1, Math.round(Math.abs(v.pan) * 0x18)), Math.max(1, Math.round(Math.abs(v.tilt) * 0x17)));
        await c.zoom(dir(v.zoom), Math.round(Math.abs(v.zoom) * 7));
      },
      stop: () => c.stop(),
      close: () => c.close(),
    };
  }
  const c = new OnvifPtzClient({
    host: s.host, port: s.port, ...(s.username ? { username: s.username } : {}), ...(s.password ? { password: s.password } : {}),
    ...(t.requestTimeoutMs ? { timeoutMs: t.requestTimeoutMs } : {}),
  });
  return {
    recall: (p) => c.gotoPreset(String(p)),
    store: (p, name) => c.setPreset(name, p === '' ? undefined : String(p)),
    move: (v) => c.continuousMove({ x: v.pan, y: v.tilt, zoom: v.zoom }),
    stop: () => c.stop(),
    close: () => c.close(),
  };
}

export interface PtzControllerOptions {
  /** Read on every call, so a settings change applies to the next command. */
  settings: () => PtzSettings;
  clock: Clock;
  timeouts?: PtzTimeouts;
  /** Told about every preset change, for metrics and the log. */
  onResult?: (r: { role: CameraRole; preset: PresetName; ok: boolean; code?: string; tookMs: number }) => void;
}

/**
 * One PtzCamera per role, re-opened when that role's settings change. Callers are the kiosk route,
 * the hub console (through a box-to-box call) and the lesson's hand-raise hook.
 */
export class PtzController {
  private readonly open = new Map<CameraRole, { key: string; cam: PtzCamera }>();

  constructor(private readonly o: PtzControllerOptions) {}

  private camera(role: CameraRole): { s: PtzCameraSettings; cam: PtzCamera } {
    const s = this.o.settings()[role];
    if (!s) throw new BoxError('E_PTZ_NOT_CONFIGURED', `No PTZ camera is set up for the ${role} camera. The technician sets it in the hardware settings.`, { role });
    const key = JSON.stringify([s.protocol, s.host, s.port, s.username, s.password]);
    const cur = this.open.get(role);
    if (cur && cur.key === key) return { s, cam: cur.cam };
    cur?.cam.close();
    const cam = openPtzCamera(s, this.o.timeouts);
    this.open.set(role, { key, cam });
    return { s, cam };
  }

  async goToPreset(role: CameraRole, preset: PresetName): Promise<PtzResult> {
    const started = this.o.clock.now();
    try {
      const { s, cam } = this.camera(role);
      const target = s.presets[preset];
      if (target === undefined) {
        throw new BoxError('E_PTZ_NOT_CONFIGURED', `The ${role} camera has no "${preset}" preset yet. The technician stores it in the hardware settings.`, { role, preset });
      }
      await cam.recall(target);
      const tookMs = this.o.clock.now() - started;
      this.o.onResult?.({ role, preset, ok: true, tookMs });
      return { role, preset, ok: true, tookMs };
    } catch (e) {
      this.o.onResult?.({ role, preset, ok: false, code: (e as BoxError).code ?? 'E_INTERNAL', tookMs: this.o.clock.now() - started });
      throw e;
    }
  }

  /** Stores the camera's current position as a classroom preset; returns the number/token to save. */
  async storePreset(role: CameraRole, preset: PresetName, slot: number | string): Promise<number | string> {
    return this.camera(role).cam.store(slot, preset);
  }

  async move(role: CameraRole, v: { pan: number; tilt: number; zoom: number }): Promise<void> {
    await this.camera(role).cam.move(v);
  }

  async stop(role: CameraRole): Promise<void> {
    await this.camera(role).cam.stop();
  }

  /**
   * A pupil raised a hand: show the whole class. Called by the live-lesson room through main's
   * wiring; a class without a PTZ camera is not an error here (resolves to null).
   */
  async onHandRaise(): Promise<PtzResult | null> {
    if (this.o.settings().class?.presets.students === undefined) return null;
    return this.goToPreset('class', 'students');
  }

  close(): void {
    for (const { cam } of this.open.values()) cam.close();
    this.open.clear();
  }
}
