import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS eslint plugin without typings
import boundaries from '../../scripts/eslint/component-boundaries.js';

const root = path.resolve(import.meta.dirname, '../..');
const linter = new Linter({ configType: 'flat', cwd: root });
const config: Linter.Config[] = [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser as Linter.Parser },
    plugins: { local: boundaries as { rules: Record<string, never> } },
    rules: { 'local/component-boundaries': 'error' },
  },
];

/** The boundary messages eslint gives for `code` written in `file` (relative to the repository root). */
function refusals(file: string, code: string): string[] {
  return linter.verify(code, config, { filename: path.join(root, file) }).map((m) => {
    if (m.ruleId !== 'local/component-boundaries') throw new Error(m.message);
    return m.message;
  });
}

describe('component boundaries', () => {
  it('an edge file may import the edge and node built-ins, and nothing else of src', () => {
    expect(refusals('src/edge/core/x.ts', "import net from 'node:net';\nimport { parse } from '../message/index.ts';")).toEqual([]);
    expect(refusals('src/edge/core/x.ts', "import type { Logger } from '../../observability/logger.ts';")).toEqual([
      expect.stringContaining('src/edge must not import src/observability/logger.ts'),
    ]);
  });

  it('edge layers import only the layers below them', () => {
    expect(refusals('src/edge/transaction/x.ts', "import { a } from '../transport/index.ts';")).toEqual([]);
    expect(refusals('src/edge/transport/x.ts', "import { a } from '../transaction/index.ts';")).toHaveLength(1);
  });

  it('billing imports no SIP, HTTP or edge code, however the import is written', () => {
    for (const code of [
      "import { x } from '../../sip/sip-app.ts';",
      "import type { X } from '../../sip/call/prepaid-call.ts';",
      "export { x } from '../../api/problem.ts';",
      "export * from '../../edge/core/edge-server.ts';",
      "const m = await import('../../sip/sip-app.ts');",
    ])
      expect(refusals('src/billing/credit/x.ts', code), code).toHaveLength(1);
    // A relative path is judged by where it leads: this one stays inside billing.
    expect(refusals('src/billing/credit/x.ts', "import { x } from '../sip/helper.ts';")).toEqual([]);
    expect(refusals('src/billing/credit/x.ts', "import { a } from '../balance/balance-store.ts';\nimport { b } from '../../errors.ts';")).toEqual([]);
  });

  it('observability does not import the SIP app', () => {
    expect(refusals('src/observability/sip-metrics.ts', "import type { CallEvents } from '../sip/sip-app.ts';")).toEqual([
      expect.stringContaining('src/observability must not import src/sip/sip-app.ts'),
    ]);
  });

  it('pages import services, not pg, ioredis or the SIP app; no page is exempt', () => {
    expect(refusals('src/api/web/new-page.ts', "import type { Redis } from 'ioredis';\nimport pg from 'pg';")).toEqual([
      expect.stringContaining("must not import 'ioredis'"),
      expect.stringContaining("must not import 'pg'"),
    ]);
    expect(refusals('src/api/web/new-page.ts', "import { BindingStore } from '../../sip/registrar/binding-store.ts';")).toHaveLength(1);
    expect(refusals('src/api/web/new-page.ts', "import { CustomerDirectory } from '../../accounts/customer-directory.ts';")).toEqual([]);
    expect(refusals('src/api/web/customer-pages.ts', "import type { Redis } from 'ioredis';")).toHaveLength(1);
  });
});
