/**
 * Rate lookup latency with a 100,000-prefix tariff (goal: p99 ≤ 20 µs).
 *
 * Method: build a tariff of 100,000 distinct random prefixes (2..9 digits), a fifth of them with
 * two or three consecutive effective windows; pre-generate 1,000,000 destination numbers
 * (90 % extend a tariff prefix to 11..15 digits, 10 % are 11-digit numbers starting with 0 that
 * no prefix matches, so the whole number is walked and the lookup misses);
 * warm up; then
 *   1. time every lookup on its own with process.hrtime.bigint (includes the timer's own cost,
 *      reported separately as timer_overhead_ns) → per-lookup p50/p99/p99.9/max;
 *   2. time the same lookups in batches of 1,000 → mean per lookup in each batch (p50/p99/max)
 *      and lookups per second over the whole pass.
 * A fixed-seed generator makes runs repeatable. Writes bench-results/rating-lookup.json.
 *
 * Run: npx tsx scripts/bench/rating-lookup.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Tariff, type Rate } from '../../src/billing/rating/index.ts';

const PREFIXES = 100_000;
const LOOKUPS = 1_000_000;
const WARMUP = 200_000;
const BATCH = 1_000;
const OUTPUT = 'bench-results/rating-lookup.json';

/** mulberry32: small deterministic generator so every run uses the same tariff and numbers. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = generator(20_250_101);
const integer = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const digits = (count: number): string => {
  let text = '';
  for (let i = 0; i < count; i++) text += String(integer(0, 9));
  return text;
};

function buildRates(): Rate[] {
  const prefixes = new Set<string>();
  while (prefixes.size < PREFIXES) prefixes.add(String(integer(1, 9)) + digits(integer(1, 8)));
  const rates: Rate[] = [];
  const base = {
    description: '',
    connectionFee: 0,
    minimumSeconds: 0,
    initialIncrement: 60,
    subsequentIncrement: 60,
    connectionFeePolicy: 'answered' as const,
  };
  for (const prefix of prefixes) {
    const windows = random() < 0.2 ? integer(2, 3) : 1;
    // Consecutive windows starting 2024-01-01, then 2025-01-01 and 2025-07-01; the last is open-ended.
    const starts = [Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1), Date.UTC(2025, 6, 1)].slice(0, windows);
    starts.forEach((start, i) => {
      const next = starts[i + 1];
      rates.push({
        ...base,
        prefix,
        pricePerMinute: integer(1_000, 500_000),
        effectiveFrom: new Date(start),
        effectiveUntil: next === undefined ? null : new Date(next),
      });
    });
  }
  return rates;
}

function percentile(sorted: Float64Array, p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

const round = (value: number, places = 3): number => Number(value.toFixed(places));

const buildStart = process.hrtime.bigint();
const rates = buildRates();
const tariffStart = process.hrtime.bigint();
const tariff = new Tariff('bench', rates);
const built = process.hrtime.bigint();

const prefixList = [...new Set(rates.map((rate) => rate.prefix))];
const numbers: string[] = new Array<string>(LOOKUPS);
for (let i = 0; i < LOOKUPS; i++) {
  if (random() < 0.9) {
    const prefix = prefixList[integer(0, prefixList.length - 1)] as string;
    numbers[i] = prefix + digits(integer(11, 15) - prefix.length);
  } else {
    numbers[i] = `0${digits(10)}`;
  }
}
const instants = [new Date(Date.UTC(2024, 5, 1)), new Date(Date.UTC(2025, 2, 1)), new Date(Date.UTC(2025, 8, 1))];

let hits = 0;
for (let i = 0; i < WARMUP; i++) {
  if (tariff.lookup(numbers[i % LOOKUPS] as string, instants[i % 3] as Date) !== undefined) hits += 1;
}

// Timer overhead: two back-to-back hrtime.bigint calls.
const overhead = new Float64Array(LOOKUPS);
for (let i = 0; i < LOOKUPS; i++) {
  const t0 = process.hrtime.bigint();
  const t1 = process.hrtime.bigint();
  overhead[i] = Number(t1 - t0);
}
overhead.sort();

// Pass 1: every lookup timed on its own.
const single = new Float64Array(LOOKUPS);
hits = 0;
for (let i = 0; i < LOOKUPS; i++) {
  const number = numbers[i] as string;
  const instant = instants[i % 3] as Date;
  const t0 = process.hrtime.bigint();
  const rate = tariff.lookup(number, instant);
  const t1 = process.hrtime.bigint();
  single[i] = Number(t1 - t0);
  if (rate !== undefined) hits += 1;
}
single.sort();

// Pass 2: batches.
const batches = new Float64Array(LOOKUPS / BATCH);
const passStart = process.hrtime.bigint();
for (let b = 0; b < batches.length; b++) {
  const t0 = process.hrtime.bigint();
  for (let i = b * BATCH; i < (b + 1) * BATCH; i++) {
    if (tariff.lookup(numbers[i] as string, instants[i % 3] as Date) !== undefined) hits += 1;
  }
  batches[b] = Number(process.hrtime.bigint() - t0) / BATCH;
}
const passNs = Number(process.hrtime.bigint() - passStart);
batches.sort();

const us = (ns: number): number => round(ns / 1_000);
const result = {
  benchmark: 'rating-lookup',
  date: new Date().toISOString(),
  node: process.version,
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  load_average_1m: round(loadavg()[0] ?? 0, 2),
  tariff: {
    prefixes: PREFIXES,
    rates: tariff.size,
    build_ms: round(Number(built - tariffStart) / 1e6, 1),
    generate_ms: round(Number(tariffStart - buildStart) / 1e6, 1),
  },
  lookups: LOOKUPS,
  hit_rate: round(hits / (2 * LOOKUPS)),
  heap_used_mb: round(process.memoryUsage().heapUsed / 2 ** 20, 1),
  single_lookup_us: {
    p50: us(percentile(single, 50)),
    p99: us(percentile(single, 99)),
    p999: us(percentile(single, 99.9)),
    max: us(percentile(single, 100)),
  },
  timer_overhead_ns: { p50: percentile(overhead, 50), p99: percentile(overhead, 99) },
  batch_mean_us: {
    batch_size: BATCH,
    p50: us(percentile(batches, 50)),
    p99: us(percentile(batches, 99)),
    max: us(percentile(batches, 100)),
  },
  lookups_per_second: Math.round(LOOKUPS / (passNs / 1e9)),
  goal: { p99_us: 20, met: percentile(single, 99) <= 20_000 },
};

mkdirSync('bench-results', { recursive: true });
writeFileSync(OUTPUT, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
