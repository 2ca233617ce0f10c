// Device roles and PTZ presets through the API of real boxes: the technician behind the PIN, the
// hub console switching a teaching point's camera, and the hand-raise hook.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../core/signing.js';
import { issueBoxToken } from '../../core/box-token.js';
import { systemClock } from '../../core/clock.js';
import type { HealthReport } from '../../core/contract/health.js';
import { pinSession, startHubAndTeachingPoint, tempDir } from '../support/boxes.js';
import { ViscaCameraSim } from '../support/ptz-sim/visca-sim.js';
import { OnvifCameraSim } from '../support/ptz-sim/onvif-sim.js';

let school: Awaited<ReturnType<typeof startHubAndTeachingPoint>>;
let dir: ReturnType<typeof tempDir>;
let visca: ViscaCameraSim;
let onvifCam: OnvifCameraSim;
let tpPin: string;
let hubPin: string;

async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  dir = tempDir('hw-routes-');
  school = await startHubAndTeachingPoint(dir.path, generateKeyPair());
  visca = await new ViscaCameraSim().start();
  onvifCam = await new OnvifCameraSim().start();
  tpPin = await pinSession(school.tp.box.url);
  hubPin = await pinSession(school.hub.box.url);
});

afterAll(async () => {
  await school.close();
  await visca.stop();
  await onvifCam.stop();
  dir.remove();
});

describe('device roles behind the PIN', () => {
  it('stores the assignment with an audit row and gives the kiosk the labels without a PIN', async () => {
    const tp = school.tp.box.url;
    expect((await call(tp, 'PUT', '/api/hardware/assignments', { cameras: {}, microphone: null })).status).toBe(401);
    const bad = await call(tp, 'PUT', '/api/hardware/assignments', { cameras: { teacher: '' , roof: 'x' }, microphone: 3 }, tpPin);
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('E_VALIDATION');
    expect(String(bad.json.message)).toMatch(/cameras/);

    const assignment = { cameras: { teacher: 'Logitech BRIO', class: 'HD Pro Webcam C920' }, microphone: 'USB PnP Sound Device' };
    const ok = await call(tp, 'PUT', '/api/hardware/assignments', assignment, tpPin);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual(assignment);
    const kiosk = await call(tp, 'GET', '/api/hardware/kiosk');
    expect(kiosk.json).toEqual({ assignment, audioProcessing: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    const audit = school.tp.box.context.audit.list(5, 'hardware.assignment.update');
    expect(audit[0]).toMatchObject({ outcome: 'ok', details: { assignment } });
  });

  it('lists the devices this machine has (here: probably none) without failing', async () => {
    const r = await call(school.tp.box.url, 'GET', '/api/hardware/devices', undefined, tpPin);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.json.cameras)).toBe(true);
  });
});

describe('PTZ presets', () => {
  it('the technician sets up two cameras, stores 学生 on the class camera and recalls 讲台 on the teacher camera', async () => {
    const tp = school.tp.box.url;
    const lectern = onvifCam.addPreset('讲台', { pan: -0.5, tilt: 0, zoom: 0.3 });
    const put = await call(tp, 'PUT', '/api/hardware/ptz', {
      teacher: { protocol: 'onvif', host: '127.0.0.1', port: onvifCam.port, username: 'admin', password: 'secret', presets: { lectern } },
      class: { protocol: 'visca-ip', host: '127.0.0.1', port: visca.port, presets: {} },
    }, tpPin);
    expect(put.status).toBe(200);
    expect((put.json.teacher as { password: string }).password).toBe('***');

    visca.position = { pan: 40, tilt: -10, zoom: 2 };
    const stored = await call(tp, 'POST', '/api/hardware/ptz/store', { role: 'class', preset: 'students' }, tpPin);
    expect(stored.status).toBe(200);
    expect((stored.json.class as { presets: Record<string, number> }).presets.students).toBe(2);
    expect(visca.memory.get(2)).toEqual({ pan: 40, tilt: -10, zoom: 2 });

    const r = await call(tp, 'POST', '/api/hardware/ptz/preset', { role: 'teacher', preset: 'lectern' }, tpPin);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ role: 'teacher', preset: 'lectern', ok: true });
    expect(onvifCam.position).toEqual({ pan: -0.5, tilt: 0, zoom: 0.3 });

    // Sending back the masked password keeps the real one: the camera still accepts the login.
    const again = await call(tp, 'PUT', '/api/hardware/ptz', { teacher: { ...(put.json.teacher as object), password: '***' } }, tpPin);
    expect(again.status).toBe(200);
    onvifCam.user = { name: 'admin', password: 'secret' };
    expect((await call(tp, 'POST', '/api/hardware/ptz/preset', { role: 'teacher', preset: 'lectern' }, tpPin)).status).toBe(200);
    onvifCam.user = undefined;
  });

  it('does not send the stored camera password to a new address: changing the host asks for the password again', async () => {
    const tp = school.tp.box.url;
    const shown = (await call(tp, 'GET', '/api/hardware/ptz', undefined, tpPin)).json.teacher as { host: string; password?: string };
    expect(shown.password).toBe('***');
    const moved = await call(tp, 'PUT', '/api/hardware/ptz', { teacher: { ...shown, host: '192.0.2.66' } }, tpPin);
    expect(moved.status).toBe(400);
    expect(moved.json).toMatchObject({ code: 'E_VALIDATION', details: { reason: 'password-for-new-address' } });
    expect(((await call(tp, 'GET', '/api/hardware/ptz', undefined, tpPin)).json.teacher as { host: string }).host).toBe(shown.host);
    // Typed again, the change is taken; then put back.
    expect((await call(tp, 'PUT', '/api/hardware/ptz', { teacher: { ...shown, host: '192.0.2.66', password: 'secret' } }, tpPin)).status).toBe(200);
    expect((await call(tp, 'PUT', '/api/hardware/ptz', { teacher: { ...shown, password: 'secret' } }, tpPin)).status).toBe(200);
  });

  it('a raised hand turns the class camera to the whole class', async () => {
    visca.position = { pan: 0, tilt: 0, zoom: 0 };
    const r = await school.tp.box.context.hardware!.onHandRaise();
    expect(r).toMatchObject({ role: 'class', preset: 'students' });
    expect(visca.position).toEqual({ pan: 40, tilt: -10, zoom: 2 });
  });

  it('the hub console switches the teaching point\'s class camera; camera errors come back in plain words', async () => {
    const tpBox = school.tp.box;
    await tpBox.context.hardware!.announceToHub();
    const list = await call(school.hub.box.url, 'GET', '/api/hub/teaching-points/ptz', undefined, hubPin);
    expect(list.json.teachingPoints).toEqual([expect.objectContaining({ boxId: tpBox.identity.boxId, url: tpBox.url, ptzRoles: ['teacher', 'class'] })]);

    visca.position = { pan: 0, tilt: 0, zoom: 0 };
    const path = `/api/hub/teaching-points/${tpBox.identity.boxId}/ptz`;
    expect((await call(school.hub.box.url, 'POST', path, { role: 'class', preset: 'students' })).status).toBe(401);
    const ok = await call(school.hub.box.url, 'POST', path, { role: 'class', preset: 'students' }, hubPin);
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(visca.position).toEqual({ pan: 40, tilt: -10, zoom: 2 });

    visca.power = 'standby';
    const refused = await call(school.hub.box.url, 'POST', path, { role: 'class', preset: 'students' }, hubPin);
    visca.power = 'on';
    expect(refused.status).toBe(502);
    expect(refused.json.code).toBe('E_PTZ_REFUSED');
    expect(String(refused.json.message)).toMatch(/^教学点一: .*cannot do that right now/);

    const missing = await call(school.hub.box.url, 'POST', path, { role: 'document', preset: 'board' }, hubPin);
    expect(missing.status).toBe(409);
    expect(missing.json.code).toBe('E_PTZ_NOT_CONFIGURED');

    const audit = school.hub.box.context.audit.list(10, 'hardware.ptz.hub').map((a) => a.outcome);
    expect(audit).toEqual(['error', 'error', 'ok']);
  });

  it('the hub never records (and so never calls) a PTZ address that is not the teaching point itself', async () => {
    const tpBox = school.tp.box;
    const hubBox = school.hub.box;
    const before = (await call(hubBox.url, 'GET', '/api/hub/teaching-points/ptz', undefined, hubPin)).json.teachingPoints;
    const announce = async (url: string) => call(hubBox.url, 'POST', '/api/peer/hardware/announce', { url, ptzRoles: ['class'] },
      await issueBoxToken(tpBox.identity, { audience: hubBox.identity.boxId, ttlSeconds: 60, clock: systemClock }));
    // Another host on the hub's network (a router, a cloud metadata service), by address and by a name that resolves elsewhere.
    for (const url of ['http://169.254.169.254', 'http://10.0.0.1:8080', 'http://[fd00::1]:80', 'http://127.0.0.2.nip.invalid:80']) {
      const r = await announce(url);
      expect(r.status, url).toBe(403);
      expect(r.json).toMatchObject({ code: 'E_FORBIDDEN', details: { reason: 'address-mismatch' } });
    }
    expect((await call(hubBox.url, 'GET', '/api/hub/teaching-points/ptz', undefined, hubPin)).json.teachingPoints).toEqual(before);
    expect(hubBox.context.audit.list(10, 'hardware.announce.refused').length).toBeGreaterThan(0);
    // Its own address (loopback here, which the hub replaces with the address the call came from) still works.
    expect((await announce(tpBox.url)).status).toBe(204);
  });

  it('only the teaching point\'s own hub may move its cameras', async () => {
    // A stranger box with a valid-looking token is unknown to the teaching point.
    const stranger = { ...generateKeyPair(), boxId: 'box-0000000000000000' };
    const token = await issueBoxToken(stranger, { audience: school.tp.box.identity.boxId, ttlSeconds: 30, clock: systemClock });
    const r = await call(school.tp.box.url, 'POST', '/api/peer/hardware/ptz', { role: 'class', preset: 'students' }, token);
    expect(r.status).toBe(401);
  });
});

describe('hardware health', () => {
  it('is in /api/health and /metrics', async () => {
    const h = (await call(school.tp.box.url, 'GET', '/api/health')).json as unknown as HealthReport;
    expect(h.hardware).toMatchObject({
      cameras: { count: expect.any(Number) }, microphones: { count: expect.any(Number) },
      uncleanShutdowns: { count: 0, lastAt: null }, clockSkewMs: expect.any(Number),
    });
    expect(h.hardware!.disk.freeBytes).toBeGreaterThan(0);
    // This machine has no camera: a clear zero, not a failure.
    if (!existsSync('/sys/class/video4linux')) expect(h.hardware!.cameras).toEqual({ count: 0, names: [] });
    const metrics = await (await fetch(`${school.tp.box.url}/metrics`)).text();
    expect(metrics).toMatch(/^box_hardware_cameras\{[^}]*\} \d+$/m);
    expect(metrics).toMatch(/^box_hardware_unclean_shutdowns\{[^}]*\} 0$/m);
    expect(metrics).toMatch(/^box_hardware_ptz_commands_total\{[^}]*role="class",preset="students",outcome="ok"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^box_hardware_ptz_commands_total\{[^}]*outcome="E_PTZ_REFUSED"[^}]*\} 1$/m);
  });
});
