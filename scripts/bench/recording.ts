/**
 * Cost of call recording on the embedded media endpoint: the same number of bridged calls (RTP
 * relayed both ways, 50 packets a second each way, from the peers of scripts/bench/media-capacity.ts
 * in a child process) held first unrecorded, then recorded (MediaSession.record into a
 * DirectoryRecordingStore on a temporary directory). Reported per recorded call-second: the
 * media process's extra CPU, the bytes of the files, the bytes the process wrote (/proc/self/io
 * wchar), and how long closing a recording takes (the header, fsync, rename, SHA-256 of the file).
 *
 *   npx tsx scripts/bench/recording.ts [--calls 20,50,100] [--seconds 10]
 *
 * Writes bench-results/recording.json.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
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

async function runStep(calls: number, seconds: number, record: boolean): Promise<Record<string, unknown>> {
  // the callers and carriers of the media-capacity benchmark (its child mode)
  const child = fork(path.join(here, 'media-capacity.ts'), ['--peers'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
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
    portMax: 42000 + calls * 4 + 10,
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
  await ask(child, { cmd: 'targets', targets, jitter: [] }, 'sending');
  await sleep(1000);
  child.send({ cmd: 'measure' });
  const w0 = writtenBytes();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const recordings: Recording[] = record ? await Promise.all(sessions.map((s, i) => s.record(`bench/${i}.wav`))) : [];
  await sleep(seconds * 1000);
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
  const w1 = writtenBytes();
  const report = await ask<{ packets: number; lost: number }>(child, { cmd: 'report' }, 'report');
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
  const steps = arg('--calls', '20,50,100').split(',').map(Number);
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
  const out = {
    benchmark: 'recording',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavg: loadavg(),
    what: 'bridged calls on the embedded endpoint, unrecorded then recorded (stereo 16-bit WAV into a directory store on tmpfs or disk, as /tmp is)',
    steps: results,
  };
  mkdirSync(path.join(root, 'bench-results'), { recursive: true });
  writeFileSync(path.join(root, 'bench-results/recording.json'), JSON.stringify(out, null, 2) + '\n');
}

void main();
