// Camera and microphone discovery from sysfs and procfs: no v4l2-ctl or arecord on a box image,
// and reading text files cannot hang or grab a device that a live lesson is using.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFile } from './ffmpeg.js';

interface FrameSize { width: number; height: number }

/** A continuous/stepwise range, printed by ffmpeg as {minW-maxW, stepW}x{minH-maxH, stepH}. */
interface FrameSizeRange {
  minWidth: number; maxWidth: number; stepWidth: number;
  minHeight: number; maxHeight: number; stepHeight: number;
}

export interface V4l2Format {
  kind: 'raw' | 'compressed';
  /** ffmpeg's name: a pixel format (`yuyv422`) for raw, a codec (`mjpeg`, `h264`) for compressed. */
  ffmpegName: string;
  /** False when ffmpeg printed "Unsupported": it cannot capture this format. */
  supported: boolean;
  /** The driver's description, e.g. "Motion-JPEG". */
  description: string;
  /** Converted in software by libv4l: costs CPU, so prefer a native format. */
  emulated: boolean;
  sizes: FrameSize[];
  ranges: FrameSizeRange[];
}

interface Camera {
  /** Kernel node name, e.g. "video0". */
  id: string;
  name: string;
  devicePath: string;
  /** Present only when formats were asked for; empty when the device could not be queried. */
  formats?: V4l2Format[];
}

interface AudioDevice {
  card: number;
  device: number;
  /** ALSA card id (stable across reboots, unlike the number), e.g. "Device", "PCH". */
  cardId: string;
  cardName: string;
  cardLongName: string;
  driver: string;
  pcmName: string;
  substreams: number;
  /** Name for `ffmpeg -f alsa -i …`, by card id so it survives USB re-enumeration. */
  alsaName: string;
}

export interface DiscoveredDevices {
  cameras: Camera[];
  microphones: AudioDevice[];
  speakers: AudioDevice[];
}

export interface DiscoverOptions {
  /** Filesystem root holding `sys/`; '/' on a box, a fixture tree elsewhere. */
  sysRoot?: string;
  /** Filesystem root holding `proc/`. */
  procRoot?: string;
  /** When set, each camera's formats are listed with this ffmpeg. */
  ffmpegPath?: string;
  /** Per-camera ffmpeg timeout. */
  timeoutMs?: number;
}

// ---- pure parsers -------------------------------------------------------------------------------

const FORMAT_LINE = /^(Raw|Compressed)\s*:\s*(\S+)\s+:\s*(.*?)\s+:(\s*Emulated\s*:)?(.*)$/;
const RANGE = /^\{(\d+)-(\d+), (\d+)\}x\{(\d+)-(\d+), (\d+)\}/;

/** Parses the stderr of `ffmpeg -f v4l2 -list_formats all -i /dev/videoN` (libavdevice/v4l2.c). */
export function parseV4l2Formats(stderr: string): V4l2Format[] {
  const formats: V4l2Format[] = [];
  for (const rawLine of stderr.split(/\r?\n/)) {
    // Only lines logged by the v4l2 demuxer carry the formats; the banner and errors do not match.
    const line = rawLine.replace(/^\[video4linux2,v4l2 @ [^\]]*\]\s*/, '');
    if (line === rawLine) continue;
    const m = FORMAT_LINE.exec(line);
    if (!m) continue;
    const [, kind = '', name = '', description = '', emulated, rest = ''] = m;
    const sizes: FrameSize[] = [];
    const ranges: FrameSizeRange[] = [];
    let tail = rest.trim();
    while (tail !== '') {
      const r = RANGE.exec(tail);
      if (r) {
        const [minWidth, maxWidth, stepWidth, minHeight, maxHeight, stepHeight] = r.slice(1).map(Number) as
          [number, number, number, number, number, number];
        ranges.push({ minWidth, maxWidth, stepWidth, minHeight, maxHeight, stepHeight });
        tail = tail.slice(r[0].length).trim();
        continue;
      }
      const [token = '', ...more] = tail.split(/\s+/);
      const s = /^(\d+)x(\d+)$/.exec(token);
      if (s) sizes.push({ width: Number(s[1]), height: Number(s[2]) });
      tail = more.join(' ');
    }
    formats.push({
      kind: kind === 'Raw' ? 'raw' : 'compressed',
      ffmpegName: name,
      supported: name !== 'Unsupported',
      description,
      emulated: emulated !== undefined,
      sizes,
      ranges,
    });
  }
  return formats;
}

export interface AsoundCard { index: number; id: string; driver: string; name: string; longName: string }

/** Parses /proc/asound/cards: " N [id padded to 15]: driver - shortname" then an indented long name. */
export function parseAsoundCards(text: string): AsoundCard[] {
  const cards: AsoundCard[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(\d+) \[([^\]]*)\]: (.*?) - (.*)$/.exec(lines[i] ?? '');
    if (!m) continue;
    const next = lines[i + 1] ?? '';
    // The long name line has no "N [" head; "--- no soundcards ---" matches neither.
    const longName = /^\s+\S/.test(next) && !/^\s*\d+ \[/.test(next) ? next.trim() : '';
    cards.push({ index: Number(m[1]), id: (m[2] ?? '').trim(), driver: m[3] ?? '', name: m[4] ?? '', longName });
  }
  return cards;
}

export interface AsoundPcm { card: number; device: number; id: string; name: string; playback: number; capture: number }

/** Parses /proc/asound/pcm: "CC-DD: id : name[ : playback N][ : capture N]" (sound/core/pcm.c). */
export function parseAsoundPcm(text: string): AsoundPcm[] {
  const pcms: AsoundPcm[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\d+)-(\d+): (.*)$/.exec(line);
    if (!m) continue;
    const parts = (m[3] ?? '').split(' : ');
    let playback = 0;
    let capture = 0;
    // Stream counts are at the end; reading from there keeps a " : " inside a name harmless.
    for (let last = parts.at(-1); last !== undefined; last = parts.at(-1)) {
      const s = /^(playback|capture) (\d+)$/.exec(last.trim());
      if (!s) break;
      if (s[1] === 'playback') playback = Number(s[2]);
      else capture = Number(s[2]);
      parts.pop();
    }
    pcms.push({
      card: Number(m[1]), device: Number(m[2]),
      id: (parts[0] ?? '').trim(), name: parts.slice(1).join(' : ').trim(), playback, capture,
    });
  }
  return pcms;
}

// ---- discovery ----------------------------------------------------------------------------------

/** Missing files mean "no such hardware" here (containers, boxes without sound); never an error. */
async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

/** Capture nodes of /sys/class/video4linux, one per physical camera. */
async function findCameras(sysRoot: string): Promise<Camera[]> {
  const base = join(sysRoot, 'sys', 'class', 'video4linux');
  const entries = (await listDir(base)).filter((e) => /^video\d+$/.test(e));
  entries.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const cameras: Camera[] = [];
  for (const id of entries) {
    // uvcvideo gives each camera a second node (index 1) that carries only metadata: opening it
    // for video fails, and listing it would show every camera twice.
    // A missing or unreadable index (old kernels) counts as a primary node.
    const index = Number.parseInt((await readText(join(base, id, 'index'))) ?? '0', 10);
    if (index > 0) continue;
    const name = (await readText(join(base, id, 'name')))?.trim() || id;
    const devname = /^DEVNAME=(.+)$/m.exec((await readText(join(base, id, 'uevent'))) ?? '')?.[1]?.trim();
    cameras.push({ id, name, devicePath: `/dev/${devname ?? id}` });
  }
  return cameras;
}

/** Formats of one camera via ffmpeg; [] when the device is busy, gone or not a capture device. */
async function listV4l2Formats(devicePath: string, ffmpegPath: string, timeoutMs = 10_000): Promise<V4l2Format[]> {
  // ffmpeg exits 1 after listing ("Immediate exit requested"), so the exit code says nothing here.
  const r = await runFile(ffmpegPath, ['-hide_banner', '-nostdin', '-f', 'v4l2', '-list_formats', 'all', '-i', devicePath], timeoutMs);
  return parseV4l2Formats(r.stderr);
}

function audioDevices(cards: AsoundCard[], pcms: AsoundPcm[], stream: 'capture' | 'playback'): AudioDevice[] {
  const out: AudioDevice[] = [];
  for (const pcm of pcms) {
    if (pcm[stream] === 0) continue;
    const card = cards.find((c) => c.index === pcm.card);
    const cardId = card?.id ?? String(pcm.card);
    out.push({
      card: pcm.card,
      device: pcm.device,
      cardId,
      cardName: card?.name ?? '',
      cardLongName: card?.longName ?? '',
      driver: card?.driver ?? '',
      pcmName: pcm.name || pcm.id,
      substreams: pcm[stream],
      alsaName: `hw:CARD=${cardId},DEV=${pcm.device}`,
    });
  }
  return out;
}

/** Cameras, microphones and speakers this machine has; empty lists where there are none. */
export async function discoverDevices(opts: DiscoverOptions = {}): Promise<DiscoveredDevices> {
  const sysRoot = opts.sysRoot ?? '/';
  const procRoot = opts.procRoot ?? '/';
  const cameras = await findCameras(sysRoot);
  if (opts.ffmpegPath !== undefined) {
    for (const cam of cameras) cam.formats = await listV4l2Formats(cam.devicePath, opts.ffmpegPath, opts.timeoutMs);
  }
  const cards = parseAsoundCards((await readText(join(procRoot, 'proc', 'asound', 'cards'))) ?? '');
  const pcms = parseAsoundPcm((await readText(join(procRoot, 'proc', 'asound', 'pcm'))) ?? '');
  return {
    cameras,
    microphones: audioDevices(cards, pcms, 'capture'),
    speakers: audioDevices(cards, pcms, 'playback'),
  };
}
