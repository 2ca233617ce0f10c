import { configDefaults, defineConfig } from 'vitest/config';

// test/shaped/ holds the long runs on shaped network links (tc/nftables in namespaces, minutes each, and
// their audio timing cannot hold while other browsers share two cores): `npm test` runs them after the
// rest, alone (`npm run test:shaped`).
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
