import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface RecorderPorts { video: number; audio: number }

/** The SDP ffmpeg reads to receive the recorder's RTP (fixed payload types, see recorder.ts). */
export function recorderSdp(p: RecorderPorts): string {
  return [
    'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=lesson recording', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=video ${p.video} RTP/AVP 96`, 'a=rtpmap:96 VP8/90000',
    `m=audio ${p.audio} RTP/AVP 111`, 'a=rtpmap:111 opus/48000/2', '',
  ].join('\n');
}

async function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Two even loopback ports whose RTCP neighbours (port + 1, where ffmpeg also binds) are free too. */
export async function pickPorts(): Promise<RecorderPorts> {
  const out: number[] = [];
  for (let tries = 0; out.length < 2 && tries < 200; tries++) {
    const p = 20_000 + 2 * Math.floor(Math.random() * 20_000);
    if (out.includes(p)) continue;
    if ((await canBind(p)) && (await canBind(p + 1))) out.push(p);
  }
  if (out.length < 2) throw new Error('no free UDP port pair on loopback');
  return { video: out[0]!, audio: out[1]! };
}

/** Whether some socket is bound to these local UDP ports (ffmpeg has read the SDP and listens). */
export async function udpBound(ports: number[]): Promise<boolean> {
  const table = await readFile('/proc/net/udp', 'utf8');
  return ports.every((p) => table.includes(`:${p.toString(16).toUpperCase().padStart(4, '0')} `));
}

export function segmentArgs(o: { sdp: string; segmentSeconds: number; list: string; pattern: string }): string[] {
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostdin',
    // ffmpeg binds a unicast SDP's RTP/RTCP ports on every interface unless told where: anyone on the LAN could
    // then inject RTP into the recording. Loopback only (the recorder sends from this box).
    '-protocol_whitelist', 'file,udp,rtp', '-localaddr', '127.0.0.1', '-reorder_queue_size', '500', '-i', o.sdp,
    '-map', '0', '-c', 'copy',
    '-f', 'segment', '-segment_time', String(o.segmentSeconds), '-segment_format', 'matroska', '-reset_timestamps', '1',
    '-segment_list', o.list, '-segment_list_type', 'csv', o.pattern,
  ];
}

export interface FfmpegRun {
  child: ChildProcess;
  /** ffmpeg's own pid (the shell around it is `child`). */
  pid: Promise<number>;
  exited: Promise<number | null>;
  stderr(): string;
  /** Asks ffmpeg to finish the segment in progress and exit. */
  stop(): void;
}

/**
 * ffmpeg under a small shell that sends it SIGTERM (finish the segment, then exit; SIGINT would be
 * ignored by a background job of a non-interactive shell) when our end of its stdin closes — also
 * when the box itself is killed with -9 — so no orphan keeps writing. Its stderr goes to a file, not
 * to us, so an orphan is not killed by SIGPIPE before it has finished its segment. The shell exits
 * with ffmpeg, so a killed ffmpeg is noticed at once.
 */
export function spawnFfmpeg(args: string[], logFile: string, ffmpegPath = 'ffmpeg'): FfmpegRun {
  // fd 3: a background job's own stdin is /dev/null in a non-interactive shell.
  const guard = 'exec 3<&0; "$0" "$@" </dev/null 2>>"$REC_LOG" & p=$!; echo "$p"; (read _ <&3; kill -TERM "$p" 2>/dev/null) & wait "$p"';
  const child = spawn('sh', ['-c', guard, ffmpegPath, ...args], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, REC_LOG: logFile } });
  const err = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const pid = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const n = Number.parseInt(out, 10);
      if (out.includes('\n') && Number.isInteger(n)) resolve(n);
    });
    child.once('exit', () => reject(new Error(`ffmpeg did not start: ${err()}`)));
  });
  pid.catch(() => undefined);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.once('error', () => undefined);
  let ffPid: number | undefined;
  void pid.then((n) => (ffPid = n), () => undefined);
  // Exactly one SIGTERM: a second signal makes ffmpeg abort the trailer ("Immediate exit requested").
  let signalled = false;
  const stop = (): void => {
    if (signalled || child.exitCode !== null || child.signalCode !== null) return;
    signalled = true;
    if (ffPid === undefined) return void child.stdin?.end();
    try {
      process.kill(ffPid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  void exited.then(() => child.stdin?.end());
  return { child, pid, exited, stderr: err, stop };
}
