import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeSettings } from '../../src/config/config.ts';
import { cutReasonHeader } from '../../src/sip/call/call-control.ts';

describe('docs/operations.md', () => {
  it('documents every environment variable the service reads', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    for (const s of describeSettings()) expect(doc, `${s.env} missing from docs/operations.md`).toContain(`\`${s.env}\``);
  });
});

describe('docs/architecture.md', () => {
  it("gives the Q.850 causes of the switch's own hang-ups as the BYE carries them", () => {
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/Q\.850;cause=(\d+)(?:;text="([a-z_]+)")?/g)];
    expect(documented.length).toBeGreaterThan(0);
    const credit = cutReasonHeader('credit_exhausted').Reason!;
    expect(doc).toContain(credit);
    // every cause the document states for a credit cut-off is the one sent
    const creditCause = /cause=(\d+)/.exec(credit)![1];
    for (const line of doc.split('\n').filter((l) => /credit|cut/.test(l) && /Q\.850;cause=/.test(l))) {
      expect(line, line).toContain(`cause=${creditCause}`);
    }
  });
});
