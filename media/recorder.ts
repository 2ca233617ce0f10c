import { createSocket, type Socket } from 'node:dgram';
import { existsSync, fsyncSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { RtpPacket } from 'werift';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { fsyncDir, writeFileAtomic } from '../core/atomic-file.js';
import { RtpRewriter } from './rtp-rewriter.js';
import type { Room, RoomTap } from './room.js';
import type { RecordingStore } from './recorder-store.js';
import { pickPorts, recorderSdp, segmentArgs, spawnFfmpeg, udpBound, type FfmpegRun, type RecorderPorts } from './recorder-ffmpeg.js';

export interface RecorderOptions {
  room: Room;
  lessonId: string;
  dir: string;
  store: RecordingStore;
  clock: Clock;
  log: Logger;
  /** ffmpeg cuts at the first keyframe after this; a PLI is sent on the same beat so segments stay ≤ 10 s. */
  segmentSeconds?: number;
  /** Recording stops (cleanly) when the disk has less free space than this. */
  minFreeBytes?: number;
  ffmpegPath?: string;
}

const VIDEO_SSRC = 0x5ec0_0001;
const AUDIO_SSRC = 0x5ec0_0002;
const PART = /^part-(\d{4})-(\d{5})\.mkv$/;
/** No media for longer than this (a WAN outage, a silent source) is a gap in the recording. */
const GAP_MS = 2000;

/** Stretches (box clock, ms) where the room's source sent nothing, kept beside the segments. */
export function readArrivalGaps(dir: string): Array<{ from: number; to: number }> {
  try {
    return JSON.parse(readFileSync(join(dir, 'gaps.json'), 'utf8')) as Array<{ from: number; to: number }>;
  } catch {
    return [];
  }
}

export function segmentName(run: number, n: number): string {
  return `seg-${String(run).padStart(4, '0')}-${String(n).padStart(5, '0')}.mkv`;
}

/**
 * Records one room without transcoding: the source's RTP (VP8 + Opus) goes over loopback UDP to
 * ffmpeg, which writes Matroska segments (`-c copy`). ffmpeg writes `part-*` files and lists each
 * one in its run's CSV only once it is complete; the recorder then fsyncs it, renames it to
 * `seg-*` and stores it, so a power cut loses at most the segment in progress. A dead ffmpeg is
 * replaced at once (new run, new files); media is held until a keyframe so every segment decodes.
 */
export class RoomRecorder implements RoomTap {
  private run: FfmpegRun | undefined;
  private runNo = 0;
  private ports: RecorderPorts | undefined;
  private readonly sock: Socket = createSocket('udp4');
  private ready = false;
  private waitingKey = true;
  private runStartedAt = 0;
  private nextPliAt = 0;
  private layer: string | undefined;
  private readonly vRw = new RtpRewriter(90_000);
  private readonly aRw = new RtpRewriter(48_000);
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private relaunching = false;
  private quickFails = 0;
  private lastSentAt = 0;
  /** Box-clock time of the last media packet from the source (not the keep-alive nudges). */
  private lastMediaAt = 0;
  private lastAudioBuf: Buffer | undefined;
  private lastAudio: RtpPacket | undefined;
  private launchedAt = 0;
  restarts = 0;
  readonly segSec: number;
  readonly minFree: number;
  /** Set when recording stopped by itself (disk full); the box shows it to the teacher. */
  warning: string | undefined;

  constructor(private readonly o: RecorderOptions) {
    this.segSec = o.segmentSeconds ?? 8;
    this.minFree = o.minFreeBytes ?? 200 * 1024 * 1024;
  }

  get roomName(): string {
    return this.o.room.name;
  }

  get ffmpegPid(): Promise<number> | undefined {
    return this.run?.pid;
  }

  async start(): Promise<void> {
    mkdirSync(this.o.dir, { recursive: true });
    this.o.store.begin(this.o.lessonId, this.roomName, this.o.dir);
    this.collect();
    if (!(await this.diskOk())) return;
    this.o.room.taps.add(this);
    // A keyframe asked for on each segment boundary (counted from the run's first keyframe, as
    // ffmpeg counts), so a publisher with rare keyframes (Chromium) still gets segments of ~segSec.
    this.timers.push(setInterval(() => {
      if (!this.ready || this.waitingKey || performance.now() < this.nextPliAt) return;
      this.nextPliAt += this.segSec * 1000;
      this.requestKeyframe();
    }, 100));
    this.timers.push(setInterval(() => { this.collect(); void this.diskOk(); }, 1000));
    await this.launch();
  }

  private requestKeyframe(): void {
    this.o.room.publisher?.requestKeyframe(this.layer);
  }

  private async launch(): Promise<void> {
    if (this.stopping) return;
    this.ready = false;
    this.waitingKey = true;
    this.launchedAt = performance.now();
    this.runNo = this.o.store.nextRun(this.o.lessonId, this.roomName);
    const tag = String(this.runNo).padStart(4, '0');
    this.ports = await pickPorts();
    const sdp = join(this.o.dir, `run-${tag}.sdp`);
    writeFileAtomic(sdp, recorderSdp(this.ports));
    const run = spawnFfmpeg(segmentArgs({
      sdp, segmentSeconds: this.segSec, list: join(this.o.dir, `run-${tag}.csv`), pattern: join(this.o.dir, `part-${tag}-%05d.mkv`),
    }), join(this.o.dir, `run-${tag}.log`), this.o.ffmpegPath);
    this.run = run;
    void run.exited.then((code) => this.onExit(run, code));
    try {
      this.o.store.setPid(this.o.lessonId, this.roomName, await run.pid);
    } catch {
      return; // onExit handles it
    }
    const deadline = Date.now() + 15_000;
    while (this.run === run && !this.stopping && Date.now() < deadline) {
      if (await udpBound([this.ports.video, this.ports.audio])) {
        this.ready = true;
        this.requestKeyframe();
        this.o.log.info({ lesson: this.o.lessonId, room: this.roomName, run: this.runNo }, 'recording: ffmpeg listening');
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private onExit(run: FfmpegRun, code: number | null): void {
    if (this.run !== run) return;
    this.ready = false;
    this.collect();
    if (this.stopping || this.warning) return;
    const err = run.stderr();
    if (/No space left on device/i.test(err)) return this.diskFull('ffmpeg: no space left on device');
    this.restarts++;
    this.o.log.warn({ lesson: this.o.lessonId, room: this.roomName, code, stderr: err.slice(-500) }, 'recording: ffmpeg stopped, starting a new segment');
    if (this.relaunching) return;
    this.relaunching = true;
    // A short pause, doubled while runs keep dying young, so a crash loop cannot busy a core; the
    // span lost is this pause plus the segment that was in progress.
    this.quickFails = performance.now() - this.launchedAt < 10_000 ? this.quickFails + 1 : 0;
    const delay = Math.min(10_000, 300 * 2 ** this.quickFails);
    setTimeout(() => { this.relaunching = false; void this.launch(); }, delay);
  }

  video(layer: string, layers: string[], pkt: RtpPacket, keyframe: boolean, mime: string | undefined): void {
    if (!this.ready || mime !== 'video/vp8' || !this.ports) return;
    if (this.layer === undefined || !layers.includes(this.layer)) {
      if (!keyframe) return;
      this.layer = layer;
    }
    if (layer !== this.layer) return;
    if (this.waitingKey) {
      if (!keyframe) return;
      this.waitingKey = false;
      this.runStartedAt = this.o.clock.now();
      this.nextPliAt = performance.now() + this.segSec * 1000;
    }
    this.arrived();
    this.send(pkt, this.vRw, VIDEO_SSRC, 96, this.ports.video, `v${layer}:${pkt.header.ssrc}`);
  }

  audio(pkt: RtpPacket): void {
    if (!this.ready || this.waitingKey || !this.ports) return;
    this.arrived();
    this.send(pkt, this.aRw, AUDIO_SSRC, 111, this.ports.audio, `a:${pkt.header.ssrc}`);
  }

  private readonly keys = new Map<string, number>();

  /** Notes a stretch with no media (the segment muxer carries on across it, so segment times alone hide it). */
  private arrived(): void {
    const now = this.o.clock.now();
    if (this.lastMediaAt > 0 && now - this.lastMediaAt > GAP_MS) this.noteGap(this.lastMediaAt, now);
    this.lastMediaAt = now;
  }

  private noteGap(from: number, to: number): void {
    try {
      writeFileAtomic(join(this.o.dir, 'gaps.json'), JSON.stringify([...readArrivalGaps(this.o.dir), { from, to }]));
    } catch (e) {
      this.o.log.warn({ lesson: this.o.lessonId, room: this.roomName, err: (e as Error).message }, 'recording: could not note a gap');
    }
  }

  private send(pkt: RtpPacket, rw: RtpRewriter, ssrc: number, pt: number, port: number, key: string): void {
    let k = this.keys.get(key);
    if (k === undefined) this.keys.set(key, (k = this.keys.size + 1));
    const h = rw.rewrite(k, pkt.header.sequenceNumber, pkt.header.timestamp, Date.now());
    const old = { ...pkt.header };
    pkt.header.sequenceNumber = h.sequenceNumber;
    pkt.header.timestamp = h.timestamp;
    pkt.header.ssrc = ssrc;
    pkt.header.payloadType = pt;
    const ext = pkt.header.extensions;
    pkt.header.extensions = [];
    pkt.header.extension = false;
    const buf = pkt.serialize();
    Object.assign(pkt.header, old);
    pkt.header.extensions = ext;
    this.sock.send(buf, port, '127.0.0.1');
    this.lastSentAt = Date.now();
    if (port === this.ports?.audio) this.lastAudioBuf = buf;
  }

  /**
   * Moves every segment ffmpeg has finished (listed in any run's CSV) to its final name and stores
   * it. Idempotent and crash-safe: rename first, then INSERT OR IGNORE, both repeatable.
   */
  collect(): void {
    const dir = this.o.dir;
    if (!existsSync(dir)) return;
    let moved = false;
    for (const f of readdirSync(dir)) {
      const m = /^run-(\d{4})\.csv$/.exec(f);
      if (!m) continue;
      const run = Number(m[1]);
      const runStart = run === this.runNo ? this.runStartedAt : 0;
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const [name, start, end] = line.split(',');
        const pm = name ? PART.exec(name) : null;
        if (!pm || start === undefined || end === undefined) continue;
        const n = Number(pm[2]);
        const seg = segmentName(run, n);
        const part = join(dir, name!);
        if (existsSync(part)) {
          const fd = openSync(part, 'r+');
          fsyncSync(fd);
          closeSync(fd);
          renameSync(part, join(dir, seg));
          moved = true;
        }
        if (!existsSync(join(dir, seg))) continue;
        const durationMs = Math.round((Number(end) - Number(start)) * 1000);
        this.o.store.addSegment(this.o.lessonId, this.roomName, {
          idx: run * 100_000 + n, file: seg, bytes: statSync(join(dir, seg)).size,
          startedAt: runStart ? runStart + Math.round(Number(start) * 1000) : 0, durationMs,
        });
      }
    }
    if (moved) fsyncDir(dir);
  }

  private async diskOk(): Promise<boolean> {
    if (this.warning) return false;
    let free: number;
    try {
      const s = await statfs(this.o.dir);
      free = s.bavail * s.bsize;
    } catch {
      return true;
    }
    if (free >= this.minFree) return true;
    this.diskFull(`free space ${Math.round(free / 1e6)} MB < ${Math.round(this.minFree / 1e6)} MB`);
    return false;
  }

  /** Stops cleanly: ffmpeg finishes the segment in progress, so what was written plays. */
  private diskFull(detail: string): void {
    if (this.warning) return;
    this.warning = 'E_DISK_FULL';
    this.o.log.warn({ lesson: this.o.lessonId, room: this.roomName, code: 'E_DISK_FULL', detail }, 'recording stopped: the disk is full');
    this.o.store.setState(this.o.lessonId, this.roomName, 'stopped', `E_DISK_FULL: ${detail}`);
    void this.halt();
  }

  private async halt(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const run = this.run;
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.stop();
      // ffmpeg only notices SIGTERM when a packet wakes its reader: media keeps flowing until it has
      // exited, and when the source is silent the last audio packet is repeated (one 20 ms frame).
      const nudge = setInterval(() => {
        if (!this.lastAudio && this.lastAudioBuf) this.lastAudio = RtpPacket.deSerialize(this.lastAudioBuf);
        if (Date.now() - this.lastSentAt > 200 && this.lastAudio && this.ports) this.sock.send(this.nextAudio(), this.ports.audio, '127.0.0.1');
      }, 100);
      const killer = setTimeout(() => {
        void run.pid.then((p) => { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }, () => undefined);
        run.child.kill('SIGKILL');
      }, 10_000);
      await run.exited;
      clearTimeout(killer);
      clearInterval(nudge);
    }
    this.o.room.taps.delete(this);
    this.ready = false;
    this.collect();
    this.o.store.setPid(this.o.lessonId, this.roomName, null);
  }

  private nextAudio(): Buffer {
    const pkt = this.lastAudio!;
    pkt.header.sequenceNumber = (pkt.header.sequenceNumber + 1) & 0xffff;
    pkt.header.timestamp = (pkt.header.timestamp + 960) >>> 0;
    this.lastSentAt = Date.now();
    return pkt.serialize();
  }

  /** Stops recording (lesson over, or the box shutting down); finished segments are all stored. */
  async stop(): Promise<void> {
    this.stopping = true;
    const now = this.o.clock.now();
    // Nothing received until the lesson ended (a link still down): that tail is a gap too.
    if (this.lastMediaAt > 0 && now - this.lastMediaAt > GAP_MS) this.noteGap(this.lastMediaAt, now);
    await this.halt();
    await new Promise<void>((r) => this.sock.close(() => r()));
  }
}
