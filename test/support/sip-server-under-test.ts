/**
 * Which SIP server the SIP end-to-end suites run against (docs/drachtio-server.md):
 *
 *   TEST_SIP_SERVER unset or `edge`   the embedded edge, in process (the default; CI)
 *   TEST_SIP_SERVER=drachtio          a real drachtio-server, given by
 *     DRACHTIO_BIN=/path/to/drachtio  every test file starts its own on a random loopback address
 *                                     and ports (files run in parallel as usual), or
 *     DRACHTIO_ADMIN=host:port        one already running, with DRACHTIO_SIP=host:port (its SIP
 *     DRACHTIO_SIP=host:port          address) and DRACHTIO_SECRET (default `cymru`); run the
 *                                     files one at a time (--no-file-parallelism), as they share it
 *
 * When drachtio is asked for but neither is usable, vitest.config.ts leaves the SIP suites out and
 * says why. Tests that depend on the edge's internals or its short test timers skip themselves
 * with `onlyOnEdge`.
 */
import { accessSync, constants } from 'node:fs';

export type SipServerChoice =
  | { readonly kind: 'edge' }
  | { readonly kind: 'drachtio'; readonly bin: string }
  | { readonly kind: 'drachtio'; readonly admin: HostPort; readonly sip: HostPort; readonly secret: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

function hostPort(text: string | undefined): HostPort | undefined {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec((text ?? '').trim());
  if (m === null) return undefined;
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function chooseSipServer(env: Readonly<Record<string, string | undefined>>): SipServerChoice {
  const wanted = (env.TEST_SIP_SERVER ?? 'edge').trim().toLowerCase();
  if (wanted === '' || wanted === 'edge') return { kind: 'edge' };
  if (wanted !== 'drachtio') return { kind: 'unavailable', reason: `TEST_SIP_SERVER must be edge or drachtio, not "${env.TEST_SIP_SERVER}"` };
  const bin = env.DRACHTIO_BIN?.trim();
  if (bin) {
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      return { kind: 'unavailable', reason: `DRACHTIO_BIN=${bin} is not an executable file` };
    }
    return { kind: 'drachtio', bin };
  }
  if (env.DRACHTIO_ADMIN !== undefined) {
    const admin = hostPort(env.DRACHTIO_ADMIN);
    const sip = hostPort(env.DRACHTIO_SIP);
    if (admin === undefined) return { kind: 'unavailable', reason: `DRACHTIO_ADMIN must be host:port, got "${env.DRACHTIO_ADMIN}"` };
    if (sip === undefined) return { kind: 'unavailable', reason: 'DRACHTIO_ADMIN needs DRACHTIO_SIP=host:port (the SIP address of that server)' };
    return { kind: 'drachtio', admin, sip, secret: env.DRACHTIO_SECRET ?? 'cymru' };
  }
  return {
    kind: 'unavailable',
    reason: 'TEST_SIP_SERVER=drachtio needs DRACHTIO_BIN (a drachtio binary) or DRACHTIO_ADMIN and DRACHTIO_SIP (a running server)',
  };
}

export const SIP_SERVER: SipServerChoice = chooseSipServer(process.env);

/** True when the suites run against a real drachtio-server. */
export const ON_DRACHTIO = SIP_SERVER.kind === 'drachtio';

/**
 * For `it.skipIf(onlyOnEdge)` / `describe.skipIf(onlyOnEdge)`: tests of the edge's own internals,
 * of its process, or that rely on its short test timers (T1 = 50 ms) cannot run on drachtio-server.
 */
export const onlyOnEdge = ON_DRACHTIO;

/** The SIP suites vitest leaves out when drachtio is asked for but not usable. */
export const SIP_SUITES = ['test/e2e/edge-*.test.ts', 'test/e2e/sip-*.test.ts', 'test/e2e/ivr-*.test.ts', 'test/browser/web-sip-call.test.ts'];
