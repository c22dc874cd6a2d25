import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.ts';

describe('error registry', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  it('every code equals its key, is unique, and is documented', () => {
    const codes = Object.entries(ERRORS).map(([key, e]) => {
      expect(e.code).toBe(key);
      return e.code;
    });
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(doc, `docs/errors.md lacks ${c}`).toContain(`\`${c}\``);
  });
  it('HTTP statuses are 4xx/5xx and SIP statuses are final error responses with a reason', () => {
    for (const e of Object.values(ERRORS)) {
      expect(e.http).toBeGreaterThanOrEqual(400);
      if ('sip' in e) {
        expect(e.sip[0]).toBeGreaterThanOrEqual(400);
        expect(e.sip[1].length).toBeGreaterThan(0);
      }
    }
  });
  it('every SIP status and reason phrase names one error (no two codes answer alike)', () => {
    const seen = new Map<string, string>();
    for (const e of Object.values(ERRORS)) {
      if (!('sip' in e)) continue;
      const wire = `${e.sip[0]} ${e.sip[1]}`;
      expect(seen.get(wire), `${e.code} answers ${wire} like ${seen.get(wire)}`).toBeUndefined();
      seen.set(wire, e.code);
    }
  });
  it('the SIP app and the media servers write no failure status inline: they answer from the registry', () => {
    const root = new URL('../../src/', import.meta.url).pathname;
    const files = ['sip', 'media'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(root, dir, f)),
    );
    expect(files.length).toBeGreaterThan(20);
    const inline = /\bsend\(\s*[3-6]\d\d\s*,\s*['"`]|failOutbound\(\s*\d{3}|\[\s*[4-6]\d\d\s*,\s*'[A-Z]/;
    for (const f of files) {
      const lines = readFileSync(f, 'utf8').split('\n');
      lines.forEach((line, i) => expect(inline.test(line), `${f}:${i + 1} writes a SIP status inline: ${line.trim()}`).toBe(false));
    }
  });
});
