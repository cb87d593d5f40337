// Jest runs in CommonJS mode; NestJS 12 is ESM-only, which Node 24 loads through
// require(esm) — hence `node --experimental-vm-modules` in every test script.
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }];
// The generated Prisma client imports its own .ts files with .js extensions (ESM style).
const moduleNameMapper = { '^@archiver/(.*)$': '<rootDir>/libs/$1/src', '^(\\.{1,2}/.*)\\.js$': '$1' };
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Only the source trees: `.local/` holds toolchains and Go module caches (with files jest
  // would take for snapshots), `dist/` the built copies.
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest/unit.setup.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/jest.setup.ts'],
    },
    // Browser tests: real Chromium against the real stack.
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/jest.setup.ts'],
    },
  ],
};
