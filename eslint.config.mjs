// Lint enforces the layers (STYLE.md): workflows use no Node built-ins, import activities as types only and no
// LLM module; core/ imports no Temporal, network, fs or other layer of ours (llm, storage, activities, workflows
// depend on core, never the reverse); floating promises are errors everywhere.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.ultralink/**', 'bench/out/**', '**/*.js', '**/*.mjs', '**/*.mts'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins,
          patterns: [
            { group: ['../activities/*', '../activities'], allowTypeImports: true, message: 'workflows import activities as types only' },
            { group: ['../llm/*', '../llm'], message: 'workflows import no LLM module: the arithmetic they need is in core' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'openai', '@aws-sdk/client-s3'],
          patterns: [
            { group: ['@temporalio/*'], message: 'core/ is pure: no Temporal' },
            { group: ['**/llm/*', '**/storage/*', '**/activities/*', '**/workflows/*', '**/io/*'], message: 'core/ depends on no other layer: they depend on it' },
          ],
        },
      ],
    },
  },
);
