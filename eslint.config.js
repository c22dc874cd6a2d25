// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './scripts/eslint/component-boundaries.js';

const PROCESS_ENV = {
  selector: "MemberExpression[object.name='process'][property.name='env']",
  message: 'Read process.env only in src/config (the composition root).',
};
const STORE_HANDLE = {
  selector: 'MemberExpression[property.name=/^(pool|redis)$/]',
  message: 'Pages and routes call services: no Postgres pool or Redis connection here (docs/architecture.md, "Boundaries").',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
    plugins: { local: boundaries },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', PROCESS_ENV],
      // The line width Prettier keeps (.prettierrc.json); long strings, template literals, URLs and regexes are exempt.
      'max-len': ['error', { code: 160, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    // The component graph (docs/architecture.md, "Boundaries"): the table is in scripts/eslint/component-boundaries.js.
    files: ['src/**/*.ts'],
    rules: { 'local/component-boundaries': 'error' },
  },
  {
    // Promises handled on purpose: awaited, or `void` where fire-and-forget is meant. Needs type information.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/config/**', 'src/edge/config/**', 'src/edge/bin/**', 'scripts/**', 'test/**', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Pages and routes reach Postgres and Redis only through services (the import side is in the boundary table).
    files: ['src/api/web/**', 'src/api/routes/**'],
    rules: { 'no-restricted-syntax': ['error', PROCESS_ENV, STORE_HANDLE] },
  },
  {
    // Pure rating library: no I/O.
    files: ['src/billing/rating/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['ioredis', 'pg', 'node:fs', 'node:net'] }] },
  },
);
