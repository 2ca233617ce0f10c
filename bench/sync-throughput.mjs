// Sync throughput over a shaped link: a seed daemon in one network namespace, a box (hub role) daemon in another,
// joined by a veth pair shaped with `tc tbf` at each end (a symmetric link; no netem: the kernel has none). The box
// syncs the seed's catalogue (one big item and a few small ones) over BitTorrent; the bench reports
//   goodput = catalogue bytes / (first byte from the seed → last item verified and listed in the box's library),
//   wire    = bytes the seed's end of the link sent (veth tx counter) over the same interval,
// both as % of the tbf rate (goal: goodput ≥ 85 %). The baseline of the same run, over the same shaped link, is a
// plain HTTP download (curl) of the big item from the seed's web-seed path: what a plain transfer gets.
// Each namespace also has an unshaped management veth to the bench's namespace, so polling the daemons' APIs never
// competes with the measured traffic. Needs root (ip netns, tc). Runs against dist/:
//   npm run build && node bench/sync-throughput.mjs
// Env: SYNC_RATES_MBIT=8,40  SYNC_BIG_MIB=64  SYNC_SMALL=8x2 (count × MiB)  BENCH_RUNS=1 (rounds per rate)
//      TBF_LATENCY_MS=80  TBF_BURST_BYTES (default max(10 ms of the rate, 32 × 1514))
//      SYNC_TRACE=1 prints the wire rate per sample; BENCH_DAEMON_LOGS=<dir> keeps each daemon's stderr there.
// The JSON keeps each round's timeline (wire % per ~0.2 s sample), the box's bandwidth plan and its tbf drop count.
// TCP/IP headers alone cap goodput at 1448/1514 = 95.6 % of a tbf rate (tbf counts whole Ethernet frames).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchSite, publishFolder, ROOT, sleep, systemClock } from './lib/box-daemons.mjs';
const MiB = 1024 * 1024;

function envList(name, def) {
  const v = (process.env[name] ?? def).split(',').map((s) => Number(s.trim()));
  if (!v.length || v.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`${name}: expected a comma-separated list of positive numbers, got "${process.env[name]}"`);
  return v;
}
function envNum(name, def) {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: expected a positive number, got "${process.env[name]}"`);
  return v;
}
const RATES = envList('SYNC_RATES_MBIT', '8,40');
const BIG_MIB = envNum('SYNC_BIG_MIB', 64);
const smallSpec = /^(\d+)x(\d+(?:\.\d+)?)$/.exec(process.env.SYNC_SMALL ?? '8x2');
if (!smallSpec) throw new Error(`SYNC_SMALL: expected COUNTxMIB (e.g. 8x2, or 0x1 for none), got "${process.env.SYNC_SMALL}"`);
const SMALL_COUNT = Number(smallSpec[1]);
const SMALL_MIB = Number(smallSpec[2]);
const RUNS = envNum('BENCH_RUNS', 1);
const LATENCY_MS = envNum('TBF_LATENCY_MS', 80);
if (process.getuid?.() !== 0) throw new Error('sync-throughput needs root (network namespaces and tc).');

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const runAsync = promisify(execFile);

// ---------- namespaces: seed ⇄ box over the shaped WAN veth; each ⇄ the bench over an unshaped management veth ----------
const id = randomBytes(3).toString('hex');
const nsSeed = `tpb-bts-${id}`;
const nsBox = `tpb-btb-${id}`;
const wanSeed = `tpbtws${id}`;
const wanBox = `tpbtwb${id}`;
const mgmt = { seed: { host: `tpbtms${id}`, ns: `tpbtns${id}` }, box: { host: `tpbtmb${id}`, ns: `tpbtnb${id}` } };
// A /28 in 10.128.0.0/9 chosen at random: unlikely to meet another helper's namespace.
const a = 128 + (parseInt(id.slice(0, 2), 16) % 128);
const b = parseInt(id.slice(2, 4), 16);
const c = (parseInt(id.slice(4, 6), 16) % 16) * 16;
const addr = (n) => `10.${a}.${b}.${c + n}`;
const seedIp = addr(1);
const boxIp = addr(2);

const { scratch, publisher, daemon, cleanup } = benchSite('bench-sync-tput-', () => {
  for (const dev of [mgmt.seed.host, mgmt.box.host]) { try { run('ip', ['link', 'del', dev]); } catch { /* gone with its namespace */ } }
  for (const ns of [nsSeed, nsBox]) { try { run('ip', ['netns', 'del', ns]); } catch { /* never made */ } }
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

run('ip', ['netns', 'add', nsSeed]);
run('ip', ['netns', 'add', nsBox]);
run('ip', ['link', 'add', wanSeed, 'type', 'veth', 'peer', 'name', wanBox]);
run('ip', ['link', 'set', wanSeed, 'netns', nsSeed]);
run('ip', ['link', 'set', wanBox, 'netns', nsBox]);
run('ip', ['-n', nsSeed, 'addr', 'add', `${seedIp}/30`, 'dev', wanSeed]);
run('ip', ['-n', nsBox, 'addr', 'add', `${boxIp}/30`, 'dev', wanBox]);
for (const [ns, m, hostN, nsN, wanIp] of [[nsSeed, mgmt.seed, 5, 6, seedIp], [nsBox, mgmt.box, 9, 10, boxIp]]) {
  run('ip', ['link', 'add', m.host, 'type', 'veth', 'peer', 'name', m.ns]);
  run('ip', ['link', 'set', m.ns, 'netns', ns]);
  run('ip', ['addr', 'add', `${addr(hostN)}/30`, 'dev', m.host]);
  run('ip', ['link', 'set', m.host, 'up']);
  run('ip', ['-n', ns, 'addr', 'add', `${addr(nsN)}/30`, 'dev', m.ns]);
  run('ip', ['-n', ns, 'link', 'set', m.ns, 'up']);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // The bench reaches each daemon at its WAN address through the management link (the daemon listens there only).
  run('ip', ['route', 'add', `${wanIp}/32`, 'via', addr(nsN), 'dev', m.host]);
}
run('ip', ['-n', nsSeed, 'link', 'set', wanSeed, 'up']);
run('ip', ['-n', nsBox, 'link', 'set', wanBox, 'up']);

function shape(mbit) {
  const rateBps = (mbit * 1e6) / 8;
  // A fair link: burst at least one kernel tick at any HZ ≥ 100 (rate/HZ) and a few dozen full frames; a queue of ~80 ms.
  const burst = Math.round(Number(process.env.TBF_BURST_BYTES ?? Math.max(rateBps / 100, 32 * 1514)));
  for (const [ns, dev] of [[nsSeed, wanSeed], [nsBox, wanBox]]) {
    run('tc', ['-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', `${LATENCY_MS}ms`]);
  }
  return { burst };
}
async function txBytes() {
  const { stdout } = await runAsync('ip', ['-n', nsSeed, '-j', '-s', 'link', 'show', 'dev', wanSeed]);
  return JSON.parse(stdout)[0].stats64.tx.bytes;
}
function qdiscStats() {
  const q = JSON.parse(run('tc', ['-n', nsSeed, '-s', '-j', 'qdisc', 'show', 'dev', wanSeed]))[0];
  return { bytes: q.bytes, packets: q.packets, drops: q.drops, overlimits: q.overlimits };
}

// ---------- content and daemons ----------
const getJson = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
};

const content = join(scratch, 'content');
mkdirSync(content, { recursive: true });
function randomFile(path, bytes) {
  const fd = openSync(path, 'w');
  for (let left = bytes; left > 0; left -= MiB) writeSync(fd, randomBytes(Math.min(MiB, left)));
  closeSync(fd);
}
// Sizes not multiples of the 256 KiB piece: last pieces are short, as in real catalogues.
const specs = [{ id: 'big', bytes: Math.round(BIG_MIB * MiB) - 4321 }, ...Array.from({ length: SMALL_COUNT }, (_, i) => ({ id: `small-${i}`, bytes: Math.round(SMALL_MIB * MiB) - 1000 * (i + 1) }))];
for (const s of specs) randomFile(join(content, `${s.id}.bin`), s.bytes);
const catalogueBytes = specs.reduce((n, s) => n + s.bytes, 0);

const seed = await daemon('seed', 'seed', { wrap: ['ip', 'netns', 'exec', nsSeed], host: seedIp, port: 8400 });
const { items } = await publishFolder({
  folder: content, key: publisher, outDir: join(seed.dataDir, 'sync'), clock: systemClock,
  meta: { publisher: 'bench', items: specs.map((s, i) => ({ id: s.id, title: `微课 ${i + 1}`, subject: '数学', grade: 3, edition: '人教版', unit: '第一单元', kind: 'exercise-set', tags: [], file: `${s.id}.bin` })) },
});
const expected = new Map(items.map((it) => [it.id, it.sha256]));
const bigInfohash = items.find((it) => it.id === 'big').infohash;
rmSync(content, { recursive: true, force: true });
await seed.start();
for (let end = Date.now() + 60_000; ;) {
  if ((await getJson(`${seed.url}/api/catalog/status`)).seeding === specs.length) break;
  if (Date.now() > end) throw new Error('the seed did not seed its catalogue within 60 s');
  await sleep(250);
}

// ---------- one round: plain HTTP baseline, then a fresh box syncs the catalogue ----------
async function httpBaseline(mbit) {
  const tx0 = await txBytes();
  const { stdout } = await runAsync('ip', ['netns', 'exec', nsBox, 'curl', '-sS', '-o', '/dev/null', '-w', '%{size_download} %{time_starttransfer} %{time_total}', `${seed.url}/catalog/files/${bigInfohash}`], { timeout: 30 * 60_000 });
  const tx1 = await txBytes();
  const [size, tStart, tTotal] = stdout.trim().split(' ').map(Number);
  const rateBps = (mbit * 1e6) / 8;
  return { bytes: size, seconds: tTotal - tStart, goodputPct: (100 * size) / (tTotal - tStart) / rateBps, wirePct: (100 * (tx1 - tx0)) / tTotal / rateBps };
}

let boxN = 0;
async function syncRound(mbit) {
  const rateBps = (mbit * 1e6) / 8;
  const port = 8500 + boxN;
  const box = await daemon(`box-${boxN++}`, 'hub', { wrap: ['ip', 'netns', 'exec', nsBox], host: boxIp, port, prefs: { sources: [seed.url], reserveBytes: 0, manifestIntervalMs: 1000 } });
  const q0 = qdiscStats();
  await box.start();
  const samples = [];
  const started = Date.now();
  const deadline = started + 120_000 + (3 * catalogueBytes) / rateBps * 1000;
  let status;
  for (;;) {
    const [tx, st, lib] = await Promise.all([txBytes(), getJson(`${box.url}/api/catalog/status`).catch(() => undefined), getJson(`${box.url}/api/library?limit=500`).catch(() => undefined)]);
    const t = performance.now() / 1000;
    if (st) status = st;
    const done = lib ? lib.items.filter((it) => expected.get(it.id) === it.sha256).length : samples.at(-1)?.done ?? 0;
    samples.push({ t, tx, down: st?.bytesDownloadedThisRun ?? samples.at(-1)?.down ?? 0, done });
    if (done === specs.length) break;
    if (Date.now() > deadline) throw new Error(`the box held ${done}/${specs.length} items after ${Math.round((Date.now() - started) / 1000)} s`);
    await sleep(150);
  }
  const q1 = qdiscStats();
  await box.stop();
  // The next round's box is a newcomer: give the seed's super-seeder time to see that no connected box holds the
  // pieces this one took (sync/origin-choker.ts, rejoinMs 15 s), as when a box syncs long after another left.
  await sleep(16_000);
  // Interval ends at midpoints between the samples around the first byte and around the last item listed.
  const iFirst = samples.findIndex((s) => s.down > 0);
  const iDone = samples.length - 1;
  const iLast = samples.findIndex((s) => s.down >= catalogueBytes);
  const mid = (i) => (i > 0 ? (samples[i - 1].t + samples[i].t) / 2 : samples[i].t);
  const txAt = (i) => (i > 0 ? (samples[i - 1].tx + samples[i].tx) / 2 : samples[i].tx);
  const t0 = mid(iFirst);
  const t1 = mid(iDone);
  const seconds = t1 - t0;
  // Where the time went: stretches of the interval in which the link carried under half its rate.
  let slowS = 0;
  for (let i = iFirst + 1; i <= iDone; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    if ((samples[i].tx - samples[i - 1].tx) / dt < rateBps / 2) slowS += dt;
  }
  return {
    seconds, goodputPct: (100 * catalogueBytes) / seconds / rateBps, wirePct: (100 * (txAt(iDone) - txAt(iFirst))) / seconds / rateBps,
    lastByteToListedS: iLast >= 0 ? t1 - mid(iLast) : null, underHalfRateS: slowS,
    // The box's bandwidth plan (sync/bandwidth.ts): 'open' with -1 limits means nothing throttled the download.
    plan: status.plan,
    fromPeers: status.bytesFromPeersThisRun, fromWebSeeds: status.bytesFromWebSeedsThisRun, downloaded: status.bytesDownloadedThisRun,
    tbf: { bytes: q1.bytes - q0.bytes, drops: q1.drops - q0.drops, overlimits: q1.overlimits - q0.overlimits },
    // Wire rate per sample (% of the link) from the first byte on: shows stalls and ramps.
    timeline: samples.slice(Math.max(0, iFirst - 1)).map((s) => ({ t: +(s.t - t0).toFixed(3), txPct: 0, down: s.down, done: s.done, tx: s.tx }))
      .map((s, i, arr) => ({ ...s, txPct: i ? Math.round((100 * (s.tx - arr[i - 1].tx)) / (s.t - arr[i - 1].t) / rateBps) : 0 })),
  };
}

const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const f1 = (x) => x.toFixed(1);

const results = [];
console.log(`catalogue: ${specs.length} items, ${f1(catalogueBytes / MiB)} MiB (one ${BIG_MIB} MiB + ${SMALL_COUNT} × ${SMALL_MIB} MiB); 256 KiB pieces; tbf latency ${LATENCY_MS} ms; ${RUNS} round(s) per rate; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const mbit of RATES) {
  const { burst } = shape(mbit);
  const rounds = [];
  for (let r = 0; r < RUNS; r++) {
    const http = await httpBaseline(mbit);
    const sync = await syncRound(mbit);
    rounds.push({ http, sync });
    console.log(`  ${mbit} Mbit/s round ${r + 1}: sync ${f1(sync.goodputPct)} % goodput / ${f1(sync.wirePct)} % wire in ${f1(sync.seconds)} s `
      + `(peers ${f1(sync.fromPeers / MiB)} MiB, web seeds ${f1(sync.fromWebSeeds / MiB)} MiB, last byte → listed ${sync.lastByteToListedS === null ? '?' : f1(sync.lastByteToListedS)} s, `
      + `link under half rate ${f1(sync.underHalfRateS)} s, tbf drops ${sync.tbf.drops}); HTTP ${f1(http.goodputPct)} % goodput / ${f1(http.wirePct)} % wire`);
    if (process.env.SYNC_TRACE) console.log(`    wire % per sample: ${sync.timeline.map((s) => s.txPct).join(' ')}`);
  }
  results.push({
    mbit, tbf: { burstBytes: burst, latencyMs: LATENCY_MS }, rounds,
    syncGoodputPct: stat(rounds.map((x) => x.sync.goodputPct)), syncWirePct: stat(rounds.map((x) => x.sync.wirePct)),
    httpGoodputPct: stat(rounds.map((x) => x.http.goodputPct)), httpWirePct: stat(rounds.map((x) => x.http.wirePct)),
  });
}
await seed.stop();

const pad = (s, n) => String(s).padEnd(n);
const ms = (s) => `${f1(s.median)} (${f1(s.min)}–${f1(s.max)})`;
console.log(`\n${pad('link', 10)}${pad('sync goodput %', 22)}${pad('sync wire %', 22)}${pad('HTTP goodput %', 22)}${pad('sync ÷ HTTP', 12)}`);
for (const r of results) {
  console.log(`${pad(`${r.mbit} Mbit/s`, 10)}${pad(ms(r.syncGoodputPct), 22)}${pad(ms(r.syncWirePct), 22)}${pad(ms(r.httpGoodputPct), 22)}${pad((r.syncGoodputPct.median / r.httpGoodputPct.median).toFixed(2), 12)}`);
}
console.log('goodput: catalogue bytes / (first byte → last item verified); wire: seed veth tx bytes over the same interval; HTTP: curl of the big item over the same link. Goal: sync goodput ≥ 85 %.');
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'sync-throughput.json'), JSON.stringify({ catalogue: { items: specs.length, bytes: catalogueBytes, bigMiB: BIG_MIB, small: { count: SMALL_COUNT, mib: SMALL_MIB } }, results }, null, 2));
process.exit(0);
