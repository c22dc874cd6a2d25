/**
 * Long-form soak and fault run, by hand:
 *   npx tsx scripts/soak/soak.ts --duration=30m --cps=20 --hold=20 [--fault-every=5m] [--postgres-down=60]
 *
 * Two SIP application processes (child processes) on one embedded edge, sharing Redis and
 * Postgres (Postgres: the test database, in a schema of its own; Redis: one of the run's own, with
 * AOF, when the redis fault is on), a steady sipp load of prepaid device calls answered by a sipp
 * carrier. Every --fault-every, the next of --faults in turn (default all four):
 *   app       one app process SIGKILLed (its ledger writer with it) and a new one started
 *   postgres  Postgres taken away for --postgres-down seconds
 *   redis     Redis SIGKILLed and restarted from its AOF (appendfsync always)
 *   edge      the SIP server stopped and a new one started on the same ports
 * RSS of each app process and of this runner (the edge runs in it) is sampled every 10 s. At the
 * end the load stops, every call must be settled, every event written, and for each account:
 * top-ups − Σ cost = balance in Redis and in Postgres, nothing reserved, no duplicate CDR.
 * Prints a JSON report (RSS per process: first, last, peak, growth) and writes it with every RSS
 * sample to bench-results/soak.json; exit 1 if an invariant fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { RATE_PER_SECOND, SoakHarness } from '../../test/soak/soak-harness.ts';
import type { Sipp } from '../../test/soak/soak-harness.ts';

function arg(name: string, fallback: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
}
function seconds(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text);
  if (!m) throw new Error(`bad duration ${text} (e.g. 90s, 30m, 2h)`);
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

const durationS = seconds(arg('duration', '30m'));
const cps = Number(arg('cps', '20'));
const holdS = Number(arg('hold', '20'));
const faultEveryS = seconds(arg('fault-every', '5m'));
const postgresDownS = Number(arg('postgres-down', '60'));
const FAULTS = ['app', 'postgres', 'redis', 'edge'] as const;
type Fault = (typeof FAULTS)[number];
const faultList = arg('faults', FAULTS.join(','))
  .split(',')
  .filter((f) => f !== '');
for (const f of faultList) if (!(FAULTS as readonly string[]).includes(f)) throw new Error(`unknown fault ${f} (one of ${FAULTS.join(', ')})`);
const faultsInTurn = faultList as Fault[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cumulative successful and failed calls of sipp's last statistics screen. */
function sippTotals(stdout: string): { successful: number; failed: number } {
  const last = (label: string) => {
    const all = [...stdout.matchAll(new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, 'g'))];
    return Number(all.at(-1)?.[1] ?? 0);
  };
  return { successful: last('Successful call'), failed: last('Failed call') };
}

async function main(): Promise<number> {
  const h = await SoakHarness.start('soaklong', {}, { ownRedis: faultsInTurn.includes('redis') });
  const report: Record<string, unknown> = { startedAt: new Date().toISOString(), durationS, cps, holdS, faultEveryS, postgresDownS, faultsInTurn };
  const rss: { at: number; rss: Record<string, number> }[] = [];
  const faults: { at: number; fault: string }[] = [];
  let carrier: Sipp | undefined;
  const loads: Sipp[] = [];
  try {
    await Promise.all([h.startApp('app-1'), h.startApp('app-2')]);
    const started = Date.now();
    const calls = Math.ceil(durationS * cps) + 100;
    carrier = h.carrier(calls * 2, durationS + holdS + 120);
    // one account per 5 calls per second (sipp rates are whole calls per second)
    const devices = await Promise.all(Array.from({ length: Math.max(1, Math.floor(cps / 5)) }, () => h.device(1_000_000 * RATE_PER_SECOND, 1000)));
    const rate = Math.max(1, Math.round(cps / devices.length));
    for (const d of devices)
      loads.push(h.calls(d, { calls: Math.ceil(durationS * rate), rate, holdMs: holdS * 1000, timeoutSec: durationS + holdS + 60, limit: 100_000 }));
    const sampler = setInterval(
      () => rss.push({ at: Math.round((Date.now() - started) / 1000), rss: { ...h.rss(), 'runner+edge': Math.round(process.memoryUsage().rss / 1024) } }),
      10_000,
    );
    let n = 0;
    while (Date.now() - started < durationS * 1000) {
      await sleep(Math.min(faultEveryS * 1000, durationS * 1000 - (Date.now() - started)));
      if (Date.now() - started >= durationS * 1000) break;
      const at = Math.round((Date.now() - started) / 1000);
      const fault = faultsInTurn[n++ % faultsInTurn.length];
      if (fault === 'app') {
        const victim = h.apps.filter((a) => a.child.exitCode === null && a.child.signalCode === null)[0]!;
        await victim.kill('SIGKILL');
        faults.push({ at, fault: `${victim.name} killed` });
        await h.startApp(`${victim.name}-r${n}`);
      } else if (fault === 'postgres') {
        await h.pgProxy.down();
        faults.push({ at, fault: `Postgres away for ${postgresDownS} s` });
        await sleep(postgresDownS * 1000);
        await h.pgProxy.up();
      } else if (fault === 'redis') {
        const t = Date.now();
        await h.restartRedis();
        faults.push({ at, fault: `Redis killed and restarted from AOF (${Date.now() - t} ms)` });
      } else if (fault === 'edge') {
        const t = Date.now();
        await h.restartEdge();
        faults.push({ at, fault: `SIP server restarted (${Date.now() - t} ms)` });
      }
    }
    const results = await Promise.all(loads.map((l) => l.done));
    clearInterval(sampler);
    await h.until(async () => (await h.live()).length === 0, 120_000, 'every call settled', 1000);
    await h.until(async () => (await h.unwritten()) === 0, 120_000, 'every event written', 1000);
    const money = await Promise.all(devices.map((d) => h.money(d.accountId)));
    const broken = money.filter(
      (m) =>
        m.topUps - m.costs !== m.redisBalance || m.postgresBalance !== m.redisBalance || m.reserved !== 0 || m.callsInProgress !== 0 || m.duplicateCdrs !== 0,
    );
    // per process over its own life: first and last sample, peak, and growth (last − first)
    const perProcess: Record<string, { firstAtS: number; lastAtS: number; firstKb: number; lastKb: number; maxKb: number; growthKb: number; samples: number }> =
      {};
    for (const sample of rss) {
      for (const [name, kb] of Object.entries(sample.rss)) {
        const p = perProcess[name];
        if (!p) perProcess[name] = { firstAtS: sample.at, lastAtS: sample.at, firstKb: kb, lastKb: kb, maxKb: kb, growthKb: 0, samples: 1 };
        else Object.assign(p, { lastAtS: sample.at, lastKb: kb, maxKb: Math.max(p.maxKb, kb), growthKb: kb - p.firstKb, samples: p.samples + 1 });
      }
    }
    Object.assign(report, {
      finishedAt: new Date().toISOString(),
      faults,
      sippExitCodes: results.map((r) => r.code),
      deviceCalls: results
        .map((r) => sippTotals(r.stdout))
        .reduce((a, t) => ({ successful: a.successful + t.successful, failed: a.failed + t.failed }), { successful: 0, failed: 0 }),
      cdrs: money.reduce((a, m) => a + m.cdrs, 0),
      answeredCdrs: money.reduce((a, m) => a + m.answeredCdrs, 0),
      rssKb: perProcess,
      moneyInvariantBroken: broken,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/soak.json', `${JSON.stringify({ ...report, rssSamples: rss }, null, 2)}\n`);
    return broken.length === 0 ? 0 : 1;
  } finally {
    for (const l of loads) l.kill();
    carrier?.kill();
    await h.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`soak failed: ${err.message}\n`);
    process.exit(1);
  },
);
