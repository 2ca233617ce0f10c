// Builds renderer/dist for the browser tests when it is missing or older than the renderer's sources.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  // Only files count: the folder's own mtime moves whenever dist/ is swapped in.
  let newest = 0;
  for (const e of readdirSync(path)) {
    if (e === 'dist' || e === 'node_modules' || e.startsWith('dist.')) continue;
    newest = Math.max(newest, newestMtime(join(path, e)));
  }
  return newest;
}

export function buildRendererIfStale(root: string): void {
  const dist = join(root, 'renderer', 'dist');
  const built = existsSync(join(dist, 'index.html')) && existsSync(join(dist, 'sw.js')) ? statSync(join(dist, 'index.html')).mtimeMs : 0;
  const sources = Math.max(newestMtime(join(root, 'renderer')), newestMtime(join(root, 'core', 'contract')), newestMtime(join(root, 'scripts', 'vite-pdfjs-data.ts')));
  if (built >= sources) return;
  // Build beside, then swap: another test run reading renderer/dist never sees a half-written folder.
  const tmp = join(root, 'renderer', `dist.tmp-${process.pid}`);
  const old = join(root, 'renderer', `dist.old-${process.pid}`);
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(root, 'renderer', 'vite.config.ts'), '--outDir', tmp, '--logLevel', 'warn'], {
    // vitest sets NODE_ENV=test, which would make Vite build a non-production bundle (no service worker).
    cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' },
  });
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
}
