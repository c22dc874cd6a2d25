// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read process.env only in src/config (the composition root).' }],
    },
  },
  {
    files: ['src/config/**', 'src/edge/config/**', 'src/edge/bin/**', 'scripts/**', 'test/**', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The embedded edge is a separate SIP server: it imports nothing from the rest of src.
    files: ['src/edge/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../../*', '!../../edge/**'], message: 'src/edge must not import from the rest of src' },
        { group: ['**/billing/**', '**/accounts/**', '**/sip/**', '**/api/**', '**/media/**', '**/db/**', '**/ledger/**', '**/privacy/**', '**/config/index*'], message: 'src/edge must not import from the rest of src' },
      ] }],
    },
  },
  {
    // Pure rating library: no I/O.
    files: ['src/billing/rating/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['ioredis', 'pg', 'node:fs', 'node:net'] }] },
  },
);
