import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const linesOf = (file: string): Record<string, unknown>[] => {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    return [];
  }
};

describe('the process logger', () => {
  it('writes each line to the destination it is given, secrets redacted', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'logger-')), 'log.ndjson');
    const log = createLogger('info', 'test', { dest: file });
    log.info({ callId: 'c1', pin: '123456' }, 'call authorised');
    log.child({ callId: 'c2' }).info({ authorization: 'Digest secret' }, 'call settled');
    log.debug('not at this level');
    await expect.poll(() => linesOf(file).length, { timeout: 5_000 }).toBe(2);
    const [a, b] = linesOf(file);
    expect(a).toMatchObject({ name: 'test', msg: 'call authorised', callId: 'c1', pin: '[redacted]' });
    expect(b).toMatchObject({ msg: 'call settled', callId: 'c2', authorization: '[redacted]' });
  });

  it('loses no line when the process exits at once (process.exit right after logging)', () => {
    const lines = Math.ceil((3 * 4096) / 60);
    const script = `
      import { createLogger } from './src/observability/logger.ts';
      const log = createLogger('info', 'exit-test', { dest: 1 });
      for (let i = 0; i < ${lines}; i++) log.info({ i }, 'line');
      process.exit(3);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    const out = r.stdout.split('\n').filter((l) => l !== '');
    expect(out).toHaveLength(lines);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ i: lines - 1, msg: 'line' });
  });
});
