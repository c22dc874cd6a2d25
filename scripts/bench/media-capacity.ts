/**
 * Capacity of the embedded media endpoint: concurrent calls held in it, half in the IVR (a
 * prompt playing, looped, paced by the shared clock; the caller sending RTP in) and half bridged
 * (RTP relayed both ways between a caller and a carrier). The callers and carriers run in a
 * child process that records what arrives: pacing jitter (|inter-arrival − 20 ms|) of the prompt
 * streams, and loss (sequence gaps) on every stream. CPU of the media process per call.
 *
 * Steps up the call count until p99 jitter > 10 ms or loss appears (or the list ends).
 *
 *   npx tsx scripts/bench/media-capacity.ts [--steps 50,100,200,400,600,800] [--seconds 8]
 *
 * Writes bench-results/media-capacity.json.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EmbeddedMediaServer } from '../../src/media/embedded/embedded-media-server.ts';
import { decodeRtp, encodeRtp } from '../../src/media/embedded/rtp-packet.ts';
import { buildSdp, parseSdp } from '../../src/media/embedded/sdp.ts';
import type { CallerDialog, MediaSession } from '../../src/media/media-port.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

// ---------------------------------------------------------------- child: callers and carriers

interface StreamStats {
  packets: number;
  lost: number;
  lastSeq: number | undefined;
  lastAt: number | undefined;
  dev: number[];
  /** Sent → received through the media process, ms (streams whose sender stamps its payload). */
  transit: number[];
}

function childMain(): void {
  const sockets: { socket: Socket; target?: { port: number }; seq: number; ts: number; measureJitter: boolean; measureTransit: boolean; stats: StreamStats }[] =
    [];
  let measuring = false;
  let sender: ReturnType<typeof setInterval> | undefined;
  process.on('message', (m: { cmd: string; n?: number; targets?: { index: number; port: number }[]; jitter?: number[] }) => {
    if (m.cmd === 'open') {
      const n = m.n ?? 0;
      const ports: number[] = [];
      let pending = n;
      for (let i = 0; i < n; i++) {
        const socket = dgram.createSocket('udp4');
        const entry = {
          socket,
          seq: 0,
          ts: 0,
          measureJitter: false,
          measureTransit: false,
          stats: { packets: 0, lost: 0, lastSeq: undefined, lastAt: undefined, dev: [], transit: [] } as StreamStats,
        };
        sockets.push(entry);
        socket.on('message', (msg) => {
          if (!measuring) return;
          const p = decodeRtp(msg);
          if (p === undefined) return;
          const s = entry.stats;
          const now = performance.now();
          if (s.lastSeq !== undefined) {
            const gap = (p.sequence - s.lastSeq - 1) & 0xffff;
            if (gap > 0 && gap < 1000) s.lost += gap;
            if (entry.measureJitter && s.lastAt !== undefined) s.dev.push(Math.abs(now - s.lastAt - 20));
          }
          if (entry.measureTransit && p.payload.length >= 8) {
            const transit = now - p.payload.readDoubleLE(0);
            if (transit >= 0 && transit < 60_000) s.transit.push(transit);
          }
          s.lastSeq = p.sequence;
          s.lastAt = now;
          s.packets++;
        });
        socket.bind(0, '127.0.0.1', () => {
          ports[i] = socket.address().port;
          if (--pending === 0) process.send?.({ cmd: 'opened', ports });
        });
      }
      if (n === 0) process.send?.({ cmd: 'opened', ports });
    } else if (m.cmd === 'targets') {
      // --transit: every sender stamps its send time into the payload (a relay passes it on unchanged)
      const stamp = process.argv.includes('--transit');
      for (const t of m.targets ?? []) {
        const s = sockets[t.index];
        if (s !== undefined) s.target = { port: t.port };
      }
      for (const j of m.jitter ?? []) {
        const s = sockets[j];
        if (s !== undefined) s.measureJitter = true;
      }
      if (stamp) for (const s of sockets) s.measureTransit = true;
      const payload = Buffer.alloc(160, 0x7f);
      sender ??= setInterval(() => {
        for (const s of sockets) {
          if (s.target === undefined) continue;
          let body = payload;
          if (stamp) {
            body = Buffer.from(payload);
            body.writeDoubleLE(performance.now(), 0);
          }
          s.socket.send(
            encodeRtp({ marker: false, payloadType: 0, sequence: s.seq++ & 0xffff, timestamp: (s.ts += 160) >>> 0, ssrc: 42 }, body),
            s.target.port,
            '127.0.0.1',
          );
        }
      }, 20);
      process.send?.({ cmd: 'sending' });
    } else if (m.cmd === 'measure') {
      for (const s of sockets) s.stats = { packets: 0, lost: 0, lastSeq: undefined, lastAt: undefined, dev: [], transit: [] };
      measuring = true;
    } else if (m.cmd === 'report') {
      measuring = false;
      const dev: number[] = [];
      const transit: number[] = [];
      let packets = 0;
      let lost = 0;
      for (const s of sockets) {
        packets += s.stats.packets;
        lost += s.stats.lost;
        for (const x of s.stats.dev) if (s.measureJitter) dev.push(x);
        for (const x of s.stats.transit) transit.push(x);
      }
      const summary = (xs: number[]) => {
        xs.sort((a, b) => a - b);
        const pct = (p: number): number => (xs.length === 0 ? 0 : (xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? 0));
        return { p50: pct(50), p99: pct(99), p999: pct(99.9), max: xs.at(-1) ?? 0, samples: xs.length };
      };
      process.send?.({ cmd: 'report', packets, lost, jitter: summary(dev), transit: summary(transit) });
    } else if (m.cmd === 'stop') {
      if (sender !== undefined) clearInterval(sender);
      for (const s of sockets) s.socket.close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------- parent: the media server

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

async function runStep(calls: number, seconds: number): Promise<Record<string, unknown>> {
  const child = fork(fileURLToPath(import.meta.url), ['--peers'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  let lastAnswer = '';
  const server = new EmbeddedMediaServer({
    uas: {
      createUAS: (_req, _res, opts) => {
        lastAnswer = opts.localSdp;
        return Promise.resolve(new NullDialog());
      },
    },
    portMin: 40000,
    portMax: 40000 + calls * 4 + 10,
    soundsDir: path.join(root, 'freeswitch/sounds'),
    rtpTimeoutMs: 0,
  });
  const ivr = Math.ceil(calls / 2);
  const bridged = calls - ivr;
  // sockets: IVR call = 1 caller; bridged call = caller + carrier
  const { ports } = await ask<{ ports: number[] }>(child, { cmd: 'open', n: ivr + 2 * bridged }, 'opened');
  const targets: { index: number; port: number }[] = [];
  const jitter: number[] = [];
  const sessions: MediaSession[] = [];
  let k = 0;
  for (let i = 0; i < calls; i++) {
    const callerIndex = k++;
    const sdp = buildSdp({ address: '127.0.0.1', port: ports[callerIndex] ?? 0, codecs: [{ codec: 'PCMU', pt: 0 }], eventPt: 101 });
    const session = await server.answer({ body: sdp, get: () => undefined }, { send: () => undefined }, {});
    sessions.push(session);
    const callerPort = parseSdp(lastAnswer).port;
    targets.push({ index: callerIndex, port: callerPort });
    if (i < ivr) {
      jitter.push(callerIndex);
      void session.play(['welcome', 'enter-pin'], { loop: true });
    } else {
      const carrierIndex = k++;
      const leg = await session.createLeg();
      targets.push({ index: carrierIndex, port: parseSdp(leg.localSdp).port });
      await leg.setRemoteSdp(buildSdp({ address: '127.0.0.1', port: ports[carrierIndex] ?? 0, codecs: [{ codec: 'PCMU', pt: 0 }], eventPt: 101 }));
      await session.bridge(leg);
    }
  }
  await ask(child, { cmd: 'targets', targets, jitter }, 'sending');
  await sleep(1000);
  child.send({ cmd: 'measure' });
  server.clock.stats.maxLatenessMs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const report = await ask<{ packets: number; lost: number; jitter: Record<string, number> }>(child, { cmd: 'report' }, 'report');
  child.send({ cmd: 'stop' });
  await server.close();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const expected = Math.round(elapsed * 50 * (ivr + 2 * bridged));
  return {
    calls,
    ivrCalls: ivr,
    bridgedCalls: bridged,
    seconds: Number(elapsed.toFixed(2)),
    mediaProcessCpuPercent: Number(((cpuSeconds / elapsed) * 100).toFixed(1)),
    cpuMsPerCallSecond: Number(((cpuSeconds * 1000) / (calls * elapsed)).toFixed(3)),
    packetsReceived: report.packets,
    packetsExpected: expected,
    lost: report.lost,
    promptJitterMs: Object.fromEntries(Object.entries(report.jitter).map(([key, v]) => [key, Number(v.toFixed(2))])),
    clockMaxLatenessMs: Number(server.clock.stats.maxLatenessMs.toFixed(2)),
    clockSkippedTicks: server.clock.stats.skipped,
  };
}

async function main(): Promise<void> {
  const arg = (name: string, def: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? (process.argv[i + 1] ?? def) : def;
  };
  const steps = arg('--steps', '50,100,200,400,600,800').split(',').map(Number);
  const seconds = Number(arg('--seconds', '8'));
  const results: Record<string, unknown>[] = [];
  let capacity: number | undefined;
  for (const n of steps) {
    const r = await runStep(n, seconds);
    results.push(r);
    console.log(JSON.stringify(r));
    const p99 = (r.promptJitterMs as { p99: number }).p99;
    if (p99 > 10 || (r.lost as number) > 0) break;
    capacity = n;
  }
  const out = {
    benchmark: 'media-capacity',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavg: loadavg(),
    criterion: 'largest call count with prompt-stream p99 jitter ≤ 10 ms and no loss',
    capacity,
    steps: results,
  };
  mkdirSync(path.join(root, 'bench-results'), { recursive: true });
  writeFileSync(path.join(root, 'bench-results/media-capacity.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`capacity: ${capacity ?? 'below the first step'} calls`);
}

if (process.argv.includes('--peers')) childMain();
else void main();
