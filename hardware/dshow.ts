// Windows camera and microphone names as ffmpeg lists them: `ffmpeg -list_devices true -f dshow -i dummy`.
// These are the names the whiteboard PC's browser shows too, so the technician assigns by them.
import { runFile } from './ffmpeg.js';

export interface DshowDevice {
  name: string;
  kind: 'video' | 'audio';
  /** The stable "@device_pnp_…" moniker, usable as `-i video=@device_…` when two devices share a name. */
  alternativeName: string | null;
}

const PREFIX = /^\[dshow @ [^\]]*\]\s?/;

/**
 * Parses both layouts: ffmpeg ≥ 5 tags each device `"name" (video)` / `(audio)` / `(audio, video)`;
 * older builds print "DirectShow video devices" / "DirectShow audio devices" headings.
 */
export function parseDshowDevices(stderr: string): DshowDevice[] {
  const out: DshowDevice[] = [];
  let section: 'video' | 'audio' | null = null;
  let last: DshowDevice[] = [];
  for (const raw of stderr.split(/\r?\n/)) {
    if (!PREFIX.test(raw)) continue;
    const line = raw.replace(PREFIX, '');
    if (/DirectShow video devices/i.test(line)) {
      section = 'video';
      continue;
    }
    if (/DirectShow audio devices/i.test(line)) {
      section = 'audio';
      continue;
    }
    const alt = /^\s*Alternative name "(.*)"\s*$/.exec(line);
    if (alt) {
      for (const d of last) d.alternativeName = alt[1] ?? null;
      continue;
    }
    const m = /^\s*"(.*)"(?:\s+\(([^)]*)\))?\s*$/.exec(line);
    if (!m) continue;
    const kinds = m[2] !== undefined
      ? m[2].split(',').map((k) => k.trim()).filter((k): k is 'video' | 'audio' => k === 'video' || k === 'audio')
      : section ? [section] : [];
    // "(none)" devices (no pins) cannot be captured from.
    last = kinds.map((kind) => ({ name: m[1] ?? '', kind, alternativeName: null }));
    out.push(...last);
  }
  return out;
}

/** Cameras and microphones of a Windows PC through ffmpeg's DirectShow device list. */
export async function listDshowDevices(ffmpegPath: string, timeoutMs = 10_000): Promise<DshowDevice[]> {
  // ffmpeg exits 1 after listing ("Immediate exit requested"): the list is in stderr either way.
  const r = await runFile(ffmpegPath, ['-hide_banner', '-nostdin', '-list_devices', 'true', '-f', 'dshow', '-i', 'dummy'], timeoutMs);
  return parseDshowDevices(r.stderr);
}
