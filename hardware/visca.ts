// VISCA over IP (Sony): VISCA packets in UDP datagrams on port 52381 with an 8-byte header of
// payload type, payload length and a 32-bit sequence number. UDP loses and reorders datagrams, so
// the controller resends with the same sequence number when no reply comes, and drops replies whose
// sequence number is not the one it is waiting for (late answers to an earlier try or command).
import { createSocket, type Socket } from 'node:dgram';
import { BoxError } from '../core/errors.js';

const VISCA_PORT = 52381;

const PayloadType = {
  command: 0x0100,
  inquiry: 0x0110,
  reply: 0x0111,
  deviceSetting: 0x0120,
  control: 0x0200,
  controlReply: 0x0201,
} as const;

export interface ViscaPacket {
  type: number;
  seq: number;
  payload: Buffer;
}

export function encodePacket(type: number, seq: number, payload: Buffer): Buffer {
  if (payload.length < 1 || payload.length > 16) throw new RangeError(`VISCA payload must be 1–16 bytes, got ${payload.length}`);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(payload.length, 2);
  head.writeUInt32BE(seq >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** Undefined for a datagram that is not a well-formed VISCA-over-IP message. */
export function decodePacket(buf: Buffer): ViscaPacket | undefined {
  if (buf.length < 9) return undefined;
  const len = buf.readUInt16BE(2);
  if (len < 1 || len > 16 || buf.length !== 8 + len) return undefined;
  return { type: buf.readUInt16BE(0), seq: buf.readUInt32BE(4), payload: buf.subarray(8) };
}

type ViscaErrorReason = 'length' | 'syntax' | 'buffer-full' | 'canceled' | 'no-socket' | 'not-executable' | 'unknown';

const errorReasons: Record<number, ViscaErrorReason> = {
  0x01: 'length', 0x02: 'syntax', 0x03: 'buffer-full', 0x04: 'canceled', 0x05: 'no-socket', 0x41: 'not-executable',
};

/** Plain words for the technician and the hub teacher; the code carries the reason for programs. */
const reasonWords: Record<ViscaErrorReason | 'timeout', string> = {
  length: 'the camera says the message length is wrong (a software fault: report it)',
  syntax: 'the camera does not understand the command (wrong preset number or an unsupported camera model)',
  'buffer-full': 'the camera is busy with other commands; try again in a moment',
  canceled: 'the camera cancelled the move',
  'no-socket': 'the camera had no move in progress to cancel',
  'not-executable': 'the camera cannot do that right now (it may be switched off, in standby or in a menu)',
  unknown: 'the camera refused the command',
  timeout: 'the camera did not answer; check its network cable, power and address',
};

export type ViscaReply =
  | { kind: 'ack'; socket: number }
  | { kind: 'completion'; socket: number; data: Buffer }
  | { kind: 'error'; socket: number; reason: ViscaErrorReason; code: number };

/** Reads a VISCA reply (z0 4y FF, z0 5y … FF, z0 6y ee FF), where z is the camera address + 8. */
export function parseReply(p: Buffer): ViscaReply | undefined {
  if (p.length < 3 || (p[0]! & 0x80) === 0 || p[p.length - 1] !== 0xff) return undefined;
  const kind = p[1]! & 0xf0;
  const socket = p[1]! & 0x0f;
  if (kind === 0x40 && p.length === 3) return { kind: 'ack', socket };
  if (kind === 0x50) return { kind: 'completion', socket, data: p.subarray(2, p.length - 1) };
  if (kind === 0x60 && p.length === 4) return { kind: 'error', socket, code: p[2]!, reason: errorReasons[p[2]!] ?? 'unknown' };
  return undefined;
}

export interface ViscaOptions {
  host: string;
  port?: number;
  /** Camera address 1–7 (the 8x of the VISCA packet). */
  address?: number;
  /** How long to wait for the ACK (or completion) before resending the same sequence number. */
  replyTimeoutMs?: number;
  /** Tries per command, the first included. */
  attempts?: number;
  /** A preset recall can take seconds of pan and zoom before the completion arrives. */
  completionTimeoutMs?: number;
  /**
   * After the ACK, resend this often while no completion comes: a lost completion is then answered
   * again by the camera (same sequence number: it replies, it does not move twice).
   */
  completionPollMs?: number;
}

export interface ViscaStats {
  sent: number;
  resent: number;
  /** Replies dropped because their sequence number was not the awaited one (late or duplicate). */
  ignoredReplies: number;
  resets: number;
}

interface Pending {
  seq: number;
  ackedAt: number;
  type: number;
  packet: Buffer;
  acked: boolean;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  resolve(data: Buffer): void;
  reject(e: Error): void;
}

export class ViscaIpClient {
  private readonly socket: Socket;
  private readonly o: Required<ViscaOptions>;
  private seq = 0;
  private needsReset = true;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly stats: ViscaStats = { sent: 0, resent: 0, ignoredReplies: 0, resets: 0 };

  constructor(opts: ViscaOptions) {
    this.o = {
      port: VISCA_PORT, address: 1, replyTimeoutMs: 400, attempts: 4, completionTimeoutMs: 15_000, completionPollMs: 1000, ...opts,
    };
    if (this.o.address < 1 || this.o.address > 7) throw new RangeError('VISCA camera address must be 1–7');
    this.socket = createSocket(opts.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (msg) => this.onMessage(msg));
    // A send error (ENETUNREACH, EHOSTUNREACH) shows up as a timeout of the pending command.
    this.socket.on('error', () => {});
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new BoxError('E_PTZ_UNREACHABLE', 'The camera connection was closed.'));
    this.socket.close();
  }

  /** Control command RESET: the camera's expected sequence number goes back to 0. */
  async reset(): Promise<void> {
    this.needsReset = true;
    await this.serial(async () => {});
  }

  /** Sends a VISCA command (payload without the 8x head and FF tail) and waits for its completion. */
  command(body: number[]): Promise<void> {
    return this.serial(async () => {
      await this.exchange(PayloadType.command, this.viscaPacket(body));
    });
  }

  /** Sends an inquiry and returns the completion's data bytes. */
  inquiry(body: number[]): Promise<Buffer> {
    return this.serial(() => this.exchange(PayloadType.inquiry, this.viscaPacket(body)));
  }

  async recallPreset(n: number): Promise<void> {
    return this.command([0x01, 0x04, 0x3f, 0x02, checkPreset(n)]);
  }

  async setPreset(n: number): Promise<void> {
    return this.command([0x01, 0x04, 0x3f, 0x01, checkPreset(n)]);
  }

  /** Continuous pan/tilt: -1, 0 or 1 per axis, speeds 1–0x18 pan, 1–0x17 tilt. */
  panTilt(pan: -1 | 0 | 1, tilt: -1 | 0 | 1, panSpeed = 0x08, tiltSpeed = 0x08): Promise<void> {
    const p = pan < 0 ? 0x01 : pan > 0 ? 0x02 : 0x03;
    const t = tilt > 0 ? 0x01 : tilt < 0 ? 0x02 : 0x03;
    return this.command([0x01, 0x06, 0x01, clamp(panSpeed, 1, 0x18), clamp(tiltSpeed, 1, 0x17), p, t]);
  }

  /** Variable-speed zoom: 1 tele, -1 wide, 0 stop; speed 0–7. */
  zoom(direction: -1 | 0 | 1, speed = 3): Promise<void> {
    const s = clamp(speed, 0, 7);
    return this.command([0x01, 0x04, 0x07, direction > 0 ? 0x20 | s : direction < 0 ? 0x30 | s : 0x00]);
  }

  async stop(): Promise<void> {
    await this.panTilt(0, 0);
    await this.zoom(0);
  }

  private viscaPacket(body: number[]): Buffer {
    return Buffer.from([0x80 | this.o.address, ...body, 0xff]);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.closed) throw new BoxError('E_PTZ_UNREACHABLE', 'The camera connection was closed.');
      if (this.needsReset) await this.doReset();
      return fn();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async doReset(): Promise<void> {
    // The RESET itself carries a sequence number the camera ignores; 0 is as good as any.
    await this.exchangeWith(0, PayloadType.control, Buffer.from([0x01]));
    this.seq = 0;
    this.needsReset = false;
    this.stats.resets++;
  }

  private exchange(type: number, payload: Buffer): Promise<Buffer> {
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    return this.exchangeWith(seq, type, payload);
  }

  private exchangeWith(seq: number, type: number, payload: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const p: Pending = { seq, type, packet: encodePacket(type, seq, payload), ackedAt: 0, acked: false, attempt: 0, timer: undefined, resolve, reject };
      this.pending = p;
      this.transmit(p);
    });
  }

  private transmit(p: Pending): void {
    p.attempt++;
    if (p.attempt > 1) this.stats.resent++;
    this.stats.sent++;
    this.socket.send(p.packet, this.o.port, this.o.host);
    this.arm(p, this.o.replyTimeoutMs, () => {
      if (p.attempt < this.o.attempts) return this.transmit(p);
      this.settle(p, new BoxError('E_PTZ_UNREACHABLE', `PTZ camera ${this.o.host}: ${reasonWords.timeout}.`, { reason: 'timeout', host: this.o.host, attempts: p.attempt }));
    });
  }

  /** Accepted: wait for the move to finish, asking again now and then in case the completion was lost. */
  private pollCompletion(p: Pending): void {
    const left = this.o.completionTimeoutMs - (Date.now() - p.ackedAt);
    if (left <= 0) {
      return this.settle(p, new BoxError('E_PTZ_UNREACHABLE',
        `PTZ camera ${this.o.host}: the camera accepted the command but never said it finished.`, { reason: 'no-completion', host: this.o.host }));
    }
    this.arm(p, Math.min(left, this.o.completionPollMs), () => {
      if (Date.now() - p.ackedAt < this.o.completionTimeoutMs) {
        this.stats.sent++;
        this.stats.resent++;
        this.socket.send(p.packet, this.o.port, this.o.host);
      }
      this.pollCompletion(p);
    });
  }

  private arm(p: Pending, ms: number, onTimeout: () => void): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (this.pending === p) onTimeout();
    }, ms);
  }

  private settle(p: Pending, outcome: Buffer | Error): void {
    if (this.pending !== p) return;
    if (p.timer) clearTimeout(p.timer);
    this.pending = undefined;
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private fail(e: Error): void {
    if (this.pending) this.settle(this.pending, e);
  }

  private onMessage(msg: Buffer): void {
    const pkt = decodePacket(msg);
    const p = this.pending;
    if (!pkt || !p || pkt.seq !== p.seq) {
      this.stats.ignoredReplies++;
      return;
    }
    if (pkt.type === PayloadType.controlReply || pkt.type === PayloadType.control) {
      if (pkt.payload[0] === 0x01 && p.type === PayloadType.control) return this.settle(p, Buffer.alloc(0));
      if (pkt.payload[0] === 0x0f) {
        // Sequence number out of step (the camera restarted, or another controller reset it):
        // reset on the next command; this one is reported rather than silently repeated.
        this.needsReset = true;
        const why = pkt.payload[1] === 0x01 ? 'sequence number out of step' : 'message type not accepted';
        return this.settle(p, new BoxError('E_PTZ_REFUSED', `PTZ camera ${this.o.host}: the camera rejected the message (${why}); it will be resynchronised on the next command.`, { reason: 'sequence' }));
      }
      this.stats.ignoredReplies++;
      return;
    }
    if (pkt.type !== PayloadType.reply || p.type === PayloadType.control) {
      this.stats.ignoredReplies++;
      return;
    }
    const r = parseReply(pkt.payload);
    if (!r) {
      this.stats.ignoredReplies++;
      return;
    }
    if (r.kind === 'ack') {
      if (p.acked) return;
      p.acked = true;
      p.ackedAt = Date.now();
      this.pollCompletion(p);
      return;
    }
    if (r.kind === 'completion') return this.settle(p, r.data);
    this.settle(p, new BoxError('E_PTZ_REFUSED', `PTZ camera ${this.o.host}: ${reasonWords[r.reason]}.`, { reason: r.reason, code: r.code, host: this.o.host }));
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(v)));
}

function checkPreset(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0x7f) throw new BoxError('E_VALIDATION', `VISCA preset numbers are 0–127, got ${n}.`);
  return n;
}
