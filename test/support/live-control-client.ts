// A control-channel client like the kiosk's: hello with the last event id held, resend unacked messages.
import { WebSocket } from 'ws';
import type { ControlDraft, ControlEvent, ControlFrame } from '../../core/contract/lesson.js';

export class ControlClient {
  readonly events: ControlEvent[] = [];
  readonly acks: Array<{ sender: string; seq: number }> = [];
  readonly errors: string[] = [];
  /** How the box closed the connection (1008 with an E_ code when a quota was broken). */
  closed: { code: number; reason: string } | undefined;
  private ws: { send(s: string): void; close(): void; on(ev: string, fn: (...a: never[]) => void): void } | undefined;

  constructor(private readonly url: string, private readonly token: string) {}

  get lastId(): number {
    return this.events.at(-1)?.id ?? 0;
  }

  async connect(): Promise<void> {
    const u = new URL(this.url);
    u.protocol = 'ws:';
    // A program sends its token in the header (only a browser needs a ticket in the URL).
    const ws = new WebSocket(u.toString(), { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', (e: Error) => reject(e));
      ws.on('unexpected-response', (_req: unknown, res: { statusCode: number }) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = undefined;
    ws.on('close', (code: number, reason: Buffer) => { this.closed = { code, reason: reason.toString() }; });
    ws.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString()) as ControlFrame;
      if (f.t === 'event') this.events.push(f.event);
      else if (f.t === 'ack') this.acks.push({ sender: f.sender, seq: f.seq });
      else if (f.t === 'error') this.errors.push(f.code);
    });
    this.frame({ t: 'hello', sender: 'test', since: this.lastId });
  }

  frame(f: ControlFrame): void {
    this.ws!.send(JSON.stringify(f));
  }

  send(msg: ControlDraft): void {
    this.frame({ t: 'send', msg });
  }

  close(): void {
    this.ws?.close();
  }
}
