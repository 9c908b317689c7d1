/**
 * The fault-injection and security suite (`npm run test:faults`): real PostgreSQL, SQS and SMTP
 * servers behind TCP fault proxies, and the built CLI in child processes so that SIGKILL is real.
 * One scenario at a time: each breaks something on purpose and measures the recovery, and two
 * at once on two cores would measure each other. FAULTS_SCALE (0–1) shrinks counts and durations
 * for development runs.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  globalSetup: '<rootDir>/test/faults/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/faults/support/global-teardown.mjs',
  testSequencer: '<rootDir>/test/faults/support/sequencer.cjs',
  testTimeout: 900000,
  maxWorkers: 1,
};
