import { describe, expect, it } from 'vitest';
import { DEFAULT_SPAMMER_USER_AGENTS, EDGE_DEFAULTS, EdgeConfigError, buildEdgeConfig, loadEdgeConfig } from '../../src/edge/config/edge-config.ts';
import { spammerMatch } from '../../src/edge/core/spammer-screen.ts';
import { parseMessage, type SipRequest } from '../../src/edge/message/index.ts';

function request(userAgent: string | undefined, from = 'sip:100@192.0.2.1'): SipRequest {
  const r = parseMessage(
    [
      'OPTIONS sip:1234@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1',
      `From: <${from}>;tag=1`,
      'To: <sip:1234@127.0.0.1>',
      'Call-ID: c1',
      'CSeq: 1 OPTIONS',
      ...(userAgent === undefined ? [] : [`User-Agent: ${userAgent}`]),
      '',
      '',
    ].join('\r\n'),
  );
  if (!r.ok) throw new Error(r.error.message);
  return r.message as SipRequest;
}

describe('edge config: the spammer list (drachtio-server <spammers>)', () => {
  it('defaults to the list of sip-config/drachtio.conf.xml', () => {
    expect(buildEdgeConfig().spammers).toEqual([{ header: 'user-agent', values: DEFAULT_SPAMMER_USER_AGENTS }]);
  });

  it('EDGE_SPAMMER_USER_AGENTS replaces it; empty turns it off; the flag wins', () => {
    expect(loadEdgeConfig({ EDGE_SPAMMER_USER_AGENTS: 'evilbot, scan2' }, []).spammers).toEqual([{ header: 'user-agent', values: ['evilbot', 'scan2'] }]);
    expect(loadEdgeConfig({ EDGE_SPAMMER_USER_AGENTS: '' }, []).spammers).toEqual([]);
    expect(loadEdgeConfig({ EDGE_SPAMMER_USER_AGENTS: 'a' }, ['--spammer-user-agents', 'b']).spammers[0]?.values).toEqual(['b']);
  });

  it('rejects an empty value and an unknown header', () => {
    expect(() => buildEdgeConfig({ spammers: [{ header: 'user-agent', values: [''] }] })).toThrow(EdgeConfigError);
    expect(() => buildEdgeConfig({ spammers: [{ header: 'contact' as 'to', values: ['x'] }] })).toThrow(EdgeConfigError);
  });

  it('matches a case-sensitive substring of User-Agent, or of the To/From user', () => {
    const rules = buildEdgeConfig().spammers;
    expect(spammerMatch(request('friendly-scanner'), rules)).toBe('friendly-scanner');
    expect(spammerMatch(request('sipvicious 0.3.4'), rules)).toBe('sipvicious 0.3.4');
    expect(spammerMatch(request('Friendly-Scanner'), rules)).toBeUndefined(); // strstr, as the reference
    expect(spammerMatch(request('Grandstream HT801'), rules)).toBeUndefined();
    expect(spammerMatch(request(undefined), rules)).toBeUndefined();
    expect(spammerMatch(request(undefined, 'sip:sipvicious@192.0.2.1'), [{ header: 'from', values: ['vicious'] }])).toBe('sipvicious');
  });
});

describe('edge configuration: TCP limits', () => {
  it('defaults: idle connections closed after 5 minutes, 100 inbound connections per source, 4000 in all', () => {
    expect(loadEdgeConfig({}, []).tcp).toEqual({ idleTimeoutMs: 300_000, maxConnectionsPerSource: 100, maxConnections: 4000 });
    expect(EDGE_DEFAULTS.tcp.idleTimeoutMs).toBeGreaterThan(120_000); // above RFC 5626's keep-alive interval for TCP flows
  });
  it('read from the environment, flags winning', () => {
    const env = { EDGE_TCP_IDLE_TIMEOUT_MS: '60000', EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE: '20', EDGE_TCP_MAX_CONNECTIONS: '500' };
    expect(loadEdgeConfig(env, []).tcp).toEqual({ idleTimeoutMs: 60_000, maxConnectionsPerSource: 20, maxConnections: 500 });
    expect(loadEdgeConfig(env, ['--tcp-max-per-source', '30', '--tcp-idle-timeout=0']).tcp).toEqual({
      idleTimeoutMs: 0,
      maxConnectionsPerSource: 30,
      maxConnections: 500,
    });
  });
  it('refuses a per-source cap above the total, a zero cap and non-numbers', () => {
    expect(() => loadEdgeConfig({ EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE: '600', EDGE_TCP_MAX_CONNECTIONS: '500' }, [])).toThrow(EdgeConfigError);
    expect(() => loadEdgeConfig({ EDGE_TCP_MAX_CONNECTIONS: '0' }, [])).toThrow(/TCP connections/);
    expect(() => loadEdgeConfig({ EDGE_TCP_IDLE_TIMEOUT_MS: 'soon' }, [])).toThrow(/EDGE_TCP_IDLE_TIMEOUT_MS/);
  });
});
