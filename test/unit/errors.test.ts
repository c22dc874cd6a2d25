import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.ts';

describe('error registry', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  it('every code equals its key, is unique, and is documented', () => {
    const codes = Object.entries(ERRORS).map(([key, e]) => { expect(e.code).toBe(key); return e.code; });
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(doc, `docs/errors.md lacks ${c}`).toContain(`\`${c}\``);
  });
  it('HTTP statuses are 4xx/5xx and SIP statuses are final error responses with a reason', () => {
    for (const e of Object.values(ERRORS)) {
      expect(e.http).toBeGreaterThanOrEqual(400);
      if ('sip' in e) { expect(e.sip[0]).toBeGreaterThanOrEqual(400); expect(e.sip[1].length).toBeGreaterThan(0); }
    }
  });
});
