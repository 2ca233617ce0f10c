// Origin ratio for 1 seed + 6 boxes: a seed daemon (the origin, its upload capped as on a county link) publishes a
// catalogue; six hub daemons on loopback sync it. The bench reports what the origin sent (its BitTorrent upload plus
// what it served as a web seed) ÷ the catalogue bytes — goal ≤ 1.5×; the baseline is 6× (each box fetching the
// whole catalogue from the origin, no sharing) and 1.0× the floor — the time until every box holds every item, and
// each box's bytes from peers vs from web seeds. Every box's every item is fetched back and checked against the
// source sha256 at the end. Runs against dist/: `npm run build && node bench/sync-origin.mjs`.
// Env: SYNC_ORIGIN_ITEMS=20  SYNC_ORIGIN_MIB=60 (catalogue total)  SYNC_ORIGIN_BOXES=6
//      SYNC_SEED_UPLOAD_KBPS=16000 (the origin's upload cap, kbit/s)  BENCH_RUNS=1 (fresh swarm per run)
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchSite, pinSession, publishFolder, ROOT, sleep, systemClock } from './lib/box-daemons.mjs';

const MiB = 1024 * 1024;
function envInt(name, def, min) {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: expected an integer ≥ ${min}, got "${process.env[name]}"`);
  return v;
}
const ITEMS = envInt('SYNC_ORIGIN_ITEMS', 20, 1);
const TOTAL_MIB = Number(process.env.SYNC_ORIGIN_MIB ?? 60);
if (!(TOTAL_MIB > 0)) throw new Error(`SYNC_ORIGIN_MIB: expected a positive number, got "${process.env.SYNC_ORIGIN_MIB}"`);
const BOXES = envInt('SYNC_ORIGIN_BOXES', 6, 1);
const SEED_KBPS = envInt('SYNC_SEED_UPLOAD_KBPS', 16_000, 8);
const RUNS = envInt('BENCH_RUNS', 1, 1);

const { scratch, publisher, daemon, cleanup } = benchSite('bench-sync-origin-');
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

const cpuSeconds = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return 0; }
};
// Seconds the process's threads sat runnable but waiting for a CPU (schedstat, Linux): other load on the machine.
const runqueueWaitS = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((n, t) => n + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]) / 1e9, 0);
  } catch { return 0; }
};
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const getJson = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
};

// Sizes spread ±50 % around the mean and never a multiple of the 256 KiB piece, so last pieces are short.
const mean = (TOTAL_MIB * MiB) / ITEMS;
const sizes = Array.from({ length: ITEMS }, (_, i) => Math.max(1, Math.round(mean * (0.5 + (ITEMS === 1 ? 0.5 : i / (ITEMS - 1)))) - 777 - i));

async function oneRun(r) {
  const root = join(scratch, `run-${r}`);
  const content = join(root, 'content');
  mkdirSync(content, { recursive: true });
  const expected = new Map();
  sizes.forEach((bytes, i) => {
    const buf = randomBytes(bytes);
    writeFileSync(join(content, `item-${i}.bin`), buf);
    expected.set(`item-${i}`, sha256(buf));
  });
  const catalogueBytes = sizes.reduce((n, s) => n + s, 0);
  const seed = await daemon(`r${r}-seed`, 'seed');
  const daemons = [seed];
  try {
    await publishFolder({
      folder: content, key: publisher, outDir: join(seed.dataDir, 'sync'), clock: systemClock,
      meta: { publisher: 'bench', items: sizes.map((_, i) => ({ id: `item-${i}`, title: `微课 第${i + 1}课`, subject: '数学', grade: 3, edition: '人教版', unit: '第一单元', kind: 'exercise-set', tags: [], file: `item-${i}.bin` })) },
    });
    rmSync(content, { recursive: true, force: true });
    await seed.start();
    const token = await pinSession(seed.url);
    const put = await fetch(`${seed.url}/api/settings`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sync: { uploadLimitKbps: SEED_KBPS } }) });
    if (!put.ok) throw new Error(`seed settings: ${put.status} ${await put.text()}`);
    for (const end = Date.now() + 60_000; (await getJson(`${seed.url}/api/catalog/status`)).seeding !== ITEMS;) {
      if (Date.now() > end) throw new Error('the seed did not seed its catalogue within 60 s');
      await sleep(250);
    }
    const boxes = [];
    for (let i = 0; i < BOXES; i++) boxes.push(await daemon(`r${r}-box-${i}`, 'hub', { prefs: { sources: [seed.url], reserveBytes: 0, manifestIntervalMs: 1000 } }));
    daemons.push(...boxes);
    const t0 = performance.now();
    await Promise.all(boxes.map((b) => b.start()));
    const doneAt = new Map();
    // The origin at its cap would need catalogue/cap for one copy; allow ten copies' worth plus start-up.
    const deadline = t0 + 120_000 + (10 * catalogueBytes * 8) / SEED_KBPS;
    while (doneAt.size < BOXES) {
      for (const b of boxes) {
        if (doneAt.has(b)) continue;
        const lib = await getJson(`${b.url}/api/library?limit=500`).catch(() => undefined);
        if (lib && lib.total >= ITEMS) doneAt.set(b, (performance.now() - t0) / 1000);
      }
      if (doneAt.size < BOXES && performance.now() > deadline) throw new Error(`only ${doneAt.size}/${BOXES} boxes held the catalogue after ${Math.round((performance.now() - t0) / 1000)} s`);
      await sleep(500);
    }
    // CPU the seven daemons used (utime + stime, /proc, Linux): near cores × wall time means the swarm was CPU-bound.
    const cpuS = daemons.reduce((n, d) => n + cpuSeconds(d.child.pid), 0);
    const waitS = daemons.reduce((n, d) => n + runqueueWaitS(d.child.pid), 0);
    const wallS = (performance.now() - t0) / 1000;
    const seedSt = await getJson(`${seed.url}/api/catalog/status`);
    const perBox = await Promise.all(boxes.map((b) => getJson(`${b.url}/api/catalog/status`)));
    // Held bytes, not the library's word: every item served by every box hashes to its source file.
    let verified = 0;
    for (const b of boxes) {
      const lib = await getJson(`${b.url}/api/library?limit=500`);
      const ids = lib.items.map((it) => it.id).sort();
      if (ids.join() !== [...expected.keys()].sort().join()) throw new Error(`${b.name} lists ${ids.length} items, not the catalogue's ${ITEMS}`);
      for (const it of lib.items) {
        const body = Buffer.from(await (await fetch(`${b.url}/api/library/items/${it.id}/file`)).arrayBuffer());
        if (sha256(body) !== expected.get(it.id)) throw new Error(`${b.name} ${it.id}: sha256 does not match the source file`);
        verified++;
      }
    }
    const origin = { torrent: seedSt.bytesUploadedThisRun, webSeed: seedSt.webSeedBytes, total: seedSt.bytesUploadedThisRun + seedSt.webSeedBytes };
    return {
      catalogueBytes, originBytes: origin, ratio: origin.total / catalogueBytes, sha256Verified: verified,
      allDoneS: Math.max(...doneAt.values()), firstDoneS: Math.min(...doneAt.values()),
      daemonCpuS: cpuS, daemonCpuCores: cpuS / wallS, daemonRunqueueWaitS: waitS,
      // At the cap the origin alone needs catalogue ÷ cap for the first copy: the fastest any box could finish without help.
      oneCopyAtCapS: (catalogueBytes * 8) / (SEED_KBPS * 1000),
      boxes: boxes.map((b, i) => ({ name: b.name, doneS: doneAt.get(b), fromPeers: perBox[i].bytesFromPeersThisRun, fromWebSeeds: perBox[i].bytesFromWebSeedsThisRun, uploadedToPeers: perBox[i].bytesUploadedThisRun })),
    };
  } finally {
    await Promise.all(daemons.map((d) => d.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const mb = (n) => (n / 1e6).toFixed(1);
console.log(`catalogue: ${ITEMS} items, ${(sizes.reduce((n, s) => n + s, 0) / MiB).toFixed(1)} MiB; 1 seed (upload ${SEED_KBPS} kbit/s) + ${BOXES} boxes on loopback; ${RUNS} run(s); load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const runs = [];
for (let r = 0; r < RUNS; r++) {
  const x = await oneRun(r);
  runs.push(x);
  console.log(`  run ${r + 1}: origin sent ${mb(x.originBytes.total)} MB = ${x.ratio.toFixed(3)}× the catalogue (BitTorrent ${mb(x.originBytes.torrent)} MB, web seed ${mb(x.originBytes.webSeed)} MB); `
    + `all boxes done in ${x.allDoneS.toFixed(1)} s (first ${x.firstDoneS.toFixed(1)} s; one copy at the origin's cap ${x.oneCopyAtCapS.toFixed(1)} s); sha256 checked ${x.sha256Verified} files; `
    + `daemons' CPU ${x.daemonCpuS.toFixed(0)} s = ${x.daemonCpuCores.toFixed(2)} cores on average, waiting for a CPU ${x.daemonRunqueueWaitS.toFixed(0)} s (machine has ${cpus().length} cores, load ${loadavg()[0].toFixed(2)})`);
  for (const b of x.boxes) console.log(`    ${b.name}: done ${b.doneS.toFixed(1)} s, from peers ${mb(b.fromPeers)} MB, from web seeds ${mb(b.fromWebSeeds)} MB, uploaded to peers ${mb(b.uploadedToPeers)} MB`);
}
const ratio = stat(runs.map((x) => x.ratio));
const allDone = stat(runs.map((x) => x.allDoneS));
const webShare = stat(runs.map((x) => x.boxes.reduce((n, b) => n + b.fromWebSeeds, 0) / x.boxes.reduce((n, b) => n + b.fromPeers + b.fromWebSeeds, 0) * 100));
const f = (s, d = 2) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
console.log(`\n${'measure'.padEnd(34)}median (min–max)`);
console.log(`${'origin ÷ catalogue'.padEnd(34)}${f(ratio, 3)}×   goal ≤ 1.5×; no sharing ${BOXES}× (box ÷ baseline ${(ratio.median / BOXES).toFixed(3)}); floor 1.0×`);
console.log(`${'all boxes complete, s'.padEnd(34)}${f(allDone, 1)}   one copy at the origin's cap ${runs[0].oneCopyAtCapS.toFixed(1)} s; no sharing ≥ ${(BOXES * runs[0].oneCopyAtCapS).toFixed(1)} s`);
console.log(`${'boxes\' bytes from web seeds, %'.padEnd(34)}${f(webShare, 1)}`);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'sync-origin.json'), JSON.stringify({ items: ITEMS, sizes, boxes: BOXES, seedUploadKbps: SEED_KBPS, ratio, allDoneS: allDone, webSeedSharePct: webShare, baselineRatio: BOXES, floorRatio: 1, runs }, null, 2));
process.exit(0);
