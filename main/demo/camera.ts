import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../core/log.js';
import type { Sfu } from '../../media/sfu.js';
import { RtpSource } from '../../media/rtp-source.js';

export interface DemoCamera {
  source: RtpSource;
  close(): Promise<void>;
}

/** ffmpeg arguments for a test pattern with a burnt-in wall clock and a tone, as VP8 + Opus RTP. */
function cameraArgs(ports: { video: number; audio: number }, o: { width: number; height: number; fps: number; kbps: number }): string[] {
  const clock = "drawtext=text='%{localtime\\:%T}':fontsize=" + Math.round(o.height / 8)
    + ':fontcolor=white:box=1:boxcolor=black@0.6:x=(w-tw)/2:y=h-th-20';
  return [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps},${clock}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', `${o.kbps}k`,
    '-g', String(o.fps), '-keyint_min', String(o.fps), '-auto-alt-ref', '0', '-error-resilient', '1',
    '-f', 'rtp', '-payload_type', '96', '-ssrc', '1111', '-pkt_size', '1200', `rtp://127.0.0.1:${ports.video}`,
    '-map', '1:a', '-c:a', 'libopus', '-b:a', '48k', '-application', 'lowdelay',
    '-f', 'rtp', '-payload_type', '111', '-ssrc', '2222', '-pkt_size', '1200', `rtp://127.0.0.1:${ports.audio}`,
  ];
}

/**
 * The demo hub's synthetic camera: ffmpeg's test pattern with a burnt-in clock, fed as RTP into a
 * lesson room, so a newcomer sees the whole live path on one machine without a webcam.
 */
export async function startDemoCamera(sfu: Sfu, room: string, log: Logger, o = { width: 640, height: 360, fps: 15, kbps: 600 }): Promise<DemoCamera> {
  const source = await RtpSource.open();
  // ffmpeg runs under a tiny shell that kills it when our end of its stdin closes — also when this
  // process is killed with -9 — so no orphaned encoder keeps a core busy.
  const guard = 'ffmpeg "$@" </dev/null & p=$!; trap "kill $p 2>/dev/null" EXIT; read _ ; exit 0';
  const ffmpeg: ChildProcess = spawn('sh', ['-c', guard, 'sh', ...cameraArgs(source.ports, o)], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
  ffmpeg.once('error', (e) => log.warn({ err: e.message }, 'demo camera: ffmpeg could not start'));
  let stopping = false;
  ffmpeg.once('exit', (code) => {
    if (!stopping) log.warn({ code, stderr }, 'demo camera: ffmpeg stopped');
  });
  sfu.setSource(room, source);
  return {
    source,
    async close() {
      if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) {
        stopping = true;
        ffmpeg.stdin?.end();
        await exited;
      }
      sfu.detachSource(room, source);
      await source.close();
    },
  };
}
