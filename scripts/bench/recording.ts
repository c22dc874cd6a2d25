/**
 * Cost of call recording on the embedded media endpoint: the same number of bridged calls (RTP
 * relayed both ways, 50 packets a second each way, from the peers of scripts/bench/media-capacity.ts
 * in a child process) held first unrecorded, then recorded (MediaSession.record into a
 * DirectoryRecordingStore on a temporary directory). Reported per recorded call-second: the
 * media process's extra CPU, the bytes of the files, the bytes the process wrote (/proc/self/io
 * wchar), and how long closing a recording takes (the header, fsync, rename, SHA-256 of the file).
 *
 * Then the capacity of one process: a step series of recorded bridged calls (--capacity, default
 * 100,200,300,400; --capacity-seconds each; no new step once --budget seconds have passed), each
 * step judged on every relayed stream (both directions of every call): loss (sequence gaps at the
 * receiving peer) above 0.1 % of the packets; lateness of the media process, its event-loop delay
 * p99 above 20 ms (one packet time: a packet waits that long in the socket before it is relayed
 * and recorded); or the media process above 0.9 core (90 % CPU). The series stops at the first
 * step that fails; the largest step before it is the one held cleanly. Reported with it: each
 * packet's transit from peer to peer through the media process (the peers stamp their send time
 * into the payload, which the relay passes on), the inter-arrival deviation from the 20 ms pacing
 * and the packets short of 50 a second per stream; these include the peer process's own delays,
 * which on a machine of two cores share the CPU with the media process.
 *
 *   npx tsx scripts/bench/recording.ts [--calls 20,50,100] [--seconds 10] [--capacity 100,200,300,400] [--capacity-seconds 8] [--budget 300]
 *
 * Writes bench-results/recording.json.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EmbeddedMediaServer } from '../../src/media/embedded/embedded-media-server.ts';
import { buildSdp, parseSdp } from '../../src/media/embedded/sdp.ts';
import type { CallerDialog, MediaSession, Recording } from '../../src/media/media-port.ts';
import { DirectoryRecordingStore } from '../../src/recordings/recording-store.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

function ask<T>(child: ChildProcess, msg: object, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { cmd: string }): void => {
      if (m.cmd === reply) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class NullDialog implements CallerDialog {
  on(): this {
    return this;
  }
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}

/** Bytes this process has passed to write(2) so far (Linux); undefined elsewhere. */
function writtenBytes(): number | undefined {
  try {
    const m = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The thresholds a capacity step is judged on (stated in the output). */
const LIMITS = { lossRatio: 0.001, eventLoopDelayP99Ms: 20, cpuPercent: 90 } as const;

async function runStep(calls: number, seconds: number, record: boolean, everyStreamTimed = false): Promise<Record<string, unknown>> {
  // the callers and carriers of the media-capacity benchmark (its child mode)
  const child = fork(path.join(here, 'media-capacity.ts'), ['--peers', ...(everyStreamTimed ? ['--transit'] : [])], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-recordings-'));
  const store = new DirectoryRecordingStore(dir);
  let lastAnswer = '';
  const server = new EmbeddedMediaServer({
    uas: {
      createUAS: (_req, _res, opts) => {
        lastAnswer = opts.localSdp;
        return Promise.resolve(new NullDialog());
      },
    },
    portMin: 42000,
    // room to spare: the peers bind ephemeral ports, some of which fall in this range
    portMax: 42000 + calls * 8 + 200,
    soundsDir: path.join(root, 'freeswitch/sounds'),
    rtpTimeoutMs: 0,
    recordings: store,
  });
  const { ports } = await ask<{ ports: number[] }>(child, { cmd: 'open', n: 2 * calls }, 'opened');
  const targets: { index: number; port: number }[] = [];
  const sessions: MediaSession[] = [];
  for (let i = 0; i < calls; i++) {
    const sdp = buildSdp({ address: '127.0.0.1', port: ports[2 * i] ?? 0, codecs: [{ codec: 'PCMU', pt: 0 }], eventPt: 101 });
    const session = await server.answer({ body: sdp, get: () => undefined }, { send: () => undefined }, {});
    sessions.push(session);
    targets.push({ index: 2 * i, port: parseSdp(lastAnswer).port });
    const leg = await session.createLeg();
    targets.push({ index: 2 * i + 1, port: parseSdp(leg.localSdp).port });
    await leg.setRemoteSdp(buildSdp({ address: '127.0.0.1', port: ports[2 * i + 1] ?? 0, codecs: [{ codec: 'PCMU', pt: 0 }], eventPt: 101 }));
    await session.bridge(leg);
  }
  await ask(child, { cmd: 'targets', targets, jitter: everyStreamTimed ? targets.map((t) => t.index) : [] }, 'sending');
  await sleep(1000);
  child.send({ cmd: 'measure' });
  server.clock.stats.maxLatenessMs = 0;
  const skipped0 = server.clock.stats.skipped;
  const w0 = writtenBytes();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const recordings: Recording[] = record ? await Promise.all(sessions.map((s, i) => s.record(`bench/${i}.wav`))) : [];
  // the steady state: every call recording, none starting or closing
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  await sleep(seconds * 1000);
  loopDelay.disable();
  const stopTimes: number[] = [];
  const facts = await Promise.all(
    recordings.map(async (r) => {
      const s = performance.now();
      const f = await r.stop();
      stopTimes.push(performance.now() - s);
      return f;
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const loopMs = (ns: number) => Number((ns / 1e6).toFixed(2));
  const w1 = writtenBytes();
  const report = await ask<{ packets: number; lost: number; jitter: Record<string, number>; transit: Record<string, number> }>(
    child,
    { cmd: 'report' },
    'report',
  );
  const ms = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([key, v]) => [key, Number(v.toFixed(2))]));
  const clockMaxLatenessMs = Number(server.clock.stats.maxLatenessMs.toFixed(2));
  const clockSkippedTicks = server.clock.stats.skipped - skipped0;
  child.send({ cmd: 'stop' });
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const fileBytes = facts.reduce((s, f) => s + f.bytes, 0);
  const recordedSeconds = facts.reduce((s, f) => s + f.durationMs / 1000, 0);
  stopTimes.sort((a, b) => a - b);
  return {
    calls,
    recorded: record,
    seconds: Number(elapsed.toFixed(2)),
    cpuMsPerCallSecond: Number(((cpuSeconds * 1000) / (calls * elapsed)).toFixed(3)),
    mediaProcessCpuPercent: Number(((cpuSeconds / elapsed) * 100).toFixed(1)),
    packetsReceived: report.packets,
    lost: report.lost,
    ...(everyStreamTimed
      ? {
          // every relayed stream, both directions, 50 packets a second each
          packetsExpected: Math.round(elapsed * 50 * 2 * calls),
          eventLoopDelayMs: { p50: loopMs(loopDelay.percentile(50)), p99: loopMs(loopDelay.percentile(99)), max: loopMs(loopDelay.max) },
          transitMs: ms(report.transit),
          interArrivalDeviationMs: ms(report.jitter),
          clockMaxLatenessMs,
          clockSkippedTicks,
        }
      : {}),
    ...(record
      ? {
          recordedSeconds: Number(recordedSeconds.toFixed(1)),
          fileBytesPerCallSecond: Math.round(fileBytes / recordedSeconds),
          writtenBytesPerCallSecond: w0 !== undefined && w1 !== undefined ? Math.round((w1 - w0) / recordedSeconds) : null,
          stopMs: { p50: Number((stopTimes[Math.floor(stopTimes.length / 2)] ?? 0).toFixed(1)), max: Number((stopTimes.at(-1) ?? 0).toFixed(1)) },
        }
      : {}),
  };
}

async function main(): Promise<void> {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? (process.argv[i + 1] ?? def) : def;
  };
  const steps = arg('--calls', '20,50,100').split(',').filter(Boolean).map(Number);
  const seconds = Number(arg('--seconds', '10'));
  const results: Record<string, unknown>[] = [];
  for (const n of steps) {
    const plain = await runStep(n, seconds, false);
    const recorded = await runStep(n, seconds, true);
    const extra = (recorded.cpuMsPerCallSecond as number) - (plain.cpuMsPerCallSecond as number);
    const r = { calls: n, unrecorded: plain, recorded, extraCpuMsPerRecordedCallSecond: Number(extra.toFixed(3)) };
    results.push(r);
    console.log(JSON.stringify(r));
  }
  // capacity: recorded calls stepped up until loss, lateness or CPU passes its limit
  const capacitySteps = arg('--capacity', '100,200,300,400').split(',').filter(Boolean).map(Number);
  const capacitySeconds = Number(arg('--capacity-seconds', '8'));
  const budgetMs = Number(arg('--budget', '300')) * 1000;
  const started = performance.now();
  const series: Record<string, unknown>[] = [];
  let heldCleanly: number | undefined;
  let stoppedBy = 'the list ended';
  for (const n of capacitySteps) {
    if (performance.now() - started > budgetMs) {
      stoppedBy = `the time budget (${budgetMs / 1000} s)`;
      break;
    }
    const r = await runStep(n, capacitySeconds, true, true);
    const received = r.packetsReceived as number;
    const lossRatio = received > 0 ? (r.lost as number) / (received + (r.lost as number)) : 1;
    const lateP99 = (r.eventLoopDelayMs as { p99: number }).p99;
    const cpu = r.mediaProcessCpuPercent as number;
    const failed = [
      ...(lossRatio > LIMITS.lossRatio ? ['loss'] : []),
      ...(lateP99 > LIMITS.eventLoopDelayP99Ms ? ['late'] : []),
      ...(cpu > LIMITS.cpuPercent ? ['cpu'] : []),
    ];
    const step = {
      ...r,
      lossRatio: Number(lossRatio.toFixed(5)),
      sentShortfall: Number((1 - received / (r.packetsExpected as number)).toFixed(4)),
      held: failed.length === 0,
      failed,
      loadavg: loadavg(),
    };
    series.push(step);
    console.log(JSON.stringify(step));
    if (failed.length > 0) {
      stoppedBy = `${failed.join(', ')} at ${n} calls`;
      break;
    }
    heldCleanly = n;
  }
  const out = {
    benchmark: 'recording',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavg: loadavg(),
    what: 'bridged calls on the embedded endpoint, unrecorded then recorded (stereo 16-bit WAV into a directory store on tmpfs or disk, as /tmp is)',
    steps: results,
    capacity: {
      what: 'recorded bridged calls held at once by one media process (every call both ways recorded), stepped up',
      criterion: `a step is held cleanly with at most ${LIMITS.lossRatio * 100} % of the relayed packets lost (sequence gaps), the media process's event-loop delay p99 at most ${LIMITS.eventLoopDelayP99Ms} ms (no packet waits longer than one packet time before it is relayed and recorded), and the media process at most ${LIMITS.cpuPercent} % of one core`,
      heldCleanly: heldCleanly ?? null,
      stoppedBy,
      seconds: capacitySeconds,
      steps: series,
    },
  };
  mkdirSync(path.join(root, 'bench-results'), { recursive: true });
  writeFileSync(path.join(root, 'bench-results/recording.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`recorded calls held cleanly by one process: ${heldCleanly ?? 'below the first step'} (stopped by ${stoppedBy})`);
}

void main();
