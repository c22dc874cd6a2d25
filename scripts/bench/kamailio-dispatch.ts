/**
 * Kamailio's cost per call in front of a SIP server: SIPp UAC → Kamailio (the shipped
 * sip-config/kamailio/kamailio.cfg, Debian's package) → edge (own process) → trivial createUAS app;
 * the caller's ACK and BYE follow Kamailio's Record-Route. Beside it, in the same run and at the same
 * rates, the reference: the same calls straight to the edge. For each rate: calls answered and
 * failed, retransmissions, and the CPU of Kamailio (its main process and every worker it forked),
 * of the edge and of the app, from /proc. docs/scaling.md sizes Kamailio from the CPU per call.
 *
 *   npx tsx scripts/bench/kamailio-dispatch.ts [--rates 100,300] [--duration 20] [--children 4]
 *
 * Writes bench-results/kamailio.json. Loopback only; every SIPp run bounded by -m and -timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { KamailioProcess, kamailioUnavailable } from '../../test/support/kamailio-process.ts';
import { randomLoopback, randomPort } from '../../test/support/edge-apps/ports.ts';
import { runSipp, waitLine } from './lib/sipp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const rates = opt('--rates', '100,300').split(',').map(Number);
const duration = Number(opt('--duration', '20'));
const children = Number(opt('--children', '4'));
const CLK = 100; // USER_HZ
const SECRET = 'bench';

const why = kamailioUnavailable();
if (why) {
  console.error(`kamailio-dispatch: ${why}`);
  process.exit(1);
}

function ticksOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // exited
  }
}
/** The process and every process it forked (Kamailio's workers), by parent pid. */
function treeOf(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}
const treeTicks = (pids: number[]) => pids.reduce((sum, p) => sum + ticksOf(p), 0);

function stop(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}

async function startEdgeAndApp(ip: string, sipPort: number): Promise<{ edge: ChildProcess; app: ChildProcess }> {
  const adminPort = randomPort();
  const edge = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/edge/bin/main.ts',
      '--sip',
      `udp/${ip}:${sipPort}`,
      '--admin-host',
      ip,
      '--admin-port',
      String(adminPort),
      '--secret',
      SECRET,
      '--log-level',
      'error',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await waitLine(edge, 'edge-ready');
  const app = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/edge-trivial-app.ts', ip, String(adminPort), SECRET], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitLine(app, 'app-ready');
  return { edge, app };
}

interface Run {
  path: 'through Kamailio' | 'straight to the edge';
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  wallSec: number;
  cpuMsPerCall: { kamailio?: number; edge: number; app: number };
  setupMsP50: number;
  setupMsP99: number;
  loadavg1m: number;
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function measure(rate: number, viaKamailio: boolean): Promise<Run> {
  const ip = randomLoopback();
  const sipPort = randomPort();
  const { edge, app } = await startEdgeAndApp(ip, sipPort);
  let kam: KamailioProcess | undefined;
  try {
    if (viaKamailio) {
      kam = new KamailioProcess({ servers: [`${ip}:${sipPort}`], probeIntervalSeconds: 5, pikeDensity: 1_000_000, children });
      await kam.start();
    }
    const kamPids = kam ? treeOf(kam.pid!) : [];
    const calls = rate * duration;
    const before = { kam: treeTicks(kamPids), edge: ticksOf(edge.pid!), app: ticksOf(app.pid!) };
    const run = runSipp('../edge/uac-route-set-bye.xml', {
      rate,
      calls,
      timeoutSec: duration + 30,
      ip: randomLoopback(),
      port: randomPort(),
      remote: kam ? kam.hostport : `${ip}:${sipPort}`,
    });
    const out = await run.done;
    const per = (t: number) => +((t * 1000) / CLK / Math.max(out.successful, 1)).toFixed(3);
    const r: Run = {
      path: viaKamailio ? 'through Kamailio' : 'straight to the edge',
      rate,
      calls,
      successful: out.successful,
      failed: out.failed,
      retransmissions: out.retransmissions,
      wallSec: +out.wallSec.toFixed(1),
      cpuMsPerCall: {
        ...(kam ? { kamailio: per(treeTicks(kamPids) - before.kam) } : {}),
        edge: per(ticksOf(edge.pid!) - before.edge),
        app: per(ticksOf(app.pid!) - before.app),
      },
      setupMsP50: pct(out.setupMs, 50),
      setupMsP99: pct(out.setupMs, 99),
      loadavg1m: +loadavg()[0]!.toFixed(2),
    };
    console.log(JSON.stringify(r));
    if (out.failed > 0)
      console.error(
        out.errors.slice(0, 1500),
        kam
          ? kam.log
              .filter((l) => /ERROR|WARN|CRIT|ALERT/.test(l))
              .slice(-20)
              .join('\n')
          : '',
      );
    return r;
  } finally {
    await kam?.stop();
    await stop(app);
    await stop(edge);
  }
}

const runs: Run[] = [];
for (const rate of rates) {
  runs.push(await measure(rate, false));
  runs.push(await measure(rate, true));
}
mkdirSync(resolve(ROOT, 'bench-results'), { recursive: true });
writeFileSync(
  resolve(ROOT, 'bench-results/kamailio.json'),
  `${JSON.stringify(
    {
      benchmark: 'kamailio-dispatch',
      date: new Date().toISOString(),
      command: `npx tsx scripts/bench/kamailio-dispatch.ts ${args.join(' ')}`.trim(),
      method:
        'SIPp UAC (INVITE, ACK and BYE by the Record-Route set) → Kamailio with sip-config/kamailio/kamailio.cfg → edge → trivial createUAS app; reference: the same calls straight to the edge; CPU from /proc over the SIPp run, per answered call',
      kamailioChildren: children,
      runs,
    },
    null,
    1,
  )}\n`,
);
