/**
 * The TEST_SIP_SERVER switch (test/support/sip-server-under-test.ts, docs/drachtio-server.md):
 * which SIP server the SIP e2e suites run against, and why they are left out when drachtio-server
 * is asked for but not usable.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseSipServer } from '../support/sip-server-under-test.ts';
import { parseDrachtioConfig } from '../support/fake-drachtio/fake-drachtio.ts';

const EXECUTABLE = resolve(import.meta.dirname, '../support/fake-drachtio/drachtio');
const NOT_EXECUTABLE = resolve(import.meta.dirname, '../support/fake-drachtio/fake-drachtio.ts');

describe('chooseSipServer', () => {
  it('is the embedded edge when TEST_SIP_SERVER is unset, empty or edge', () => {
    expect(chooseSipServer({})).toEqual({ kind: 'edge' });
    expect(chooseSipServer({ TEST_SIP_SERVER: '' })).toEqual({ kind: 'edge' });
    expect(chooseSipServer({ TEST_SIP_SERVER: ' Edge ' })).toEqual({ kind: 'edge' });
  });

  it('refuses another value, saying which ones it takes', () => {
    const c = chooseSipServer({ TEST_SIP_SERVER: 'kamailio' });
    expect(c).toEqual({ kind: 'unavailable', reason: 'TEST_SIP_SERVER must be edge or drachtio, not "kamailio"' });
  });

  it('drachtio with nothing to run or reach is unavailable, naming both ways to give one', () => {
    const c = chooseSipServer({ TEST_SIP_SERVER: 'drachtio' });
    expect(c.kind).toBe('unavailable');
    expect(c.kind === 'unavailable' && c.reason).toMatch(/DRACHTIO_BIN.*DRACHTIO_ADMIN and DRACHTIO_SIP/);
  });

  it('DRACHTIO_BIN must be an executable file', () => {
    expect(chooseSipServer({ TEST_SIP_SERVER: 'drachtio', DRACHTIO_BIN: EXECUTABLE })).toEqual({ kind: 'drachtio', bin: EXECUTABLE });
    for (const bin of [NOT_EXECUTABLE, '/nonexistent/drachtio']) {
      expect(chooseSipServer({ TEST_SIP_SERVER: 'drachtio', DRACHTIO_BIN: bin })).toEqual({
        kind: 'unavailable',
        reason: `DRACHTIO_BIN=${bin} is not an executable file`,
      });
    }
  });

  it('a running server: DRACHTIO_ADMIN and DRACHTIO_SIP as host:port (IPv6 in brackets), secret cymru unless given', () => {
    expect(chooseSipServer({ TEST_SIP_SERVER: 'drachtio', DRACHTIO_ADMIN: '127.0.0.1:9022', DRACHTIO_SIP: '[::1]:5060' })).toEqual({
      kind: 'drachtio',
      admin: { host: '127.0.0.1', port: 9022 },
      sip: { host: '::1', port: 5060 },
      secret: 'cymru',
    });
    const withSecret = chooseSipServer({ TEST_SIP_SERVER: 'drachtio', DRACHTIO_ADMIN: 'h:1', DRACHTIO_SIP: 'h:2', DRACHTIO_SECRET: 's' });
    expect(withSecret.kind === 'drachtio' && 'secret' in withSecret && withSecret.secret).toBe('s');
  });

  it('DRACHTIO_ADMIN that is not host:port, or without DRACHTIO_SIP, is unavailable with the reason', () => {
    expect(chooseSipServer({ TEST_SIP_SERVER: 'drachtio', DRACHTIO_ADMIN: '9022', DRACHTIO_SIP: 'h:5060' })).toEqual({
      kind: 'unavailable',
      reason: 'DRACHTIO_ADMIN must be host:port, got "9022"',
    });
    expect(chooseSipServer({ TEST_SIP_SERVER: 'drachtio', DRACHTIO_ADMIN: 'h:9022' })).toEqual({
      kind: 'unavailable',
      reason: 'DRACHTIO_ADMIN needs DRACHTIO_SIP=host:port (the SIP address of that server)',
    });
  });
});

describe('the drachtio-server stand-in reads the configuration the harness writes', () => {
  it('admin address, port and secret; one contact for UDP and TCP; the User-Agent spammer values', () => {
    const xml = `<drachtio>
  <admin port="9023" secret="cymru">127.0.0.7</admin>
  <sip><contacts><contact>sip:127.0.0.7:5070;transport=udp,tcp</contact></contacts>
    <spammers action="reject" tcp-action="reject"><header name="User-Agent">
        <value>sipvicious</value>
        <value>friendly-scanner</value>
    </header></spammers></sip>
</drachtio>`;
    expect(parseDrachtioConfig(xml)).toEqual({
      admin: { host: '127.0.0.7', port: 9023, secret: 'cymru' },
      sip: [
        { protocol: 'udp', host: '127.0.0.7', port: 5070 },
        { protocol: 'tcp', host: '127.0.0.7', port: 5070 },
      ],
      userAgents: ['sipvicious', 'friendly-scanner'],
    });
    expect(() => parseDrachtioConfig('<drachtio/>')).toThrow(/admin/);
  });
});
