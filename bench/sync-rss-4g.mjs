// Box daemon memory while syncing one 4 GiB item: a seed daemon publishes a 4 GiB file (sparse source), a hub
// daemon downloads it over BitTorrent, verifies it (sha256) and moves it into its library. Prints both
// daemons' peak RSS (VmHWM), the hub's RSS while idle before the download (the baseline of the same run),
// and the throughput. Runs against dist/: `npm run build && node bench/sync-rss-4g.mjs`. SYNC_BIG_GIB=N (default 4),
// SYNC_BIG_MAX_MIN=M (default 90): give up after M minutes, printing what was reached. Prints progress every minute.
// Needs about 2×N GiB of free disk (the seed's hard-linked copy is sparse; the hub's is real); all removed after.
import { mkdirSync, openSync, closeSync, ftruncateSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchSite, publishFolder, ROOT, sleep, systemClock } from './lib/box-daemons.mjs';

const GIB = Number(process.env.SYNC_BIG_GIB ?? 4);
const MAX_MIN = Number(process.env.SYNC_BIG_MAX_MIN ?? 90);
if (!(GIB > 0) || !(MAX_MIN > 0)) throw new Error('SYNC_BIG_GIB and SYNC_BIG_MAX_MIN must be positive numbers');
const { scratch, publisher, daemon } = benchSite('bench-sync-4g-');
process.on('SIGINT', () => process.exit(130));

const kb = (pid, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const mb = (k) => Math.round(k / 1024);
// CPU seconds (user + system) a process has used: unlike MB/s, not skewed by other load on the machine.
const cpuS = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((n, x) => n + Number(x), 0) / 100;

// No LAN discovery: its multicast leaves by the default interface, and two runs of this bench at once
// (same sparse file, same infohash) would find and feed each other.
const noLan = { lanDiscovery: false };
const seed = await daemon('seed', 'seed', { settings: noLan });
const content = join(scratch, 'content');
mkdirSync(content, { recursive: true });
const fd = openSync(join(content, 'big.mp4'), 'w');
ftruncateSync(fd, GIB * 1024 ** 3);
closeSync(fd);
let t = performance.now();
const { items } = await publishFolder({
  folder: content, key: publisher, outDir: join(seed.dataDir, 'sync'), clock: systemClock,
  meta: { publisher: 'bench', items: [{ id: 'big', title: `${GIB} GiB 微课`, subject: '数学', grade: 3, edition: '人教版', unit: '第一单元', kind: 'video', tags: [], file: 'big.mp4' }] },
});
const publishS = (performance.now() - t) / 1000;
await seed.start();
const seedChild = seed.child;
const hub = await daemon('hub', 'hub', { settings: noLan, prefs: { sources: [seed.url], reserveBytes: 0, webSeedFallbackMs: 3_600_000 } });
await hub.start();
const hubChild = hub.child;
await sleep(3000);
const idleKb = kb(hubChild.pid, 'VmRSS');
const cpu0 = { hub: cpuS(hubChild.pid), seed: cpuS(seedChild.pid) };
t = performance.now();
let maxSampled = 0;
let done = false;
let lastReport = t;
let progress = 0;
while (!done) {
  maxSampled = Math.max(maxSampled, kb(hubChild.pid, 'VmRSS'));
  try {
    const lib = await (await fetch(`${hub.url}/api/library`, { signal: AbortSignal.timeout(5000) })).json();
    done = lib.items?.some((i) => i.id === 'big' && i.sha256 === items[0].sha256);
  } catch { /* busy */ }
  if (!done && performance.now() - lastReport >= 60_000) {
    lastReport = performance.now();
    try {
      const st = await (await fetch(`${hub.url}/api/catalog/status`, { signal: AbortSignal.timeout(5000) })).json();
      progress = st.downloads?.[0]?.progress ?? progress;
    } catch { /* busy */ }
    const min = (lastReport - t) / 60_000;
    console.log(`  ${min.toFixed(0)} min: ${(progress * 100).toFixed(1)} % (${((progress * GIB * 1024) / (min * 60)).toFixed(1)} MiB/s); hub RSS ${mb(kb(hubChild.pid, 'VmRSS'))} MiB, seed ${mb(kb(seedChild.pid, 'VmRSS'))} MiB; CPU hub ${(cpuS(hubChild.pid) - cpu0.hub).toFixed(0)} s, seed ${(cpuS(seedChild.pid) - cpu0.seed).toFixed(0)} s`);
  }
  // Give up with what was reached (peak RSS so far included) rather than a bare error.
  if (!done && performance.now() - t > MAX_MIN * 60_000) break;
  if (!done) await sleep(500);
}
const syncS = (performance.now() - t) / 1000;
const out = {
  gib: GIB, done, progress: done ? 1 : progress, publishS, syncS, mbPerS: done ? (GIB * 1024) / syncS : (progress * GIB * 1024) / syncS,
  hubIdleRssMb: mb(idleKb), hubPeakRssMb: mb(kb(hubChild.pid, 'VmHWM')), hubMaxSampledRssMb: mb(maxSampled), seedPeakRssMb: mb(kb(seedChild.pid, 'VmHWM')),
  hubCpuS: cpuS(hubChild.pid) - cpu0.hub, seedCpuS: cpuS(seedChild.pid) - cpu0.seed,
};
if (!done) console.log(`NOT DONE: the item was not in the hub's library after ${MAX_MIN} min (${(progress * 100).toFixed(1)} % downloaded)`);
console.log(`${GIB} GiB item: publish ${publishS.toFixed(1)} s; seed → hub download + verify + move ${syncS.toFixed(1)} s (${out.mbPerS.toFixed(1)} MiB/s)`);
console.log(`CPU during the sync: hub ${out.hubCpuS.toFixed(0)} s (${(out.hubCpuS / (out.progress * GIB)).toFixed(1)} s/GiB), seed ${out.seedCpuS.toFixed(0)} s`);
console.log(`hub daemon RSS: idle ${out.hubIdleRssMb} MiB, peak ${out.hubPeakRssMb} MiB (VmHWM; ×${(out.hubPeakRssMb / out.hubIdleRssMb).toFixed(2)} idle); seed peak ${out.seedPeakRssMb} MiB`);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'sync-rss-4g.json'), JSON.stringify(out, null, 2));
for (const c of [hubChild, seedChild]) c.kill('SIGTERM');
await sleep(2000);
process.exit(done ? 0 : 1);
