import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  discoverDevices, parseAsoundCards, parseAsoundPcm, parseV4l2Formats,
} from '../../hardware/devices.js';

const fixtures = fileURLToPath(new URL('../fixtures/hardware/', import.meta.url));
const machine = join(fixtures, 'two-cameras');

describe('camera and microphone discovery', () => {
  it('lists each USB camera once, skipping its metadata node', async () => {
    const found = await discoverDevices({ sysRoot: machine, procRoot: machine });
    expect(found.cameras).toEqual([
      { id: 'video0', name: 'Logitech BRIO', devicePath: '/dev/video0' },
      { id: 'video2', name: 'HD Pro Webcam C920', devicePath: '/dev/video2' },
    ]);
  });

  it('offers the USB microphone, the webcam mics and the analog input as microphones', async () => {
    const { microphones } = await discoverDevices({ sysRoot: machine, procRoot: machine });
    expect(microphones.map((m) => [m.alsaName, m.cardName])).toEqual([
      ['hw:CARD=PCH,DEV=0', 'HDA Intel PCH'],
      ['hw:CARD=PCH,DEV=2', 'HDA Intel PCH'],
      ['hw:CARD=Device,DEV=0', 'USB PnP Sound Device'],
      ['hw:CARD=C920,DEV=0', 'HD Pro Webcam C920'],
      ['hw:CARD=BRIO,DEV=0', 'Logitech BRIO'],
    ]);
    const usb = microphones.find((m) => m.cardId === 'Device');
    expect(usb).toMatchObject({
      card: 1, device: 0, driver: 'USB-Audio', pcmName: 'USB Audio', substreams: 1,
      cardLongName: 'C-Media Electronics Inc. USB PnP Sound Device at usb-0000:00:14.0-3, full speed',
    });
  });

  it('offers only playback devices (analog, digital, HDMI) as speakers', async () => {
    const { speakers } = await discoverDevices({ sysRoot: machine, procRoot: machine });
    expect(speakers.map((s) => `${s.cardId}/${s.device} ${s.pcmName}`)).toEqual([
      'PCH/0 ALC892 Analog', 'PCH/1 ALC892 Digital', 'PCH/3 HDMI 0', 'PCH/7 HDMI 1', 'PCH/8 HDMI 2',
    ]);
  });

  it('finds nothing, without failing, when sysfs and procfs have no such folders', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hw-empty-'));
    try {
      await expect(discoverDevices({ sysRoot: empty, procRoot: empty }))
        .resolves.toEqual({ cameras: [], microphones: [], speakers: [] });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('keeps a camera whose node cannot be opened, with no formats', async () => {
    // The fixture's /dev/video0 does not exist on this machine: ffmpeg fails, discovery does not.
    const found = await discoverDevices({ sysRoot: machine, procRoot: machine, ffmpegPath: '/usr/bin/ffmpeg' });
    expect(found.cameras.map((c) => c.formats)).toEqual([[], []]);
  });

  it('runs on this machine and returns lists', async () => {
    const found = await discoverDevices();
    expect(Array.isArray(found.cameras)).toBe(true);
    expect(Array.isArray(found.microphones)).toBe(true);
    expect(Array.isArray(found.speakers)).toBe(true);
    if (!existsSync('/sys/class/video4linux')) expect(found.cameras).toEqual([]);
    if (!existsSync('/proc/asound/pcm')) expect(found.microphones).toEqual([]);
  });
});

describe('parsers', () => {
  it('reads the C920 formats ffmpeg 5.1 lists', async () => {
    const stderr = await readFile(join(fixtures, 'c920-list-formats.stderr.txt'), 'utf8');
    const formats = parseV4l2Formats(stderr);
    expect(formats.map((f) => [f.kind, f.ffmpegName, f.description, f.sizes.length])).toEqual([
      ['raw', 'yuyv422', 'YUYV 4:2:2', 19],
      ['compressed', 'mjpeg', 'Motion-JPEG', 17],
    ]);
    const mjpeg = formats[1]!;
    expect(mjpeg.sizes).toContainEqual({ width: 1920, height: 1080 });
    expect(mjpeg.sizes[0]).toEqual({ width: 640, height: 480 });
    expect(formats[0]!.sizes.at(-1)).toEqual({ width: 2304, height: 1536 });
    expect(formats.every((f) => f.supported && !f.emulated && f.ranges.length === 0)).toBe(true);
  });

  it('reads emulated, unsupported and stepwise formats', () => {
    const p = '[video4linux2,v4l2 @ 0x5612] ';
    const text = [
      `${p}Raw       :     yuv420p :     Planar YUV 4:2:0 : Emulated : 640x480 1280x720`,
      `${p}Raw       : Unsupported :          Y10B packed : {32-2592, 2}x{32-1944, 2}`,
      '/dev/video0: Immediate exit requested',
    ].join('\n');
    expect(parseV4l2Formats(text)).toEqual([
      { kind: 'raw', ffmpegName: 'yuv420p', supported: true, description: 'Planar YUV 4:2:0', emulated: true,
        sizes: [{ width: 640, height: 480 }, { width: 1280, height: 720 }], ranges: [] },
      { kind: 'raw', ffmpegName: 'Unsupported', supported: false, description: 'Y10B packed', emulated: false,
        sizes: [], ranges: [{ minWidth: 32, maxWidth: 2592, stepWidth: 2, minHeight: 32, maxHeight: 1944, stepHeight: 2 }] },
    ]);
  });

  it('reads no formats from an ffmpeg error', () => {
    expect(parseV4l2Formats(
      '[video4linux2,v4l2 @ 0x55] Cannot open video device /dev/video9: No such file or directory\n' +
      '/dev/video9: No such file or directory\n',
    )).toEqual([]);
  });

  it('reads /proc/asound/cards with ids, drivers and long names', async () => {
    const cards = parseAsoundCards(await readFile(join(machine, 'proc/asound/cards'), 'utf8'));
    expect(cards).toEqual([
      { index: 0, id: 'PCH', driver: 'HDA-Intel', name: 'HDA Intel PCH', longName: 'HDA Intel PCH at 0xf7f10000 irq 32' },
      { index: 1, id: 'Device', driver: 'USB-Audio', name: 'USB PnP Sound Device',
        longName: 'C-Media Electronics Inc. USB PnP Sound Device at usb-0000:00:14.0-3, full speed' },
      { index: 2, id: 'C920', driver: 'USB-Audio', name: 'HD Pro Webcam C920',
        longName: 'HD Pro Webcam C920 at usb-0000:00:14.0-2, high speed' },
      { index: 3, id: 'BRIO', driver: 'USB-Audio', name: 'Logitech BRIO',
        longName: 'Logitech BRIO at usb-0000:00:14.0-1, super speed' },
    ]);
    expect(parseAsoundCards('--- no soundcards ---\n')).toEqual([]);
  });

  it('reads /proc/asound/pcm stream directions', async () => {
    const pcms = parseAsoundPcm(await readFile(join(machine, 'proc/asound/pcm'), 'utf8'));
    expect(pcms).toHaveLength(9);
    expect(pcms[0]).toEqual({ card: 0, device: 0, id: 'ALC892 Analog', name: 'ALC892 Analog', playback: 1, capture: 1 });
    expect(pcms[2]).toEqual({ card: 0, device: 2, id: 'ALC892 Alt Analog', name: 'ALC892 Alt Analog', playback: 0, capture: 1 });
    expect(pcms[6]).toEqual({ card: 1, device: 0, id: 'USB Audio', name: 'USB Audio', playback: 0, capture: 1 });
  });
});

describe('more classroom cameras (recorded listings)', () => {
  const classroom = join(fixtures, 'classroom-usb');

  it('lists a C930e, a C270 and a generic Chinese UVC camera once each, with their microphones', async () => {
    const found = await discoverDevices({ sysRoot: classroom, procRoot: classroom });
    expect(found.cameras.map((c) => `${c.name} ${c.devicePath}`)).toEqual([
      'Logitech Webcam C930e /dev/video0', 'UVC Camera (046d:0825) /dev/video2', 'HD USB Camera: HD USB Camera /dev/video4',
    ]);
    expect(found.microphones.map((m) => m.alsaName)).toEqual([
      'hw:CARD=PCH,DEV=0', 'hw:CARD=C930e,DEV=0', 'hw:CARD=U0x46d0x825,DEV=0', 'hw:CARD=Camera,DEV=0',
    ]);
    expect(found.speakers.map((s) => s.pcmName)).toEqual(['ALC269VC Analog', 'HDMI 0']);
  });

  it('reads the C270 (raw + MJPEG) and a camera that also offers H.264', async () => {
    const c270 = parseV4l2Formats(await readFile(join(fixtures, 'c270-list-formats.stderr.txt'), 'utf8'));
    expect(c270.map((f) => [f.ffmpegName, f.sizes.length, f.sizes.at(-1)])).toEqual([
      ['yuyv422', 19, { width: 1280, height: 960 }], ['mjpeg', 19, { width: 1280, height: 960 }],
    ]);
    const generic = parseV4l2Formats(await readFile(join(fixtures, 'hd-usb-camera-h264-list-formats.stderr.txt'), 'utf8'));
    expect(generic.map((f) => `${f.kind}:${f.ffmpegName}`)).toEqual(['compressed:mjpeg', 'raw:yuyv422', 'compressed:h264']);
    expect(generic[2]!.sizes[0]).toEqual({ width: 1920, height: 1080 });
  });

  it('reads no formats from this machine\'s real ffmpeg answer for a missing /dev/video0', async () => {
    const text = await readFile(join(fixtures, 'this-machine-v4l2-video0.stderr.txt'), 'utf8');
    expect(text).toMatch(/Cannot open video device \/dev\/video0/);
    expect(parseV4l2Formats(text)).toEqual([]);
  });

  it('on this machine without cameras: an empty list, and listing formats there does not fail', async () => {
    const found = await discoverDevices({ ffmpegPath: '/usr/bin/ffmpeg', timeoutMs: 10_000 });
    if (!existsSync('/sys/class/video4linux')) expect(found.cameras).toEqual([]);
    else expect(found.cameras.every((c) => Array.isArray(c.formats))).toBe(true);
  });
});
