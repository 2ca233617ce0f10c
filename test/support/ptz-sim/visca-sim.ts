// A VISCA-over-IP camera on a UDP socket, following Sony's "VISCA over IP" command list:
// 8-byte header (payload type, length, sequence number), ACK then completion per command, error
// replies (message length, syntax, buffer full, not executable), control RESET, sequence checks,
// and a resent sequence number answered again without running the command twice.
// Faults are injected through the public fields below; nothing in hardware/ knows about them.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

const T = { command: 0x0100, inquiry: 0x0110, reply: 0x0111, control: 0x0200, controlReply: 0x0201 } as const;

export interface Position { pan: number; tilt: number; zoom: number }

export interface ReceivedMessage { type: number; seq: number; payload: number[]; at: number; duplicate: boolean }

export interface Faults {
  /** Incoming datagrams to drop before the camera sees them (a lost command). */
  dropIncoming: number;
  /** Reply datagrams to drop (a lost ACK or completion): counts every reply datagram. */
  dropReplies: number;
  /** Completion datagrams to drop (the ACK gets through, the "done" does not). */
  dropCompletions: number;
  /** Delay added to every reply of the next command, in ms (a late reply). */
  delayNextCommandMs: number;
  /** The next command gets this VISCA error code (0x02 syntax, 0x03 buffer full, 0x41 not executable). */
  errorNext: number | null;
}

interface Executed { seq: number; replies: Buffer[]; done: boolean; rinfo: RemoteInfo }

export class ViscaCameraSim {
  private socket!: Socket;
  port = 0;
  readonly received: ReceivedMessage[] = [];
  /** Sequence numbers of the commands actually executed (a resend must not appear twice). */
  readonly executed: number[] = [];
  position: Position = { pan: 0, tilt: 0, zoom: 0 };
  readonly memory = new Map<number, Position>();
  power: 'on' | 'standby' = 'on';
  /** How long a preset recall "moves" before the completion. */
  moveMs = 50;
  faults: Faults = { dropIncoming: 0, dropReplies: 0, dropCompletions: 0, delayNextCommandMs: 0, errorNext: null };
  private expectedSeq = 0;
  private last: Executed | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly address = 1) {}

  async start(host = '127.0.0.1'): Promise<this> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    await new Promise<void>((resolve) => this.socket.bind(0, host, resolve));
    this.port = this.socket.address().port;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private reply(type: number, seq: number, payload: number[], rinfo: RemoteInfo, delayMs: number, record?: Executed): void {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(type, 0);
    head.writeUInt16BE(payload.length, 2);
    head.writeUInt32BE(seq, 4);
    const buf = Buffer.concat([head, Buffer.from(payload)]);
    record?.replies.push(buf);
    const send = () => {
      if (this.faults.dropReplies > 0) {
        this.faults.dropReplies--;
        return;
      }
      if (type === T.reply && ((payload[1] ?? 0) & 0xf0) === 0x50 && this.faults.dropCompletions > 0) {
        this.faults.dropCompletions--;
        return;
      }
      this.socket.send(buf, rinfo.port, rinfo.address);
    };
    if (delayMs > 0) this.later(delayMs, send);
    else send();
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.faults.dropIncoming > 0) {
      this.faults.dropIncoming--;
      return;
    }
    if (msg.length < 9) return;
    const type = msg.readUInt16BE(0);
    const len = msg.readUInt16BE(2);
    const seq = msg.readUInt32BE(4);
    const payload = [...msg.subarray(8)];
    const z = 0x80 | (this.address << 4);
    const duplicate = this.last !== undefined && this.last.seq === seq && type !== T.control;
    this.received.push({ type, seq, payload, at: Date.now(), duplicate });

    if (type === T.control) {
      if (payload[0] === 0x01 && payload.length === 1) {
        this.expectedSeq = 0;
        this.last = undefined;
        return this.reply(T.controlReply, seq, [0x01], rinfo, 0);
      }
      return this.reply(T.controlReply, seq, [0x0f, 0x02], rinfo, 0);
    }
    if (type !== T.command && type !== T.inquiry) return this.reply(T.controlReply, seq, [0x0f, 0x02], rinfo, 0);

    if (duplicate && this.last) {
      // A resend of the message just handled: say again what was said (or is still to be said
      // for a move in progress), never run the command a second time.
      const last = this.last;
      if (last.done) for (const r of last.replies) this.socket.send(r, rinfo.port, rinfo.address);
      else this.reply(T.reply, seq, [z, 0x41, 0xff], rinfo, 0);
      return;
    }
    if (seq < this.expectedSeq) return this.reply(T.controlReply, seq, [0x0f, 0x01], rinfo, 0);
    this.expectedSeq = seq + 1;

    const rec: Executed = { seq, replies: [], done: false, rinfo };
    this.last = rec;
    const delay = this.faults.delayNextCommandMs;
    this.faults.delayNextCommandMs = 0;
    const finish = () => {
      rec.done = true;
    };
    const error = (code: number, socketNo = 0) => {
      this.reply(T.reply, seq, [z, 0x60 | socketNo, code, 0xff], rinfo, delay, rec);
      finish();
    };

    if (len !== payload.length || payload[0] !== (0x80 | this.address) || payload.at(-1) !== 0xff) return error(0x01);
    if (this.faults.errorNext !== null) {
      const code = this.faults.errorNext;
      this.faults.errorNext = null;
      return error(code, code === 0x41 ? 1 : 0);
    }
    const body = payload.slice(1, -1);
    if (type === T.inquiry) return this.inquiry(body, seq, rinfo, rec, delay, error);
    this.command(body, seq, rinfo, rec, delay, error);
  }

  private command(b: number[], seq: number, rinfo: RemoteInfo, rec: Executed, delay: number, error: (code: number, socketNo?: number) => void): void {
    const z = 0x80 | (this.address << 4);
    const ack = () => this.reply(T.reply, seq, [z, 0x41, 0xff], rinfo, delay, rec);
    const complete = (afterMs: number, apply?: () => void) => {
      this.later(afterMs, () => {
        apply?.();
        this.executed.push(seq);
        this.reply(T.reply, seq, [z, 0x51, 0xff], rinfo, delay, rec);
        rec.done = true;
      });
    };
    const key = b.slice(0, 3).join(',');
    if (key === '1,4,0' && b.length === 4 && (b[3] === 2 || b[3] === 3)) {
      ack();
      return complete(0, () => { this.power = b[3] === 2 ? 'on' : 'standby'; });
    }
    if (this.power !== 'on') return error(0x41, 1);
    if (key === '1,4,63' && b.length === 5) {
      const [op, n] = [b[3]!, b[4]!];
      if (n > 0x7f || op > 2) return error(0x02);
      ack();
      if (op === 0) return complete(0, () => { this.memory.delete(n); });
      if (op === 1) return complete(0, () => { this.memory.set(n, { ...this.position }); });
      const target = this.memory.get(n) ?? { pan: 0, tilt: 0, zoom: 0 };
      return complete(this.moveMs, () => { this.position = { ...target }; });
    }
    if (key === '1,6,1' && b.length === 7) {
      const [vv, ww, p, t] = [b[3]!, b[4]!, b[5]!, b[6]!];
      if (vv < 1 || vv > 0x18 || ww < 1 || ww > 0x17 || p < 1 || p > 3 || t < 1 || t > 3) return error(0x02);
      ack();
      return complete(0, () => {
        this.position.pan += p === 1 ? -vv : p === 2 ? vv : 0;
        this.position.tilt += t === 1 ? ww : t === 2 ? -ww : 0;
      });
    }
    if (key === '1,4,7' && b.length === 4) {
      ack();
      const d = b[3]!;
      return complete(0, () => { this.position.zoom += (d & 0xf0) === 0x20 ? 1 : (d & 0xf0) === 0x30 ? -1 : 0; });
    }
    error(0x02);
  }

  private inquiry(b: number[], seq: number, rinfo: RemoteInfo, rec: Executed, delay: number, error: (code: number) => void): void {
    const z = 0x80 | (this.address << 4);
    const nibbles = (v: number) => [(v >> 12) & 0xf, (v >> 8) & 0xf, (v >> 4) & 0xf, v & 0xf];
    let data: number[] | undefined;
    const key = b.join(',');
    if (key === '9,4,0') data = [this.power === 'on' ? 0x02 : 0x03];
    else if (key === '9,6,18') data = [...nibbles(this.position.pan & 0xffff), ...nibbles(this.position.tilt & 0xffff)];
    else if (key === '9,4,71') data = nibbles(this.position.zoom & 0xffff);
    if (!data) return error(0x02);
    this.executed.push(seq);
    this.reply(T.reply, seq, [z, 0x50, ...data, 0xff], rinfo, delay, rec);
    rec.done = true;
  }
}
