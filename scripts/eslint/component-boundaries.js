// @ts-check
/**
 * The component graph as a lint rule: which folder of the source tree may import which.
 *
 * Each boundary names the files it governs (`from`, a folder or file relative to the repository root) and either
 * the only project folders they may import (`allowOnly`) or the folders and packages they must not import (`deny`).
 * Every import counts: `import`, `import type`, `export … from` and `import()`. Relative imports are resolved to a
 * path before they are compared, so `../sip/x.ts` and `../../sip/x.ts` are judged by where they lead, not by how
 * they are spelt.
 *
 * The table below is the one place the rules live; eslint.config.js applies it and docs/architecture.md
 * ("Boundaries") explains it.
 */
import path from 'node:path';

/**
 * @typedef {{ from: string, allowOnly?: string[], deny?: string[], except?: string[], why: string }} Boundary
 *   `except`: files under `from` the boundary does not (yet) apply to, each with the reason in a comment.
 */

/** @type {Boundary[]} */
export const BOUNDARIES = [
  { from: 'src/edge', allowOnly: ['src/edge'], why: 'the embedded SIP server is its own process and imports nothing from the rest of src' },
  // The edge's own layers (docs/architecture.md, "Layers"): each imports only the layers to its left.
  { from: 'src/edge/message', allowOnly: ['src/edge/message'], why: "the SIP codec is the edge's lowest layer" },
  { from: 'src/edge/transport', allowOnly: ['src/edge/transport', 'src/edge/message'], why: 'edge layers import only the layers below them' },
  {
    from: 'src/edge/transaction',
    allowOnly: ['src/edge/transaction', 'src/edge/transport', 'src/edge/message'],
    why: 'edge layers import only the layers below them',
  },
  {
    from: 'src/edge/dialog',
    allowOnly: ['src/edge/dialog', 'src/edge/transaction', 'src/edge/transport', 'src/edge/message'],
    why: 'edge layers import only the layers below them',
  },
  { from: 'src/edge/wire', allowOnly: ['src/edge/wire', 'src/edge/message'], why: 'the wire protocol does not depend on the SIP layers' },
  {
    from: 'src/billing',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/media'],
    why: 'billing is used by the SIP app and the API, and knows neither SIP nor HTTP',
  },
  { from: 'src/ledger', deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/media'], why: 'the ledger writer knows neither SIP nor HTTP' },
  {
    from: 'src/accounts',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/media'],
    why: 'accounts are used by the SIP app and the API, and know neither SIP nor HTTP',
  },
  {
    from: 'src/observability',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts'],
    why: 'observability is imported by the SIP app and the API; importing them back makes a cycle',
  },
  {
    from: 'src/common',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/billing', 'src/accounts', 'src/ledger', 'src/media', 'src/db'],
    why: 'src/common holds leaf utilities every component may use',
  },
  {
    from: 'src/config',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/billing', 'src/accounts', 'src/ledger', 'src/media', 'src/db'],
    why: 'configuration is read by every component and depends on none',
  },
  {
    from: 'src/media',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/billing', 'src/accounts', 'src/ledger', 'src/db'],
    why: 'the media port is a leaf the SIP app drives',
  },
  {
    from: 'src/mail',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/media', 'src/billing', 'src/accounts', 'src/ledger', 'src/privacy'],
    why: 'the mail outbox renders and sends what it is given; accounts, privacy and the API call it, never the other way',
  },
  {
    from: 'src/recordings',
    deny: ['src/sip', 'src/api', 'src/edge', 'src/cli', 'src/main.ts', 'src/billing', 'src/ledger', 'src/accounts', 'src/privacy'],
    why: 'the recording store and records are used by the SIP app, the API and privacy; they know none of them',
  },
  { from: 'src/errors.ts', allowOnly: ['src/errors.ts'], why: 'the error registry is a leaf every component imports' },
  {
    from: 'src/api/web',
    deny: ['pg', 'ioredis', 'src/db', 'src/sip', 'src/edge', 'src/ledger', 'src/billing/balance/keys.ts', 'src/billing/balance/lua'],
    why: 'pages call services; Redis, SQL and the SIP app are behind them',
  },
  {
    from: 'src/api/routes',
    deny: ['pg', 'ioredis', 'src/db', 'src/edge', 'src/ledger', 'src/billing/balance/lua'],
    why: 'routes call services; Redis and SQL are behind them',
  },
];

/** @param {string} p @param {string} prefix */
function within(p, prefix) {
  return p === prefix || p.startsWith(prefix + '/') || p === prefix + '.ts';
}

/** @param {string} spec a bare import specifier @returns {string} the package name */
function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

/** @type {import('eslint').Rule.RuleModule} */
const componentBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the component graph: which source folders may import which' },
    schema: [{ type: 'array' }],
    messages: { forbidden: '{{from}} must not import {{target}}: {{why}} (scripts/eslint/component-boundaries.js)' },
  },
  create(context) {
    /** @type {Boundary[]} */
    const boundaries = context.options[0] ?? BOUNDARIES;
    const root = context.cwd;
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    const governing = boundaries.filter((b) => within(file, b.from) && !(b.except ?? []).includes(file));
    if (governing.length === 0) return {};
    /** @param {import('estree').Node} node @param {unknown} source */
    function check(node, source) {
      if (typeof source !== 'string') return;
      const relative = source.startsWith('.');
      const target = relative
        ? path
            .relative(root, path.resolve(path.dirname(context.filename), source))
            .split(path.sep)
            .join('/')
        : packageOf(source);
      const inProject = relative && !target.startsWith('..');
      for (const b of governing) {
        const refused = b.allowOnly
          ? inProject && !b.allowOnly.some((a) => within(target, a))
          : (b.deny ?? []).some((d) => within(target, d) || (!relative && target === d));
        if (refused) context.report({ node, messageId: 'forbidden', data: { from: b.from, target: relative ? target : `'${source}'`, why: b.why } });
      }
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => {
        if (node.source) check(node, node.source.value);
      },
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check(node, node.source.value);
      },
    };
  },
};

export default { rules: { 'component-boundaries': componentBoundaries } };
