import { describe, expect, it } from 'vitest';
import { hardwareMessage, resolveCamera, resolveMicrophone, roomMicConstraints, type DeviceAssignment } from '../../core/contract/hardware.js';

// What Chromium's enumerateDevices returns on a Linux box with two USB cameras (labels carry USB ids).
const devices = [
  { deviceId: 'default', kind: 'audioinput', label: 'Default' },
  { deviceId: 'a1', kind: 'audioinput', label: 'USB PnP Sound Device Analog Stereo' },
  { deviceId: 'a2', kind: 'audioinput', label: 'HD Pro Webcam C920 Analog Stereo' },
  { deviceId: 'v1', kind: 'videoinput', label: 'Logitech BRIO (046d:085e)' },
  { deviceId: 'v2', kind: 'videoinput', label: 'HD Pro Webcam C920 (046d:082d)' },
];
const assignment: DeviceAssignment = { cameras: { teacher: 'Logitech BRIO', class: 'HD Pro Webcam C920' }, microphone: 'USB PnP Sound Device' };

describe('device roles in the kiosk', () => {
  it('matches assigned labels to browser devices despite USB-id suffixes', () => {
    expect(resolveCamera(assignment, 'teacher', devices)).toEqual({ deviceId: 'v1', label: 'Logitech BRIO (046d:085e)', status: 'assigned', message: null });
    expect(resolveCamera(assignment, 'class', devices)).toMatchObject({ deviceId: 'v2', status: 'assigned' });
    expect(resolveMicrophone(assignment, devices)).toMatchObject({ deviceId: 'a1', status: 'assigned' });
  });

  it('falls back to a camera no other role uses when the assigned one is unplugged, and says so', () => {
    const unplugged = devices.filter((d) => d.deviceId !== 'v1');
    const r = resolveCamera(assignment, 'teacher', unplugged);
    // Only the class camera is left: better a picture than none, but the teacher is told.
    expect(r).toMatchObject({ deviceId: 'v2', status: 'fallback', message: 'camera.fallback' });
    const withSpare = [...unplugged, { deviceId: 'v3', kind: 'videoinput', label: 'USB Document Camera' }];
    expect(resolveCamera(assignment, 'teacher', withSpare)).toMatchObject({ deviceId: 'v3', status: 'fallback' });
    expect(hardwareMessage('camera.fallback')).toBe('设定的摄像头没有连接，已改用另一个摄像头。请检查摄像头的线。');
    expect(hardwareMessage('camera.fallback', 'en')).toMatch(/another camera is being used/);
  });

  it('says there is no camera or microphone at all, in plain words', () => {
    expect(resolveCamera(assignment, 'document', [])).toEqual({ deviceId: null, label: null, status: 'none', message: 'camera.none' });
    expect(resolveMicrophone(assignment, [])).toMatchObject({ status: 'none', message: 'mic.none' });
    expect(hardwareMessage('mic.none')).toMatch(/没有找到麦克风/);
  });

  it('uses the default microphone when the room microphone is unplugged', () => {
    expect(resolveMicrophone(assignment, devices.filter((d) => d.deviceId !== 'a1'))).toMatchObject({ deviceId: 'default', status: 'fallback', message: 'mic.fallback' });
    expect(resolveMicrophone({ cameras: {}, microphone: null }, devices)).toMatchObject({ deviceId: 'default', status: 'unassigned', message: null });
  });

  it('keeps echo cancellation, noise suppression and auto gain on in every capture constraint', () => {
    expect(roomMicConstraints()).toEqual({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });
    expect(roomMicConstraints('a1')).toEqual({ echoCancellation: true, noiseSuppression: true, autoGainControl: true, deviceId: { exact: 'a1' } });
  });
});

describe('where the hub reaches a teaching point', () => {
  it('replaces a loopback address with the address the announcement came from', async () => {
    const { reachableUrl } = await import('../../main/http/routes/hardware.js');
    expect(reachableUrl('http://127.0.0.1:8080', '10.1.2.3')).toBe('http://10.1.2.3:8080');
    expect(reachableUrl('http://127.0.0.1:8080/', '::ffff:10.1.2.3')).toBe('http://10.1.2.3:8080');
    expect(reachableUrl('http://127.0.0.1:8080', 'fd00::7')).toBe('http://[fd00::7]:8080');
    expect(reachableUrl('http://127.0.0.1:8080', '127.0.0.1')).toBe('http://127.0.0.1:8080');
    expect(reachableUrl('https://tp1.school.example:8443', '10.1.2.3')).toBe('https://tp1.school.example:8443');
  });
});
