import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnvifPtzClient } from '../../hardware/onvif-ptz.js';
import { PtzController } from '../../hardware/ptz.js';
import { systemClock } from '../../core/clock.js';
import type { PtzSettings } from '../../core/contract/hardware.js';
import { OnvifCameraSim } from '../support/ptz-sim/onvif-sim.js';
import { ViscaCameraSim } from '../support/ptz-sim/visca-sim.js';

let cam: OnvifCameraSim;

beforeEach(async () => {
  cam = await new OnvifCameraSim().start();
  cam.user = { name: 'admin', password: 'classroom1' };
});
afterEach(async () => {
  await cam.stop();
});

const client = (extra: Partial<ConstructorParameters<typeof OnvifPtzClient>[0]> = {}) =>
  new OnvifPtzClient({ host: '127.0.0.1', port: cam.port, username: 'admin', password: 'classroom1', timeoutMs: 2000, ...extra });

describe('ONVIF PTZ through the onvif client', () => {
  it('connects the way the client does, stores a preset and recalls it', async () => {
    const c = client();
    cam.position = { pan: 0.4, tilt: -0.2, zoom: 0.5 };
    const token = await c.setPreset('板书');
    cam.position = { pan: 0, tilt: 0, zoom: 0 };
    expect(await c.presets()).toEqual({ 板书: token });
    await c.gotoPreset(token);
    expect(cam.position).toEqual({ pan: 0.4, tilt: -0.2, zoom: 0.5 });
    expect(cam.calls.slice(0, 4)).toEqual(['GetSystemDateAndTime', 'GetServices', 'GetProfiles', 'GetVideoSources']);
  });

  it('moves continuously and stops', async () => {
    const c = client();
    await c.continuousMove({ x: 0.5, y: -0.25, zoom: 0 });
    expect(cam.velocity).toEqual({ x: 0.5, y: -0.25, zoom: 0 });
    await c.stop();
    expect(cam.velocity).toEqual({ x: 0, y: 0, zoom: 0 });
  });

  it('reports faults and wrong passwords in plain words', async () => {
    await expect(client().gotoPreset('99')).rejects.toMatchObject({ code: 'E_PTZ_REFUSED', message: expect.stringMatching(/no such preset/) });
    await expect(client({ password: 'wrong' }).gotoPreset('1')).rejects.toMatchObject({ code: 'E_PTZ_REFUSED', message: expect.stringMatching(/refused the user name or password/) });
  });

  it('says the camera did not answer when it hangs or is gone', async () => {
    cam.hangNext = 1;
    await expect(client({ timeoutMs: 500 }).gotoPreset('1')).rejects.toMatchObject({ code: 'E_PTZ_UNREACHABLE' });
    const port = cam.port;
    await cam.stop();
    const gone = new OnvifPtzClient({ host: '127.0.0.1', port, timeoutMs: 500 });
    await expect(gone.gotoPreset('1')).rejects.toMatchObject({ code: 'E_PTZ_UNREACHABLE', message: expect.stringMatching(/did not answer/) });
    cam = await new OnvifCameraSim().start(); // for afterEach
  });
});

describe('classroom presets across protocols', () => {
  it('sends 讲台 to an ONVIF teacher camera and 学生 to a VISCA class camera on hand-raise', async () => {
    const visca = await new ViscaCameraSim().start();
    try {
      const lectern = cam.addPreset('讲台', { pan: -0.3, tilt: 0.1, zoom: 0.6 });
      visca.memory.set(2, { pan: 10, tilt: -4, zoom: 1 });
      const settings: PtzSettings = {
        teacher: { protocol: 'onvif', host: '127.0.0.1', port: cam.port, username: 'admin', password: 'classroom1', presets: { lectern } },
        class: { protocol: 'visca-ip', host: '127.0.0.1', port: visca.port, presets: { students: 2 } },
      };
      const results: string[] = [];
      const ptz = new PtzController({ settings: () => settings, clock: systemClock, onResult: (r) => results.push(`${r.role}:${r.preset}:${r.ok}`) });
      await ptz.goToPreset('teacher', 'lectern');
      expect(cam.position).toEqual({ pan: -0.3, tilt: 0.1, zoom: 0.6 });
      expect(await ptz.onHandRaise()).toMatchObject({ role: 'class', preset: 'students', ok: true });
      expect(visca.position).toEqual({ pan: 10, tilt: -4, zoom: 1 });
      await expect(ptz.goToPreset('class', 'board')).rejects.toMatchObject({ code: 'E_PTZ_NOT_CONFIGURED' });
      await expect(ptz.goToPreset('document', 'board')).rejects.toMatchObject({ code: 'E_PTZ_NOT_CONFIGURED' });
      expect(results).toEqual(['teacher:lectern:true', 'class:students:true', 'class:board:false', 'document:board:false']);
      ptz.close();
    } finally {
      await visca.stop();
    }
  });
});
