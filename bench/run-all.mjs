// Runs every bench/*.mjs except this one, one after another (benchmarks must not share the CPU).
// `npm run bench` builds dist/ first, then runs this.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const benches = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== self).sort();

const failed = [];
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const r = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed.push(`${file} (${r.status ?? r.signal})`);
}
console.log(`\n${benches.length - failed.length}/${benches.length} benchmarks finished${failed.length ? `; failed: ${failed.join(', ')}` : ''}.`);
process.exitCode = failed.length ? 1 : 0;
