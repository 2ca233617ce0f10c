// The box's PTZ cameras: one controller reading the stored settings, each preset result logged when
// it failed and told to listeners (main's metrics), and storing a preset into the settings.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { BoxError } from '../core/errors.js';
import { presetNames, type CameraRole, type PresetName, type PtzSettings } from '../core/contract/hardware.js';
import { PtzController, type PtzControllerOptions } from './ptz.js';
import type { HardwareSettingsStore } from './settings-store.js';

export type PtzOutcome = Parameters<NonNullable<PtzControllerOptions['onResult']>>[0];

export interface PtzCameras {
  controller: PtzController;
  /** Stores the camera's current position as a preset and saves its slot; masked settings back. */
  storePreset(role: CameraRole, preset: PresetName, actor: string): Promise<PtzSettings>;
  /** Every preset command's outcome; returns the unsubscribe. */
  onResult(fn: (r: PtzOutcome) => void): () => void;
}

export function createPtzCameras(o: { settings: HardwareSettingsStore; clock: Clock; log: Logger }): PtzCameras {
  const listeners = new Set<(r: PtzOutcome) => void>();
  const controller = new PtzController({
    settings: () => o.settings.ptz(),
    clock: o.clock,
    onResult: (r) => {
      if (!r.ok) o.log.warn({ role: r.role, preset: r.preset, code: r.code }, 'PTZ preset failed');
      for (const fn of listeners) fn(r);
    },
  });
  return {
    controller,
    async storePreset(role, preset, actor) {
      const cam = o.settings.ptz()[role];
      if (!cam) throw new BoxError('E_PTZ_NOT_CONFIGURED', `No PTZ camera is set up for the ${role} camera.`, { role });
      // VISCA memories are numbered by the box (1 讲台, 2 学生, 3 板书); ONVIF cameras hand out tokens.
      const slot = cam.presets[preset] ?? (cam.protocol === 'visca-ip' ? presetNames.indexOf(preset) + 1 : '');
      const saved = await controller.storePreset(role, preset, slot);
      return o.settings.savePresetSlot(role, preset, saved, actor);
    },
    onResult(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
