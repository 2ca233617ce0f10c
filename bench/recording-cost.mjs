// Recording cost: CPU ms per second of the recorder (the box's tap + its ffmpeg `-c copy` process)
// next to the relay alone (the box ingesting the same 640x360 VP8 + Opus RTP into a room, no
// recorder), both measured in the same run, one phase after the other, on the same live feed.
// Runs against dist/: `npm run build && node bench/recording-cost.mjs` (BENCH_SECONDS=N per phase, default 15).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const dist = (p) => join(ROOT, 'dist', p);
const { Sfu, defaultSfuOptions } = await import(dist('media/sfu.js'));
const { RtpSource } = await import(dist('media/rtp-source.js'));
const { defaultIce } = await import(dist('media/peer-config.js'));
const { silentLogger } = await import(dist('core/log.js'));
const { cameraArgs } = await import(dist('main/demo/camera.js'));
const { openDatabase, migrate } = await import(dist('core/store/database.js'));
const { RecordingStore } = await import(dist('media/recorder-store.js'));
const { RoomRecorder } = await import(dist('media/recorder.js'));
const { systemClock } = await import(dist('core/clock.js'));

const TICK = 100; // USER_HZ on Linux
const procCpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
};
const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'bench-rec-'));
const log = silentLogger();
const sfu = new Sfu({ ...defaultSfuOptions, log, ice: defaultIce });
const src = await RtpSource.open();
sfu.setSource('bench', src);
const cam = spawn('ffmpeg', cameraArgs(src.ports, { width: 640, height: 360, fps: 15, kbps: 600 }), { stdio: 'ignore' });
try {
  await sleep(3000);
  let n0 = nodeCpuMs();
  let t0 = performance.now();
  await sleep(SECONDS * 1000);
  const relayMsPerS = (nodeCpuMs() - n0) / ((performance.now() - t0) / 1000);

  const db = openDatabase(join(dir, 'box.sqlite'), log);
  migrate(db, log);
  mkdirSync(join(dir, 'rec'));
  const rec = new RoomRecorder({ room: sfu.room('bench'), lessonId: 'Lbench', dir: join(dir, 'rec'), store: new RecordingStore(db, systemClock), clock: systemClock, log, minFreeBytes: 0 });
  await rec.start();
  const pid = await rec.ffmpegPid;
  await sleep(3000);
  n0 = nodeCpuMs();
  const f0 = procCpuMs(pid);
  t0 = performance.now();
  await sleep(SECONDS * 1000);
  const secs = (performance.now() - t0) / 1000;
  const withRecMsPerS = (nodeCpuMs() - n0) / secs;
  const ffmpegMsPerS = (procCpuMs(pid) - f0) / secs;
  await rec.stop();
  db.close();
  const recorderMsPerS = withRecMsPerS - relayMsPerS + ffmpegMsPerS;
  const result = {
    at: new Date().toISOString(), seconds: SECONDS, feed: '640x360 15 fps VP8 600 kbit/s + Opus 48 kbit/s',
    relayAloneCpuMsPerS: +relayMsPerS.toFixed(1), boxWithRecorderCpuMsPerS: +withRecMsPerS.toFixed(1),
    recorderFfmpegCpuMsPerS: +ffmpegMsPerS.toFixed(1), recorderTotalCpuMsPerS: +recorderMsPerS.toFixed(1),
    recorderVsRelay: +(recorderMsPerS / relayMsPerS).toFixed(2), recorderShareOfOneCorePct: +(recorderMsPerS / 10).toFixed(2),
  };
  console.log(JSON.stringify(result));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'recording-cost.json'), JSON.stringify(result, null, 2));
} finally {
  cam.kill('SIGTERM');
  await src.close();
  await sfu.close();
  rmSync(dir, { recursive: true, force: true });
}
