import { describe, expect, it } from 'vitest';
import { EDGE_DEFAULTS, EdgeConfigError, loadEdgeConfig } from '../../src/edge/config/edge-config.ts';

describe('edge configuration: TCP limits', () => {
  it('defaults: idle connections closed after 5 minutes, 100 inbound connections per source, 4000 in all', () => {
    expect(loadEdgeConfig({}, []).tcp).toEqual({ idleTimeoutMs: 300_000, maxConnectionsPerSource: 100, maxConnections: 4000 });
    expect(EDGE_DEFAULTS.tcp.idleTimeoutMs).toBeGreaterThan(120_000);   // above RFC 5626's keep-alive interval for TCP flows
  });
  it('read from the environment, flags winning', () => {
    const env = { EDGE_TCP_IDLE_TIMEOUT_MS: '60000', EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE: '20', EDGE_TCP_MAX_CONNECTIONS: '500' };
    expect(loadEdgeConfig(env, []).tcp).toEqual({ idleTimeoutMs: 60_000, maxConnectionsPerSource: 20, maxConnections: 500 });
    expect(loadEdgeConfig(env, ['--tcp-max-per-source', '30', '--tcp-idle-timeout=0']).tcp).toEqual({ idleTimeoutMs: 0, maxConnectionsPerSource: 30, maxConnections: 500 });
  });
  it('refuses a per-source cap above the total, a zero cap and non-numbers', () => {
    expect(() => loadEdgeConfig({ EDGE_TCP_MAX_CONNECTIONS_PER_SOURCE: '600', EDGE_TCP_MAX_CONNECTIONS: '500' }, [])).toThrow(EdgeConfigError);
    expect(() => loadEdgeConfig({ EDGE_TCP_MAX_CONNECTIONS: '0' }, [])).toThrow(/TCP connections/);
    expect(() => loadEdgeConfig({ EDGE_TCP_IDLE_TIMEOUT_MS: 'soon' }, [])).toThrow(/EDGE_TCP_IDLE_TIMEOUT_MS/);
  });
});
