// Wiring between rooms: a hand raised in the classroom (lesson control channel, media/) turns the
// class camera to the whole-class preset (PTZ, hardware/); the hub turns a teaching point's camera over the
// lesson's control channel when it cannot reach the point directly (NAT). Camera: the VISCA-over-IP simulator.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tempDir, pinSession } from '../support/boxes.js';
import { waitFor } from '../support/daemon.js';
import { startLive, type LiveSetup } from '../support/live-boxes.js';
import { ControlClient } from '../support/live-control-client.js';
import { ViscaCameraSim } from '../support/ptz-sim/visca-sim.js';

describe('hand-raise in the classroom', () => {
  const dir = tempDir('box-hand-');
  let live: LiveSetup;
  let camera: ViscaCameraSim;
  beforeAll(async () => {
    camera = await new ViscaCameraSim().start();
    live = await startLive(dir.path, 1);
  });
  afterAll(async () => {
    await live?.close();
    await camera?.stop();
    dir.remove();
  });

  it('turns the class camera to 学生 when the kiosk raises a hand, once per raise, not on a resend', async () => {
    const tp = live.tps[0]!.box;
    const pin = await pinSession(tp.url);
    const put = (path: string, method: string, body: unknown) => fetch(`${tp.url}${path}`, {
      method, headers: { 'content-type': 'application/json', authorization: `Bearer ${pin}` }, body: JSON.stringify(body),
    });
    expect((await put('/api/hardware/ptz', 'PUT', { class: { protocol: 'visca-ip', host: '127.0.0.1', port: camera.port, presets: {} } })).status).toBe(200);
    camera.position = { pan: 30, tilt: -5, zoom: 1 };
    expect((await put('/api/hardware/ptz/store', 'POST', { role: 'class', preset: 'students' })).status).toBe(200);
    camera.position = { pan: 0, tilt: 0, zoom: 0 };
    const executedBefore = camera.executed.length;

    await waitFor(() => (tp.context.media!.agent!.status()[0]?.control.connected ? true : undefined), 20_000);
    const kiosk = new ControlClient(`${tp.url}/api/lessons/${live.lesson.id}/control`, live.tpTokens[0]!);
    await kiosk.connect();
    kiosk.send({ sender: 'tp-kiosk', seq: 1, type: 'hand', body: { raised: true } });
    kiosk.send({ sender: 'tp-kiosk', seq: 1, type: 'hand', body: { raised: true } }); // resend after a lost ack
    await waitFor(() => (camera.position.pan === 30 ? true : undefined), 10_000);
    expect(camera.position).toEqual({ pan: 30, tilt: -5, zoom: 1 });
    await waitFor(() => (kiosk.acks.length === 2 ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(camera.executed.length - executedBefore).toBe(1);

    // Lowering the hand leaves the camera where it is.
    camera.position = { pan: 1, tilt: 1, zoom: 1 };
    kiosk.send({ sender: 'tp-kiosk', seq: 2, type: 'hand', body: { raised: false } });
    await waitFor(() => (kiosk.acks.length === 3 ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(camera.position).toEqual({ pan: 1, tilt: 1, zoom: 1 });
    kiosk.close();
  });
  it('relays the hub console\'s preset over the lesson link when the teaching point is not reachable (NAT)', async () => {
    const tp = live.tps[0]!.box;
    const hub = live.hub.box;
    camera.position = { pan: 7, tilt: 7, zoom: 7 };
    const executedBefore = camera.executed.length;
    // The point announced an address the hub cannot reach, as behind a NAT.
    hub.context.hardware!.recordEndpoint(tp.context.identity.boxId, 'http://127.0.0.1:9/', ['class']);
    const pin = await pinSession(hub.url);
    const res = await fetch(`${hub.url}/api/hub/teaching-points/${tp.context.identity.boxId}/ptz`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${pin}` }, body: JSON.stringify({ role: 'class', preset: 'students' }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ relayed: 'lesson-control', lessonId: live.lesson.id, role: 'class', preset: 'students' });
    await waitFor(() => (camera.position.pan === 30 ? true : undefined), 15_000);
    expect(camera.position).toEqual({ pan: 30, tilt: -5, zoom: 1 });
    expect(camera.executed.length - executedBefore).toBe(1);

    // A screen cannot forge a preset on the timeline.
    const kiosk = new ControlClient(`${tp.url}/api/lessons/${live.lesson.id}/control`, live.tpTokens[0]!);
    await kiosk.connect();
    kiosk.send({ sender: 'tp-kiosk', seq: 10, type: 'preset', body: { target: tp.context.identity.boxId, role: 'class', preset: 'teacher' } });
    await waitFor(() => (kiosk.errors.length > 0 ? true : undefined), 5000);
    expect(kiosk.errors[0]).toBe('E_FORBIDDEN');
    kiosk.close();
  });
});
