import type { Logger } from '../core/log.js';
import type { PeerClient, PeerSocket } from '../core/peer-client.js';
import type { ControlEvent, ControlFrame } from '../core/contract/lesson.js';
import type { ControlHub } from './control-hub.js';

export interface ControlUplinkOptions {
  /** The hub: the WebSocket opens through it (fresh box token, handshake timeout, frame size cap). */
  hub: PeerClient;
  lessonId: string;
  control: ControlHub;
  log: Logger;
}

/**
 * A teaching point's control channel to its hub: resends its outbox (its kiosk's messages) in order
 * until the hub acks each, and stores the hub's timeline locally, asking on every reconnect for what
 * came after the last event it holds. De-duplication on both ends makes resending safe.
 */
export class ControlUplink {
  private ws: PeerSocket | undefined;
  private stopped = false;
  private since = 0;
  private backoff = 500;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private readonly sent = new Set<string>();
  connected = false;

  constructor(private readonly o: ControlUplinkOptions) {}

  start(): void {
    this.unlisten = this.o.control.listen(this.o.lessonId, () => this.flush());
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let ws: PeerSocket;
    try {
      ws = await this.o.hub.webSocket(`/api/lessons/${encodeURIComponent(this.o.lessonId)}/control`, { handshakeTimeoutMs: 5000 });
    } catch {
      return this.retry();
    }
    // Stopped while the token was being signed: this socket must not outlive the lesson.
    if (this.stopped) {
      ws.on('error', () => undefined); // terminating a socket still connecting reports an error
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.sent.clear();
    ws.on('open', () => {
      this.connected = true;
      this.backoff = 500;
      this.frame({ t: 'hello', sender: 'relay', since: this.since });
      this.flush();
    });
    ws.on('message', (data) => this.onFrame(data));
    ws.on('error', () => undefined); // 'close' follows and schedules the retry
    ws.on('close', () => {
      this.connected = false;
      if (this.ws === ws) this.ws = undefined;
      this.retry();
    });
  }

  private retry(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, 8000);
  }

  private frame(f: ControlFrame): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(f));
  }

  /** Sends what the hub has not acked yet and this connection has not carried. */
  private flush(): void {
    if (!this.connected) return;
    for (const msg of this.o.control.outbox(this.o.lessonId)) {
      const key = `${msg.sender}\n${msg.seq}`;
      if (this.sent.has(key)) continue;
      this.sent.add(key);
      this.frame({ t: 'send', msg });
    }
  }

  private onFrame(data: Buffer): void {
    let f: ControlFrame;
    try {
      f = JSON.parse(data.toString()) as ControlFrame;
    } catch {
      return;
    }
    if (f.t === 'ack') this.o.control.acked(this.o.lessonId, f.sender, f.seq);
    else if (f.t === 'event') this.onEvent(f.event);
    else if (f.t === 'error') this.o.log.warn({ code: f.code, message: f.message }, 'hub refused a control message');
  }

  private onEvent(e: ControlEvent): void {
    try {
      this.o.control.accept(this.o.lessonId, { sender: e.sender, seq: e.seq, type: e.type, body: e.body }, { at: e.at });
      if (e.id > this.since) this.since = e.id;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'bad control event from hub');
    }
  }

  status(): { connected: boolean; pending: number } {
    return { connected: this.connected, pending: this.o.control.outbox(this.o.lessonId).length };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unlisten?.();
    this.ws?.terminate();
    this.ws = undefined;
  }
}
