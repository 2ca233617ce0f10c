import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ViscaIpClient, decodePacket, encodePacket, parseReply } from '../../hardware/visca.js';
import { BoxError } from '../../core/errors.js';
import { ViscaCameraSim } from '../support/ptz-sim/visca-sim.js';

let cam: ViscaCameraSim;
let client: ViscaIpClient;

beforeEach(async () => {
  cam = await new ViscaCameraSim().start();
  client = new ViscaIpClient({ host: '127.0.0.1', port: cam.port, replyTimeoutMs: 250, attempts: 4, completionTimeoutMs: 5000 });
});

afterEach(async () => {
  client.close();
  await cam.stop();
});

const commands = () => cam.received.filter((m) => m.type === 0x0100);

describe('VISCA over IP camera control', () => {
  it('stores and recalls a preset: the camera moves back to the stored position', async () => {
    cam.position = { pan: 120, tilt: -30, zoom: 4 };
    await client.setPreset(2);
    cam.position = { pan: 0, tilt: 0, zoom: 0 };
    await client.recallPreset(2);
    expect(cam.position).toEqual({ pan: 120, tilt: -30, zoom: 4 });
    // The session starts with a RESET, then sequence numbers count up from 0.
    expect(cam.received[0]).toMatchObject({ type: 0x0200, payload: [0x01] });
    expect(commands().map((m) => m.seq)).toEqual([0, 1]);
  });

  it('resends with the same sequence number when the reply is lost, and the camera moves once', async () => {
    cam.memory.set(5, { pan: 7, tilt: 8, zoom: 9 });
    await client.reset();
    cam.faults.dropReplies = 2; // ACK and completion of the first try
    await client.recallPreset(5);
    expect(cam.position).toEqual({ pan: 7, tilt: 8, zoom: 9 });
    const tries = commands();
    expect(tries.map((m) => m.seq)).toEqual([0, 0]);
    expect(tries[1]!.duplicate).toBe(true);
    expect(cam.executed).toEqual([0]);
    expect(client.stats.resent).toBe(1);
  });

  it('asks again when the completion is lost after the ACK, and the camera answers without moving twice', async () => {
    client.close();
    client = new ViscaIpClient({ host: '127.0.0.1', port: cam.port, replyTimeoutMs: 250, completionPollMs: 300, completionTimeoutMs: 5000 });
    cam.memory.set(4, { pan: 1, tilt: 2, zoom: 3 });
    await client.reset();
    cam.faults.dropCompletions = 1;
    await client.recallPreset(4);
    expect(cam.position).toEqual({ pan: 1, tilt: 2, zoom: 3 });
    expect(commands().map((m) => [m.seq, m.duplicate])).toEqual([[0, false], [0, true]]);
    expect(cam.executed).toEqual([0]);
  });

  it('resends when the command itself is lost', async () => {
    await client.reset();
    cam.faults.dropIncoming = 1;
    await client.recallPreset(1);
    expect(client.stats.resent).toBe(1);
    expect(cam.executed).toEqual([0]);
  });

  it('ignores a late reply to an earlier command instead of taking it for the current one', async () => {
    await client.reset();
    cam.faults.delayNextCommandMs = 900; // answers to seq 0 arrive long after the client moved on
    await client.recallPreset(1); // answered by the resend
    cam.memory.set(3, { pan: 33, tilt: 3, zoom: 3 });
    cam.moveMs = 1500; // seq 1 is a long move…
    const started = Date.now();
    await client.recallPreset(3);
    // …and the late completion of seq 0 arrived in the middle of it (at ~900 ms): had the client
    // taken it, it would have returned before the camera reached the preset.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(cam.executed).toEqual([0, 1]);
    expect(cam.position).toEqual({ pan: 33, tilt: 3, zoom: 3 });
    expect(client.stats.ignoredReplies).toBeGreaterThanOrEqual(2);
  });

  it('reports error replies in plain words', async () => {
    cam.power = 'standby';
    const notExec = await client.recallPreset(1).catch((e: unknown) => e);
    expect(notExec).toBeInstanceOf(BoxError);
    expect((notExec as BoxError).message).toMatch(/cannot do that right now.*switched off, in standby/);

    cam.power = 'on';
    cam.faults.errorNext = 0x03;
    await expect(client.recallPreset(1)).rejects.toThrow(/busy with other commands; try again/);

    cam.faults.errorNext = 0x02;
    await expect(client.recallPreset(1)).rejects.toThrow(/does not understand the command/);
    // The client itself refuses a preset number VISCA cannot carry.
    await expect(client.recallPreset(200)).rejects.toMatchObject({ code: 'E_VALIDATION' });
  });

  it('says the camera did not answer after its tries, rather than waiting for ever', async () => {
    cam.faults.dropIncoming = 100;
    const e = await client.recallPreset(1).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'E_PTZ_UNREACHABLE', details: { reason: 'timeout', attempts: 4 } });
    expect((e as Error).message).toMatch(/did not answer; check its network cable/);
  });

  it('resynchronises after the camera reports its sequence number out of step', async () => {
    await client.recallPreset(1);
    await client.recallPreset(1);
    // The camera restarts mid-session and a second controller pushes its expected number ahead.
    (cam as unknown as { expectedSeq: number }).expectedSeq = 1000;
    (cam as unknown as { last: undefined }).last = undefined;
    await expect(client.recallPreset(1)).rejects.toMatchObject({ code: 'E_PTZ_REFUSED', details: { reason: 'sequence' } });
    await client.recallPreset(1); // RESET first, then works again
    expect(client.stats.resets).toBe(2);
  });

  it('drives pan, tilt and zoom and answers position inquiries', async () => {
    await client.panTilt(1, 1, 4, 3);
    await client.zoom(1);
    await client.stop();
    const pos = await client.inquiry([0x09, 0x06, 0x12]);
    expect([...pos]).toEqual([0, 0, 0, 4, 0, 0, 0, 3]);
  });
});

describe('VISCA packets', () => {
  it('round-trips the 8-byte header and refuses malformed datagrams', () => {
    const buf = encodePacket(0x0100, 0xfffffffe, Buffer.from([0x81, 0x01, 0x04, 0x3f, 0x02, 0x01, 0xff]));
    expect([...buf.subarray(0, 8)]).toEqual([0x01, 0x00, 0x00, 0x07, 0xff, 0xff, 0xff, 0xfe]);
    expect(decodePacket(buf)).toMatchObject({ type: 0x0100, seq: 0xfffffffe });
    expect(decodePacket(buf.subarray(0, 10))).toBeUndefined();
    expect(() => encodePacket(0x0100, 0, Buffer.alloc(17))).toThrow(RangeError);
    expect(parseReply(Buffer.from([0x90, 0x41, 0xff]))).toEqual({ kind: 'ack', socket: 1 });
    expect(parseReply(Buffer.from([0x90, 0x61, 0x41, 0xff]))).toMatchObject({ kind: 'error', reason: 'not-executable' });
    expect(parseReply(Buffer.from([0x90, 0x60, 0x02]))).toBeUndefined();
  });
});
