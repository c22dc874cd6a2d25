/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or the inspector's Profiler): self time by
 * group (drachtio-srf, ioredis, logging, pg, the project's code, Node's own, GC), by package or
 * source area, and by function. Percentages are of busy time (idle left out).
 * Usage: npx tsx scripts/bench/lib/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  sampled_s: number;
  busy_s: number;
  /** Share of busy time per group, in percent. */
  groups: Record<string, number>;
  areas: [string, number][];
  functions: [string, number][];
}

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url;
  const s = /\/(src|scripts)\/(.*)$/.exec(url);
  return s ? `${s[1]}/${s[2]}` : url;
}

const GROUPS: [string, RegExp][] = [
  ['drachtio-srf', /^(drachtio-srf|sip-methods|sip-status|delegates|only|debug|node-noop|sdp-transform|short-uuid|uuid-random|utils-merge|any-base)$/],
  ['ioredis', /^(ioredis|@ioredis\/.*|redis-parser|redis-errors|denque|cluster-key-slot|standard-as-callback)$/],
  [
    'logging',
    /^(pino|pino-abstract-transport|@pinojs\/.*|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free)$/,
  ],
  ['pg', /^(pg|pg-protocol|pg-pool|pg-types|pg-copy-streams|postgres-.*|pgpass|buffer-writer|packet-reader)$/],
  ['app (src)', /^src\//],
  ['bench harness', /^scripts\//],
  ['GC', /^\(garbage collector\)$/],
  ['node internals', /^node:/],
];

function groupOf(where: string): string {
  for (const [name, re] of GROUPS) if (re.test(where)) return name;
  if (where === '(idle)') return '(idle)';
  if (where === '(program)') return '(program)';
  if (where.startsWith('(')) return 'native/builtin';
  return 'other packages';
}

export function summariseProfile(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fnTotals = new Map<string, number>();
  const areaTotals = new Map<string, number>();
  const groupTotals = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const where = area(n.callFrame.url, n.callFrame.functionName);
    total += us;
    if (where === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${n.callFrame.functionName || '(anonymous)'}  [${where}:${n.callFrame.lineNumber + 1}]`;
    fnTotals.set(key, (fnTotals.get(key) ?? 0) + us);
    areaTotals.set(where, (areaTotals.get(where) ?? 0) + us);
    const g = groupOf(where);
    groupTotals.set(g, (groupTotals.get(g) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => Number(((100 * us) / Math.max(1, busy)).toFixed(1));
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    sampled_s: Number((total / 1e6).toFixed(2)),
    busy_s: Number((busy / 1e6).toFixed(2)),
    groups: Object.fromEntries(sorted(groupTotals).map(([k, us]) => [k, pct(us)])),
    areas: sorted(areaTotals)
      .slice(0, top)
      .map(([k, us]) => [k, pct(us)]),
    functions: sorted(fnTotals)
      .slice(0, top)
      .map(([k, us]) => [k, pct(us)]),
  };
}

function print(s: ProfileSummary): void {
  const line = (p: number, k: string) => console.log(`  ${p.toFixed(1).padStart(5)} %  ${k}`);
  console.log(`sampled ${s.sampled_s} s, busy ${s.busy_s} s (percentages of busy time)`);
  console.log('\nself time by group:');
  for (const [k, p] of Object.entries(s.groups)) line(p, k);
  console.log('\nself time by area:');
  for (const [k, p] of s.areas) line(p, k);
  console.log('\nself time by function:');
  for (const [k, p] of s.functions) line(p, k);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, topText] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  print(summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(topText ?? 25)));
}
