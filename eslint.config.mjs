// Flat config: typescript-eslint's recommended rules, with Prettier owning formatting.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.local/**',
      'artifacts/**',
      'coverage/**',
      'libs/database/src/generated/**',
      'bench/results/**',
    ],
  },
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read settings through @archiver/config (libs/config is the one place that reads the environment).',
        },
      ],
    },
  },
  {
    // The config lib, scripts, tests and benchmarks may read the environment directly.
    files: ['libs/config/**', 'libs/testing/**', 'scripts/**', 'test/**', 'bench/**', '**/*.spec.ts', 'jest.config.js', 'prisma.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
