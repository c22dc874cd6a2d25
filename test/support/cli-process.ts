/**
 * The operator CLI as an operator runs it (`node --import tsx src/cli/main.ts …`), against a test
 * file's own Postgres schema and Redis namespace.
 */
import { execFile } from 'node:child_process';
import { TEST_DATABASE_URL, TEST_PEPPER, TEST_REDIS_URL } from './services.ts';
import type { TestServices } from './services.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: () => unknown;
}

/** The CLI's environment for a test: its schema, a Redis namespace of CLI-safe characters, 4 shards. */
export function cliEnvironment(s: TestServices): { env: NodeJS.ProcessEnv; namespace: string } {
  const namespace = s.namespace.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    namespace,
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: s.schema,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_NAMESPACE: namespace,
      REDIS_SHARDS: '4',
      PIN_PEPPER: TEST_PEPPER,
      DRACHTIO_SECRET: 'cli-test-secret',
      SIP_NONCE_KEY: 'n'.repeat(32),
      LOG_LEVEL: 'silent',
      SOFTSWITCH_OPERATOR: 'ops-test',
    },
  };
}

/** Runs one CLI command; resolves with its exit code and output (never rejects). */
export function runCli(env: NodeJS.ProcessEnv, args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as unknown });
    });
  });
}
