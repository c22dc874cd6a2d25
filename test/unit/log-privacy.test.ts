import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskAddresses, maskNumber, maskPersonal } from '../../src/observability/log-privacy.ts';
import { createLogger } from '../../src/observability/logger.ts';

const PERSONAL = { destination: '441632960001', cli: '+447700900123', sourceIp: '203.0.113.57', username: 'alice.smith', email: 'alice@example.com' };
const CALL_ID = 'a84b4c76e66710@203.0.113.57';

function lines(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

describe('personal data in logs', () => {
  it('is masked by default in fields and child bindings (the reproduction: info lines carried numbers, addresses, call ids with IPs)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'logpriv-')), 'log.ndjson');
    const log = createLogger('info', 'test', { dest: file });
    log.child({ callId: CALL_ID, accountId: 7 }).info({ ...PERSONAL, source: { address: '198.51.100.9', port: 5060 }, prefix: '44' }, 'call authorised');
    await expect.poll(() => lines(file).length, { timeout: 5_000 }).toBeGreaterThan(0);
    const text = lines(file);
    for (const v of [...Object.values(PERSONAL), CALL_ID, '198.51.100.9']) expect(text).not.toContain(v);
    const line = JSON.parse(text.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      destination: '44********01',
      cli: '+44********23',
      sourceIp: '203.0.x.x',
      username: 'al…',
      email: 'a…@example.com',
      callId: 'a84b4c76e66710@203.0.x.x',
      accountId: 7,
      prefix: '44',
      source: { address: '198.51.x.x', port: 5060 },
      msg: 'call authorised',
    });
  });

  it('LOG_PERSONAL_DATA=full logs them as they are', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'logpriv-')), 'log.ndjson');
    createLogger('info', 'test', { dest: file, personalData: 'full' }).info({ ...PERSONAL, callId: CALL_ID }, 'x');
    await expect.poll(() => lines(file).length, { timeout: 5_000 }).toBeGreaterThan(0);
    for (const v of [...Object.values(PERSONAL), CALL_ID]) expect(lines(file)).toContain(v);
  });

  it('property: a masked number keeps its length, first two and last two digits, and hides the rest', () => {
    fc.assert(
      fc.property(fc.constantFrom('', '+', '00'), fc.stringMatching(/^[1-9][0-9]{6,14}$/), (prefix, n) => {
        const m = maskNumber(prefix + n);
        expect(m).toHaveLength(prefix.length + n.length);
        expect(m.slice(prefix.length, prefix.length + 2)).toBe(n.slice(0, 2));
        expect(m.slice(-2)).toBe(n.slice(-2));
        expect(m.slice(prefix.length).replace(/\D/g, '').length).toBe(4);
      }),
      { numRuns: 500, seed: 77 },
    );
  });

  it('masks IPv4 and IPv6 inside any text; leaves what is not personal alone', () => {
    expect(maskAddresses('x@[2001:db8:85a3:8d3:1319:8a2e:370:7348]:5060')).toBe('x@[2001:db8:85a3::x]:5060');
    expect(maskAddresses('10.1.2.3 and 192.0.2.44')).toBe('10.1.x.x and 192.0.x.x');
    const o = { component: 'sip.call', cost: 1200, err: new Error('x') };
    expect(maskPersonal(o)).toBe(o);
  });
});
