/**
 * The SIP app refuses to start when a prompt of the catalogue is missing where the embedded media
 * server reads it: one clear line naming the files and the folder, exit status 1, before it
 * touches Postgres or Redis (none is configured here). FreeSWITCH's side: test/unit/media-freeswitch-connect.test.ts.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOUNDS_DIR } from '../support/media/embedded-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function runApp(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PIN_PEPPER: 'p'.repeat(40),
        SIP_NONCE_KEY: 'n'.repeat(40),
        DRACHTIO_SECRET: 'drachtio-secret',
        // nothing listens here: reaching Postgres would fail with another message
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        SIP_ENABLED: 'true',
        MEDIA_SERVER: 'embedded',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('start-up check of the prompt catalogue (embedded media)', () => {
  it('refuses to start, naming the missing file and the folder', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sounds-'));
    try {
      cpSync(SOUNDS_DIR, dir, { recursive: true });
      rmSync(path.join(dir, 'en/prepaid/enter-pin.wav'));
      const { code, stderr } = await runApp({ MEDIA_SOUNDS_DIR: dir });
      expect(code).toBe(1);
      expect(stderr).toContain(`softswitch failed to start: 1 prompt file(s) missing under ${dir}: en/prepaid/enter-pin.wav.`);
      expect(stderr).toMatch(/MEDIA_SOUNDS_DIR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
