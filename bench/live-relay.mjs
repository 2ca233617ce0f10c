// Relay cost of the SFU: CPU ms per second of the relay process forwarding one 720p VP8 stream
// (~1.5 Mbit/s, captured once from ffmpeg and replayed identically) to 1, 4 and 8 WebRTC
// subscribers, next to a plain-UDP forwarder (copy + header rewrite per destination) fed the very
// same packets in the same run. Relay and baseline each run in their own child process.
// Runs against dist/: `npm run build && node bench/live-relay.mjs` (BENCH_SECONDS=N per phase, default 10).
// BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the relay process there (node --cpu-prof).
import { fork, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(ROOT, 'bench', 'results', 'live-relay.json');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const COUNTS = [1, 4, 8];
const dist = (p) => join(ROOT, 'dist', p);

// ---- child processes -------------------------------------------------------------------------
if (process.argv[2] === '--relay') {
  const { Sfu, defaultSfuOptions } = await import(dist('media/sfu.js'));
  const { RtpSource } = await import(dist('media/rtp-source.js'));
  const { defaultIce } = await import(dist('media/peer-config.js'));
  const { silentLogger } = await import(dist('core/log.js'));
  const sfu = new Sfu({ ...defaultSfuOptions, log: silentLogger(), ice: defaultIce });
  const src = await RtpSource.open();
  sfu.setSource('bench', src);
  process.on('message', async (m) => {
    if (m.t === 'port') process.send({ t: 'port', port: src.ports.video });
    else if (m.t === 'cpu') process.send({ t: 'cpu', cpu: process.cpuUsage() });
    else if (m.t === 'offer') {
      const { session, answer } = await sfu.subscribe('bench', m.sdp, 'bench');
      process.send({ t: 'answer', id: session.id, sdp: answer });
    } else if (m.t === 'end') {
      for (const id of m.ids) await sfu.end(id);
      process.send({ t: 'ended' });
    } else if (m.t === 'exit') {
      await sfu.close();
      await src.close();
      process.exit(0);
    }
  });
  process.send({ t: 'ready' });
} else if (process.argv[2] === '--baseline') {
  const sock = createSocket('udp4');
  let dests = [];
  let seqs = [];
  sock.on('message', (buf) => {
    for (let i = 0; i < dests.length; i++) {
      const copy = Buffer.from(buf);
      copy.writeUInt32BE(0x10000000 + i, 8); // a new SSRC per destination
      seqs[i] = (seqs[i] + 1) & 0xffff;
      copy.writeUInt16BE(seqs[i], 2);
      sock.send(copy, dests[i], '127.0.0.1');
    }
  });
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  process.on('message', (m) => {
    if (m.t === 'port') process.send({ t: 'port', port: sock.address().port });
    else if (m.t === 'cpu') process.send({ t: 'cpu', cpu: process.cpuUsage() });
    else if (m.t === 'dests') {
      dests = m.ports;
      seqs = m.ports.map(() => 0);
      process.send({ t: 'dests' });
    } else if (m.t === 'exit') process.exit(0);
  });
  process.send({ t: 'ready' });
} else {
  await main();
}

// ---- the run ---------------------------------------------------------------------------------
function child(mode) {
  const prof = process.env.BENCH_CPU_PROF && mode === '--relay' ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const c = fork(SELF, [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...prof] });
  const waiters = [];
  const early = [];
  c.on('message', (m) => {
    const i = waiters.findIndex((w) => w.t === m.t);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    else early.push(m);
  });
  c.on('exit', (code) => {
    if (code) {
      console.error(`${mode} child exited with ${code}`);
      process.exit(1);
    }
  });
  const ask = (msg, reply) => new Promise((resolve) => {
    const i = early.findIndex((m) => m.t === reply);
    if (i >= 0) return resolve(early.splice(i, 1)[0]);
    waiters.push({ t: reply, resolve });
    if (msg) c.send(msg);
  });
  return { c, ask };
}

async function capture(seconds) {
  // Encode offline first (the machine may not encode 720p30 in real time), then packetise in real time.
  const ivf = join(tmpdir(), `live-relay-${process.pid}.ivf`);
  const run = (args) => new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    ff.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))));
  });
  await run(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30,noise=alls=5:allf=t', '-t', String(seconds),
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1000k', '-minrate', '1000k', '-maxrate', '1000k', '-qmin', '4', '-qmax', '56',
    '-g', '60', '-keyint_min', '60', '-auto-alt-ref', '0', ivf]);
  const sock = createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const packets = [];
  const t0 = performance.now();
  sock.on('message', (buf) => packets.push({ at: performance.now() - t0, buf }));
  try {
    await run(['-re', '-i', ivf, '-c', 'copy', '-f', 'rtp', '-payload_type', '96', '-pkt_size', '1200', `rtp://127.0.0.1:${sock.address().port}`]);
  } finally {
    sock.close();
    rmSync(ivf, { force: true });
  }
  const start = packets[0]?.at ?? 0;
  return packets.map((p) => ({ at: p.at - start, buf: p.buf }));
}

async function main() {
  if (!existsSync(dist('media/sfu.js'))) {
    console.error('dist/ is missing: run `npm run build` first (or `npm run bench`).');
    process.exit(1);
  }
  const { RTCPeerConnection } = await import('werift');
  const { peerConfig, defaultIce, gatheringComplete } = await import(dist('media/peer-config.js'));
  console.log('capturing 12 s of 720p VP8 from ffmpeg…');
  const packets = await capture(12);
  const duration = packets.at(-1).at;
  const bytes = packets.reduce((n, p) => n + p.buf.length, 0);
  const inKbps = (bytes * 8) / duration;
  console.log(`captured ${packets.length} packets, ${(inKbps / 1000).toFixed(2)} Mbit/s, ${(packets.length / (duration / 1000)).toFixed(0)} packets/s`);

  const relay = child('--relay');
  const base = child('--baseline');
  await relay.ask(null, 'ready');
  await base.ask(null, 'ready');
  const relayPort = (await relay.ask({ t: 'port' }, 'port')).port;
  const basePort = (await base.ask({ t: 'port' }, 'port')).port;

  // Replays the capture in a loop to both, packet for packet at the captured timing.
  const out = createSocket('udp4');
  let stop = false;
  const replay = (async () => {
    while (!stop) {
      const t0 = performance.now();
      for (const p of packets) {
        if (stop) break;
        const wait = p.at - (performance.now() - t0);
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        out.send(p.buf, relayPort, '127.0.0.1');
        out.send(p.buf, basePort, '127.0.0.1');
      }
    }
  })();

  const sinks = [];
  const rows = [];
  let subs = [];
  const measure = async () => {
    await new Promise((r) => setTimeout(r, 3000)); // warm up: keyframe, ICE, JIT
    const r0 = (await relay.ask({ t: 'cpu' }, 'cpu')).cpu;
    const b0 = (await base.ask({ t: 'cpu' }, 'cpu')).cpu;
    const rx0 = subs.reduce((n, s) => n + s.rx, 0);
    const sx0 = sinks.reduce((n, s) => n + s.rx, 0);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const r1 = (await relay.ask({ t: 'cpu' }, 'cpu')).cpu;
    const b1 = (await base.ask({ t: 'cpu' }, 'cpu')).cpu;
    const secs = (performance.now() - t0) / 1000;
    const ms = (a, b) => ((b.user - a.user) + (b.system - a.system)) / 1000 / secs;
    return { relayMsPerS: ms(r0, r1), baseMsPerS: ms(b0, b1), relayRxPps: (subs.reduce((n, s) => n + s.rx, 0) - rx0) / secs, baseRxPps: (sinks.reduce((n, s) => n + s.rx, 0) - sx0) / secs };
  };

  const idle = await measure();
  rows.push({ subscribers: 0, ...idle });
  for (const n of COUNTS) {
    while (subs.length < n) {
      const pc = new RTCPeerConnection(peerConfig(defaultIce, 'video/vp8'));
      const t = pc.addTransceiver('video', { direction: 'recvonly' });
      const s = { pc, rx: 0, id: '' };
      t.onTrack.subscribe((tr) => tr.onReceiveRtp.subscribe(() => s.rx++));
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc);
      const ans = await relay.ask({ t: 'offer', sdp: pc.localDescription.sdp }, 'answer');
      s.id = ans.id;
      await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
      subs.push(s);
      const sink = createSocket('udp4');
      const so = { sock: sink, rx: 0 };
      sink.on('message', () => so.rx++);
      await new Promise((r) => sink.bind(0, '127.0.0.1', r));
      sinks.push(so);
    }
    await base.ask({ t: 'dests', ports: sinks.map((s) => s.sock.address().port) }, 'dests');
    const m = await measure();
    rows.push({ subscribers: n, ...m });
    console.log(`  ${n} subscriber(s) measured`);
  }
  stop = true;
  await replay;
  await relay.ask({ t: 'end', ids: subs.map((s) => s.id) }, 'ended');
  for (const s of subs) await s.pc.close();
  for (const s of sinks) s.sock.close();
  out.close();
  relay.c.send({ t: 'exit' });
  base.c.send({ t: 'exit' });

  const r0 = rows[0];
  const table = rows.map((r) => {
    const addedRelay = r.relayMsPerS - r0.relayMsPerS;
    const addedBase = r.baseMsPerS - r0.baseMsPerS;
    return {
      subscribers: r.subscribers,
      relayCpuMsPerS: +r.relayMsPerS.toFixed(1),
      relayPerStreamMsPerS: r.subscribers ? +(addedRelay / r.subscribers).toFixed(1) : null,
      udpCpuMsPerS: +r.baseMsPerS.toFixed(1),
      udpPerStreamMsPerS: r.subscribers ? +(addedBase / r.subscribers).toFixed(1) : null,
      ratioTotal: r.baseMsPerS > 0 ? +(r.relayMsPerS / r.baseMsPerS).toFixed(1) : null,
      ratioPerStream: r.subscribers && addedBase > 0 ? +(addedRelay / addedBase).toFixed(1) : null,
      relayDeliveredPps: Math.round(r.relayRxPps),
      udpDeliveredPps: Math.round(r.baseRxPps),
    };
  });
  console.log(`\nRelay cost, one ${(inKbps / 1000).toFixed(2)} Mbit/s 720p VP8 stream in (CPU ms per second of the forwarding process; 0 subscribers = receive only):`);
  console.table(table);
  console.log('ratioPerStream = added relay CPU per subscriber ÷ added plain-UDP CPU per destination (goal ≤ 2).');
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify({ at: new Date().toISOString(), inputMbps: inKbps / 1000, packetsPerSecond: packets.length / (duration / 1000), seconds: SECONDS, rows: table }, null, 2));
  console.log(`written ${RESULTS}`);
}
