import { defineConfig } from 'vitest/config';
import { SIP_SERVER, SIP_SUITES } from './test/support/sip-server-under-test.ts';

// TEST_SIP_SERVER=drachtio without a usable drachtio-server: the SIP suites are left out, saying why.
const skipSip = SIP_SERVER.kind === 'unavailable';
if (SIP_SERVER.kind === 'unavailable') process.stderr.write(`\nSIP end-to-end suites skipped: ${SIP_SERVER.reason} (docs/drachtio-server.md)\n\n`);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(skipSip ? SIP_SUITES : [])],
    passWithNoTests: skipSip,
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
