// PTZ over VISCA-over-IP on loopback: time for a preset command to be confirmed (ACK + completion)
// by a minimal camera responder, with no loss and with lost replies, against a bare UDP echo round
// trip measured in the same run (the floor any UDP protocol pays here).
// Runs against dist/: `npm run bench` (builds first) or `npm run build && node bench/hardware-ptz.mjs`.
// BENCH_RUNS=N sets commands per scenario (default 200).
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist', 'hardware', 'visca.js');
const RESULTS = join(ROOT, 'bench', 'results', 'hardware-ptz.json');
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
if (!existsSync(DIST)) {
  console.error(`${DIST} is missing: run \`npm run bench\` (it builds first) or \`npm run build\`.`);
  process.exit(1);
}
if (!Number.isInteger(RUNS) || RUNS < 10) {
  console.error(`BENCH_RUNS: got "${process.env.BENCH_RUNS}", expected a whole number ≥ 10`);
  process.exit(1);
}
const { ViscaIpClient } = await import(DIST);

/** A camera that answers every command with ACK + completion; `lossPercent` of reply datagrams vanish. */
async function camera(lossPercent) {
  const sock = createSocket('udp4');
  let last = null;
  sock.on('message', (msg, r) => {
    const type = msg.readUInt16BE(0);
    const seq = msg.readUInt32BE(4);
    const reply = (t, payload) => {
      if (Math.random() * 100 < lossPercent) return;
      const h = Buffer.alloc(8);
      h.writeUInt16BE(t, 0);
      h.writeUInt16BE(payload.length, 2);
      h.writeUInt32BE(seq, 4);
      sock.send(Buffer.concat([h, Buffer.from(payload)]), r.port, r.address);
    };
    if (type === 0x0200) return reply(0x0201, [0x01]);
    last = seq;
    reply(0x0111, [0x90, 0x41, 0xff]);
    reply(0x0111, [0x90, 0x51, 0xff]);
  });
  await new Promise((res) => sock.bind(0, '127.0.0.1', res));
  return { port: sock.address().port, close: () => sock.close(), get last() { return last; } };
}

async function echoBaseline() {
  const server = createSocket('udp4');
  server.on('message', (m, r) => server.send(m, r.port, r.address));
  await new Promise((res) => server.bind(0, '127.0.0.1', res));
  const client = createSocket('udp4');
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((res) => {
      client.once('message', res);
      client.send(Buffer.from([1, 2, 3, 4]), server.address().port, '127.0.0.1');
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  client.close();
  server.close();
  return times;
}

async function scenario(lossPercent) {
  const cam = await camera(lossPercent);
  const client = new ViscaIpClient({ host: '127.0.0.1', port: cam.port, replyTimeoutMs: 100, attempts: 8, completionPollMs: 200 });
  const times = [];
  let failures = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    try {
      await client.recallPreset(i % 3);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } catch {
      failures++;
    }
  }
  const stats = { ...client.stats };
  client.close();
  cam.close();
  return { times, failures, stats };
}

const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const base = await echoBaseline();
const baseMedian = pct(base, 50);
const rows = [{ scenario: 'UDP echo (baseline)', median: baseMedian, p95: pct(base, 95), failures: 0, resent: 0, ignored: 0 }];
for (const loss of [0, 10, 30]) {
  const r = await scenario(loss);
  rows.push({ scenario: `VISCA preset, ${loss}% replies lost`, median: pct(r.times, 50), p95: pct(r.times, 95), failures: r.failures, resent: r.stats.resent, ignored: r.stats.ignoredReplies });
}
console.log(`VISCA over IP preset confirmation on loopback, ${RUNS} commands per row (resend after 100 ms, 8 tries; completion asked again every 200 ms)`);
console.log('scenario                              median ms   p95 ms   ×baseline(median)  failed  resent  ignored');
for (const r of rows) {
  console.log(`${r.scenario.padEnd(38)}${r.median.toFixed(3).padStart(9)}${r.p95.toFixed(3).padStart(9)}${(r.median / baseMedian).toFixed(1).padStart(19)}${String(r.failures).padStart(8)}${String(r.resent).padStart(8)}${String(r.ignored).padStart(9)}`);
}
mkdirSync(dirname(RESULTS), { recursive: true });
writeFileSync(RESULTS, JSON.stringify({ at: new Date().toISOString(), runs: RUNS, rows }, null, 2));
console.log(`\nwritten ${RESULTS}`);
