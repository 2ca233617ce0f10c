// Live media with the box (WHIP publish / WHEP play, non-trickle: the box does no trickle ICE) and the
// lesson control channel (WebSocket). Everything goes to this box only; it relays to and from the hub.
import type { ControlDraft, ControlFrame, ControlEvent, ControlType } from '../../../core/contract/lesson.js';
import {
  emptyAssignment, resolveCamera, resolveMicrophone, roomMicConstraints, type DeviceAssignment, type MessageKey, type ResolvedDevice,
} from '../../../core/contract/hardware.js';
import { TAKEOVER_HEADER, type MediaSessionState } from '../../../core/contract/media-scope.js';
import { ApiError, getJson } from './http.js';
import { ticketUrl } from './media.js';

function gathered(pc: RTCPeerConnection, timeoutMs = 3000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener('icegatheringstatechange', check); clearTimeout(timer); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** One WHIP or WHEP session; close() sends DELETE to its Location and closes the peer connection. */
export class MediaSession {
  private location: string | null = null;
  /** The session id (the Location's last part): what became of it can be asked after it ended. */
  private id: string | null = null;
  private constructor(readonly pc: RTCPeerConnection) {}

  /** `takeover`: a console replaces the room's live publisher (else the box answers 409 E_ROOM_HAS_PUBLISHER). */
  static async start(kind: 'whip' | 'whep', room: string, token: string, prepare: (pc: RTCPeerConnection) => void, opts: { takeover?: boolean } = {}): Promise<MediaSession> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const s = new MediaSession(pc);
    try {
      prepare(pc);
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      let res: Response;
      try {
        res = await fetch(`/${kind}/${encodeURIComponent(room)}`, {
          method: 'POST', body: pc.localDescription?.sdp ?? '',
          headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}`, ...(opts.takeover ? { [TAKEOVER_HEADER]: '1' } : {}) },
        });
      } catch {
        throw new ApiError('E_OFFLINE', 0, 'the box did not answer');
      }
      if (res.status !== 201) {
        const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
        throw new ApiError(body.code ?? 'E_MEDIA_UNAVAILABLE', res.status, body.message ?? `HTTP ${res.status}`);
      }
      const loc = res.headers.get('location');
      s.location = loc && loc.startsWith('/') ? loc : null;
      s.id = s.location?.split('/').pop() ?? null;
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      return s;
    } catch (e) {
      await s.close();
      throw e;
    }
  }

  /** Live, or ended and why ('taken-over' when a console took the room), as the box remembers it. */
  async state(): Promise<MediaSessionState | null> {
    if (!this.id) return null;
    return getJson<MediaSessionState>(`/api/media/sessions/${encodeURIComponent(this.id)}`, { timeoutMs: 4000 }).catch(() => null);
  }

  async close(): Promise<void> {
    const loc = this.location;
    this.location = null;
    this.pc.close();
    if (loc) await fetch(loc, { method: 'DELETE' }).catch(() => undefined);
  }
}

export function playRoom(room: string, token: string, onStream: (s: MediaStream) => void): Promise<MediaSession> {
  return MediaSession.start('whep', room, token, (pc) => {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (ev) => { stream.addTrack(ev.track); onStream(stream); });
  });
}

export function publishRoom(room: string, token: string, stream: MediaStream, opts: { takeover?: boolean } = {}): Promise<MediaSession> {
  return MediaSession.start('whip', room, token, (pc) => {
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  }, opts);
}

const SEQ_KEY = 'box.control.seq';

/** Per-sender sequence numbers must grow across reloads, or the box would drop new messages as resends. */
function nextSeq(sender: string): number {
  let last = 0;
  try { last = Number(localStorage.getItem(`${SEQ_KEY}.${sender}`)) || 0; } catch { /* none stored */ }
  const seq = Math.max(last + 1, Date.now());
  try { localStorage.setItem(`${SEQ_KEY}.${sender}`, String(seq)); } catch { /* kept in memory only */ }
  return seq;
}

/**
 * The lesson's control channel on this box: replays the timeline, then follows it; messages sent are
 * resent after a reconnect until the box acks them.
 */
export class ControlChannel {
  private ws: WebSocket | null = null;
  private lastId = 0;
  private closed = false;
  private readonly unacked = new Map<number, ControlDraft>();
  private retry: ReturnType<typeof setTimeout> | undefined;
  connected = false;

  constructor(private readonly lessonId: string, private readonly token: string, readonly sender: string,
    private readonly onEvent: (e: ControlEvent) => void, private readonly onState: (connected: boolean) => void = () => undefined) {
    this.open();
  }

  private open(): void {
    if (this.closed) return;
    // The token never goes in the URL: it buys a single-use ticket for this one connection.
    ticketUrl(`/api/lessons/${encodeURIComponent(this.lessonId)}/control`, this.token).then((path) => this.connect(path), () => {
      if (!this.closed) this.retry = setTimeout(() => this.open(), 1500);
    });
  }

  private connect(path: string): void {
    if (this.closed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}${path}`);
    this.ws = ws;
    ws.onopen = () => {
      this.connected = true;
      this.onState(true);
      this.frame({ t: 'hello', sender: this.sender, since: this.lastId });
      for (const msg of this.unacked.values()) this.frame({ t: 'send', msg });
    };
    ws.onmessage = (m) => {
      let f: ControlFrame;
      try { f = JSON.parse(String(m.data)) as ControlFrame; } catch { return; }
      if (f.t === 'event' && f.event.id > this.lastId) { this.lastId = f.event.id; this.onEvent(f.event); }
      // The box names the sender from this screen's credential (not from what it sent): match by seq.
      if (f.t === 'ack') this.unacked.delete(f.seq);
    };
    ws.onclose = () => {
      this.connected = false;
      this.onState(false);
      if (!this.closed) this.retry = setTimeout(() => this.open(), 1500);
    };
  }

  private frame(f: ControlFrame): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(f));
  }

  send(type: ControlType, body: Record<string, unknown>): void {
    const msg: ControlDraft = { sender: this.sender, seq: nextSeq(this.sender), type, body };
    this.unacked.set(msg.seq, msg);
    this.frame({ t: 'send', msg });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.ws?.close();
  }
}

/** What the timeline says now: page, strokes of the page, raised hands, mutes, spotlight, lesson state. */
export interface LessonView {
  item: string | null;
  page: number;
  strokes: Array<{ page: number; points: Array<[number, number]>; color: string; width: number }>;
  hands: Record<string, boolean>;
  muted: Record<string, boolean>;
  spotlight: string | null;
  state: 'waiting' | 'started' | 'ended';
}

export function emptyView(): LessonView {
  return { item: null, page: 1, strokes: [], hands: {}, muted: {}, spotlight: null, state: 'waiting' };
}

export function applyEvent(v: LessonView, e: ControlEvent): void {
  const b = e.body;
  switch (e.type) {
    case 'page':
      if (typeof b.item === 'string') v.item = b.item;
      if (typeof b.page === 'number') v.page = b.page;
      break;
    case 'stroke':
      if (Array.isArray(b.points)) {
        v.strokes.push({ page: typeof b.page === 'number' ? b.page : v.page, points: b.points as Array<[number, number]>,
          color: typeof b.color === 'string' ? b.color : '#d92d20', width: typeof b.width === 'number' ? b.width : 4 });
      }
      break;
    case 'hand':
      v.hands[e.sender] = b.raised === true;
      break;
    case 'mute':
      if (typeof b.target === 'string') v.muted[b.target] = b.muted === true;
      break;
    case 'spotlight':
      v.spotlight = typeof b.target === 'string' ? b.target : null;
      break;
    case 'lesson':
      if (b.state === 'started' || b.state === 'ended') v.state = b.state;
      break;
  }
}

// ---- classroom capture ------------------------------------------------------------------------

/** What the box tells its kiosk about devices: the technician's role → label assignment. */
interface KioskHardware {
  assignment: DeviceAssignment;
}

export interface ClassroomCapture {
  stream: MediaStream;
  camera: ResolvedDevice;
  microphone: ResolvedDevice;
  /** Plain-words problems (assigned device missing, none at all) for the teacher. */
  problems: MessageKey[];
}

async function devicesWithLabels(): Promise<MediaDeviceInfo[]> {
  const list = await navigator.mediaDevices.enumerateDevices();
  if (list.some((d) => d.label !== '')) return list;
  // Labels are hidden until the page may capture: ask once, then look again.
  const probe = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }).catch(() => null);
  probe?.getTracks().forEach((tr) => tr.stop());
  return navigator.mediaDevices.enumerateDevices();
}

/**
 * Opens the class camera and the room microphone the technician assigned (matched by label), or the
 * next best when one is unplugged; echo cancellation, noise suppression and auto gain always on.
 */
export async function openClassroom(): Promise<ClassroomCapture> {
  let assignment: DeviceAssignment = emptyAssignment;
  try {
    assignment = (await getJson<KioskHardware>('/api/hardware/kiosk', { timeoutMs: 4000 })).assignment;
  } catch {
    // The box did not answer: the default devices still make a lesson.
  }
  const devices = await devicesWithLabels();
  const camera = resolveCamera(assignment, 'class', devices);
  const microphone = resolveMicrophone(assignment, devices);
  const problems = [camera.message, microphone.message].filter((m): m is MessageKey => m !== null);
  const video: MediaTrackConstraints | false = camera.status === 'none' ? false
    : { width: 1280, height: 720, ...(camera.deviceId ? { deviceId: { exact: camera.deviceId } } : {}) };
  const audio = microphone.status === 'none' ? false : roomMicConstraints(microphone.deviceId ?? undefined);
  if (!video && !audio) throw new DOMException('no camera and no microphone', 'NotFoundError');
  const stream = await navigator.mediaDevices.getUserMedia({ video, audio });
  return { stream, camera, microphone, problems };
}
