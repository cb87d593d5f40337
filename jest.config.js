// Jest runs in CommonJS mode; NestJS 12 is ESM-only, which Node 24 loads through
// require(esm) — hence `node --experimental-vm-modules` in every test script.
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', isolatedModules: true }];
const moduleNameMapper = { '^@archiver/(.*)$': '<rootDir>/libs/$1/src' };
const common = { rootDir: __dirname, testEnvironment: 'node', transform: { '^.+\\.ts$': tsJest }, moduleNameMapper, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'], testTimeout: 60000 },
  ],
};
