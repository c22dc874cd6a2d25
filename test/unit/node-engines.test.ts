/**
 * The Node.js the project asks for (package.json engines, README, Dockerfile) is one that every
 * installed package accepts: `npm ci` prints no EBADENGINE warning on it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

type V = [number, number, number];
const parse = (v: string): V => {
  const [a = 0, b = 0, c = 0] = v
    .replace(/^v/, '')
    .split('.')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : 0));
  return [a, b, c];
};
const cmp = (x: V, y: V) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2];

/** node-semver's range grammar, as far as engines fields use it: `||`, space-joined comparators, ^ ~ x-ranges, >= > <= < =. */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alt) => {
    const parts = alt
      .trim()
      .replace(/([<>]=?|=)\s+/g, '$1')
      .split(/\s+/)
      .filter((p) => p !== '');
    if (parts.length === 0) return true;
    return parts.every((p) => {
      if (p === '*' || p === 'x') return true;
      const m = /^(\^|~|>=|<=|>|<|=)?v?([\dx*]+)(?:\.([\dx*]+))?(?:\.([\dx*]+))?$/.exec(p);
      if (!m) throw new Error(`range ${range}: cannot read ${p}`);
      const op = m[1] ?? '';
      const wild = (s: string | undefined) => s === undefined || s === 'x' || s === '*';
      const lo = parse([m[2], m[3], m[4]].map((s) => (wild(s) ? '0' : s)).join('.'));
      if (op === '>=') return cmp(v, lo) >= 0;
      if (op === '>') return cmp(v, lo) > 0;
      if (op === '<') return cmp(v, lo) < 0;
      if (op === '<=') return cmp(v, lo) <= 0;
      let hi: V;
      if (op === '^') hi = lo[0] > 0 ? [lo[0] + 1, 0, 0] : lo[1] > 0 ? [0, lo[1] + 1, 0] : [0, 0, lo[2] + 1];
      else if (op === '~' || (wild(m[4]) && !wild(m[3]))) hi = [lo[0], lo[1] + 1, 0];
      else if (wild(m[3])) hi = [lo[0] + 1, 0, 0];
      else return cmp(v, lo) === 0;
      return cmp(v, lo) >= 0 && cmp(v, hi) < 0;
    });
  });
}

describe('the Node.js version', () => {
  it('reads ranges as npm does', () => {
    expect(satisfies('20.19.0', '>=22')).toBe(false);
    expect(satisfies('20.19.0', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfies('20.18.9', '^20.19.0 || >=22.12.0')).toBe(false);
    expect(satisfies('20.19.0', '18 || 20 || >=22')).toBe(true);
    expect(satisfies('20.19.0', '>=16 || 14 >=14.17')).toBe(true);
    expect(satisfies('20.19.0', '10.* || >= 12.*')).toBe(true);
    expect(satisfies('20.19.0', '^18.18.0 || ^20.9.0 || >=21.1.0')).toBe(true);
  });

  it('the minimum the project asks for is accepted by every package in package-lock.json (no EBADENGINE)', () => {
    const wanted = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const min = /^>=\s*(\d+\.\d+\.\d+)$/.exec(wanted)?.[1];
    expect(min, 'package.json engines.node is ">=x.y.z"').toBeDefined();
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
    const refusing = Object.entries(lock.packages)
      .filter(([, p]) => p.engines && !Array.isArray(p.engines) && p.engines.node !== undefined && !satisfies(min!, p.engines.node))
      .map(([name, p]) => `${name}@${p.version} wants node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it('README, Dockerfile and the running Node agree with package.json', () => {
    const min = /(\d+\.\d+)/.exec((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node)![1]!;
    expect(read('README.md')).toContain(`Node.js ${min} or newer`);
    expect(read('Dockerfile')).toMatch(new RegExp(`^FROM node:${min.split('.')[0]}`, 'm'));
    expect(satisfies(process.versions.node, `>=${min}.0`)).toBe(true);
  });
});
