/**
 * Starts the SIP server a test file talks to: by default an in-process edge on a random loopback
 * address and random free ports, with short RFC 3261 timers, so e2e test files run in parallel
 * and never wait 32 s; with TEST_SIP_SERVER=drachtio a real drachtio-server instead
 * (test/support/sip-server-under-test.ts).
 */
import Srf from 'drachtio-srf';
import { buildEdgeConfig, type EdgeConfig, type EdgeTcpLimits, type EdgeTimers } from '../../../src/edge/config/edge-config.ts';
import { EdgeServer } from '../../../src/edge/core/edge-server.ts';
import { startDrachtioServer } from '../drachtio-server-process.ts';
import { SIP_SERVER } from '../sip-server-under-test.ts';
import { randomLoopback, randomPort } from './ports.ts';
import type { SrfApp } from './srf-views.ts';

export const SECRET = 'cymru';

export interface TestEdge {
  /** `edge`: the in-process edge; `drachtio`: a real drachtio-server (its internals are not visible). */
  readonly kind: 'edge' | 'drachtio';
  /** The in-process edge (undefined on drachtio-server; see {@link edgeOf}). */
  readonly edge: EdgeServer | undefined;
  readonly config: EdgeConfig | undefined;
  readonly ip: string;
  readonly sipPort: number;
  readonly adminPort: number;
  readonly secret: string;
  /** `ip:port` of the SIP listening points, for sipp's remote argument. */
  readonly sipHostport: string;
  stop(): Promise<void>;
}

export interface TestEdgeOptions {
  readonly timers?: Partial<EdgeTimers>;
  readonly ip?: string;
  readonly rateLimitPerSource?: number;
  readonly tcp?: Partial<EdgeTcpLimits>;
}

/** Short timers by default: T1 = 50 ms, so 64·T1 (Timer B/F/H) is 3.2 s. */
export const FAST_TIMERS: Partial<EdgeTimers> = { t1Ms: 50, t2Ms: 400, t4Ms: 500, pendingRequestMs: 6400 };

/** The in-process edge of a test, for tests of its internals (they run only on the edge: `it.skipIf(onlyOnEdge)`). */
export function edgeOf(t: TestEdge): EdgeServer {
  if (t.edge === undefined) throw new Error('this test needs the embedded edge; it cannot look inside drachtio-server');
  return t.edge;
}

export async function startEdge(options: TestEdgeOptions = {}): Promise<TestEdge> {
  if (SIP_SERVER.kind === 'unavailable') throw new Error(`SIP server not available: ${SIP_SERVER.reason}`);
  if (SIP_SERVER.kind === 'drachtio') {
    if ('bin' in SIP_SERVER) {
      const d = await startDrachtioServer(SIP_SERVER.bin, SECRET);
      return {
        kind: 'drachtio',
        edge: undefined,
        config: undefined,
        ip: d.ip,
        sipPort: d.sipPort,
        adminPort: d.adminPort,
        secret: d.secret,
        sipHostport: `${d.ip}:${d.sipPort}`,
        stop: () => d.stop(),
      };
    }
    const { admin, sip, secret } = SIP_SERVER;
    return {
      kind: 'drachtio',
      edge: undefined,
      config: undefined,
      ip: sip.host,
      sipPort: sip.port,
      adminPort: admin.port,
      secret,
      sipHostport: `${sip.host}:${sip.port}`,
      stop: () => Promise.resolve(),
    };
  }
  const ip = options.ip ?? randomLoopback();
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = randomPort();
    const config = buildEdgeConfig({
      sip: [
        { protocol: 'udp', host: ip, port },
        { protocol: 'tcp', host: ip, port },
      ],
      admin: { host: ip, port: 0, secret: SECRET },
      timers: { ...FAST_TIMERS, ...options.timers },
      rateLimitPerSource: options.rateLimitPerSource ?? 0,
      ...(options.tcp ? { tcp: options.tcp } : {}),
      logLevel: 'silent',
    });
    const edge = new EdgeServer(config);
    try {
      const addresses = await edge.start();
      return {
        kind: 'edge',
        edge,
        config,
        ip,
        sipPort: port,
        adminPort: addresses.admin.port,
        secret: SECRET,
        sipHostport: `${ip}:${port}`,
        stop: () => edge.stop(),
      };
    } catch (err) {
      lastError = err;
      await edge.stop().catch(() => undefined);
    }
  }
  throw new Error(`could not start the edge: ${String(lastError)}`);
}

/** A drachtio-srf app connected to the edge (resolves once authenticated). */
export async function connectApp(edge: TestEdge): Promise<SrfApp> {
  const srf = new Srf();
  await new Promise<void>((resolve, reject) => {
    srf.once('connect', (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    void srf.connect({ host: edge.ip, port: edge.adminPort, secret: edge.secret }); // the outcome arrives as 'connect'
  });
  return srf as unknown as SrfApp;
}

/** Waits until `predicate` holds, checking after every event-loop turn (bounded by `timeoutMs`). */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise with its resolve function, for events a test waits for. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
