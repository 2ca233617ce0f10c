import { execFileSync } from 'node:child_process';
import { buildRendererIfStale } from './renderer-build.js';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// Integration tests start the compiled daemon as a real child process: build it once per run.
export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  // tsc emits even when it reports type errors; `npm test` type-checks separately and fails on them,
  // so a type error elsewhere does not stop a developer running one test file.
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    console.warn('global-setup: tsc reported errors (see above); tests run against what it emitted.');
  }
  buildRendererIfStale(root);
}
