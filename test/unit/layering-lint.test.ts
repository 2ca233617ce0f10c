import { describe, it, expect } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { ROOT } from '../support/daemon.js';

// The DESIGN.md §2 walls are an ESLint rule; these prove the rule bites where it should.
async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    ['sync/catalog.ts', "import { x } from '../media/relay.js';\nexport const y = x;"],
    ['media/relay.ts', "import { x } from '../sync/catalog.js';\nexport const y = x;"],
    ['hardware/ptz.ts', "import { x } from '../main/box.js';\nexport const y = x;"],
    ['core/store/x.ts', "import { x } from '../../main/box.js';\nexport const y = x;"],
    ['core/contract/api.ts', "import { x } from '../log.js';\nexport const y = x;"],
    ['core/contract/api.ts', "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;"],
    ['renderer/src/app.ts', "import { x } from '../../core/log.js';\nexport const y = x;"],
    ['renderer/src/app.ts', "import { x } from '../../main/box.js';\nexport const y = x;"],
    ['main/x.ts', "import { x } from '../renderer/src/app.js';\nexport const y = x;"],
    ['recordings/catalogue.ts', "import { x } from '../hardware/ptz.js';\nexport const y = x;"],
    ['recordings/catalogue.ts', "import { x } from '../main/box.js';\nexport const y = x;"],
    ['media/recorder.ts', "import { x } from '../recordings/catalogue.js';\nexport const y = x;"],
    ['sync/engine.ts', "import { x } from '../recordings/catalogue.js';\nexport const y = x;"],
    ['hardware/ptz.ts', "import { x } from '../recordings/catalogue.js';\nexport const y = x;"],
    ['core/x.ts', "import { x } from '../recordings/catalogue.js';\nexport const y = x;"],
  ])('rejects the import in %s', async (file, code) => {
    expect((await lint(file, code)).length).toBeGreaterThan(0);
  });

  it.each([
    ['sync/catalog.ts', "import { x } from '../core/log.js';\nexport const y = x;"],
    ['main/x.ts', "import { x } from '../media/relay.js';\nexport const y = x;"],
    ['renderer/src/app.ts', "import { x } from '../../core/contract/health.js';\nexport const y = x;"],
    ['core/contract/api.ts', "import { x } from './health.js';\nexport const y = x;"],
    ['recordings/catalogue.ts', "import { x } from '../media/recorder.js';\nexport const y = x;"],
    ['recordings/catalogue.ts', "import { x } from '../sync/recording-fetch.js';\nexport const y = x;"],
    ['recordings/catalogue.ts', "import { x } from '../core/log.js';\nexport const y = x;"],
    ['main/x.ts', "import { x } from '../recordings/catalogue.js';\nexport const y = x;"],
  ])('allows the import in %s', async (file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });
});
