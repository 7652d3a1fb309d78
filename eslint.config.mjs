// The workspace's lint rules (`pnpm lint`, run by `pnpm test` and CI): ESLint's and
// typescript-eslint's recommended sets over every TypeScript and JavaScript file, and the size
// limit that keeps the proxy's request path readable.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // MPEG-TS media fixtures end in .ts too: they are video, not TypeScript.
    ignores: ['**/node_modules/**', '**/dist/**', '**/test-results/**', '**/coverage/**', 'apps/e2e/fixtures/media/**', 'tools/bench/results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', URLSearchParams: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly',
        performance: 'readonly', queueMicrotask: 'readonly', fetch: 'readonly', NodeJS: 'readonly',
      },
    },
    rules: {
      // `_name` marks a parameter or binding kept for its position or its type.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The status page's script runs in the browser, as a classic script.
    files: ['apps/proxy/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', location: 'readonly', navigator: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URLSearchParams: 'readonly', Intl: 'readonly' },
    },
  },
  {
    // A function of the proxy that does not fit on a screen hides a second job: name it.
    files: ['apps/proxy/src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
);
