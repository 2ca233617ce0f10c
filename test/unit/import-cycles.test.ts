// An import circle fails the suite the way a wall breach does (DESIGN.md §2): two files that import each
// other (even for types only) are one module in disguise, and load order starts to matter.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCycles, importGraph } from '../support/import-graph.js';
import { ROOT } from '../support/daemon.js';

const ROOMS = ['core', 'sync', 'media', 'hardware', 'recordings', 'main', 'renderer'];

describe('import cycle guard', () => {
  const planted = mkdtempSync(join(tmpdir(), 'tpb-cycles-'));
  afterAll(() => rmSync(planted, { recursive: true, force: true }));

  it('the project has no import circle', () => {
    const graph = importGraph(ROOT, ROOMS);
    expect(graph.size).toBeGreaterThan(100); // it really read the tree
    expect(importCycles(graph)).toEqual([]);
  });

  it('finds a planted circle through three files, type-only and re-export imports included', () => {
    mkdirSync(join(planted, 'main', 'http'), { recursive: true });
    writeFileSync(join(planted, 'main', 'box.ts'), "import { serve } from './http/server.js';\nexport const start = serve;\n");
    writeFileSync(join(planted, 'main', 'http', 'server.ts'), "export { check as serve } from '../doctor.js';\n");
    writeFileSync(join(planted, 'main', 'doctor.ts'), "import type { start } from './box.js';\nexport const check = (s: typeof start) => s;\n");
    writeFileSync(join(planted, 'main', 'clean.ts'), "import { check } from './doctor.js';\nexport const c = check;\n");
    expect(importCycles(importGraph(planted, ['main']))).toEqual([['main/box.ts', 'main/doctor.ts', 'main/http/server.ts']]);
  });

  it('finds a file that imports itself, and a dynamic import circle', () => {
    mkdirSync(join(planted, 'sync'), { recursive: true });
    writeFileSync(join(planted, 'sync', 'self.ts'), "import { a } from './self.js';\nexport const b = a;\n");
    writeFileSync(join(planted, 'sync', 'a.ts'), "export const load = () => import('./b.js');\n");
    writeFileSync(join(planted, 'sync', 'b.ts'), "export const load = () => import('./a.js');\n");
    expect(importCycles(importGraph(planted, ['sync'])).sort()).toEqual([['sync/a.ts', 'sync/b.ts'], ['sync/self.ts']]);
  });
});
