/**
 * A stand-in for the `drachtio` executable, for testing the TEST_SIP_SERVER=drachtio switch
 * where no drachtio-server is built (the C++ server cannot run here). Invoked as drachtio is,
 * `fake-drachtio -f <config.xml>`, it reads the parts of the configuration that
 * test/support/drachtio-server-process.ts writes (admin address, port and secret; the SIP
 * contact; the User-Agent spammer values) and serves them with the embedded edge, with
 * drachtio-server's default RFC 3261 timers (T1 = 500 ms). SIGTERM ends it.
 *
 * It proves only the harness (configuration written, process started and found ready, tests
 * skipped with onlyOnEdge), never drachtio-server's behaviour.
 */
import { readFileSync } from 'node:fs';
import { buildEdgeConfig, type SipListen } from '../../../src/edge/config/edge-config.ts';
import { EdgeServer } from '../../../src/edge/core/edge-server.ts';

export interface FakeDrachtioConfig {
  readonly admin: { readonly host: string; readonly port: number; readonly secret: string };
  readonly sip: readonly SipListen[];
  readonly userAgents: readonly string[];
}

/** The subset of drachtio.conf.xml the harness writes; throws on anything it cannot read. */
export function parseDrachtioConfig(xml: string): FakeDrachtioConfig {
  const admin = /<admin\s+port="(\d+)"\s+secret="([^"]*)"\s*>([^<]+)<\/admin>/.exec(xml);
  if (admin === null) throw new Error('no <admin port="…" secret="…">address</admin>');
  const contact = /<contact>sip:([^:<]+):(\d+);transport=([a-z,]+)<\/contact>/.exec(xml);
  if (contact === null) throw new Error('no <contact>sip:host:port;transport=…</contact>');
  const host = contact[1] as string;
  const port = Number(contact[2]);
  const sip = (contact[3] as string).split(',').map((p) => {
    if (p !== 'udp' && p !== 'tcp') throw new Error(`transport ${p} not served by the stand-in`);
    return { protocol: p, host, port } as const;
  });
  const spammers = /<header name="User-Agent">([\s\S]*?)<\/header>/.exec(xml)?.[1] ?? '';
  const userAgents = [...spammers.matchAll(/<value>([^<]+)<\/value>/g)].map((m) => m[1] as string);
  return { admin: { host: (admin[3] as string).trim(), port: Number(admin[1]), secret: admin[2] as string }, sip, userAgents };
}

async function main(argv: readonly string[]): Promise<void> {
  const at = argv.indexOf('-f');
  const file = at >= 0 ? argv[at + 1] : undefined;
  if (file === undefined) {
    process.stderr.write('usage: fake-drachtio -f <config.xml>\n');
    process.exit(2);
  }
  const parsed = parseDrachtioConfig(readFileSync(file, 'utf8'));
  const edge = new EdgeServer(
    buildEdgeConfig({
      sip: parsed.sip,
      admin: parsed.admin,
      spammers: parsed.userAgents.length === 0 ? [] : [{ header: 'user-agent', values: parsed.userAgents }],
      logLevel: 'silent',
    }),
  );
  await edge.start();
  const stop = (): void => {
    void edge.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && /fake-drachtio\.(ts|js)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`fake-drachtio: ${String(err)}\n`);
    process.exit(1);
  });
}
