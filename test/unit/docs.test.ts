import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeSettings } from '../../src/config/config.ts';

describe('docs/operations.md', () => {
  it('documents every environment variable the service reads', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    for (const s of describeSettings()) expect(doc, `${s.env} missing from docs/operations.md`).toContain(`\`${s.env}\``);
  });
});
