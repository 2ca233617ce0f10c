import { configDefaults, defineConfig } from 'vitest/config';

// test/shaped/ holds the long runs on shaped network links (tc/nftables in namespaces, minutes each and
// sensitive to a loaded machine): `npm run test:shaped`, not the default suite.
const shaped = process.env.TPB_SHAPED === '1';

export default defineConfig({
  test: {
    include: shaped ? ['test/shaped/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: shaped ? [...configDefaults.exclude] : [...configDefaults.exclude, 'test/shaped/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: integration tests start real daemons and browsers.
    maxWorkers: 2,
  },
});
