// Layering of ../shared/DESIGN.md §2, enforced so a wrong import fails `npm test`.
import tseslint from 'typescript-eslint';

const rooms = ['core', 'sync', 'media', 'hardware', 'recordings', 'main', 'renderer'];

/** A regex that matches a relative import reaching into one of the named project folders. */
function forbid(...others) {
  return `^(\\.\\./)+(${others.join('|')})(/|$)`;
}

function layer(room, forbidden, extra = []) {
  return {
    files: [`${room}/**/*.ts`, `${room}/**/*.vue`, `${room}/**/*.js`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: forbid(...forbidden), message: `${room}/ may not import from ${forbidden.join(', ')} (DESIGN.md §2 layering).` },
          ...extra,
        ],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'vendor/**', 'test-artifacts/**', 'renderer/dist/**', 'native/*/build/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  layer('core', rooms.filter((r) => r !== 'core')),
  layer('sync', ['media', 'hardware', 'recordings', 'main', 'renderer']),
  layer('media', ['sync', 'hardware', 'recordings', 'main', 'renderer']),
  layer('hardware', ['sync', 'media', 'recordings', 'main', 'renderer']),
  // A feature room above sync and media (like a VS Code contrib): only main imports it.
  layer('recordings', ['hardware', 'main', 'renderer']),
  layer('main', ['renderer']),
  // core/contract is shared with the renderer: no Node, no other core module with Node imports.
  {
    files: ['core/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'core/contract is shared with the renderer: no Node imports.' },
          { regex: '^\\.\\./', message: 'core/contract imports only itself.' },
        ],
      }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue', 'renderer/**/*.js'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'child_process'], message: 'renderer/ is browser code: no Node imports.' },
          { regex: forbid('sync', 'media', 'hardware', 'recordings', 'main'), message: 'renderer/ imports only core/contract.' },
          { regex: '(\\.\\./)+core/(?!contract/)', message: 'renderer/ imports only core/contract.' },
        ],
      }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.mjs', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
